"""dashboard.figures.style: one font size and one set of margins for the figures of /dataset,
/architecture and /training; one highlight colour, dashboard.figures.palettes.HIGHLIGHT."""

import numpy as np
import plotly.graph_objects as go

from dashboard.architecture import figures as arch
from dashboard.dataset import figures as dataset
from dashboard.figures import charts, palettes, style
from dashboard.training import figures as training


def test_styled_sets_height_font_and_margins():
    fig = style.styled(go.Figure(), 420)
    assert fig.layout.height == 420 and fig.layout.font.size == 16
    assert (fig.layout.margin.l, fig.layout.margin.r, fig.layout.margin.t, fig.layout.margin.b) == (10, 10, 30, 10)
    below = style.styled(go.Figure(), 240, top=40, legend=style.LEGEND_BELOW)
    assert below.layout.margin.t == 40 and below.layout.legend.orientation == "h" and below.layout.legend.y == -0.2


def test_every_page_figure_has_the_one_font_size():
    counts = {"train": [5923] * 10, "test": [980] * 10}
    record = {"recipe": {"limit": None}, "history": [{"epoch": 1, "test_accuracy": 0.9, "train_accuracy": 0.9}]}
    figures = [
        dataset.class_counts_bar(counts),
        dataset.one_hot_bar(np.eye(10)[3]),
        arch.connection_table(np.eye(6, 16, dtype=bool), selected=2),
        training.compare_figure({"run": record}, "accuracy", show_train=False),
        training.trail_figure([1, 2], [0.5, 0.9], 2, 7),
    ]
    assert [f.layout.font.size for f in figures] == [style.FONT_SIZE] * 5 == [16] * 5


def test_the_one_hot_1_is_drawn_in_the_palettes_highlight():
    fig = dataset.one_hot_bar(np.eye(10)[3])
    assert fig.data[0].colorscale[-1][1] == palettes.HIGHLIGHT == "#f28e2b"
    assert palettes.STANDARD.highlight == palettes.HIGHLIGHT


def test_presenter_mode_still_enlarges_every_font():
    # Only the layout's font is set, so charts.enlarged (1.3x on a projector) grows ticks, axis
    # titles and legends with it: 16 px -> round(20.8) = 21 px.
    fig = charts.enlarged(dataset.class_counts_bar({"train": [1] * 10, "test": [1] * 10}), 1.3)
    assert fig.layout.font.size == 21
    assert fig.layout.xaxis.tickfont.size is None and fig.layout.legend.font.size is None  # they inherit
