"""Plotly figures of the /dataset and /architecture pages (drawing only: the numbers come from core)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

FONT = dict(size=16)
TRAIN_COLOR, TEST_COLOR = "#4C78A8", "#F58518"
HIGHLIGHT = "#E45756"


def _fixed(fig: go.Figure, height: int) -> go.Figure:
    """Fixed height, tight margins, and fonts big enough for a projector at the back of a room."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      legend=dict(font=FONT))
    fig.update_xaxes(tickfont=FONT, title_font=FONT)
    fig.update_yaxes(tickfont=FONT, title_font=FONT)
    return fig


def class_counts_bar(counts: dict[str, list[int]]) -> go.Figure:
    """Grouped bars: images per digit in the training and the test set."""
    fig = go.Figure([
        go.Bar(name=f"{split} ({sum(c):,})", x=list(range(10)), y=c, text=[f"{v:,}" for v in c],
               textposition="outside", marker_color=color)
        for (split, c), color in zip(counts.items(), (TRAIN_COLOR, TEST_COLOR))])
    fig.update_layout(barmode="group", xaxis=dict(title="digit", dtick=1),
                      yaxis=dict(title="images"), legend=dict(orientation="h", y=1.12))
    return _fixed(fig, 420)


def one_hot_bar(vector: np.ndarray) -> go.Figure:
    """The ten target values as a row of cells, the 1 highlighted."""
    vector = np.asarray(vector)
    fig = go.Figure(go.Heatmap(
        z=vector[None, :], x=list(range(len(vector))), text=[[str(v) for v in vector]],
        texttemplate="%{text}", textfont=dict(size=20), colorscale=[[0, "#f0f0f0"], [1, HIGHLIGHT]],
        zmin=0, zmax=1, showscale=False, xgap=3, ygap=3, hoverinfo="skip"))
    fig.update_xaxes(dtick=1, title="position (digit)", side="bottom")
    fig.update_yaxes(visible=False)
    return _fixed(fig, 150)
