"""Figures of the /training page: live curves, run comparison, confusion matrix, answer bars.

Drawing only: every number comes from ``core.training.jobs.runner`` / ``core.training.runs``; the style from
``dashboard.figures.style``.
"""

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.i18n import _
from core.training import recipes
from core.training.jobs.state import STOPPED, JobSnapshot
from core.training.runs import history_series
from dashboard.figures import grids, one_digit, palettes
from dashboard.figures.style import FONT, LEGEND_BELOW, styled

TOP_PX = 40  # room above the plots for the live figure's subplot titles


def _style(fig: go.Figure, height: int) -> go.Figure:
    return styled(fig, height, top=TOP_PX, legend=LEGEND_BELOW)


SMOOTH_HALF = 2  # the train line: each point the mean of it and two either side (each ~10 batches' mean)


def smoothed(values: list[float], half: int = SMOOTH_HALF) -> list[float]:
    """Each value replaced by the mean of it and ``half`` values either side (fewer near the ends,
    as many on each side): a mean that goes on across epochs, so the line does not jump where one
    begins, and that does not lag behind a curve still falling or rising (a straight stretch stays
    where it is; the newest point is its own)."""
    out = []
    for i in range(len(values)):
        k = min(half, i, len(values) - 1 - i)
        out.append(sum(values[i - k : i + k + 1]) / (2 * k + 1))
    return out


def live_figure(snap: JobSnapshot) -> go.Figure:
    """Train loss/accuracy as a line, a running mean of the reports (each the mean of the batches since
    the one before: core.training.jobs.runner), the reports themselves faint; test after each epoch
    (big dots): at the epoch's end, or where a stopped run left its last epoch."""
    fig = make_subplots(1, 2, subplot_titles=(_("Loss (cross-entropy)"), _("Accuracy")))
    x = [p[0] for p in snap.curve]
    tests = history_series({"history": snap.history, "recipe": snap.recipe})
    for col, (i, key) in enumerate(((1, "loss"), (2, "accuracy")), start=1):
        raw = [p[i] for p in snap.curve]
        fig.add_scatter(
            x=x,
            y=raw,
            mode="markers",
            name=_("train, every few batches"),
            hoverinfo="skip",
            marker=dict(size=4, color=palettes.SERIES[0], opacity=0.35),
            showlegend=False,
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=x,
            y=smoothed(raw),
            mode="lines",
            name=_("train (smoothed over nearby batches)"),
            line=dict(color=palettes.SERIES[0], width=3),
            showlegend=col == 1,
            row=1,
            col=col,
        )
        fig.add_scatter(
            x=tests["epochs_done"],
            y=tests[f"test_{key}"],
            mode="lines+markers",
            name=_("test (after each epoch, or where it stopped)"),
            marker=dict(size=12),
            line=dict(color=palettes.SERIES[1]),
            showlegend=col == 1,
            row=1,
            col=col,
        )
    if snap.status == STOPPED and tests["epochs_done"]:
        stopped_at = tests["epochs_done"][-1]
        side = "left" if stopped_at > snap.epochs / 2 else "right"  # inside the plot
        for col, corner in ((1, f"top {side}"), (2, f"bottom {side}")):  # where the curves are not
            fig.add_vline(
                x=stopped_at,
                line=dict(color="grey", dash="dot", width=1),
                row=1,
                col=col,
                annotation_text=_("stopped at {epochs:.2f} epochs").format(epochs=stopped_at),
                annotation_position=corner,
                annotation_font=dict(color="grey"),
            )
    fig.update_xaxes(title=_("epochs done"), range=[-0.03 * snap.epochs, snap.epochs * 1.04])
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    _style(fig, 400)
    fig.update_layout(legend=dict(orientation="h", y=-0.22, yanchor="top", x=0.5, xanchor="center"), margin=dict(b=60))
    return fig


COMPARE_HEIGHT = 480
# The compare figure's plot area, at the least: its height less the top margin (40), the x axis'
# ticks and title (~50) and the legend under it (up to two rows, ~60). Labels are spaced for it.
COMPARE_PLOT_PX = COMPARE_HEIGHT - 40 - 50 - 60
LABEL_PX = 24  # one line of annotation text at FONT's size, with some air


