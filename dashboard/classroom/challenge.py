"""Fool the network: a challenge the teacher turns on for the whole class (a setting of the class
store, so every page and server process sees it), and the "fooled it" board.

The board (``ClassStore.fooled``) holds the session's digits whose answer differs from the label
the student meant, the network's confidence in its wrong answer highest first. The teacher can
mark one "not fair" (it does not look like its label): it leaves the board, the class's
measurements and the fine-tune. A fooled digit opens with the network's answer, its feature maps
and which pixels mattered (dashboard.draw.digit_panel), so the class sees how it was fooled.

The switch and the board are one ``st.fragment`` that polls the store every two seconds: the
challenge turned on anywhere, or a new fooled digit, appears without a whole-page rerun.
"""

from __future__ import annotations

import streamlit as st

from core.classroom import store as class_store
from core.i18n import _
from dashboard.classroom import chosen_digit, common, digit_grid
from dashboard.draw import digit_panel
from dashboard.figures import charts
from dashboard.frame import guard, links, roles

POLL_SECONDS = 2.0
BOARD_LIMIT = 12  # the board's places
TOP_NAMED = 3  # the line above the board names the first three
CHOSEN = "fool_entry"
_DONE = "_fool_done"  # session state: the line saying a digit was marked not fair


def switch_challenge(store: class_store.ClassStore) -> None:
    """The switch's change: stored for everyone, by the teacher only (checked here)."""
    common.teacher_action(
        _("turn the fool-the-network challenge on or off"), store.set_challenge, bool(st.session_state.get("fool_on"))
    )


def mark_unfair(store: class_store.ClassStore, entry_id: int) -> None:
    """'Not fair': the digit leaves the board (the teacher only, checked here)."""
    common.teacher_action(_("mark a digit not fair"), store.set_unfair, entry_id)
    if roles.is_teacher() and common.DENIED not in st.session_state:
        st.session_state.pop(CHOSEN, None)
        st.session_state[_DONE] = entry_id


def switch(store: class_store.ClassStore, teacher: bool) -> bool:
    """The challenge's switch, showing the store's setting; returns whether the challenge is on."""
    on = store.challenge_on()
    st.session_state["fool_on"] = on  # the store decides: a switch turned anywhere shows here
    st.toggle(
        _("Fool the network"),
        key="fool_on",
        disabled=not teacher,
        on_change=switch_challenge,
        args=(store,),
        help=_(
            "A challenge for the class: send a digit the network reads wrong, and make it as sure of "
            "its wrong answer as you can. The board ranks the fooled digits by that confidence."
        ),
    )
    common.only_teacher_caption(teacher, _("turn the fool-the-network challenge on or off"))
    return on


def board(store: class_store.ClassStore, session: int | None) -> None:
    """The "fooled it" board: the most confident wrong answers first, each a click away from its panel."""
    st.subheader(_("Fooled it"))
    entries = store.fooled(session, limit=BOARD_LIMIT)
    if not entries:
        st.info(
            _(
                "Nobody has fooled the network yet: on **Draw a digit**, draw one it reads wrong and send it "
                "with the digit you meant."
            ),
            icon=":material/psychology_alt:",
        )
        return
    top = _(", ").join(
        _("{student} ({confidence:.0%} sure of a wrong {prediction})").format(
            student=links.markdown_text(e.student), confidence=e.confidence, prediction=e.prediction
        )
        for e in entries[:TOP_NAMED]
    )
    st.markdown(_("**Most convincing so far**: {names}.").format(names=top))
    width = charts.width_probe("fool_width")
    event = digit_grid.grid(entries, width, key="fool_chart", selected=st.session_state.get(CHOSEN))
    picked = digit_grid.picked_entry(event)
    if picked is not None and picked != st.session_state.get(CHOSEN):
        st.session_state[CHOSEN] = picked
        st.rerun()  # the whole page: the fooled digit's panel sits outside this fragment
    st.caption(
        _(
            "The network's most confident wrong answers first (the first {limit} places). Under each digit: "
            "the digit meant → the network's answer, how sure. Click one to see how it fooled the "
            "network."
        ).format(limit=BOARD_LIMIT)
    )
    digit_grid.open_by_keyboard(entries, key="fool_pick", chosen=CHOSEN)


def chosen_panel(store: class_store.ClassStore, teacher: bool) -> None:
    """The fooled digit a click chose: large, "not fair" for the teacher, and how the network read it."""
    entry = common.remembered_entry(store, CHOSEN)
    if entry is None:
        return
    if entry.unfair or entry.right or not store.challenge_on():
        st.session_state.pop(CHOSEN, None)  # gone from the board meanwhile (or the challenge ended)
        return
    with st.container(border=True, key="fool_panel"):
        large, about = st.columns([1, 2.5], vertical_alignment="center")
        chosen_digit.large_picture(large, entry)
        with about:
            st.markdown(chosen_digit.describe(entry))
            with st.container(horizontal=True):
                st.button(
                    _("Not fair"),
                    key="fool_unfair",
                    icon=":material/gavel:",
                    disabled=not teacher,
                    on_click=mark_unfair,
                    args=(store, entry.id),
                    help=_(
                        "It does not look like the digit meant: it leaves the board, the class's "
                        "measurements and the fine-tune."
                    ),
                )
                st.button(
                    _("Close"),
                    key="fool_close",
                    icon=":material/close:",
                    on_click=lambda: st.session_state.pop(CHOSEN, None),
                )
            common.only_teacher_caption(teacher, _("mark a digit not fair"))
        with st.expander(
            _("How {model} read it: its answer, feature maps, the pixels that mattered").format(model=entry.model),
            icon=":material/neurology:",
            expanded=True,
        ):
            digit_panel.explain_digit(entry.image, entry.model, prefix="fool")


def challenge_section(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    """The switch and, while the challenge is on, the board (polled) and the chosen fooled digit."""

    @st.fragment(run_every=POLL_SECONDS)
    def polled() -> None:
        with guard.guarded(_("Fool the network")):
            common.show_denied()  # the switch's refusal: its change reruns this fragment only
            if switch(store, teacher):
                board(store, session)

    polled()
    done = st.session_state.pop(_DONE, None)
    if done is not None:
        st.success(_("Marked not fair: it has left the board."), icon=":material/gavel:")
    with guard.guarded(_("The fooled digit")):
        chosen_panel(store, teacher)
