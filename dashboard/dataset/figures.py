"""Figures of the /dataset page (drawing only: the numbers come from core.data): how many images
show each digit, in the training and the test set, and a label as a one-hot vector; how the page
names a split and an image in words."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.data.views import SPLIT_LABELS
from core.i18n import _
from dashboard.figures.palettes import STANDARD, FigureColors
from dashboard.figures.style import styled


def class_counts_bar(counts: dict[str, list[int]], colors: FigureColors = STANDARD) -> go.Figure:
    """Grouped bars: images per digit in the training and the test set (``colors.series``)."""
    fig = go.Figure(
        [
            go.Bar(
                name=f"{_(SPLIT_LABELS.get(split, split))} ({sum(c):,})",
                x=list(range(10)),
                y=c,
                text=[f"{v:,}" for v in c],
                textposition="outside",
                marker_color=color,
            )
            for (split, c), color in zip(counts.items(), colors.series)
        ]
    )
    fig.update_layout(
        barmode="group",
        xaxis=dict(title=_("digit"), dtick=1),
        yaxis=dict(title=_("images")),
        legend=dict(orientation="h", y=1.12),
    )
    return styled(fig, 420)


def class_counts_text(counts: dict[str, list[int]]) -> str:
    """What ``class_counts_bar`` shows, in words: the fewest and the most images of a digit, per set."""
    ends = {}
    for split in ("train", "test"):
        c = counts[split]
        low, high = int(np.argmin(c)), int(np.argmax(c))
        ends.update(
            {f"{split}_low": c[low], f"{split}_low_digit": low, f"{split}_high": c[high], f"{split}_high_digit": high}
        )
    return _(
        "Bar chart of how many images show each digit, 0 to 9: the training set has from {train_low:,} "
        "({train_low_digit}) to {train_high:,} ({train_high_digit}) per digit, the test set from {test_low:,} "
        "({test_low_digit}) to {test_high:,} ({test_high_digit})."
    ).format(**ends)


def one_hot_bar(vector: np.ndarray, colors: FigureColors = STANDARD) -> go.Figure:
    """The ten target values as a row of cells, the 1 in ``colors.highlight``."""
    vector = np.asarray(vector)
    fig = go.Figure(
        go.Heatmap(
            z=vector[None, :],
            x=list(range(len(vector))),
            text=[[str(v) for v in vector]],
            texttemplate="%{text}",
            textfont=dict(size=20),
            colorscale=[[0, "#f0f0f0"], [1, colors.highlight]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=3,
            ygap=3,
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(dtick=1, title=_("position (digit)"), side="bottom")
    fig.update_yaxes(visible=False)
    return styled(fig, 150)


def split_name(split: str) -> str:
    """``train`` / ``test`` as the page names it, in the session's language."""
    return _(SPLIT_LABELS[split])


def digit_alt(label: int, split: str, index: int) -> str:
    """An MNIST image's text alternative: the digit it shows, and which image it is."""
    return _("the digit {label}: {split} image #{index}, 28 × 28 pixels").format(
        label=label, split=split_name(split), index=index
    )
