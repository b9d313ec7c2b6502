"""Translations: the dashboard in English or Chinese, chosen per browser session.

Python's gettext with the catalogue in ``locale/`` (made with Babel: ``make messages``). Strings
are marked ``_("...")`` (``ngettext`` where a count decides the form) in the pages, the dashboard
and the user-facing messages of core; a placeholder is named (``_("{n} digits").format(n=n)``),
never an f-string, so the sentence is one entry a translator sees whole.

A message made where no session is (a shared object, a background thread, an exception a page
shows later) is a :class:`Deferred` (or a :class:`MessageError`): its template and values, said in
the language of the session that shows it.

The language is per session, never process-wide (no ``gettext.install``): the dashboard gives
:func:`set_language_source` a function that says the language of the script run in progress;
outside one (the command line, a training thread) it says nothing, and the text stays English.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from collections.abc import Callable
from pathlib import Path

from core.files import REPO_ROOT

LOCALE_DIR = REPO_ROOT / "locale"
DOMAIN = "messages"
LANGUAGES = {"en": None, "zh": "zh_CN"}  # the interface's languages -> their gettext locale
_LOG = logging.getLogger(__name__)
_language_source: Callable[[], str | None] = lambda: None  # noqa: E731


def set_language_source(source: Callable[[], str | None]) -> None:
    """Where :func:`_` learns the language of the text being made (the dashboard's session)."""
    global _language_source
    _language_source = source


def current_language() -> str:
    """``en`` or ``zh``: the running session's language, English outside a session."""
    try:
        language = _language_source()
    except Exception:  # a source that cannot answer (no session): English
        language = None
    return language if language in LANGUAGES else "en"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``: its compiled ``.mo``, else the ``.po`` compiled in memory
    when the ``.mo`` is missing or older (a checkout where ``make setup`` has not run yet)."""
    locale = LANGUAGES.get(language)
    if locale is None:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with open(mo, "rb") as handle:
            return gettext.GNUTranslations(handle)
    if po.is_file():
        return gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    _LOG.warning("no %s catalogue in %s: the interface stays English", language, folder)
    return gettext.NullTranslations()


def compile_po(po: Path) -> bytes:
    """A ``.po`` file compiled to ``.mo`` bytes (Babel), without writing anything."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _(message: str) -> str:
    """``message`` in the running session's language (a :class:`Deferred` one: filled in it)."""
    if isinstance(message, Deferred):
        return message.said()
    return translations(current_language()).gettext(message)


class Deferred(str):
    """A message made where no session's language is known (a shared object, a background thread),
    for a page to show later: the English text as a ``str`` (logs, the command line, ``in``), with
    its template (marked ``N_``) and values kept, so that ``_(message)`` says it in the language of
    the session that shows it. A value that is itself Deferred is said in that language too."""

    template: str
    values: dict

    def __new__(cls, template: str, **values) -> Deferred:
        text = super().__new__(cls, _filled(template, values))  # numbers keep their format specs
        text.template, text.values = template, values
        return text

    def said(self) -> str:
        values = {key: value.said() if isinstance(value, Deferred) else value for key, value in self.values.items()}
        try:
            return translations(current_language()).gettext(self.template).format(**values)
        except (KeyError, IndexError, ValueError):  # a translation that does not fit its values: English
            return _filled(self.template, values)

    def __reduce__(self):  # pickled (st.session_state may keep one) as what it is
        return (_rebuild, (self.template, self.values))


def _rebuild(template: str, values: dict) -> Deferred:
    return Deferred(template, **values)


class MessageError(Exception):
    """An error a person reads, kept as its template (marked N_) and values (a :class:`Deferred`):
    ``str()`` says it in the language of the session that shows it (English outside one: the
    command line, a job's thread), and a job that ends with it stores ``template`` and ``values``
    so every reader sees it in theirs. A text already said (``MessageError(_("..."))``) stays as it is."""

    def __init__(self, template: str, values: dict | None = None) -> None:
        self.template, self.values = template, dict(values or {})
        self.said = Deferred(template, **self.values)
        super().__init__(str(self.said))

    def __str__(self) -> str:
        return _(self.said)


def _filled(template: str, values: dict) -> str:
    """``template`` with ``values``; a translation whose placeholders do not fit them is never an
    error on a page: the template is shown as it is."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of ``singular``/``plural`` for ``count``, in the running session's language."""
    return translations(current_language()).ngettext(singular, plural, count)


@functools.cache
def _originals(language: str) -> dict[str, str]:
    """Translation -> English, for ``language``'s catalogue (its one-line messages)."""
    catalog = getattr(translations(language), "_catalog", {})
    return {text: key for key, text in catalog.items() if isinstance(key, str) and key and isinstance(text, str)}


def relabel(text: str, to: str) -> str:
    """A label written in either language, in language ``to``: how a link made in a Chinese
    session (``?training_tab=比较训练``) opens an English one, and back. Text that is no label of
    the catalogue comes back as it is."""
    english = next(
        (_originals(language)[text] for language in LANGUAGES if LANGUAGES[language] and text in _originals(language)),
        text,
    )
    return translations(to).gettext(english) if to != "en" else english


def N_(message: str) -> str:
    """Mark a string for the catalogue where it is defined (a constant); translate it with
    :func:`_` where it is shown."""
    return message


def sentences(*parts: str) -> str:
    """Sentences one after the other: a space after an English full stop, none after a Chinese
    one (empty parts left out)."""
    text = ""
    for part in filter(None, parts):
        text += part if not text or text[-1] in "。：；！？" else " " + part
    return text
