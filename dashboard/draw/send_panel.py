"""/draw's "Send to the class" panel: which digit did you mean, a nickname, Send.

Nothing is sent without the press, and the line above the button says exactly what is sent.
The store (core.classroom.store) checks everything again: a label outside 0-9, a nickname too long,
more than one digit a second from one browser session; its refusal is shown as one line. One
drawing is one entry: sending the same drawing again changes the digit it is meant as (or says it
is already sent), so it never fills the wall or the "fooled it" board.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.classroom import checks
from core.classroom import store as class_store
from core.classroom.db import AlreadySent, StoreError
from core.i18n import N_, _
from dashboard.frame import links, roles

WHAT_IS_SENT = N_(
    "Sends the 28 × 28 digit the network read (not your drawing as drawn), the digit you meant, "
    "the model ({model}), its answer and its ten probabilities, the time, and your nickname if you "
    "give one. Never your address."
)
_SENT = "_send_result"  # session state: the last sent entry's (label, prediction), or an error line
LABEL_KEY = "send_label"
NICKNAME_KEY = "send_nickname"


def _store() -> class_store.ClassStore:
    return class_store.store()


def _send(digit: np.ndarray, model: str, prediction: int, probabilities: list[float]) -> None:
    label = st.session_state.get(LABEL_KEY)
    try:
        entry = _store().add(
            student_key=roles.student_key(),
            label=label,
            model=model,
            prediction=prediction,
            probabilities=probabilities,
            image=digit,
            nickname=st.session_state.get(NICKNAME_KEY) or None,
        )
    except AlreadySent as exc:  # one drawing, one entry: not an error, a fact
        st.session_state[_SENT] = ("already", str(exc))
        return
    except StoreError as exc:
        st.session_state[_SENT] = ("error", str(exc))
        return
    st.session_state[_SENT] = ("sent", entry.label, entry.prediction, entry.student, entry.relabelled_from)
    st.session_state[LABEL_KEY] = None  # the next digit gets its own answer


def forget_last() -> None:
    """A new drawing: the last "sent" line no longer describes what is on the canvas."""
    st.session_state.pop(_SENT, None)


@st.fragment
def send_panel(digit: np.ndarray, model: str, prediction: int, probabilities: list[float]) -> None:
    """The panel under the drawing. ``digit``: the 28x28 uint8 picture the network read.

    A fragment: choosing the digit meant and pressing Send rerun this panel only, not the
    prediction, the feature maps and the attributions above it (a class sending digits is three
    runs a digit otherwise). Short enough that on a phone the Send button is within one screen of
    the canvas's top: the network's answer is in its first line, and the nickname and the button
    share a row."""
    with st.container(border=True, key="send_panel"):
        st.markdown(
            _("**Send to the class** · {model} reads it as **{digit}**").format(model=model, digit=int(prediction))
        )
        label = st.pills(_("Which digit did you mean?"), list(range(10)), key=LABEL_KEY, selection_mode="single")
        with st.container(horizontal=True, vertical_alignment="bottom", key="send_row"):  # a row on a phone too
            # The box is not drawn while the canvas is empty, and Streamlit then forgets its value:
            # the browser's nickname (roles) fills it again after Clear, a reload or another page.
            st.session_state.setdefault(NICKNAME_KEY, roles.nickname())
            nickname = st.text_input(
                _("Nickname (optional)"),
                max_chars=checks.NICKNAME_MAX,
                key=NICKNAME_KEY,
                placeholder=_("anonymous: Student 1, 2, ..."),
            )
            st.button(
                _("Send"),
                type="primary",
                icon=":material/send:",
                key="send_button",
                disabled=label is None,
                on_click=_send,
                args=(np.asarray(digit, dtype=np.uint8), model, int(prediction), [float(p) for p in probabilities]),
            )
        st.caption(_(WHAT_IS_SENT).format(model=model))
        roles.keep_nickname(nickname)
        result = st.session_state.get(_SENT)
        if result and result[0] == "sent" and result[4] is not None:
            meant, said, student, was = result[1:]
            st.success(
                _(
                    "Changed: {student}'s drawing is one entry on the wall, now meant as {meant} (it was "
                    "{was}); the network said {said}."
                ).format(student=links.markdown_text(student), meant=meant, was=was, said=said),
                icon=":material/edit:",
            )
        elif result and result[0] == "sent":
            meant, said, student = result[1:4]
            st.success(
                _("Sent as {student}: your {meant}, the network said {said}. Draw another and send it too.").format(
                    student=links.markdown_text(student), meant=meant, said=said
                ),
                icon=":material/check_circle:",
            )
        elif result and result[0] == "already":
            st.info(_("Already sent: {reason}.").format(reason=result[1]), icon=":material/done_all:")
        elif result:
            st.warning(_("Not sent: {reason}.").format(reason=result[1]), icon=":material/error:")