def label_positions(values: list[float], gap: float) -> list[tuple[float, str]]:
    """Where the labels of horizontal lines at ``values`` go so that no two overlap, each ``gap``
    tall (in y units): ``(y, "bottom")`` for a label resting on its line, ``(y, "top")`` for one
    hanging below it (or below the label above it when even that is taken). Same order as ``values``."""
    placed: list[tuple[float, str] | None] = [None] * len(values)
    floor = math.inf  # the lowest edge of the labels placed so far, from the top down
    for i in sorted(range(len(values)), key=lambda k: -values[k]):
        y = values[i]
        if y + gap <= floor:
            placed[i], floor = (y, "bottom"), y
        else:
            top = min(y, floor)
            placed[i], floor = (top, "top"), top - gap
    return placed


def _label_range(lo: float, hi: float, lines: list[float]) -> tuple[tuple[float, float], float, list]:
    """A y range holding the data (``lo``..``hi``) and the lines' labels; the labels' height in y
    units and their positions (:func:`label_positions`) for that range."""
    share = LABEL_PX / COMPARE_PLOT_PX
    pad = 0.04 * max(hi - lo, 1e-3)
    bottom, top = max(0.0, lo - pad), hi + pad
    for _round in range(4):  # a taller range makes a label shorter in y units: settle both
        gap = share * (top - bottom)
        placed = label_positions(lines, gap)
        edges = [y + gap if side == "bottom" else y - gap for y, side in placed]
        new_bottom, new_top = min([bottom, *edges]), max([top, *edges])
        if (new_bottom, new_top) == (bottom, top):
            break
        bottom, top = new_bottom, new_top
    return (bottom, top), gap, placed


def _epoch_step(longest: float) -> int:
    """A tick every 1, 2, 5, 10, ... epochs: at most ten ticks."""
    return next((step for step in (1, 2, 5, 10, 20, 50, 100) if longest / step <= 10), 200)


def compare_figure(runs: dict[str, dict], metric: str, show_train: bool) -> go.Figure:
    """Per-epoch test (solid) and train (dashed) curves of several checkpoints; reported figures
    dotted, each labelled in its run's colour without covering another's label. A run of one
    epoch is a large dot with its value written beside it."""
    fig = go.Figure()
    values: list[float] = []
    xs: list[float] = [1.0]  # the x axis shows epoch 1 at least
    lines: list[tuple[float, str, str]] = []  # (y, label, colour) of each source's figure
    for k, (name, record) in enumerate(runs.items()):
        color = palettes.SERIES[k % len(palettes.SERIES)]
        series = history_series(record)
        x, test = series["epochs_done"], series[f"test_{metric}"]
        single = len(x) == 1
        fig.add_scatter(
            x=x,
            y=test,
            mode="markers+text" if single else "lines+markers",
            name=_("{name} test").format(name=name),
            line=dict(color=color, width=3),
            marker=dict(size=16 if single else 7, color=color),
            text=[f"{v:.2%}" if metric == "accuracy" else f"{v:.3f}" for v in test] if single else None,
            textposition="middle right",
            textfont=dict(color=color),
        )
        if show_train:
            fig.add_scatter(
                x=x,
                y=series[f"train_{metric}"],
                mode="markers" if single else "lines",
                name=_("{name} train").format(name=name),
                line=dict(color=color, dash="dash"),
                marker=dict(size=14, color=color, symbol="circle-open", line=dict(width=2)),
            )
            values += [v for v in series[f"train_{metric}"] if v is not None]
        values += [v for v in test if v is not None]
        xs += x
        reported = record.get("reported")
        if metric == "accuracy" and reported:
            lines.append((reported["test_accuracy"], reported_text(reported), color))
    if lines:
        levels = [value for value, _text, _color in lines]
        (bottom, top), _gap, placed = _label_range(min(values + levels), max(values + levels), levels)
        for (value, text, color), (y, side) in zip(lines, placed):
            fig.add_hline(y=value, line=dict(color=color, dash="dot", width=2))
            fig.add_annotation(
                x=1,
                xref="paper",
                xanchor="right",
                y=y,
                yref="y",
                yanchor=side,
                text=text,
                showarrow=False,
                font=dict(color=color),
                bgcolor="rgba(255,255,255,0.75)",
            )
        fig.update_yaxes(range=[bottom, top])
    longest = max(xs)
    step = _epoch_step(longest)
    fig.update_xaxes(
        title=_("epoch"),
        tick0=0 if step > 1 else 1,
        dtick=step,
        range=[min(0.5, min(xs) - 0.25), longest + max(0.5, 0.03 * longest)],
    )
    narrow = metric == "accuracy" and values and max(values) - min(values) < 0.1  # ticks a point or less apart
    fig.update_yaxes(
        title=_("test accuracy") if metric == "accuracy" else _("cross-entropy loss"),
        tickformat=(".1%" if narrow else ".0%") if metric == "accuracy" else None,
    )
    return _style(fig, COMPARE_HEIGHT)


