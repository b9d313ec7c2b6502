"""The models every session shares (one cache: read only, never trained or hooked in place) and
the checkpoint picker that chooses among them, by a readable name, kept in the link."""

from __future__ import annotations

import streamlit as st
import torch

from core import models
from core.i18n import _
from core.models import checkpoints
from core.models.init import seeded
from core.training import names as model_names
from dashboard.frame.links import markdown_text


def checkpoint_names() -> list[str]:
    """Every checkpoint with a readable record, looked at afresh so new ones appear without a restart."""
    return checkpoints.names()


@st.cache_resource(max_entries=32, show_spinner=False)  # a spinner's text would be fixed in one language
def _load_cached(name: str, sha256: str) -> tuple[torch.nn.Module, dict]:
    # Keyed by the file's hash too, so a checkpoint retrained under the same name is reloaded.
    model, info = checkpoints.load(name)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, info.record


@st.cache_resource(show_spinner=False)
def fresh_model(name: str) -> torch.nn.Module:
    """The preset as initialised with seed 0 (a generator of its own, never torch's global one),
    shared by every session: read only, as :func:`load_model`'s."""
    return models.build(name, generator=seeded(0)).eval()


def load_model(name: str) -> tuple[torch.nn.Module, dict]:
    """A verified checkpoint, shared by every session: NEVER train it or add hooks to it in
    place; use a copy first (``core.models.copies``: what core itself does).

    Raises ``checkpoints.CheckpointError`` with a message fit for ``st.error``.
    """
    info = checkpoints.read_info(name)
    return _load_cached(name, info.record["sha256"])


_URL_HOLDER = "cnnx-url-"  # the key prefix of a container that only holds a link's value
# Such a container takes no room and is read by no one: its widget only keeps the value in the link.
_URL_HOLDER_CSS = (
    f'<style>[class*="st-key-{_URL_HOLDER}"], [data-testid="stLayoutWrapper"]:has(> '
    f'[class*="st-key-{_URL_HOLDER}"]) {{ display: none !important; }}</style>'
)


def _follow(key: str, shown_key: str) -> None:
    st.session_state[key] = st.session_state[shown_key]


def named_selectbox(
    label: str, options: list[str], *, shown, key: str, index: int = 0, container=st, bind: str | None = None
) -> str:
    """A selectbox whose options read as ``shown(option)`` while its value stays the option.

    With ``bind="query-params"`` the link keeps the option itself under ``key``
    (``?draw_model=lenet5_1998``): Streamlit writes a bound selectbox's shown text in the link,
    so a selectbox of the options, not drawn, is the one bound under ``key`` (its value is
    ``st.session_state[key]``, and a link's unusable value is named as for any widget) and the
    one drawn (``key + "_shown"``) follows it.
    """
    if bind is None:
        return container.selectbox(label, options, index=index, key=key, format_func=shown)
    container.html(_URL_HOLDER_CSS)
    with container.container(key=f"{_URL_HOLDER}{key}"):
        chosen = st.selectbox(label, options, index=index, key=key, bind=bind)
    shown_key = f"{key}_shown"
    st.session_state[shown_key] = chosen
    container.selectbox(label, options, key=shown_key, format_func=shown, on_change=_follow, args=(key, shown_key))
    return chosen


def checkpoint_picker(
    label: str, *, key: str, default: str = "lenet5", container=st, bind: str | None = None
) -> str | None:
    """A selectbox over the present checkpoints (default ``lenet5``); None when there are none.

    Each is listed by a short name with its own name in brackets, shipped ones first, then the
    reproductions of the sources, those trained here and the class's (``core.training.names``);
    under the picker, the chosen one's group and what it is in one line. The value is the
    checkpoint's own name, and so is the link's with ``bind="query-params"`` (:func:`named_selectbox`).
    """
    names = checkpoint_names()
    if not names:
        container.warning(_("No checkpoints yet: run `make checkpoints` or train one on the Training page."))
        return None
    described = {m.name: m for m in model_names.for_names(names)}
    options = list(described)
    index = options.index(default) if default in options else 0

    def shown(name: str) -> str:
        return described[name].label if name in described else name

    chosen = named_selectbox(label, options, shown=shown, key=key, index=index, container=container, bind=bind)
    if chosen in described:
        container.caption(markdown_text(described[chosen].about))
    return chosen
