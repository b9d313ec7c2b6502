"""Digits the class sent as one clickable grid of tiles (the class wall, the fooled digits), as many
square tiles a row as fit in the width the browser reports (``charts.width_probe``); a click on a
tile, or a choice in the list under the grid for whoever cannot click it, opens that digit.
"""

from __future__ import annotations

import streamlit as st

from core.classroom.entry import Entry
from core.i18n import _, ngettext
from dashboard.classroom import figures as figs
from dashboard.figures import charts, palettes
from dashboard.frame import accessibility, presenter

TILE_PX = 100  # a digit on the wall, about (times presenter.figure_scale())
ASSUMED_WIDTH_PX = 900  # the wall's width until the browser has said (a laptop's)
_OPEN_NOW = "_wall_open_now"  # session state: a digit was chosen from the list; the page reruns


def picked_entry(event) -> int | None:
    """The entry id a click on a grid of digits chose (its point's customdata), or None."""
    points = (event.selection or {}).get("points") or [] if event else []
    picked = points[0].get("customdata") if points else None
    if isinstance(picked, list):
        picked = picked[0]
    return None if picked is None else int(picked)


def tiles(entries: list[Entry], columns: int, tile_px: int, selected: int | None = None):
    """The digits as a figure of square tiles, each framed in the colour of right or wrong (the mode's)."""
    answer = charts.palette("answer")
    return figs.wall_figure(
        entries,
        columns=columns,
        right_color=answer.colors[palettes.ANSWER_RIGHT],
        wrong_color=answer.colors[palettes.ANSWER_WRONG],
        tile_px=tile_px,
        selected=selected,
    )


def grid(entries: list[Entry], width: int | None, *, key: str, selected: int | None):
    """The digits as one clickable figure as wide as its place; returns the chart's event."""
    columns, tile_px = figs.grid_shape(width or ASSUMED_WIDTH_PX, round(TILE_PX * presenter.figure_scale()))
    fig = tiles(entries, columns, tile_px, selected=selected)
    event = st.plotly_chart(
        fig, key=key, on_select="rerun", selection_mode="points", config=charts.CHART_CONFIG, width="content"
    )  # not charts.plotly_chart: the tiles are already sized for presenter mode
    right = sum(e.right for e in entries)
    accessibility.describe(
        ngettext(
            "{n} digit, newest first: {right} read as meant, {wrong} not. Each can be opened from the list below them.",
            "{n} digits, newest first: {right} read as meant, {wrong} not. Each "
            "can be opened from the list below them.",
            len(entries),
        ).format(n=len(entries), right=right, wrong=len(entries) - right)
    )
    return event


def open_by_keyboard(entries: list[Entry], *, key: str, chosen: str) -> None:
    """A list of the digits shown, for whoever cannot click the figure (keyboard, screen reader):
    choosing one opens it as a click on its tile does (``chosen``: the session-state key)."""

    def opened() -> None:
        st.session_state[chosen], st.session_state[key] = st.session_state[key], None
        st.session_state[_OPEN_NOW] = True

    lines = {
        e.id: _("{student}: meant {label}, read as {prediction} ({confidence:.0%} sure)").format(
            student=e.student, label=e.label, prediction=e.prediction, confidence=e.confidence
        )
        for e in entries
    }
    st.selectbox(
        _("Open a digit"),
        list(lines),
        index=None,
        format_func=lines.get,
        key=key,
        on_change=opened,
        placeholder=_("Choose one of the digits above"),
    )
    if st.session_state.pop(_OPEN_NOW, False):
        st.rerun()  # the whole page: the large panel sits outside the polled fragment
