"""The design challenge on /class (its own tab, ``designs``; not the wall's "fool the network"): the
teacher opens one with its rules, stops and resumes its queue, closes it, hides an entry and
exports the results as CSV; everyone reads the rules, the live leaderboard
(dashboard.design.challenge_board) and a chosen entry's design and curve. A closed challenge stays
readable: a picker lists the session's challenges, the open one first.

The projector's view (``?view=wall``) puts an open challenge's leaderboard above the digits
(:func:`projector`). Every teacher's action checks the role where it acts
(``common.teacher_action``); the queue trains in the server's thread
(``challenge_queue.ensure_driver``), never in a page's run.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import store as class_store
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import Challenge, Rules, results_csv
from core.classroom.design_challenge.submissions import Challenges
from core.i18n import _
from core.models import design as notation
from core.training.jobs import runner
from dashboard.classroom import common
from dashboard.design import challenge_board
from dashboard.frame import guard, links, presenter

PICK = "dc_challenge"  # the challenge shown: its id
ENTRY = "dc_entry"  # the entry whose design is open: its id
FORM = ("dc_name", "dc_cap_params", "dc_cap_macs", "dc_images", "dc_epochs", "dc_seconds", "dc_test_images")
_OPENED = "_dc_opened"  # session state: the line saying the challenge opened


def _open(store: class_store.ClassStore, session: int | None) -> None:
    s = st.session_state
    rules = Rules(
        cap_params=int(s["dc_cap_params"]),
        cap_macs=None if s.get("dc_cap_macs") is None else int(s["dc_cap_macs"]),
        images=int(s["dc_images"]),
        epochs=int(s["dc_epochs"]),
        seconds=float(s["dc_seconds"]),
        test_images=int(s["dc_test_images"]),
    )
    challenge = Challenges(store).open(s.get("dc_name") or "", rules, session_id=session)
    s[PICK] = challenge.id
    s[_OPENED] = challenge.name


def _stop(store: class_store.ClassStore, challenge_id: int, stopped: bool) -> None:
    Challenges(store).set_stopped(challenge_id, stopped)
    job = runner.manager().current()
    if stopped and job is not None and job.running and job.snapshot().kind == challenge_queue.KIND:
        job.stop()  # the entry training now goes back to the head of the queue


def open_form(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    """The teacher's form: a name and the rules (the defaults of ``Rules``), then Open."""
    defaults = Rules()
    with st.form("dc_form", border=True):
        st.markdown(_("**Open a design challenge**"))
        st.text_input(_("Name"), key="dc_name", max_chars=60, placeholder=_("e.g. Smallest network over 98%"))
        with st.container(horizontal=True, gap="small"):
            st.number_input(
                _("Most parameters"),
                100,
                notation.MAX_PARAMS,
                defaults.cap_params,
                step=1000,
                key="dc_cap_params",
                width=170,
            )
            st.number_input(
                _("Most multiply-adds per image"),
                1000,
                notation.MAX_MACS,
                None,
                step=10_000,
                key="dc_cap_macs",
                placeholder=_("no cap"),
                width=210,
            )
            st.number_input(_("Training images"), 100, 60_000, defaults.images, step=1000, key="dc_images", width=160)
            st.number_input(_("Epochs"), 1, 5, defaults.epochs, key="dc_epochs", width=110)
            st.number_input(_("Seconds per design"), 5, 600, int(defaults.seconds), step=5, key="dc_seconds", width=160)
            st.number_input(
                _("Test images"), 100, 10_000, defaults.test_images, step=500, key="dc_test_images", width=150
            )
        st.form_submit_button(
            _("Open the challenge"),
            type="primary",
            icon=":material/flag:",
            key="dc_open",
            disabled=not teacher,
            on_click=common.teacher_action,
            args=(_("open a design challenge"), _open, store, session),
        )
    common.only_teacher_caption(teacher, _("open, stop or close a design challenge"))


def picker(challenges: list[Challenge]) -> Challenge:
    """The session's challenges, latest first (the open one marked); the one chosen."""
    ids = [c.id for c in challenges]
    if st.session_state.get(PICK) not in ids:
        st.session_state[PICK] = next((c.id for c in challenges if c.is_open), ids[0])
    by_id = {c.id: c for c in challenges}
    if len(challenges) > 1:
        st.selectbox(
            _("Challenge"),
            ids,
            key=PICK,
            format_func=lambda i: (_("{name} (open)") if by_id[i].is_open else _("{name} (closed)")).format(
                name=by_id[i].name
            ),
            width=360,
        )
    return by_id[st.session_state[PICK]]


