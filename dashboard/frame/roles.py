"""Teacher or student, kept per browser (the rules are core.classroom.teacher's).

``app.py`` calls :func:`establish` at the start of every run, before any widget: a
``?teacher=TOKEN`` in the link is checked once, taken out of the URL (a shareable link never
carries it) and, if right, kept for this browser in a signed cookie (``core.classroom.teacher.role_cookie``:
no token in it), so that a reload or a new tab is still the teacher's until "Leave the teacher's
role" (:func:`sidebar`). Every action only a teacher may take checks :func:`is_teacher` where it
acts, on the server, not only by disabling a button.

A student's browser keeps a random key and the nickname it last typed in cookies too, so that
Clear, a reload or another page is the same student with the same name.

Streamlit reads cookies once, from the request that opens the session's websocket
(``st.context.cookies``), and cannot set one: the page's JavaScript writes them
(``st.html(..., unsafe_allow_javascript=True)``) and the next session reads them. Within a
session the role, the key and the nickname live in session state.
"""

from __future__ import annotations

import functools
import os
from urllib.parse import unquote

import streamlit as st

from core.classroom import checks, teacher
from core.classroom.db import StoreError
from core.i18n import N_, _
from dashboard.frame.accessibility import SR_ONLY, js_string

_TEACHER = "_teacher"  # this session has the teacher's rights
_LEFT = "_teacher_left"  # this session left the role (said in the sidebar)
_ROLE_COOKIE = "_teacher_cookie"  # the signed cookie this session writes (made when the link was opened)
_COOKIE_READ = "_teacher_cookie_read"  # the browser's cookie was looked at, once per session
_STALE = "_teacher_cookie_stale"  # it held a role this server no longer accepts: said once
_DROP = "_teacher_cookie_drop"  # the browser's role cookie is to be removed
_REFUSED = "_teacher_refused"
_STUDENT_KEY = "_student_key"
_NICKNAME = "_nickname"
LEAVE_KEY = "leave_teacher"
ONLY_TEACHER = N_(
    "Only the teacher can {what}: the teacher uses the server's own machine, or opens the "
    "teacher link printed in the server's terminal."
)
ONLY_TEACHER_LINK = N_(
    "Only the teacher can {what}: the teacher opens the teacher link printed in the server's terminal."
)


@functools.cache
def announce(port: int) -> str:
    """Print the teacher link in the server's terminal, once per process (as Jupyter does), when
    the token was made here: one given in ``CNN_EXPLAINER_TEACHER_TOKEN`` was printed by whoever
    set it (``make run``, the lecture hall)."""
    link = teacher.teacher_link(f"http://localhost:{port}")
    if not os.environ.get(teacher.TOKEN_ENV, "").strip():
        print(f"\n  Teacher link (gives this browser the teacher's controls): {link}\n", flush=True)
    return link


def _cookies() -> dict[str, str]:
    """The cookies the browser sent when this session connected (none under AppTest)."""
    try:
        return st.context.cookies.to_dict()
    except Exception:  # no client context (a script run outside a browser session)
        return {}


def establish() -> None:
    """Once per session, the role and the identity this browser keeps in its cookies; then
    ``?teacher=TOKEN`` if the link has it: rights if it matches, a plain message if not; either
    way the token leaves the URL."""
    announce(int(st.get_option("server.port")))
    state = st.session_state
    if _COOKIE_READ not in state:
        state[_COOKIE_READ] = True
        cookies = _cookies()
        kept = cookies.get(teacher.COOKIE)
        if teacher.role_cookie_valid(kept):
            state[_TEACHER] = True
        elif kept:
            state[_STALE] = state[_DROP] = True
        key = cookies.get(teacher.STUDENT_COOKIE)
        state.setdefault(_STUDENT_KEY, key if teacher.is_student_key(key) else teacher.new_student_key())
        state.setdefault(_NICKNAME, _readable_nickname(unquote(cookies.get(teacher.NICKNAME_COOKIE, ""))))
    if teacher.PARAM not in st.query_params:
        return
    candidate = st.query_params.get(teacher.PARAM)
    del st.query_params[teacher.PARAM]
    if teacher.token_matches(candidate):
        state[_TEACHER] = True
        state[_ROLE_COOKIE] = teacher.role_cookie()
        for key in (_REFUSED, _LEFT, _STALE, _DROP):
            state.pop(key, None)
    else:
        state[_REFUSED] = True


def is_teacher() -> bool:
    """This browser session has the teacher's rights."""
    return bool(st.session_state.get(_TEACHER)) or _on_the_servers_machine()


def _on_the_servers_machine() -> bool:
    """The teacher by place: a browser on the server's own machine, unless that rule is off."""
    ip = st.context.ip_address
    # A real connection gives a string, or None on localhost; anything else (AppTest's stand-in)
    # is a script run on the server's own machine.
    return teacher.loopback_counts() and teacher.is_loopback(ip if isinstance(ip, str) else None)


def leave() -> None:
    """This browser is a student from now on: the session's rights go, and the cookie with them
    (:func:`sidebar` writes its removal)."""
    st.session_state[_TEACHER] = False
    st.session_state[_LEFT] = st.session_state[_DROP] = True
    st.session_state.pop(_ROLE_COOKIE, None)


