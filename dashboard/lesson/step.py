"""The step as every reader sees it: the lesson's texts in the reader's language, and one line
naming the step (announced to a screen reader when it changes)."""

from __future__ import annotations

import streamlit as st

from core.classroom.lesson_mode.live import LiveLesson
from core.classroom.lesson_mode.plans import said
from core.i18n import _
from dashboard.frame import accessibility, links


def said_live(live: LiveLesson) -> LiveLesson:
    """``live`` with its lesson's texts in the reader's language."""
    return LiveLesson(said(live.lesson), live.step, live.state, live.revision, live.gathered, live.changed)


def step_heading(live: LiveLesson) -> None:
    """One line naming the step, its title as the teacher typed it (plain text), announced to a
    screen reader with the step's lines when it changes."""
    template = _("Step {number} of {count}: {title}")
    number, count = live.step + 1, len(live.lesson.steps)
    st.markdown(
        ":material/school: "
        + template.format(number=number, count=count, title=links.markdown_text(live.current.title))
    )
    spoken = template.format(number=number, count=count, title=live.current.title)
    accessibility.announce(" ".join([spoken, *live.current.lines]))
