"""Shareable links: every page keeps its settings in the URL, and a value a page cannot use is
said, not swallowed.

Streamlit's ``bind="query-params"`` seeds a widget from the link and silently drops a value it
cannot use (an unknown model, a number out of range, an option that does not exist): the student
on a mistyped link would see another view than the teacher's without knowing. ``app.py`` takes
what the link asked for before the page runs (:func:`requested`), compares it after the page's
first run in a session with what the widgets hold (:func:`check`), and shows one line for each
value that was not taken, as long as the widget still shows what was put in its place
(:func:`show`). A value that code rather than a widget reads (``?lang=``, a class session's
number) is named the same way: the code that finds it unusable calls :func:`refuse`.

The notice shows the link's value as it was typed, with what could break the sentence (control
characters, markdown) made visible or escaped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import streamlit as st

from core.i18n import _

_LOG = logging.getLogger(__name__)
BOUND = "query-params"  # the one spelling of the binding, for every page's widgets
_CHECKED = "_links_checked"  # session state: the pages whose link was checked this session
_REJECTED = "_links_rejected"  # session state: {page: [Rejected, ...]}
_WAITING = "_links_waiting"  # session state: {page: {key: values}} asked of a widget not drawn yet
_REFUSED = "_links_refused"  # session state: {key: Rejected} said by :func:`refuse` in this run, before the check
_REWRITTEN = "_links_rewritten"  # session state: {key: values} put in the link by rewrite() in this run


@dataclass(frozen=True)
class Rejected:
    """One setting of a link that the page did not take, and what it shows instead."""

    key: str
    asked: tuple[str, ...]
    shown: object  # the widget's value put in its place
    shown_text: str  # that value as the page labels it
    state_key: str | None = None  # the session state that holds ``shown``; None: the widget bound to ``key``
    widget: bool = True  # False: no widget holds it (refuse): said while the link still asks for it

    def sentence(self) -> str:
        asked = ", ".join(visible(value) for value in self.asked) if self.asked else '""'
        return _("This link's **{key}={asked}** is not a value this page accepts: showing **{shown}** instead.").format(
            key=markdown_text(self.key), asked=markdown_text(asked), shown=markdown_text(self.shown_text)
        )

    def still_shown(self) -> bool:
        """Whether the page still shows what was put in the value's place (the student has not
        answered it by choosing another)."""
        if self.widget or self.state_key:
            return st.session_state.get(self.state_key or self.key) == self.shown
        return st.query_params.get_all(self.key) in (list(self.asked), [])


def visible(value: str) -> str:
    """A value of a link as a reader can see it: as typed when it is plain text, else in quotes
    with its control and invisible characters written as escapes (``"\\x00\\n"``), so that
    spaces at its ends show too."""
    if value and value == value.strip() and value.isprintable():
        return value
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}

    def escape(char: str) -> str:
        if char in named:
            return named[char]
        if char == " " or char.isprintable():
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return '"' + "".join(escape(char) for char in value) + '"'


# What markdown (and Streamlit: $math$) reads as markup in the middle of a line; "_" only at a
# word's edge, so lenet5_1998 stays as it is.
_MARKUP = re.compile(r"[\\`*\[\]<>&$~|#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# Where Streamlit or GitHub-flavoured markdown make something of plain text even when escaped: an
# icon or emoji (:material/home:, :smile:), a web or mail address (http://, www., a@b). A word
# joiner (U+2060, invisible) there breaks them.
_SHORTCUTS = re.compile(r"(?<=:)|(?i:(?<=www)(?=\.))|(?=@)")


def markdown_text(text: str) -> str:
    """``text`` for the middle of a markdown line: shown as it is, never as markup, an icon or a link.
    The one way to put anything a person typed (a link's value, a nickname, a file's name) into
    markdown."""
    return _MARKUP.sub(lambda match: "\\" + match.group(0), _SHORTCUTS.sub("\u2060", text))


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
    arrived, apart from ``st.query_params``). Any failure leaves the link as it was. A page may
    call it too (a tab's short key read as its title): :func:`check` then takes ``values`` as
    what the link asked for."""
    st.query_params[key] = values if len(values) > 1 else values[0]
    st.session_state.setdefault(_REWRITTEN, {})[key] = list(values)
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


def refuse(
    key: str,
    asked: list[str] | tuple[str, ...] | str,
    shown_text: str,
    *,
    shown: object = None,
    state_key: str | None = None,
) -> None:
    """Name a value of the link that code, not a widget, found unusable: ``?lang=fr``, a class
    session that does not exist. Call it during the page's run (before :func:`check`), each run it
    holds; only a page's first run in a session names it, as for widgets.

    ``shown_text`` is what the page shows instead, as the student reads it. The notice stays while
    ``st.session_state[state_key] == shown`` when a ``state_key`` is given (a widget that holds the
    replacement under another key), else while the link still asks for the same value (or no
    longer holds the key). Refusing the same key twice keeps the last."""
    values = (asked,) if isinstance(asked, str) else tuple(asked)
    st.session_state.setdefault(_REFUSED, {})[key] = Rejected(key, values, shown, shown_text, state_key, widget=False)


def _not_taken(key: str, values: list[str]) -> Rejected | None:
    """The setting ``key=values`` of the link, when the widget bound to ``key`` shows another
    value (None when it took it, or when no widget is bound to ``key`` in this run)."""
    found = _url_form(key)
    if found is None:
        return None
    form, value_type = found
    if _means(values, form, value_type):
        return None
    return Rejected(key, tuple(values), st.session_state[key], describe(form))


def check(page: str, asked: dict[str, list[str]]) -> None:
    """After a page's first run in this session: remember each setting of the link that its
    widgets did not take (dropped or corrected by Streamlit, or kept in the URL while the widget
    shows another value) and each one :func:`refuse` named. Later runs are not checked, but for
    a widget that was not drawn on the first run (the attribution methods, once there is a digit):
    by then the URL is the widgets' own, and a value set back to its default leaves it on purpose."""
    refused = st.session_state.pop(_REFUSED, {})
    rewritten = st.session_state.pop(_REWRITTEN, {})  # a page's rewrite(): what its link stands for
    checked = st.session_state.setdefault(_CHECKED, set())
    waiting = st.session_state.setdefault(_WAITING, {}).setdefault(page, {})
    if page in checked:
        for key in [key for key in waiting if _url_form(key) is not None]:
            item = _not_taken(key, waiting.pop(key))
            if item is not None:
                st.session_state.setdefault(_REJECTED, {}).setdefault(page, []).append(item)
        return
    checked.add(page)
    rejected = []
    for key, values in asked.items():
        values = rewritten.get(key, values)
        if key in refused:
            continue
        if _url_form(key) is None:
            waiting[key] = values  # bound to no widget of this run: checked when one appears
            continue
        item = _not_taken(key, values)
        if item is not None:
            rejected.append(item)
    st.session_state.setdefault(_REJECTED, {})[page] = rejected + list(refused.values())


def show(container, page: str) -> None:
    """One warning per rejected setting of this page's link, while the page still shows what was
    put in its place (a student who then picks a value has answered it)."""
    for item in st.session_state.get(_REJECTED, {}).get(page, []):
        if item.still_shown():
            container.warning(item.sentence(), icon=":material/link_off:")