def sidebar() -> None:
    """In the sidebar, under the role: "Leave the teacher's role" for a role that came from the
    link (the server's own machine is the teacher by where it is, not by a choice), a line after
    leaving; and the script that keeps this browser's cookies as the session has them."""
    if st.session_state.get(_TEACHER) and not _on_the_servers_machine():
        st.button(
            _("Leave the teacher's role"),
            key=LEAVE_KEY,
            icon=":material/logout:",
            on_click=leave,
            help=_(
                "This browser becomes a student: its other open pages too, when they are reloaded. "
                "The teacher link gives the role back."
            ),
        )
    elif st.session_state.get(_LEFT):
        st.caption(_("You left the teacher's role: this browser is a student. The teacher link gives it back."))
    _write_cookies()


def show_refusal(container) -> None:
    """Say, once, that a teacher link's token was not this server's, or that the role this
    browser kept is no longer accepted."""
    if st.session_state.pop(_REFUSED, False):
        container.warning(
            _(
                "This teacher link's token is not this server's (a new one is made each time the "
                "server starts): you are a student here."
            ),
            icon=":material/key_off:",
        )
    elif st.session_state.pop(_STALE, False):
        container.info(
            _(
                "This browser's teacher's role was given by an earlier start of the server, or more than "
                "12 hours ago: open the teacher link printed in the server's terminal again."
            ),
            icon=":material/key_off:",
        )


def student_key() -> str:
    """A random key for this browser (kept in a cookie): how the class store tells students
    apart without knowing who or where they are."""
    return st.session_state.setdefault(_STUDENT_KEY, teacher.new_student_key())


def nickname() -> str:
    """The nickname this browser last typed ("" without one)."""
    return st.session_state.get(_NICKNAME, "")


def keep_nickname(typed: str | None) -> None:
    """Remember ``typed`` for this browser (Clear, a reload, another page keep it); one the
    store would refuse is not kept. Writes the cookie where it is called (a hidden element)."""
    cleaned = _readable_nickname(typed)
    if cleaned == "" and typed:
        return
    st.session_state[_NICKNAME] = cleaned
    if cleaned == _readable_nickname(unquote(_cookies().get(teacher.NICKNAME_COOKIE, ""))):
        return  # the browser has it already
    value, max_age = (f"encodeURIComponent({js_string(cleaned)})", teacher.STUDENT_MAX_AGE_S) if cleaned else ("''", 0)
    _script(
        f"document.cookie = {js_string(teacher.NICKNAME_COOKIE + '=')} + {value} + {_attributes(max_age)};",
        marker="nickname",
    )


def only_teacher(what: str) -> str:
    """The one line a student sees beside a control they may not use, by the rule in force."""
    return _(ONLY_TEACHER if teacher.loopback_counts() else ONLY_TEACHER_LINK).format(what=what)


def teacher_action(what: str, action, *args) -> str | None:
    """Run ``action(*args)`` only for the teacher, checked here where it acts (a student's crafted
    request does nothing): None when it was done, else the line to say instead, the refusal or
    the class store's reason (``what`` is already in the session's language)."""
    if not is_teacher():
        return only_teacher(what)
    try:
        action(*args)
    except StoreError as exc:
        return _("Not done: {reason}.").format(reason=exc)
    return None


def _readable_nickname(text: str | None) -> str:
    try:
        return checks.clean_nickname(text)
    except checks.BadEntry:
        return ""


def _attributes(max_age: int) -> str:
    """A cookie's attributes, as a JavaScript expression: the whole site, this site's pages only,
    ``Secure`` when served over HTTPS."""
    return f"'; Path=/; Max-Age={int(max_age)}; SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '')"


def _write_cookies() -> None:
    """The browser's cookies as this session has them: the student key when the browser had none
    (or another), the teacher's role when the link gave it, its removal after leaving it."""
    state, cookies, lines = st.session_state, _cookies(), []
    key = state.get(_STUDENT_KEY)
    if key and cookies.get(teacher.STUDENT_COOKIE) != key:
        lines.append(
            f"document.cookie = {js_string(teacher.STUDENT_COOKIE + '=' + key)} + {_attributes(teacher.STUDENT_MAX_AGE_S)};"
        )
    if state.get(_TEACHER) and state.get(_ROLE_COOKIE):
        lines.append(
            f"document.cookie = {js_string(teacher.COOKIE + '=' + state[_ROLE_COOKIE])} + "
            f"{_attributes(teacher.COOKIE_MAX_AGE_S)};"
        )
    elif state.get(_DROP):
        lines.append(f"document.cookie = {js_string(teacher.COOKIE + '=')} + {_attributes(0)};")
    if lines:
        _script(" ".join(lines), marker="role")


def _script(body: str, marker: str) -> None:
    """Run ``body`` in the page (again whenever it changes), in an element that takes no room."""
    st.html(
        f'<span class="{SR_ONLY}" data-cookies="{marker}"></span><script>(() => {{ {body} }})();</script>',
        unsafe_allow_javascript=True,
    )
