"""Teacher or student, per browser session (the rules are core.teacher's).

``app.py`` calls :func:`establish` at the start of every run, before any widget: a
``?teacher=TOKEN`` in the link is checked once, taken out of the URL (a shareable link never
carries it) and, if right, remembered for this browser session. Every action only a teacher may
take checks :func:`is_teacher` where it acts, on the server, not only by disabling a button.
"""

from __future__ import annotations

import functools
import os
import uuid

import streamlit as st

from core import teacher
from core.i18n import N_, _

_TEACHER = "_teacher"
_REFUSED = "_teacher_refused"
_STUDENT_KEY = "_student_key"
ONLY_TEACHER = N_("Only the teacher can {what}: the teacher uses the server's own machine, or opens the "
                "teacher link printed in the server's terminal.")


@functools.cache
def announce(port: int) -> str:
    """Print the teacher link in the server's terminal, once per process (as Jupyter does), when
    the token was made here: one given in ``CNN_EXPLAINER_TEACHER_TOKEN`` was printed by whoever
    set it (``make run``, the lecture hall)."""
    link = teacher.teacher_link(f"http://localhost:{port}")
    if not os.environ.get(teacher.TOKEN_ENV, "").strip():
        print(f"\n  Teacher link (gives this browser the teacher's controls): {link}\n", flush=True)
    return link


def establish() -> None:
    """Read ``?teacher=TOKEN`` once: rights for this browser session if it matches, a plain
    message if not; either way the token leaves the URL."""
    announce(int(st.get_option("server.port")))
    if teacher.PARAM not in st.query_params:
        return
    candidate = st.query_params.get(teacher.PARAM)
    del st.query_params[teacher.PARAM]
    if teacher.token_matches(candidate):
        st.session_state[_TEACHER] = True
        st.session_state.pop(_REFUSED, None)
    else:
        st.session_state[_REFUSED] = True


def is_teacher() -> bool:
    """This browser session has the teacher's rights."""
    if st.session_state.get(_TEACHER):
        return True
    ip = st.context.ip_address
    # A real connection gives a string, or None on localhost; anything else (AppTest's stand-in)
    # is a script run on the server's own machine.
    return teacher.loopback_counts() and teacher.is_loopback(ip if isinstance(ip, str) else None)


def show_refusal(container) -> None:
    """Say, once, that a teacher link's token was not this server's."""
    if st.session_state.pop(_REFUSED, False):
        container.warning(_("This teacher link's token is not this server's (a new one is made each time the "
                            "server starts): you are a student here."), icon=":material/key_off:")


def student_key() -> str:
    """A random key for this browser session: how the class store tells students apart without
    knowing who or where they are."""
    return st.session_state.setdefault(_STUDENT_KEY, uuid.uuid4().hex)


def only_teacher(what: str) -> str:
    """The one line a student sees beside a control they may not use."""
    return _(ONLY_TEACHER).format(what=what)
