"""The /draw page's explorations, each in a folded section of its own: the journey through the whole
network with any unit opened (``dashboard.draw.journey``), the receptive field of a unit
(``dashboard.draw.receptive_field``) and the perturbation lab (``dashboard.draw.perturbation_lab``).

Thin, like the pages: widgets -> core.explain.receptive_field / core.explain.perturb -> dashboard.figures. Each
section is an ``st.fragment``, so moving one of its sliders reruns the section, not the page's
prediction, feature maps and attributions. Every widget is bound to the URL under its key.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core.device import torch_threads
from core.i18n import _
from dashboard.draw import journey
from dashboard.draw.perturbation_lab import perturbation_lab
from dashboard.draw.receptive_field import receptive_field
from dashboard.frame import links
from dashboard.frame.links import BOUND


def sections(
    model: torch.nn.Module, name: str, record: dict, digit: np.ndarray, tensor: torch.Tensor, predicted: int
) -> None:
    """The expanders; each computes only while open, and reruns on its own (a fragment). A link
    naming a unit of the journey opens the journey."""
    preset = record.get("preset", name)
    if journey.PARAM in st.query_params and "draw_journey" not in st.query_params:
        links.rewrite("draw_journey", ["true"])
    folded(
        _("The journey: the whole network on your digit, any unit opened"),
        "route",
        "draw_journey",
        journey.journey_section,
        model,
        tensor,
        digit,
        predicted,
    )
    folded(
        _("Receptive field: which pixels a unit can see"),
        "filter_center_focus",
        "draw_rf",
        receptive_field,
        preset,
        digit,
        predicted,
    )
    folded(
        _("Perturbation lab: cover, nudge, move the digit"),
        "science",
        "draw_lab",
        perturbation_lab,
        model,
        name,
        record.get("sha256", ""),
        digit,
    )


def folded(title: str, icon: str, key: str, section, *args) -> None:
    """One exploration: an expander kept in the link under ``key``, its section run (as a
    fragment) only while it is open."""
    expander = st.expander(title, icon=f":material/{icon}:", key=key, on_change="rerun", bind=BOUND)
    if expander.open:
        with expander:
            fragment(section, *args)


@st.fragment
def fragment(section, *args) -> None:
    """Run a section as a fragment: its widgets rerun it alone, on one torch thread."""
    with torch_threads(1):
        section(*args)
