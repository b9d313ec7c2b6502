"""Above every page, the lesson being taught: a student's page follows the teacher's step, a
teacher's bar leads it.

``app.py`` calls :func:`area` before the page runs. It is an ``st.fragment`` that polls the class
store (``core.classroom.lesson_mode.live``) every ``POLL_S`` while a lesson runs and every
``IDLE_POLL_S`` otherwise, as the class wall polls for digits: a poll where nothing changed redraws
only the banner, never the page.

A student's page goes to the step's view by loading its link (the language and presenter mode the
student has are kept): exactly what opening the link would show, whatever page the student was
on, and as a late joiner lands. The student may explore (the banner's button, or opening another
page) and go back to the class; the teacher sees how many are on the step. The teacher's bar
(:mod:`dashboard.lesson.bar`) moves the class; only the teacher's own page goes with a click.
"""

from __future__ import annotations

import html
import time
import urllib.parse

import streamlit as st

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.lesson_mode import live as lesson_live
from core.classroom.lesson_mode.live import LessonLive, LiveLesson
from core.i18n import _
from dashboard.frame import accessibility, guard, language, links, presenter, roles
from dashboard.lesson import bar
from dashboard.lesson.step import said_live, step_heading

POLL_S = 1.0  # while a lesson runs: a step reaches every page within about this (plus its load)
IDLE_POLL_S = 3.0  # otherwise: a lesson's start reaches every open page within this
_PACED = "_lesson_paced"  # session state: the poll that last sent the page to rerun at another pace
GOING = "_lesson_going"  # session state: the revision this page was sent to load (until it has)
CARRIED = (language.KEY, presenter.PRESENTER_KEY)  # the reader's own settings, kept on the way


def area(page_path: str) -> None:
    """The lesson above the page (nothing when no lesson runs and the reader is a student)."""
    live = _live()
    if live is not None and live.running:
        _poll_running(page_path)
    else:
        _poll_idle(page_path)


@st.fragment(run_every=POLL_S)
def _poll_running(page_path: str) -> None:
    _draw(page_path, running=True)


@st.fragment(run_every=IDLE_POLL_S)
def _poll_idle(page_path: str) -> None:
    _draw(page_path, running=False)


def _store() -> class_store.ClassStore | None:
    try:
        return class_store.store()
    except StoreError:
        return None  # /class says why; a page never fails for want of a lesson


def _live() -> LiveLesson | None:
    store = _store()
    try:
        return LessonLive(store).now() if store is not None else None
    except (StoreError, ValueError):
        return None


def _draw(page_path: str, *, running: bool) -> None:
    """One poll. A lesson that started or ended since the page chose its pace reruns the page
    once, which then polls at the other pace (a page already on the first step's view when the
    lesson starts is not reloaded; an ended lesson's pages go back to the idle pace)."""
    store = _store()
    if store is None:
        return
    lessons = LessonLive(store)
    with guard.guarded(_("Lesson mode")):
        refused = st.session_state.pop(bar.REFUSED, None)
        if refused:  # a press of the teacher's controls by a session without the role
            st.warning(refused, icon=":material/lock:")
        live = lessons.now()
        now = (live.revision, live.state) if live is not None else None
        if (live is not None and live.running) != running and st.session_state.get(_PACED) != now:
            st.session_state[_PACED] = now  # once per change: never a loop of reruns
            st.rerun(scope="app")
        if roles.is_teacher():
            _teacher(lessons, live, page_path)
        else:
            _student(lessons, live, page_path)


def _teacher(lessons: LessonLive, live: LiveLesson | None, page_path: str) -> None:
    go = st.session_state.pop(bar.GO_KEY, None)
    if go is not None:
        navigate(go)
    if live is not None and live.running:
        bar.draw(lessons, said_live(live), page_path)


def _student(lessons: LessonLive, live: LiveLesson | None, page_path: str) -> None:
    key = roles.student_key()
    presence = lessons.presence(key)
    action = lesson_live.follow(live, presence, page_path)
    if action == lesson_live.NOTHING:
        return
    live = said_live(live)
    if action == lesson_live.LEFT and st.session_state.get(GOING) == live.revision:
        action = lesson_live.GO  # this page was sent to the step and is still loading it: not a choice to leave
    if action == lesson_live.GO:
        presence = lessons.arrived(key, live)
        if not _showing(live.current.link, page_path):
            st.session_state[GOING] = live.revision
            with st.container(border=True, key="lesson_banner"):
                step_heading(live)
                st.caption(_("Opening the class's step…"))
            navigate(live.current.link)
            return
        action = lesson_live.ON_STEP
    elif action == lesson_live.LEFT:
        presence = lessons.explore(key, live)
        action = lesson_live.EXPLORING
    if action != lesson_live.FREE and presence.seen < time.time() - lesson_live.HEARTBEAT_S:
        lessons.heartbeat(key, presence)
    if action == lesson_live.ON_STEP:
        _on_step(lessons, live)
    elif action == lesson_live.EXPLORING:
        _exploring(lessons, live)
    else:
        with st.container(border=True, key="lesson_banner"):
            st.markdown(_(":material/pause_circle: The teacher paused the lesson: explore freely until it goes on."))
        accessibility.announce(_("The teacher paused the lesson."))


def _on_step(lessons: LessonLive, live: LiveLesson) -> None:
    with st.container(border=True, key="lesson_banner"):
        text, button = st.columns([5, 2], vertical_alignment="center")
        with text:
            step_heading(live)
            for line in live.current.lines:
                st.caption(links.markdown_text(line))
        button.button(
            _("Explore on my own"),
            key="lesson_explore",
            icon=":material/explore:",
            help=_("Leave the class's step and try things; “Back to the class” brings you back."),
            on_click=lambda: lessons.explore(roles.student_key(), live),
        )


def _exploring(lessons: LessonLive, live: LiveLesson) -> None:
    with st.container(border=True, key="lesson_banner"):
        text, button = st.columns([5, 2], vertical_alignment="center")
        text.markdown(
            _(":material/explore: You are exploring. The class is on step {number}: {title}").format(
                number=live.step + 1, title=links.markdown_text(live.current.title)
            )
        )
        button.button(
            _("Back to the class"),
            key="lesson_rejoin",
            icon=":material/group:",
            type="primary",
            on_click=lambda: lessons.rejoin(roles.student_key()),
        )
    accessibility.announce(_("You are exploring. The class is on step {number}.").format(number=live.step + 1))


def _showing(link: str, page_path: str) -> bool:
    """Whether this page already shows ``link``'s view (its page, and every setting it names)."""
    parts = urllib.parse.urlsplit(link)
    if parts.path.strip("/") != page_path:
        return False
    wanted = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    return all(st.query_params.get_all(key) == values for key, values in wanted.items())


def navigate(link: str) -> None:
    """Load ``link`` in this browser, keeping the reader's language and presenter mode: the page
    opens exactly as the link shows it."""
    carried = {key: st.query_params[key] for key in CARRIED if key in st.query_params}
    base = "/" + (st.get_option("server.baseUrlPath") or "").strip("/")
    target = base.rstrip("/") + lesson_live.step_link(link, carried)
    st.html(
        f'<span class="{accessibility.SR_ONLY}" data-lesson-go="{html.escape(target)}"></span>'
        f"<script>window.location.replace({accessibility.js_string(target)});</script>",
        unsafe_allow_javascript=True,
    )
