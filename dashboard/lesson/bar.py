"""The teacher's bar, above every page while a lesson runs: the step, how many students are on it,
and back, next, pause or resume, end. Small enough for a projector's first screen; by keyboard the
arrow keys or a clicker's Page Up / Page Down move the class (not while typing in a field).

Every action checks the teacher's role where it acts (:func:`act`): a student's crafted request
changes nothing and leaves a line saying so. The teacher's own page goes to the new step.
"""

from __future__ import annotations

import streamlit as st

from core.classroom.lesson_mode import live as lesson_live
from core.classroom.lesson_mode.live import LessonLive, LiveLesson
from core.i18n import _, ngettext
from dashboard.frame import accessibility, roles
from dashboard.lesson.step import step_heading

REFUSED = "_lesson_refused"  # session state: why the last action was not done, said once
GO_KEY = "_lesson_go"  # session state: the step this teacher's own page goes to after a click
# The arrow keys press the bar's buttons, unless the focus is in something that takes them
# (a field, a slider, a select); Page Up / Page Down are the buttons' own shortcuts.
_ARROWS_JS = """(() => { if (window.cnnxLessonKeys) return; window.cnnxLessonKeys = true;
document.addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const key = {ArrowRight: 'lesson_next', ArrowLeft: 'lesson_back'}[e.key]; if (!key) return;
  const t = e.target; if (t && t.closest && t.closest('input, textarea, select, [role="slider"], [role="combobox"], '
    + '[role="listbox"], [role="grid"], [contenteditable="true"]')) return;
  const b = document.querySelector('.st-key-' + key + ' button'); if (b && !b.disabled) { e.preventDefault(); b.click(); }
}); })();"""


def act(lessons: LessonLive, action: str, seen: tuple[int, str]) -> None:
    """Do ``action`` (``next``, ``back``, ``pause``, ``resume``, ``end``) for the teacher only, on
    the lesson as the bar showed it (``seen``: its revision and state): a press that arrives after
    the lesson has moved (a second delivery of the same click, another of the teacher's tabs) does
    nothing, so one press never skips a step. The teacher's page then goes to the step."""
    refused = roles.teacher_action(_("lead the lesson"), _move, lessons, action, seen)
    if refused:
        st.session_state[REFUSED] = refused


def _move(lessons: LessonLive, action: str, seen: tuple[int, str]) -> None:
    now = lessons.now()
    if now is None or (now.revision, now.state) != seen:
        return
    live = getattr(lessons, action)()
    if action in ("next", "back", "resume") and live.leading:
        st.session_state[GO_KEY] = live.current.link


def _counted(counts: dict[str, int]) -> list[str]:
    """How many students' pages are on the step, exploring, on their way, in words."""
    on, exploring, going = counts[lesson_live.ON_STEP], counts[lesson_live.EXPLORING], counts[lesson_live.GO]
    parts = [
        ngettext("{n} student on this step", "{n} students on this step", on).format(n=on),
        ngettext("{n} exploring", "{n} exploring", exploring).format(n=exploring),
    ]
    return parts + ([_("{n} on the way").format(n=going)] if going else [])


def draw(lessons: LessonLive, live: LiveLesson, page_path: str) -> None:
    """The bar for a running lesson (``live`` in the reader's language)."""
    with st.container(border=True, key="lesson_bar"):
        text, buttons = st.columns([1, 2], vertical_alignment="center")
        with text:
            step_heading(live)
            if live.leading:
                st.caption(" · ".join(_counted(lessons.counts(live))))
            else:
                st.caption(_("Paused: the class explores freely. Resume brings everyone back to this step."))
        with buttons, st.container(horizontal=True, vertical_alignment="center", gap="small"):
            seen = (live.revision, live.state)
            last = len(live.lesson.steps) - 1
            st.button(
                _("Back"),
                key="lesson_back",
                icon=":material/arrow_back:",
                shortcut="PageUp",
                disabled=live.step == 0 and live.leading,
                on_click=act,
                args=(lessons, "back", seen),
                help=_("The previous step, for the whole class (← or Page Up)"),
            )
            st.button(
                _("Next"),
                key="lesson_next",
                icon=":material/arrow_forward:",
                type="primary",
                shortcut="PageDown",
                disabled=live.step == last and live.leading,
                on_click=act,
                args=(lessons, "next", seen),
                help=_("The next step, for the whole class (→ or Page Down)"),
            )
            if live.leading:
                st.button(
                    _("Pause"), key="lesson_pause", icon=":material/pause:", on_click=act, args=(lessons, "pause", seen)
                )
            else:
                st.button(
                    _("Resume"),
                    key="lesson_resume",
                    icon=":material/play_arrow:",
                    on_click=act,
                    args=(lessons, "resume", seen),
                )
            st.button(_("End"), key="lesson_end", icon=":material/stop:", on_click=act, args=(lessons, "end", seen))
            if page_path != live.current.page:
                st.button(
                    _("Open the step here"),
                    key="lesson_open",
                    icon=":material/open_in_browser:",
                    type="tertiary",
                    on_click=st.session_state.__setitem__,
                    args=(GO_KEY, live.current.link),
                    help=_("You are on another page than the class's step: this page goes to it."),
                )
    st.html(f'<span class="{accessibility.SR_ONLY}"></span><script>{_ARROWS_JS}</script>', unsafe_allow_javascript=True)
