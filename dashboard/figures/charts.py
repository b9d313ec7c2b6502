"""How every page draws a figure: its colour map in the current mode, enlarged in presenter mode,
without plotly's mode bar, described for a screen reader; the width the browser gives a figure."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.figures import palettes
from dashboard.frame import presenter
from dashboard.frame.accessibility import describe


def palette(kind: str) -> palettes.Palette:
    """The colour map for ``kind`` (image, activation, signed, input, count, answer) in the
    current mode: colour-blind-safe ones in presenter mode."""
    return palettes.palette(kind, presenter=presenter.is_on())


CHART_CONFIG = {"displayModeBar": False}  # a lesson's figures are looked at, not edited


def plotly_chart(fig, *, key: str, container=st, description: str | None = None, **options):
    """``st.plotly_chart`` as every page draws a figure: enlarged in presenter mode, without
    plotly's mode bar (``config`` overrides), at its own size when ``width="content"``; right
    after it, for a screen reader, ``description`` (what the figure shows), else its title."""
    options.setdefault("config", CHART_CONFIG)
    title = fig.layout.title.text
    shown = container.plotly_chart(enlarged(fig, presenter.figure_scale()), key=key, **options)
    if description or title:
        describe(description or title, container)
    return shown


def chart(fig, key: str, description: str | None = None, **options):
    """A figure at its own size (most of the lesson's figures are drawn to a size)."""
    return plotly_chart(fig, key=key, width="content", description=description, **options)


def enlarged(fig: go.Figure, factor: float) -> go.Figure:
    """The same figure ``factor`` times larger, in place: its size, title room and every font
    (for a projector). A figure without a fixed width keeps filling its column."""
    if factor == 1:
        return fig
    layout = fig.layout

    def grow(value, default=None):
        value = default if value is None else value
        return None if value is None else round(value * factor)

    layout.width, layout.height = grow(layout.width), grow(layout.height)
    layout.font.size = grow(layout.font.size, 12)
    if layout.title.text:
        layout.title.font.size = grow(layout.title.font.size, 17)
        layout.margin.t = grow(layout.margin.t)
    for annotation in layout.annotations or ():
        annotation.font.size = grow(annotation.font.size, 12)
    for trace in fig.data:
        font = getattr(trace, "textfont", None)
        if font is not None and font.size is not None:
            font.size = grow(font.size)
        colorbar = getattr(trace, "colorbar", None)
        if colorbar is not None and colorbar.tickfont.size is not None:
            colorbar.tickfont.size = grow(colorbar.tickfont.size)
    return fig


# Reports the width an element gets, in steps of 20 px and only when it changes by more than a
# scroll bar's width, so that a scroll bar coming and going never redraws a figure back and forth.
_WIDTH_JS = """
export default function (component) {
    const { setStateValue, parentElement } = component;
    const host = parentElement.host || parentElement;
    const report = () => {
        const width = Math.floor(host.getBoundingClientRect().width / 20) * 20;
        if (width > 0 && (host.reportedWidth === undefined || Math.abs(width - host.reportedWidth) > 20)) {
            host.reportedWidth = width;
            setStateValue("width", width);
        }
    };
    const observer = new ResizeObserver(report);
    observer.observe(host);
    report();
    return () => observer.disconnect();
}
"""


def width_probe(key: str) -> int | None:
    """The width (px) the browser gives the element after this one's place; None until it has said."""
    probe = st.components.v2.component("column_width", js=_WIDTH_JS)
    return probe(key=key, on_width_change=lambda: None).width
