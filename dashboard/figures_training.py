"""Figures of the /training page: live curves, run comparison, confusion matrix, answer bars.

Drawing only: every number comes from ``core.jobs`` / ``core.evaluation``.
"""

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from core import evaluation as ev
from core import jobs
from dashboard import plots

FONT = dict(size=15)
PALETTE = qualitative.D3


def _style(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font=FONT,
                      legend=dict(orientation="h", y=-0.2))
    return fig


def live_figure(snap: jobs.JobSnapshot) -> go.Figure:
    """Train loss/accuracy every few batches (small dots), test after each epoch (big dots)."""
    fig = make_subplots(1, 2, subplot_titles=("Loss (cross-entropy)", "Accuracy"))
    # The train mean restarts every epoch: a gap between epochs, not a cliff joining them.
    curve: list[tuple] = []
    for point in snap.curve:
        if curve and math.ceil(point[0]) != math.ceil(curve[-1][0]):
            curve.append((None, None, None))
        curve.append(point)
    x = [p[0] for p in curve]
    epochs = [h["epoch"] for h in snap.history]
    for col, (i, key) in enumerate(((1, "loss"), (2, "accuracy")), start=1):
        fig.add_scatter(x=x, y=[p[i] for p in curve], mode="lines+markers", name="train (mean so far this epoch)",
                        line=dict(color=PALETTE[0]), marker=dict(size=5), showlegend=col == 1, row=1, col=col)
        fig.add_scatter(x=epochs, y=[h[f"test_{key}"] for h in snap.history], mode="lines+markers",
                        name="test (after each epoch)", marker=dict(size=12), line=dict(color=PALETTE[1]),
                        showlegend=col == 1, row=1, col=col)
    fig.update_xaxes(title="epochs done", range=[-0.03 * snap.epochs, snap.epochs * 1.04])
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    _style(fig, 400)
    fig.update_layout(legend=dict(orientation="h", y=-0.22, yanchor="top", x=0.5, xanchor="center"),
                      margin=dict(b=60))
    return fig


def compare_figure(runs: dict[str, dict], metric: str, show_train: bool) -> go.Figure:
    """Per-epoch test (solid) and train (dashed) curves of several checkpoints; reported figures dotted."""
    fig = go.Figure()
    for k, (name, record) in enumerate(runs.items()):
        color = PALETTE[k % len(PALETTE)]
        series = ev.history_series(record)
        fig.add_scatter(x=series["epoch"], y=series[f"test_{metric}"], mode="lines+markers",
                        name=f"{name} test", line=dict(color=color, width=3))
        if show_train:
            fig.add_scatter(x=series["epoch"], y=series[f"train_{metric}"], mode="lines",
                            name=f"{name} train", line=dict(color=color, dash="dash"))
        reported = record.get("reported")
        if metric == "accuracy" and reported:
            fig.add_hline(y=reported["test_accuracy"], line=dict(color=color, dash="dot", width=2),
                          annotation_text=f"{reported['source']} reports {reported['test_accuracy']:.2%} "
                                          f"after {reported['epochs']} epochs",
                          annotation_position="bottom right", annotation_font=dict(color=color))
    longest = max((len(r.get("history") or []) for r in runs.values()), default=1)
    fig.update_xaxes(title="epoch", tick0=1, dtick=max(1, round(longest / 10)))
    fig.update_yaxes(title="test accuracy" if metric == "accuracy" else "cross-entropy loss",
                     tickformat=".1%" if metric == "accuracy" else None)
    return _style(fig, 480)


def confusion_figure(matrix: np.ndarray, colorscale) -> go.Figure:
    """Counts, true digit down and predicted across; the diagonal greyed so the mistakes stand out.

    Invisible markers over the cells make a click select a cell (plotly heatmaps do not report clicks).
    """
    fig = plots.grid_heatmap(matrix, muted=np.eye(10, dtype=bool), decimals=0, colorscale=colorscale, cell_px=46)
    rows, cols = np.meshgrid(range(10), range(10), indexing="ij")
    fig.add_scatter(x=cols.ravel(), y=rows.ravel(), mode="markers", showlegend=False,
                    marker=dict(size=40, symbol="square", opacity=0.01, color="black"),
                    customdata=matrix.ravel(),
                    hovertemplate="true %{y}, predicted %{x}: %{customdata} images<extra></extra>")
    axis = dict(visible=True, tickvals=list(range(10)), tickfont=FONT, showgrid=False, zeroline=False)
    fig.update_layout(xaxis={**axis, "title": "predicted", "side": "top"},
                      yaxis={**axis, "title": "true digit"}, width=560, height=560,
                      margin=dict(l=70, r=10, t=70, b=10), clickmode="event+select", dragmode=False)
    return fig


def answer_bars(probs: np.ndarray, label: int, colors: tuple[str, ...], height: int = 240) -> go.Figure:
    """The shared probability bars, recoloured from the "answer" palette's ``colors``: the true
    digit in the right-answer colour, a wrong answer in the wrong-answer one."""
    guess = int(np.argmax(probs))
    fig = plots.probability_bars(probs, highlight=guess, height_px=height)
    fig.update_traces(marker_color=[colors[plots.ANSWER_RIGHT] if d == label else
                                    colors[plots.ANSWER_WRONG] if d == guess else
                                    colors[plots.ANSWER_OTHER] for d in range(10)])
    return fig


def trail_figure(epochs: list[int], trail: list[float], epoch: int, label: int) -> go.Figure:
    """The right answer's probability after each epoch, the chosen epoch marked."""
    fig = go.Figure(go.Scatter(x=epochs, y=trail, mode="lines+markers", marker=dict(size=9)))
    fig.add_vline(x=epoch, line=dict(dash="dot"))
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title=f"probability of {label}", range=[0, 1.05], tickformat=".0%")
    return _style(fig, 240)
