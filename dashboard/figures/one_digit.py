"""One digit's figures (plotly): an attribution map over the digit it explains, rectangles on it
(receptive fields, patches), its ten class probabilities as bars and in words."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from core.i18n import _
from dashboard.figures.grids import grid_layout
from dashboard.figures.palettes import ACCENT, PADDING_FILL, SIGNED_SCALE, as_key, cell_colors, plotly_scale

# How an attribution map is coloured, by its magnitude m in [0, 1] after
# core.explain.attributions.scaled_for_display (1 = the map's clip): a pixel under OVERLAY_VISIBLE_FROM
# is left uncoloured, so the digit shows through ("hardly matters"); from there on it gets a
# colour that is already a clear tint of the palette (OVERLAY_TINT_FROM of the way from the
# palette's white middle to its end) and at least OVERLAY_ALPHA_FROM opaque, both growing to the
# palette's end colour, fully opaque, at m = 1. So every coloured pixel can be seen on the grey
# digit, and "coloured" means m >= OVERLAY_VISIBLE_FROM.
OVERLAY_VISIBLE_FROM = 0.25
OVERLAY_TINT_FROM = 0.35
OVERLAY_ALPHA_FROM = 0.45
_OVERLAY_SAMPLES = (0.5, 0.75, 1.0)  # colour stops above the first visible one
FAINT_INK_SCALE = [[0.0, "#ffffff"], [1.0, "#8a8a8a"]]  # a digit as a light grey underlay


def _overlay_color(colorscale: str | tuple, m: float, high: bool) -> str:
    """The overlay's colour for magnitude ``m`` on the ``high`` (or low) half of a diverging scale."""
    if m < OVERLAY_VISIBLE_FROM:
        red, green, blue = cell_colors(np.array([0.5]), colorscale, 0.0, 1.0)[0]
        return f"rgba({red:.0f},{green:.0f},{blue:.0f},0)"
    tint = OVERLAY_TINT_FROM + (1 - OVERLAY_TINT_FROM) * m
    alpha = OVERLAY_ALPHA_FROM + (1 - OVERLAY_ALPHA_FROM) * m
    position = 0.5 + 0.5 * tint if high else 0.5 - 0.5 * tint
    red, green, blue = cell_colors(np.array([position]), colorscale, 0.0, 1.0)[0]
    return f"rgba({red:.0f},{green:.0f},{blue:.0f},{alpha:.3f})"


@functools.cache
def overlay_scale(colorscale: str | tuple, signed: bool) -> tuple[tuple[float, str], ...]:
    """The colour scale of :func:`attribution_overlay`: over [-1, 1] for a ``signed`` map (the
    diverging ``colorscale``, transparent around zero), else over [0, 1] (magnitude only, in
    the high half of ``colorscale``: Captum draws absolute values in one hue too)."""
    hidden = OVERLAY_VISIBLE_FROM - 1e-3  # the last transparent magnitude, just under the first visible
    magnitudes = (0.0, hidden, OVERLAY_VISIBLE_FROM, *_OVERLAY_SAMPLES)
    if not signed:
        return tuple((m, _overlay_color(colorscale, m, True)) for m in magnitudes)
    low = [(0.5 - 0.5 * m, _overlay_color(colorscale, m, False)) for m in reversed(magnitudes[1:])]
    high = [(0.5 + 0.5 * m, _overlay_color(colorscale, m, True)) for m in magnitudes[1:]]
    return tuple(low + [(0.5, _overlay_color(colorscale, 0.0, True))] + high)


def attribution_overlay(
    digit: np.ndarray,
    attribution: np.ndarray,
    *,
    signed: bool = True,
    title: str | None = None,
    size_px: int = 230,
    colorscale: str | Sequence = SIGNED_SCALE,
) -> go.Figure:
    """An attribution map over the digit it explains: the digit in light grey, the map on top.

    The map is scaled by :func:`core.explain.attributions.scaled_for_display` (its outliers clipped at
    a percentile, the same rule for every method). A ``signed`` map uses the diverging
    ``colorscale`` (by default red negative, blue positive) symmetric about zero; a one-sided
    one (Saliency's |gradient|, Grad-CAM) the high half of it, from nothing to the end colour.
    Pixels under :data:`OVERLAY_VISIBLE_FROM` of the scale stay uncoloured. The colour bar and
    the hover text are in the map's own units. Both arrays are H x W of the same shape."""
    # Here, not at the top: core.explain.attributions loads torch and Captum (1.7 s), which pages without
    # attribution maps (and their tests) need not pay for.
    from core.explain.attributions import display_clip, scaled_for_display

    digit = np.asarray(digit, dtype=float)
    values = np.asarray(attribution, dtype=float)
    rows, cols = values.shape
    scaled = scaled_for_display(values, signed=signed)
    clip = display_clip(values)  # of |values|: the same for a map and its magnitude
    title_px = 30 if title else 4
    cell = size_px / max(rows, cols)
    end = f"{clip:.2g}"
    ticks = ([-1.0, 0.0, 1.0], [f"≤ −{end}", "0", f"≥ {end}"]) if signed else ([0.0, 1.0], ["0", f"≥ {end}"])
    # The layout goes into the constructor: update_layout costs several times more.
    return go.Figure(
        data=[
            go.Heatmap(
                z=digit,
                colorscale=FAINT_INK_SCALE,
                zmin=0,
                zmax=max(float(digit.max()), 1.0),
                showscale=False,
                hoverinfo="skip",
            ),
            go.Heatmap(
                z=scaled,
                customdata=values,
                colorscale=plotly_scale(overlay_scale(as_key(colorscale), signed)),
                zmin=-1.0 if signed else 0.0,
                zmax=1.0,
                colorbar=dict(thickness=10, len=0.9, tickfont=dict(size=10), tickvals=ticks[0], ticktext=ticks[1]),
                hovertemplate=_("row %{y}, col %{x}: %{customdata:.3g}") + "<extra></extra>",
            ),
        ],
        layout=grid_layout(rows, cols, cell, title=title, title_px=title_px, font_px=15, extra_width=80),
    )


