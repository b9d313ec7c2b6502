"""The error guard every page section runs in: an exception is one line on the page, never a traceback."""

from __future__ import annotations

import contextlib
import logging

import streamlit as st

from core.i18n import _

_LOG = logging.getLogger(__name__)


def one_line(exc: BaseException) -> str:
    """An exception as one readable line: its message (its first line), else its class name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def guarded(what: str):
    """Run one section of a page; whatever it raises is said in one line (``what`` could not be
    shown, and why) and the rest of the page is still drawn. The traceback goes to the server's
    log, never to the page. Streamlit's own reruns and stops are not exceptions and pass through.
    """
    try:
        yield
    except Exception as exc:  # the point: no traceback on a page, whatever a section hits
        _LOG.exception("%s failed", what)
        st.error(
            _("{what} could not be shown: {reason}").format(what=what, reason=one_line(exc)), icon=":material/error:"
        )
