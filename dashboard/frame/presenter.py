"""Presenter mode, for a projector: whether it is on, the larger type it brings, how much larger
figures are drawn, and where secondary controls fold away."""

from __future__ import annotations

import streamlit as st

PRESENTER_KEY = "presenter"
PRESENTER_SCALE = 1.3  # figures and grids, for the back of a classroom
# Larger type (Streamlit sizes its text in rem: a larger root font grows all of it), larger
# headings, and a main column that uses the whole projector width.
PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2.5rem; padding-right: 2.5rem;
  padding-top: 3rem; }
h1 { font-size: 2.9rem !important; }
h2 { font-size: 2.2rem !important; }
h3 { font-size: 1.7rem !important; }
[data-testid="stMetricValue"] { font-size: 3.4rem; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 0.95rem; }
</style>"""


def is_on() -> bool:
    """Whether presenter mode is on (the sidebar switch; off on a page run on its own)."""
    return bool(st.session_state.get(PRESENTER_KEY, False))


def figure_scale() -> float:
    """How much larger figures and grids are drawn: 1, or ``PRESENTER_SCALE`` in presenter mode."""
    return PRESENTER_SCALE if is_on() else 1.0


def secondary(label: str):
    """Where a page puts its secondary controls: in place, or in presenter mode folded into a
    closed expander. Either way the widgets run, so their values and URL bindings are kept."""
    return st.expander(label, icon=":material/tune:") if is_on() else st.container()
