"""The digit chosen on the class wall, large: who sent it, what they meant and what the network said,
the teacher's button to hide it, and (folded) the same panel as /draw (``dashboard.draw.digit_panel``).
"""

from __future__ import annotations

import time

import streamlit as st

from core.classroom import store as class_store
from core.classroom.entry import Entry
from core.explain import pictures
from core.i18n import _
from dashboard.classroom import common
from dashboard.draw import digit_panel
from dashboard.frame import links, presenter

LARGE_PX = 224  # the chosen digit: 28 px shown 8x
SELECTED = "wall_entry"


def describe(entry: Entry) -> str:
    """One sentence on a sent digit: who, what they meant, what the network said, when."""
    sentence = (
        _("**{student}** meant **{label}**; {model} said **{prediction}** ({confidence:.0%} sure, right), at {time}.")
        if entry.right
        else _(
            "**{student}** meant **{label}**; {model} said **{prediction}** ({confidence:.0%} sure, wrong), at {time}."
        )
    )
    return sentence.format(
        student=links.markdown_text(entry.student),
        label=entry.label,
        model=entry.model,
        prediction=entry.prediction,
        confidence=entry.confidence,
        time=time.strftime("%H:%M:%S", time.localtime(entry.sent_at)),
    )


def large_picture(column, entry: Entry) -> None:
    """The chosen digit, large and crisp, with what it is for a screen reader."""
    side = round(LARGE_PX * presenter.figure_scale())
    column.image(
        pictures.framed(entry.image, side),
        width=side,
        output_format="PNG",
        alt=_("a handwritten {label}, read as {prediction}").format(label=entry.label, prediction=entry.prediction),
    )


def selected_panel(store: class_store.ClassStore, teacher: bool) -> None:
    """The chosen digit, large, with the same panel as /draw; the teacher can hide it."""
    entry = common.remembered_entry(store, SELECTED)
    if entry is None:
        return
    with st.container(border=True, key="wall_selected_panel"):
        large, about = st.columns([1, 2.5], vertical_alignment="center")
        large_picture(large, entry)
        with about:
            st.markdown(describe(entry))
            with st.container(horizontal=True):
                st.button(
                    _("Show again") if entry.hidden else _("Hide from the wall"),
                    key="wall_hide",
                    icon=":material/visibility:" if entry.hidden else ":material/visibility_off:",
                    disabled=not teacher,
                    on_click=common.teacher_action,
                    args=(_("hide a digit"), store.set_hidden, entry.id, not entry.hidden),
                )
                st.button(
                    _("Close"),
                    key="wall_close",
                    icon=":material/close:",
                    on_click=lambda: st.session_state.pop(SELECTED, None),
                )
            common.only_teacher_caption(teacher, _("hide a digit"))
        # Folded: open, the panel is a page long and would push the wall off the screen.
        with st.expander(
            _("How {model} read it: its answer, feature maps, the pixels that mattered").format(model=entry.model),
            icon=":material/neurology:",
        ):
            digit_panel.explain_digit(entry.image, entry.model, prefix="wall")
