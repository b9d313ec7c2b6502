"""Shareable links: every page keeps its settings in the URL, and a value a page cannot use is
said, not swallowed.

Streamlit's ``bind="query-params"`` seeds a widget from the link and silently drops a value it
cannot use (an unknown model, a number out of range, an option that does not exist): the student
on a mistyped link would see another view than the teacher's without knowing. ``app.py`` takes
what the link asked for before the page runs (:func:`requested`), compares it after the page's
first run in a session with what the widgets hold (:func:`check`), and shows one line for each
value that was not taken, as long as the widget still shows what was put in its place
(:func:`show`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from core.i18n import _

_LOG = logging.getLogger(__name__)
BOUND = "query-params"  # the one spelling of the binding, for every page's widgets
_CHECKED = "_links_checked"  # session state: the pages whose link was checked this session
_REJECTED = "_links_rejected"  # session state: {page: [Rejected, ...]}


@dataclass(frozen=True)
class Rejected:
    """One setting of a link that the page did not take, and what it shows instead."""

    key: str
    asked: tuple[str, ...]
    shown: object       # the widget's value put in its place
    shown_text: str     # that value as the page labels it

    def sentence(self) -> str:
        asked = ", ".join(self.asked) if self.asked else "(empty)"
        return _("This link's **{key}={asked}** is not a value this page accepts: showing **{shown}** "
                 "instead.").format(key=self.key, asked=asked, shown=self.shown_text)


def describe(value: object) -> str:
    """A widget's value as a student reads it: ``lenet5``, ``3``, ``a, b``, ``nothing``."""
    if value is None or value == [] or value == ():
        return _("nothing")
    if isinstance(value, (list, tuple)):
        return ", ".join(describe(v) for v in value)
    if isinstance(value, bool):
        return _("on") if value else _("off")
    return f"{value:g}" if isinstance(value, float) else str(value)


def requested() -> dict[str, list[str]]:
    """The link's settings as it asked for them (every value of a repeated key), before any
    widget has run."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def _url_form(key: str) -> object | None:
    """What the widget bound to ``key`` holds now, in the form the URL writes it (Streamlit's own
    serialiser: a selectbox's label, a slider's number), or None when there is no such widget.

    Streamlit exposes no public way to ask this; the lookup is kept here, and any failure means
    "not known" (no warning), never an error on the page.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        state = get_script_run_ctx().session_state._state
        binding = state.query_params.get_binding_for_param(key)
        if binding is None:
            return None
        metadata = state._new_widget_state.widget_metadata.get(binding.widget_id)
        if metadata is None or key not in st.session_state:
            return None
        return metadata.serializer(st.session_state[key]), metadata.value_type
    except Exception:  # internals changed: say nothing rather than something wrong
        _LOG.debug("cannot read the URL form of %s", key, exc_info=True)
        return None


def rewrite(key: str, values: list[str]) -> None:
    """Put ``values`` in the link under ``key`` before any widget reads it: in the URL and in
    what Streamlit seeds a bound widget with on a session's first run (it keeps the link as it
    arrived, apart from ``st.query_params``). Any failure leaves the link as it was."""
    st.query_params[key] = values if len(values) > 1 else values[0]
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        initial = get_script_run_ctx().session_state._state.query_params._initial_query_params
        if key in initial:
            initial[key] = list(values)
    except Exception:  # internals changed: the widget then says the value is not one it accepts
        _LOG.debug("cannot rewrite the link's %s", key, exc_info=True)


def _means(asked: list[str], form: object, value_type: str) -> bool:
    """Whether the link's text ``asked`` stands for the serialised value ``form``."""
    from streamlit.runtime.state.query_params import parse_url_param

    try:
        parsed = parse_url_param(asked, value_type)
    except (ValueError, TypeError):
        return False
    if isinstance(form, (list, tuple)) and isinstance(parsed, (list, tuple)):
        return [str(v) for v in parsed] == [str(v) for v in form] or list(parsed) == list(form)
    return parsed == form or str(parsed) == str(form)


def check(page: str, asked: dict[str, list[str]]) -> None:
    """After a page's first run in this session: remember each setting of the link that its
    widgets did not take (dropped or corrected by Streamlit). Later runs are not checked: by then
    the URL is the widgets' own, and a value set back to its default leaves it on purpose."""
    checked = st.session_state.setdefault(_CHECKED, set())
    if page in checked:
        return
    checked.add(page)
    now = requested()
    rejected = []
    for key, values in asked.items():
        if now.get(key) == values:
            continue  # taken as it was (or bound to no widget of this page)
        found = _url_form(key)
        if found is None:
            continue
        form, value_type = found
        if not _means(values, form, value_type):
            rejected.append(Rejected(key, tuple(values), st.session_state[key], describe(form)))
    st.session_state.setdefault(_REJECTED, {})[page] = rejected


def show(container, page: str) -> None:
    """One warning per rejected setting of this page's link, while its widget still shows what
    was put in its place (a student who then picks a value has answered it)."""
    for item in st.session_state.get(_REJECTED, {}).get(page, []):
        if st.session_state.get(item.key) == item.shown:
            container.warning(item.sentence(), icon=":material/link_off:")
