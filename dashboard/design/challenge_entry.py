"""/design's "Submit to the challenge" panel, while the class session has an open design challenge:
its rules, a nickname (the one this browser typed on the wall, kept) and Submit. The store checks
everything (core.classroom.design_challenge.submissions): a design over a cap or impossible, a closed
challenge, a nickname another student holds, a second submission within a second are refused at
once with their sentence, and nothing is queued. After submitting, the student's entry, polled:
its place in the queue, then its result and rank.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import checks
from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import DIVERGED, FAILED, QUEUED, TRAINING, Challenge, Entry
from core.classroom.design_challenge.submissions import Challenges
from core.i18n import _
from core.models.design import DesignError
from dashboard.design import challenge_board
from dashboard.frame import links, roles

NICKNAME, SUBMIT = "dc_nickname", "dc_submit"
_REFUSED = "_dc_refused"  # session state: the last refusal's sentence
_MINE = "_dc_mine"  # session state: {challenge id: the id of this browser's entry}


def _submit(store: class_store.ClassStore, challenge_id: int, notation: str) -> None:
    typed = st.session_state.get(NICKNAME) or ""
    st.session_state.pop(_REFUSED, None)
    try:
        entry = Challenges(store).submit(
            challenge_id, student_key=roles.student_key(), nickname=typed, notation=notation
        )
    except (StoreError, DesignError) as exc:  # over a cap, impossible, closed, taken, too fast: its sentence
        st.session_state[_REFUSED] = str(exc)
        return
    st.session_state.setdefault(_MINE, {})[challenge_id] = entry.id


def my_entry(challenges: Challenges, challenge: Challenge) -> Entry | None:
    """This browser's latest entry in the challenge (submitted here, or earlier from this browser)."""
    entries = challenges.entries(challenge.id)
    mine = st.session_state.get(_MINE, {}).get(challenge.id)
    found = next((e for e in entries if e.id == mine), None)
    if found is None:
        key = roles.student_key()
        found = max((e for e in entries if e.student_key == key), key=lambda e: e.id, default=None)
    return found


def result_line(challenges: Challenges, entry: Entry) -> tuple[str, str]:
    """What the student reads about their entry, and how (success, info or warning)."""
    name = links.markdown_text(entry.nickname)
    if entry.status == QUEUED:
        place = challenges.place(entry.id)
        return "info", _("{nickname}'s design is in the queue: place {place}. It trains when its turn comes.").format(
            nickname=name, place=place
        )
    if entry.status == TRAINING:
        return "info", _("{nickname}'s design is training now.").format(nickname=name)
    if entry.rank is not None:
        ranked = sum(e.rank is not None for e in challenges.entries(entry.challenge_id))
        return "success", _(
            "{nickname}'s design: {accuracy:.2%} with {params:,} parameters, rank {rank} of {n}."
        ).format(nickname=name, accuracy=entry.accuracy, params=entry.params, rank=entry.rank, n=ranked)
    if entry.status in (DIVERGED, FAILED):
        return "warning", _("{nickname}'s design {status}: change it and submit again.").format(
            nickname=name, status=challenge_board.status_word(entry)
        )
    return "info", _("{nickname}'s design: {status}.").format(nickname=name, status=challenge_board.status_word(entry))


def status(challenges: Challenges, challenge: Challenge) -> None:
    """This browser's entry, polled every two seconds while it waits or trains."""
    entry = my_entry(challenges, challenge)
    waiting = entry is not None and entry.status in (QUEUED, TRAINING)

    @st.fragment(run_every=challenge_board.POLL_SECONDS if waiting else None)
    def polled() -> None:
        now = my_entry(challenges, challenge)
        if now is None:
            return
        kind, line = result_line(challenges, now)
        getattr(st, kind)(line, icon=":material/emoji_events:" if kind == "success" else ":material/hourglass_top:")
        if waiting and now.status not in (QUEUED, TRAINING):
            st.rerun()  # the result is in: the whole page, so polling stops

    polled()


def panel(notation: str, buildable: bool) -> None:
    """The panel, when the current class session has an open challenge (nothing otherwise)."""
    try:
        store = class_store.store()
        challenges = Challenges(store)
        challenge = challenges.current()
    except StoreError:
        return  # no class database: /design works without one
    refused = st.session_state.pop(_REFUSED, None)
    if challenge is None or not challenge.is_open:  # closed since the page was drawn: the press says so
        if refused:
            st.error(_("Not submitted: {reason}.").format(reason=refused), icon=":material/block:")
        if challenge is not None and my_entry(challenges, challenge) is not None:
            status(challenges, challenge)  # the student's result stays readable
        return
    challenge_queue.ensure_driver(store)
    with st.container(border=True, key="dc_submit_panel"):
        st.markdown(_("**Submit to the challenge: {name}**").format(name=links.markdown_text(challenge.name)))
        st.markdown(challenge_board.rules_text(challenge.rules))
        with st.container(horizontal=True, vertical_alignment="bottom", key="dc_submit_row"):
            st.session_state.setdefault(NICKNAME, roles.nickname())
            typed = st.text_input(
                _("Nickname"),
                max_chars=checks.NICKNAME_MAX,
                key=NICKNAME,
                placeholder=_("the leaderboard shows it"),
                width=260,
            )
            st.button(
                _("Submit this design"),
                type="primary",
                icon=":material/send:",
                key=SUBMIT,
                on_click=_submit,
                args=(store, challenge.id, notation),
                help=None if buildable else _("this design cannot be built: the sentence above says why"),
            )
        roles.keep_nickname(typed)
        if refused:
            st.error(_("Not submitted: {reason}.").format(reason=refused), icon=":material/block:")
        status(challenges, challenge)
