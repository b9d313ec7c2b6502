"""Figures of the class wall: the class's digits as one clickable grid.

Drawing only: the entries come from ``core.class_store``. One plotly figure rather than a grid
of widgets: it is one element to send each time the wall polls, its text is rendered by the
browser (any language), and a click on a digit is a plotly selection (the entry's id rides in
``customdata``), as the confusion matrix on /training does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.class_store import Entry
from core.dataset_views import upscale_nearest
from dashboard.plots import png_data_uri

TILE_ZOOM = 3  # 28 px -> 84 px before the browser scales it: pixels stay crisp squares


def tile_uri(image: np.ndarray) -> str:
    """A 28x28 uint8 digit as a PNG data URI, enlarged by whole pixels."""
    return png_data_uri(upscale_nearest(np.asarray(image, dtype=np.uint8), TILE_ZOOM))


def wall_figure(entries: Sequence[Entry], *, columns: int, right_color: str, wrong_color: str,
                tile_px: int = 100, selected: int | None = None) -> go.Figure:
    """The entries left to right, top to bottom, newest first: each digit with "meant → said,
    how sure" under it; a wrong answer framed and written in ``wrong_color``. A click selects an
    entry (its id is the point's customdata)."""
    count = len(entries)
    rows = max(1, math.ceil(count / columns))
    images, annotations, shapes = [], [], []
    xs, ys, ids, hover = [], [], [], []
    for index, entry in enumerate(entries):
        col, row = index % columns, index // columns
        color = right_color if entry.right else wrong_color
        images.append(dict(source=tile_uri(entry.image), xref="x", yref="y", x=col + 0.1, y=row + 0.02,
                           sizex=0.8, sizey=0.72, xanchor="left", yanchor="top", sizing="stretch", layer="above"))
        annotations.append(dict(x=col + 0.5, y=row + 0.87, xref="x", yref="y", showarrow=False,
                                text=f"<b>{entry.label}</b> → <b>{entry.prediction}</b> {entry.confidence:.0%}",
                                font=dict(size=15, color=color)))
        if not entry.right:
            shapes.append(dict(type="rect", xref="x", yref="y", x0=col + 0.06, x1=col + 0.94, y0=row - 0.01,
                               y1=row + 0.76, line=dict(color=wrong_color, width=4)))
        if entry.id == selected:
            shapes.append(dict(type="rect", xref="x", yref="y", x0=col + 0.01, x1=col + 0.99, y0=row - 0.04,
                               y1=row + 0.99, line=dict(color="#444444", width=3, dash="dot")))
        xs.append(col + 0.5)
        ys.append(row + 0.4)
        ids.append(entry.id)
        verdict = "right" if entry.right else "wrong"
        hover.append(f"{entry.student}: meant {entry.label}, {entry.model} said {entry.prediction} "
                     f"({entry.confidence:.0%} sure, {verdict})")
    points = go.Scatter(x=xs, y=ys, customdata=ids, mode="markers", hovertext=hover, hoverinfo="text",
                        marker=dict(size=tile_px * 0.7, symbol="square", color="black", opacity=0.01),
                        showlegend=False)
    axis = dict(visible=False, fixedrange=True)
    return go.Figure(data=[points], layout=dict(
        images=images, annotations=annotations, shapes=shapes, height=rows * tile_px + 10,
        width=columns * tile_px + 10, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white",
        paper_bgcolor="rgba(0,0,0,0)", clickmode="event+select", dragmode=False,
        xaxis={**axis, "range": [0, columns]}, yaxis={**axis, "range": [rows, 0]}))