def probability_bars(
    probabilities: Iterable[float],
    *,
    highlight: int | None = None,
    title: str | None = None,
    height_px: int = 230,
    highlight_color: str = ACCENT,
    other_color: str = "#9db4cf",
) -> go.Figure:
    """Ten class probabilities as bars labelled 0-9, the ``highlight`` class in
    ``highlight_color`` (e.g. the "answer" palette's right-answer colour), the rest in ``other_color``."""
    values = [float(p) for p in probabilities]
    colors = [highlight_color if k == highlight else other_color for k in range(len(values))]
    title_px = 30 if title else 6
    return go.Figure(
        data=go.Bar(
            x=[str(k) for k in range(len(values))],
            y=values,
            marker_color=colors,
            text=[f"{p:.0%}" if p >= 0.005 else "" for p in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=_("class %{x}: %{y:.4f}") + "<extra></extra>",
        ),
        layout=dict(
            height=height_px,
            margin=dict(l=36, r=8, t=title_px, b=28),
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="white",
            bargap=0.25,
            showlegend=False,
            title=dict(text=title, x=0.5, xanchor="center", font=dict(size=15)) if title else None,
            xaxis=dict(title=None, type="category", fixedrange=True),
            yaxis=dict(range=[0, 1.12], tickformat=".0%", fixedrange=True, gridcolor="#eeeeee"),
        ),
    )


def probabilities_text(probabilities: Iterable[float]) -> str:
    """What a chart of ten class probabilities shows, in words: the classes with at least 1%,
    most likely first, and that the others have less."""
    values = [float(p) for p in probabilities]
    order = sorted(range(len(values)), key=lambda k: -values[k])
    listed = [k for k in order if values[k] >= 0.01] or order[:1]
    classes = _(", ").join(_("{digit} at {probability:.0%}").format(digit=k, probability=values[k]) for k in listed)
    if len(listed) == len(values):
        return _("The probability of each class: {classes}.").format(classes=classes)
    return _("The probability of each class: {classes}; every other class under 1%.").format(classes=classes)


def digit_with_boxes(
    picture: np.ndarray,
    boxes: Iterable[tuple[int, int, int, int, str, str]] = (),
    *,
    title: str | None = None,
    colorscale: str | Sequence = "gray",
    size_px: int = 280,
    overlay: np.ndarray | None = None,
    overlay_color: str = "rgba(230,159,0,0.45)",
) -> go.Figure:
    """A digit (H x W, 0-255) with rectangles drawn on it, for receptive fields and patches.

    Each box is (top, left, bottom, right, colour, dash) in pixel rows/columns, inclusive. A box
    may reach past the picture (into padding): the view then grows to show it, the padding
    grey. ``overlay`` (bool H x W) tints the pixels where it is True, e.g. where a gradient reaches.
    """
    picture = np.asarray(picture, dtype=float)
    rows, cols = picture.shape
    boxes = list(boxes)
    top = min([0] + [b[0] for b in boxes])
    left = min([0] + [b[1] for b in boxes])
    bottom = max([rows - 1] + [b[2] for b in boxes])
    right = max([cols - 1] + [b[3] for b in boxes])
    traces = [
        go.Heatmap(
            z=picture,
            colorscale=plotly_scale(colorscale),
            zmin=0,
            zmax=255,
            showscale=False,
            hovertemplate=_("row %{y}, col %{x}: %{z:.0f}") + "<extra></extra>",
        )
    ]

    if overlay is not None:
        traces.append(
            go.Heatmap(
                z=np.where(np.asarray(overlay, dtype=bool), 1.0, np.nan),
                showscale=False,
                colorscale=[[0, overlay_color], [1, overlay_color]],
                hoverinfo="skip",
            )
        )
    shapes = [
        dict(
            type="rect",
            x0=b_left - 0.5,
            x1=b_right + 0.5,
            y0=b_top - 0.5,
            y1=b_bottom + 0.5,
            line=dict(color=color, width=3, dash=dash),
        )
        for b_top, b_left, b_bottom, b_right, color, dash in boxes
    ]
    title_px = 32 if title else 4
    cell = size_px / max(bottom - top + 1, right - left + 1)
    return go.Figure(
        data=traces,
        layout=grid_layout(
            bottom - top + 1,
            right - left + 1,
            cell,
            title=title,
            title_px=title_px,
            font_px=15,
            extra_width=8,
            plot_bgcolor=PADDING_FILL,
            x_range=[left - 0.6, right + 0.6],
            y_range=[bottom + 0.6, top - 0.6],
            shapes=shapes,
        ),
    )
