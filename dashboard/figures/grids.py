"""Pictures with square cells (plotly): small grids of numbers that stay readable on a projector,
with the cells a step reads or writes outlined; whole digits and feature maps with a colour bar;
the layout every square-cell picture shares. The same grids as HTML: dashboard.figures.html_pictures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from core.grids.arithmetic import format_number
from core.i18n import _
from dashboard.figures.palettes import (
    ACCENT,
    HIGHLIGHT,
    INPUT_SCALE,
    PADDING_FILL,
    PADDING_TEXT,
    plotly_scale,
)


def _outline_trace(cells: Iterable[tuple[int, int]], color: str, width: float, dash: str = "solid") -> go.Scatter:
    """Cell outlines as one line trace (far cheaper to build than one layout shape per cell)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for r, c in cells:
        xs += [c - 0.5, c + 0.5, c + 0.5, c - 0.5, c - 0.5, None]
        ys += [r - 0.5, r - 0.5, r + 0.5, r + 0.5, r - 0.5, None]
    return go.Scatter(
        x=xs, y=ys, mode="lines", line=dict(color=color, width=width, dash=dash), hoverinfo="skip", showlegend=False
    )


def grid_layout(
    rows: float,
    cols: float,
    cell: float,
    *,
    title: str | None,
    title_px: int,
    font_px: int,
    extra_width: int,
    extra_height: int = 8,
    plot_bgcolor: str = "white",
    x_range: list | None = None,
    y_range: list | None = None,
    **more,
) -> dict:
    """The layout every square-cell picture here shares: no axes, row 0 on top, a centred title."""
    return dict(
        width=int(cols * cell) + extra_width,
        height=int(rows * cell) + title_px + extra_height,
        margin=dict(l=4, r=4, t=title_px, b=4),
        plot_bgcolor=plot_bgcolor,
        paper_bgcolor="rgba(0,0,0,0)",
        title=dict(text=title, x=0.5, xanchor="center", y=1, yanchor="top", pad=dict(t=6), font=dict(size=font_px))
        if title
        else None,
        xaxis=dict(visible=False, range=x_range or [-0.5, cols - 0.5], fixedrange=True, constrain="domain"),
        yaxis=dict(
            visible=False, range=y_range or [rows - 0.5, -0.5], fixedrange=True, scaleanchor="x", constrain="domain"
        ),
        **more,
    )


def grid_heatmap(
    values: np.ndarray,
    *,
    highlight: Iterable[tuple[int, int]] | None = None,
    accent: Iterable[tuple[int, int]] | None = None,
    preview: Iterable[tuple[int, int]] | None = None,
    muted: np.ndarray | None = None,
    text: bool = True,
    decimals: int = 2,
    colorscale: str | Sequence = INPUT_SCALE,
    zmid: float | None = None,
    zmin: float | None = None,
    zmax: float | None = None,
    title: str | None = None,
    cell_px: int = 48,
    font_px: int | None = None,
) -> go.Figure:
    """A 2-D grid drawn as coloured cells with their numbers written in them.

    ``highlight`` cells get a thick orange outline (a sliding window), ``accent`` cells a green
    one (the cell being written), ``preview`` cells a dotted orange one (where the window goes next). ``muted`` cells (e.g. zero padding) are drawn grey with grey
    numbers. NaN cells are left blank (not computed yet). Cells are square, ``cell_px`` wide.
    """
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    muted = np.zeros(values.shape, dtype=bool) if muted is None else np.asarray(muted, dtype=bool)
    labels = np.vectorize(lambda v: "" if np.isnan(v) else format_number(v, decimals), otypes=[object])(values)
    font_px = font_px or max(10, min(22, int(cell_px * 0.36)))
    shown = np.where(muted, np.nan, values)
    finite = shown[np.isfinite(shown)]
    if zmid is not None and finite.size:
        # A symmetric range keeps zero white however lopsided the numbers are.
        reach = max(abs(finite).max(), 1e-9)
        zmin, zmax = (-reach, reach) if zmin is None and zmax is None else (zmin, zmax)
    elif finite.size and zmin is None and zmax is None and finite.max() == finite.min():
        zmin, zmax = finite.min() - 1, finite.max() + 1
    traces = [
        go.Heatmap(
            z=shown,
            text=labels if text else None,
            texttemplate="%{text}" if text else None,
            textfont=dict(size=font_px),
            colorscale=plotly_scale(colorscale),
            zmin=zmin,
            zmax=zmax,
            showscale=False,
            xgap=1,
            ygap=1,
            hoverinfo="skip",
        )
    ]
    if muted.any():
        traces.append(
            go.Heatmap(
                z=np.where(muted, 0.0, np.nan),
                text=labels if text else None,
                texttemplate="%{text}" if text else None,
                textfont=dict(size=font_px, color=PADDING_TEXT),
                colorscale=[[0, PADDING_FILL], [1, PADDING_FILL]],
                showscale=False,
                xgap=1,
                ygap=1,
                hoverinfo="skip",
            )
        )
    for cells, color, width, dash in (
        (preview, HIGHLIGHT, 3, "dot"),
        (highlight, HIGHLIGHT, 4, "solid"),
        (accent, ACCENT, 4, "solid"),
    ):
        if cells:
            traces.append(_outline_trace(cells, color, width, dash))
    title_px = 34 if title else 4
    return go.Figure(
        data=traces,
        layout=grid_layout(
            rows, cols, cell_px, title=title, title_px=title_px, font_px=17, extra_width=8, extra_height=4
        ),
    )


def image_heatmap(
    values: np.ndarray,
    *,
    title: str | None = None,
    colorscale: str | Sequence = "gray",
    zmid: float | None = None,
    size_px: int = 320,
) -> go.Figure:
    """A larger grid without numbers (a whole digit, a feature map), square cells, with a colour bar."""
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    cell = size_px / max(rows, cols)
    zmin = zmax = None
    if zmid is not None and values.size:
        reach = max(abs(values).max(), 1e-9)
        zmin, zmax = -reach, reach
    title_px = 34 if title else 4
    # The layout goes into the constructor: update_layout costs several times more (8 ms vs 2).
    return go.Figure(
        go.Heatmap(
            z=values,
            colorscale=plotly_scale(colorscale),
            zmin=zmin,
            zmax=zmax,
            colorbar=dict(thickness=12, len=0.9),
            hovertemplate=_("row %{y}, col %{x}: %{z:.2f}") + "<extra></extra>",
        ),
        layout=grid_layout(rows, cols, cell, title=title, title_px=title_px, font_px=17, extra_width=90),
    )