def controls(store: class_store.ClassStore, challenge: Challenge, teacher: bool) -> None:
    """Stop or resume the queue, close, export: the teacher's, disabled for a student."""
    what = _("open, stop or close a design challenge")
    with st.container(horizontal=True, gap="small", key="dc_controls"):
        if challenge.is_open:
            stopped = challenge.stopped
            st.button(
                _("Resume the queue") if stopped else _("Stop the queue"),
                key="dc_stop",
                icon=":material/play_arrow:" if stopped else ":material/pause:",
                disabled=not teacher,
                on_click=common.teacher_action,
                args=(what, _stop, store, challenge.id, not stopped),
            )
            st.button(
                _("Close the challenge"),
                key="dc_close",
                icon=":material/sports_score:",
                disabled=not teacher,
                on_click=common.teacher_action,
                args=(what, Challenges(store).close, challenge.id),
                help=_("No more designs; those still waiting are withdrawn. The results stay readable."),
            )
        st.download_button(
            _("Results as CSV"),
            data=results_csv(Challenges(store).entries(challenge.id)) if teacher else "",
            file_name=f"design_challenge_{challenge.id}.csv",
            mime="text/csv",
            key="dc_csv",
            icon=":material/download:",
            disabled=not teacher,
            on_click="ignore",
            help=_("Every entry, ranked, with its notation"),
        )
    common.only_teacher_caption(teacher, what)


def heading(challenge: Challenge) -> None:
    state = _("open") if challenge.is_open else _("closed")
    st.subheader(_("{name} ({state})").format(name=links.markdown_text(challenge.name), state=state))
    st.markdown(challenge_board.rules_text(challenge.rules))


def chosen_entry(store: class_store.ClassStore, challenge: Challenge, teacher: bool) -> None:
    """The entry whose design is open (a click on the leaderboard or this picker chose it), with
    the teacher's hide / show."""
    challenges = Challenges(store)
    entries = challenge_board.shown_entries(challenges.entries(challenge.id), teacher)
    if not entries:
        return
    by_id = {e.id: e for e in entries}
    if st.session_state.get(ENTRY) not in by_id:
        st.session_state.pop(ENTRY, None)
    st.selectbox(
        _("Open an entry's design"),
        list(by_id),
        key=ENTRY,
        index=None,
        placeholder=_("click a point, or choose here"),
        format_func=lambda i: _("{nickname} ({params:,} parameters, {status})").format(
            nickname=by_id[i].nickname, params=by_id[i].params, status=challenge_board.status_word(by_id[i])
        ),
        width=420,
    )
    entry = by_id.get(st.session_state.get(ENTRY))
    if entry is None:
        return
    with st.container(border=True, key="dc_entry_panel"):
        st.button(
            _("Show on the leaderboard again") if entry.hidden else _("Hide from the leaderboard"),
            key="dc_hide",
            icon=":material/visibility:" if entry.hidden else ":material/visibility_off:",
            disabled=not teacher,
            on_click=common.teacher_action,
            args=(_("hide an entry"), challenges.set_hidden, entry.id, not entry.hidden),
        )
        common.only_teacher_caption(teacher, _("hide an entry"))
        challenge_board.entry_detail(entry)


def designs_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    """The tab: the form (while no challenge is open in the session), the challenge chosen, its
    rules, the teacher's controls, the live leaderboard and the chosen entry."""
    common.show_denied()
    opened = st.session_state.pop(_OPENED, None)
    if opened:
        st.success(
            _("{name} is open: students submit from **Design a network**.").format(name=links.markdown_text(opened)),
            icon=":material/flag:",
        )
    challenges = Challenges(store).challenges(session)
    if not any(c.is_open for c in challenges):
        with guard.guarded(_("Open a design challenge")):
            open_form(store, session, teacher)
    if not challenges:
        st.info(
            _(
                "No design challenge in this session yet. The teacher opens one: the class designs networks on "
                "**Design a network**, the server trains them one by one, the leaderboard ranks them."
            ),
            icon=":material/emoji_events:",
        )
        return
    challenge = picker(challenges)
    if challenge.is_open:
        challenge_queue.ensure_driver(store)  # this process trains the queue (once started, it stays)
    heading(challenge)
    controls(store, challenge, teacher)
    with guard.guarded(_("The leaderboard")):
        challenge_board.live(Challenges(store), challenge.id, teacher, chosen_key=ENTRY, key="dc_board")
    with guard.guarded(_("The entry's design")):
        chosen_entry(store, challenge, teacher)


def projector(store: class_store.ClassStore, session: int | None) -> None:
    """On the projector's wall, while a design challenge is open in the session: its name, its
    rules in a line and its live leaderboard, above the digits."""
    challenges = Challenges(store)
    current = challenges.current(session)
    if current is None or not current.is_open:
        return
    challenge_queue.ensure_driver(store)
    st.markdown(
        _("**{name}**: {rules}").format(
            name=links.markdown_text(current.name), rules=challenge_board.rules_text(current.rules)
        )
    )
    challenge_board.live(
        challenges,
        current.id,
        False,
        chosen_key="dc_wall_entry",
        key="dc_wall_board",
        compact=True,
        height=round(300 / presenter.figure_scale()),
    )
