"""A numbered draw of random numbers and the button that asks for the next one.

The number (the seed) lives in session state under its own key, so that the same number gives
the same numbers on every machine; the button adds one to it before the page reruns.
"""

import streamlit as st

from core.i18n import _
from dashboard.frame.links import BOUND

LARGEST_DRAW = 1_000_000


def next_draw(seed_key: str) -> None:
    st.session_state[seed_key] += 1


def numbered_draw(
    seed_key: str,
    *,
    button_key: str,
    label: str | None = None,
    icon: str = ":material/casino:",
    first: int = 1,
    in_url: bool = False,
) -> int:
    """The draw's number (``first`` until the button is pressed) and the button for the next one,
    labelled ``label`` (translated by the caller; "New numbers" unless given).

    ``in_url``: the number is also shown in a box the student can type into, kept in the URL
    under ``seed_key``, so that a shared link shows everyone the same numbers.
    """
    st.session_state.setdefault(seed_key, first)  # not as the box's default: the button sets it too
    if in_url:
        st.number_input(
            _("Draw number"),
            first,
            LARGEST_DRAW,
            key=seed_key,
            width=220,
            bind=BOUND,
            help=_("The same number gives the same grid on every machine."),
        )
    st.button(
        _("New numbers") if label is None else label, icon=icon, key=button_key, on_click=next_draw, args=(seed_key,)
    )
    return int(st.session_state[seed_key])
