"""The class wall's class sessions: the teacher starts, deletes and exports them; anyone chooses the
one the wall shows, kept in the link (``?wall_session=<number>``, checked: a number that is no
session's is named in the page's link notice). None stands for the current session, looked up again
at every poll.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import export
from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.sessions import shown_name
from core.i18n import _
from dashboard.classroom import common
from dashboard.frame import links, roles

CURRENT = "current"  # the session digits are sent to now, whichever it is
SESSION_KEY = "wall_session"  # the session shown: the selectbox's key and the link's parameter


def start_new_session(store: class_store.ClassStore) -> None:
    store.new_session()
    st.session_state[SESSION_KEY] = CURRENT  # the wall shows the new, empty session
    st.query_params.pop(SESSION_KEY, None)


def linked_session(store: class_store.ClassStore) -> int | None:
    """The class session the link asks for (``?wall_session=3``), checked: None for the current
    one, and a number that is no session's named in the page's link notice."""
    asked = st.query_params.get_all(SESSION_KEY)
    if not asked:
        return None
    try:
        return store.session(int(asked[-1])).id
    except (ValueError, StoreError):
        links.refuse(SESSION_KEY, asked, _("The current session"), shown=CURRENT, state_key=SESSION_KEY)
        st.session_state.setdefault(SESSION_KEY, CURRENT)  # what is shown instead (the projector's view too)
        return None


def keep_in_link(choice) -> None:
    """The session chosen, in the link (a number), so that a shared link opens the same session."""
    if choice == CURRENT:
        st.query_params.pop(SESSION_KEY, None)
    else:
        st.query_params[SESSION_KEY] = str(choice)


def sessions_panel(store: class_store.ClassStore, teacher: bool) -> int | None:
    """The teacher's controls for class sessions; returns the session the wall shows: None for
    the current one, looked up again at every poll, so that a session started anywhere (another
    tab, another server process, the command line) is on the wall at once."""
    sessions = store.sessions()
    if not any(s["current"] for s in sessions):
        store.current_session()  # starts the first one
        sessions = store.sessions()
    # A label is a function of its option alone (no counts in it): the browser holds the label
    # (dashboard/draw/digit_panel.py says why), and a label that changed would choose another session.
    names = {s["session"]: f"{shown_name(s['name'])} (#{s['session']})" for s in sessions}
    current_label = _("The current session")
    if SESSION_KEY not in st.session_state:  # the session's first run: the link's session, if it has one
        st.session_state[SESSION_KEY] = linked_session(store) or CURRENT
    with st.expander(_("Class sessions and export"), icon=":material/school:", expanded=False):
        choice = st.selectbox(
            _("Show session"),
            [CURRENT, *names],
            key=SESSION_KEY,
            format_func=lambda c: current_label if c == CURRENT else names.get(c, str(c)),
        )
        keep_in_link(choice)
        shown = None if choice == CURRENT else int(choice)
        session = store.session(shown)
        facts = next((s for s in sessions if s["session"] == session.id), None)
        if facts is not None:
            about = (
                _("{name}: {entries} digits from {students} students; the digits students send now come here.")
                if facts["current"]
                else _(
                    "{name}: {entries} digits from {students} students; the digits students send now go to the "
                    "current session, not this one."
                )
            )
            st.caption(about.format(name=names[session.id], entries=facts["entries"], students=facts["students"]))
        # One row that wraps, each control as wide as its label: a label is never cut (a projector's
        # large type, a phone).
        row = st.container(horizontal=True, vertical_alignment="center", key="wall_session_actions")
        row.button(
            _("New class session"),
            icon=":material/add:",
            key="wall_new",
            disabled=not teacher,
            on_click=common.teacher_action,
            args=(_("start a new class session"), start_new_session, store),
            help=_("The wall empties; this session's digits stay in the store until deleted."),
        )
        confirm = row.checkbox(_("Yes, delete it"), key="wall_delete_confirm", disabled=not teacher)
        row.button(
            _("Delete this session"),
            icon=":material/delete:",
            key="wall_delete",
            disabled=not (teacher and confirm),
            on_click=common.teacher_action,
            args=(_("delete a class session"), store.delete_session, session.id),
        )
        if teacher:
            npz, csv = export.payloads(store, session.id)
            row.download_button(
                _("Export (.npz)"),
                npz,
                file_name=f"class_session_{session.id}.npz",
                key="wall_npz",
                icon=":material/download:",
                on_click="ignore",
            )
            row.download_button(
                _("Export (.csv)"),
                csv,
                file_name=f"class_session_{session.id}.csv",
                key="wall_csv",
                icon=":material/table:",
                on_click="ignore",
            )
        else:
            row.button(_("Export"), icon=":material/download:", key="wall_export_student", disabled=True)
            st.caption(roles.only_teacher(_("start, delete or export a class session")))
    return shown