def reported_text(reported: dict) -> str:
    """The label of a source's figure: "seed 000 reports 98.44% after 15 epochs"."""
    return _("{source} reports {accuracy:.2%} after {epochs} epochs").format(
        source=recipes.source_name(reported["source"]), accuracy=reported["test_accuracy"], epochs=reported["epochs"]
    )


CONFUSION_PX = 560  # the confusion matrix's side, at most
CONFUSION_MARGIN = (60, 64)  # left (the row ticks and title), top (the column ticks and title)
DIGIT_EM = 0.56  # a digit's width in ems in the figures' font (Source Sans), with a little room


def count_font_px(side: int, largest: int, *, most: int = 16, least: int = 8) -> int:
    """The size of the counts written in the cells of a ``side`` px matrix so that the widest of
    them (``largest``'s digits) fits its cell with a few pixels either side."""
    cell = (side - CONFUSION_MARGIN[0] - 6) / 10
    digits = len(str(max(int(largest), 0)))
    return max(least, min(most, int((cell - 6) / (DIGIT_EM * digits))))


def confusion_figure(matrix: np.ndarray, colorscale, side: int = CONFUSION_PX) -> go.Figure:
    """Counts, true digit down and predicted across; the diagonal greyed so the mistakes stand out.
    ``side`` px square (the page gives it the width its column has): the counts are written at a
    size their cells hold, four digits too, on a phone as on a projector.

    Invisible markers over the cells make a click select a cell (plotly heatmaps do not report clicks).
    """
    side = int(side)
    cell = (side - CONFUSION_MARGIN[0] - 6) / 10
    fig = grids.grid_heatmap(
        matrix,
        muted=np.eye(10, dtype=bool),
        decimals=0,
        colorscale=colorscale,
        cell_px=round(cell),
        font_px=count_font_px(side, int(np.max(matrix, initial=0))),
    )
    rows, cols = np.meshgrid(range(10), range(10), indexing="ij")
    fig.add_scatter(
        x=cols.ravel(),
        y=rows.ravel(),
        mode="markers",
        showlegend=False,
        marker=dict(size=max(6, int(cell * 0.85)), symbol="square", opacity=0.01, color="black"),
        customdata=matrix.ravel(),
        hovertemplate=_("true %{y}, predicted %{x}: %{customdata} images") + "<extra></extra>",
    )
    axis = dict(visible=True, tickvals=list(range(10)), tickfont=FONT, showgrid=False, zeroline=False)
    fig.update_layout(
        xaxis={**axis, "title": _("predicted"), "side": "top"},
        yaxis={**axis, "title": _("true digit")},
        width=side,
        height=round(10 * cell) + CONFUSION_MARGIN[1] + 6,
        margin=dict(l=CONFUSION_MARGIN[0], r=6, t=CONFUSION_MARGIN[1], b=6),
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def answer_bars(probs: np.ndarray, label: int, colors: tuple[str, ...], height: int = 240) -> go.Figure:
    """The shared probability bars, recoloured from the "answer" palette's ``colors``: the true
    digit in the right-answer colour, a wrong answer in the wrong-answer one."""
    guess = int(np.argmax(probs))
    fig = one_digit.probability_bars(probs, highlight=guess, height_px=height)
    fig.update_traces(
        marker_color=[
            colors[palettes.ANSWER_RIGHT]
            if d == label
            else colors[palettes.ANSWER_WRONG]
            if d == guess
            else colors[palettes.ANSWER_OTHER]
            for d in range(10)
        ]
    )
    return fig


def trail_figure(epochs: list[int], trail: list[float], epoch: int, label: int) -> go.Figure:
    """The right answer's probability after each epoch, the chosen epoch marked."""
    fig = go.Figure(go.Scatter(x=epochs, y=trail, mode="lines+markers", marker=dict(size=9)))
    fig.add_vline(x=epoch, line=dict(dash="dot"))
    fig.update_xaxes(title=_("epoch"), dtick=1)
    fig.update_yaxes(title=_("probability of {label}").format(label=label), range=[0, 1.05], tickformat=".0%")
    return _style(fig, 240)


def variants_figure(printed: tuple[str, dict] | None, variants: list[tuple[str, dict]], reported: dict) -> go.Figure:
    """Test accuracy epoch by epoch: the source's printed recipe (black), each one-change variant
    (a colour each), and the figure the source reports (dotted, labelled once)."""
    fig = go.Figure()
    runs = ([(printed[0], printed[1], "#222222", 4)] if printed else []) + [
        (label, record, palettes.SERIES[k % len(palettes.SERIES)], 2.5) for k, (label, record) in enumerate(variants)
    ]
    longest = 1
    for label, record, color, width in runs:
        series = history_series(record)
        longest = max([longest, *series["epochs_done"]])
        fig.add_scatter(
            x=series["epochs_done"],
            y=series["test_accuracy"],
            mode="lines+markers",
            name=label,
            line=dict(color=color, width=width),
            marker=dict(size=5, color=color),
        )
    fig.add_hline(y=reported["test_accuracy"], line=dict(color="#444444", dash="dot", width=2))
    fig.add_annotation(
        x=0,
        xref="paper",
        xanchor="left",
        y=reported["test_accuracy"],
        yref="y",
        yanchor="bottom",
        text=reported_text(reported),
        showarrow=False,
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_xaxes(title=_("epoch"), dtick=_epoch_step(longest), range=[0.5, longest + 0.5])
    fig.update_yaxes(title=_("test accuracy"), tickformat=".0%", range=[0, 1.02])
    return _style(fig, COMPARE_HEIGHT)


# --- what each figure shows, in words (read by a screen reader after the figure) ----------------------


def _last(values: list) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


def _value(value: float | None, metric: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if metric == "accuracy" else f"{value:.3f}"


def live_text(snap: JobSnapshot) -> str:
    """What ``live_figure`` shows: the run's curves and where they stand."""
    tests = history_series({"history": snap.history, "recipe": snap.recipe})
    return _(
        "Run {name}: loss (left) and accuracy (right) against epochs done; train loss {loss}, train accuracy "
        "{accuracy}, test accuracy after the last epoch {test}."
    ).format(
        name=snap.name,
        loss=_value(snap.loss, "loss"),
        accuracy=_value(snap.accuracy, "accuracy"),
        test=_value(_last(tests["test_accuracy"]), "accuracy"),
    )


def curves_text(runs: dict[str, dict], metric: str) -> str:
    """What ``compare_figure`` (or ``variants_figure``) shows: each run's test value after its last epoch."""
    finals = _(", ").join(
        f"{name} {_value(_last(history_series(record)[f'test_{metric}']), metric)}" for name, record in runs.items()
    )
    if metric == "accuracy":
        return _("Test accuracy epoch by epoch; after the last epoch: {finals}.").format(finals=finals)
    return _("Test loss (cross-entropy) epoch by epoch; after the last epoch: {finals}.").format(finals=finals)


def confusion_text(name: str, matrix: np.ndarray) -> str:
    """What ``confusion_figure`` shows: its layout and how many answers are right."""
    return _(
        "Confusion matrix of {name}: the true digit in rows, the network's answer in columns, a count of test "
        "images in each cell; {right:,} of {total:,} on the grey diagonal are right. Choose a cell with the two "
        "boxes beside it to see its images."
    ).format(name=name, right=int(np.trace(matrix)), total=int(matrix.sum()))


def trail_text(epochs: list[int], trail: list[float], label: int) -> str:
    """What ``trail_figure`` shows: the right answer's probability after each epoch."""
    values = _(", ").join(
        _("epoch {epoch}: {probability:.0%}").format(epoch=e, probability=p) for e, p in zip(epochs, trail)
    )
    return _("The probability of the right answer, {label}, after each epoch: {values}.").format(
        label=label, values=values
    )
