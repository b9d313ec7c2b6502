"""The /draw page's perturbation lab: cover a patch, nudge every pixel the way that raises the loss
(FGSM), or shift, rotate and thicken the digit, and see what the network answers then
(``core.explain.perturb``). One tab drawn at a time, in its folded section (``dashboard.draw.explorations``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core.device import torch_threads
from core.explain import perturb
from core.explain.pictures import describe_map
from core.i18n import N_, _
from dashboard.draw.receptive_field import span
from dashboard.figures import charts, grids, one_digit, palettes
from dashboard.frame import language, shared_models
from dashboard.frame.links import BOUND

LAB_TABS = [N_("Cover a patch"), N_("Adversarial nudge (FGSM)"), N_("Shift, rotate, thicken")]
EPSILON_MAX, EPSILON_STEP = 0.3, 0.005
# Grey levels (of 255) a pixel moves by, and what an eye makes of it on MNIST's black background.
# 2 levels is about the paper's own example of an invisible nudge: epsilon = 0.007 (1.8 levels) on
# a photo of a panda, "the smallest bit of an 8 bit image encoding". Past about 16 levels (6 % of
# full brightness) the speckle on black is plain on a classroom projector; between, it is faint.
INVISIBLE_LEVELS, FAINT_LEVELS = 2, 16


def percent(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else "<0.1%"


@st.cache_data(max_entries=256, show_spinner=False)  # the spinner's text is the session's: fgsm_tab
def cached_flip(name: str, sha256: str, digit: np.ndarray) -> perturb.FlipSearch:
    model, _record = shared_models.load_model(name)
    with torch_threads(1):
        return perturb.smallest_flip(model, digit, max_epsilon=EPSILON_MAX)


def outcome_panel(outcome: perturb.Outcome, original: perturb.Outcome, key: str, title: str) -> None:
    """The prediction after a change beside the one before, and the ten probabilities. A changed
    answer is bad news for the network: it is shown in the "wrong" colour of the answer palette
    (red, or orange in presenter mode), never in the green of a gain."""
    before = original.prediction
    flipped = outcome.prediction != before
    answer = charts.palette("answer")
    verdict = palettes.ANSWER_WRONG if flipped else palettes.ANSWER_RIGHT
    st.metric(
        _("Prediction"),
        outcome.prediction,
        delta=_("was {digit}").format(digit=before) if flipped else None,
        delta_color=answer.names[palettes.ANSWER_WRONG] if flipped else "off",
        delta_arrow="off",
        help=_(
            "The network's answer for the changed digit; when it differs from its answer for "
            "your digit, the answer it gave before is shown under it."
        ),
    )
    st.caption(
        _("{sure} sure · probability of {digit} {before} → {after}").format(
            sure=percent(outcome.confidence),
            digit=before,
            before=percent(original.probabilities[before]),
            after=percent(outcome.probabilities[before]),
        )
    )
    charts.chart(
        one_digit.probability_bars(
            outcome.probabilities,
            highlight=outcome.prediction,
            title=title,
            highlight_color=answer.colors[verdict],
            height_px=220,
        ),
        key,
        description=_("{title}: {probabilities}").format(
            title=title, probabilities=one_digit.probabilities_text(outcome.probabilities)
        ),
    )


def occlusion_tab(model: torch.nn.Module, digit: np.ndarray, original: perturb.Outcome) -> None:
    c1, c2, c3 = st.columns(3)
    size = c1.slider(_("Patch size (px)"), 1, 14, 6, key="occ_size", bind=BOUND)
    row = c2.slider(_("Patch top row"), 0, 27, 11, key="occ_row", bind=BOUND)
    col = c3.slider(_("Patch left column"), 0, 27, 11, key="occ_col", bind=BOUND)
    covered = perturb.occlude(model, digit, row, col, size)
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        box = perturb.patch_box(row, col, size)  # never None: the sliders keep the patch on the picture
        charts.chart(
            one_digit.digit_with_boxes(
                covered.picture,
                [(*box, palettes.HIGHLIGHT, "solid")],
                title=_("The digit with a black patch"),
                size_px=240,
            ),
            "lab_occ_fig",
            description=_("The digit with a black {size} × {size} patch over rows {rows} and columns {cols}.").format(
                size=size, rows=span(box[0], box[2]), cols=span(box[1], box[3])
            ),
        )
    with right:
        outcome_panel(covered, original, "lab_occ_probs", _("Probabilities with the patch"))
    st.caption(
        _(
            "The patch is set to black, what the network saw around the digit. Move it over a stroke "
            "that tells this digit apart (the bar of a 7, the gap of a 4) and watch the answer change."
        )
    )


def fgsm_tab(model, name: str, sha256: str, digit: np.ndarray, original: perturb.Outcome) -> None:
    with st.spinner(_("Searching the smallest flipping epsilon...")):
        search = cached_flip(name, sha256, digit)
    if search.epsilon is not None:
        flip = search.adversarial
        st.markdown(
            _(
                "Smallest ε that flips the prediction: **{epsilon:.3f}**: every pixel moved by at most "
                "{levels:.0f} of 255 grey levels turns the {digit} into a **{flipped}** ({sure} sure)."
            ).format(
                epsilon=search.epsilon,
                levels=search.epsilon * 255,
                digit=search.label,
                flipped=flip.outcome.prediction,
                sure=percent(flip.outcome.confidence),
            )
        )
        st.button(
            _("Set ε to it"),
            key="fgsm_to_flip",
            icon=":material/bolt:",
            on_click=lambda: st.session_state.update(
                fgsm_eps=min(EPSILON_MAX, float(np.ceil(search.epsilon / EPSILON_STEP) * EPSILON_STEP))
            ),
        )
    else:
        st.markdown(
            _("No ε up to {max} flips this prediction: this digit is a sturdy {digit}.").format(
                max=EPSILON_MAX, digit=search.label
            )
        )
    st.session_state.setdefault("fgsm_eps", 0.05)  # not as the widget's default: the button sets it too
    epsilon = st.slider(
        _("ε (fraction of full brightness each pixel may move)"),
        0.0,
        EPSILON_MAX,
        step=EPSILON_STEP,
        format="%.3f",
        key="fgsm_eps",
        bind=BOUND,
    )
    nudge = perturb.fgsm(model, digit, epsilon)
    signed = charts.palette("signed")
    shown, change, probs = st.columns([1, 1, 1.5], gap="medium")
    with shown:
        charts.chart(
            one_digit.digit_with_boxes(
                nudge.outcome.picture, title=_("Nudged by ε = {epsilon:.3f}").format(epsilon=epsilon), size_px=220
            ),
            "lab_fgsm_fig",
        )
    with change:
        charts.chart(
            grids.image_heatmap(nudge.change, title=_("The change"), colorscale=signed.scale, zmid=0, size_px=200),
            "lab_fgsm_change",
            description=_("The change to each pixel, up to {levels:.0f} grey levels either way: {where}.").format(
                levels=epsilon * 255, where=describe_map(nudge.change, signed=True)
            ),
        )
    with probs:
        outcome_panel(nudge.outcome, original, "lab_fgsm_probs", _("Probabilities after the nudge"))
    largest = float(np.abs(nudge.change).max()) if epsilon else 0.0
    st.caption(
        _("{first} {second}").format(
            first=_(
                "FGSM (Goodfellow, Shlens & Szegedy 2015): every pixel moves by at most ε of full brightness, ε × 255 = "
                "{levels:.0f} of 255 grey levels, in the direction that raises the loss of the class {digit} ({high}: "
                "brighter, {low}: darker; {changed} pixels changed, clipped to 0-255)."
            ).format(
                levels=epsilon * 255,
                digit=nudge.label,
                high=palettes.colour(signed.high),
                low=palettes.colour(signed.low),
                changed=nudge.changed_pixels,
            ),
            second=visibility(largest),
        )
    )


def visibility(levels: float) -> str:
    """Whether a nudge of up to ``levels`` grey levels can be seen, said plainly."""
    if levels == 0:
        return _("At ε = 0 nothing moves.")
    if levels <= INVISIBLE_LEVELS:
        return _(
            "A nudge of {levels:.1f} grey levels is invisible, like the paper's own example "
            "(ε = 0.007, on a photo of a panda)."
        ).format(levels=levels)
    if levels <= FAINT_LEVELS:
        return _(
            "A nudge of up to {levels:.0f} grey levels is faint: dark specks on the black background, "
            "easy to miss from the back of a room, visible up close."
        ).format(levels=levels)
    return _(
        "A nudge of up to {levels:.0f} grey levels is plainly visible: the black background turns to grey "
        "speckle (left). On MNIST's black-and-white digits FGSM needs a nudge you can see; the "
        "paper's invisible ones (ε = 0.007, under 2 grey levels) fooled a network on photos."
    ).format(levels=levels)


def transform_tab(model, digit: np.ndarray, original: perturb.Outcome) -> None:
    c1, c2, c3, c4 = st.columns(4)
    dx = c1.slider(_("Shift right (px)"), -8, 8, 0, key="tf_dx", bind=BOUND)
    dy = c2.slider(_("Shift down (px)"), -8, 8, 0, key="tf_dy", bind=BOUND)
    angle = c3.slider(_("Rotate (degrees, anticlockwise)"), -60, 60, 0, step=5, key="tf_angle", bind=BOUND)
    steps = c4.slider(_("Thicken (px; negative thins)"), -2, 3, 0, key="tf_thicken", bind=BOUND)
    picture = perturb.thickened(perturb.rotated(perturb.shifted(digit, dx, dy), angle), steps)
    changed = perturb.outcome(model, picture)
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        charts.chart(
            one_digit.digit_with_boxes(changed.picture, title=_("Shifted, rotated, thickened"), size_px=240),
            "lab_tf_fig",
        )
    with right:
        outcome_panel(changed, original, "lab_tf_probs", _("Probabilities after the change"))
    effects = perturb.transformations(model, digit)
    before = original.prediction
    st.markdown(_("**Small changes, one at a time**"))
    likely = _("probability of {digit}").format(digit=before)
    st.dataframe(
        [
            {
                _("change"): e.label,
                _("prediction"): e.outcome.prediction,
                _("sure"): percent(e.outcome.confidence),
                likely: percent(e.outcome.probabilities[before]),
            }
            for e in effects
        ],
        hide_index=True,
        key="lab_tf_table",
    )
    st.caption(
        _(
            "The network was trained on digits centred by their centre of mass and scaled to 20 px: "
            "moved or turned digits are less like what it has seen. Pooling forgives a shift of a pixel or two."
        )
    )


def perturbation_lab(model: torch.nn.Module, name: str, sha256: str, digit: np.ndarray) -> None:
    """Cover, nudge, move: one tab of the lab drawn at a time."""
    original = perturb.outcome(model, digit)
    tabs = language.tabs(LAB_TABS, key="lab_tab", on_change="rerun")
    draws = (
        lambda: occlusion_tab(model, digit, original),
        lambda: fgsm_tab(model, name, sha256, digit, original),
        lambda: transform_tab(model, digit, original),
    )
    for tab, draw in zip(tabs, draws):
        if tab.open is not False:  # None when tabs do not track state: draw them all
            with tab:
                draw()
