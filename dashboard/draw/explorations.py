"""The /draw page's two explorations: the receptive field of a unit, and the perturbation lab.

Thin, like the pages: widgets -> core.explain.receptive_field / core.explain.perturb -> dashboard.figures.plots. Each
section is an ``st.fragment``, so moving one of its sliders reruns the section, not the page's
prediction, feature maps and attributions. Every widget is bound to the URL under its key.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from core.device import torch_threads
from core.explain import perturb
from core.explain import receptive_field as rf
from core.explain.pictures import describe_map
from core.i18n import N_, _
from dashboard import ui
from dashboard.figures import palettes, plots
from dashboard.frame import language
from dashboard.frame.links import BOUND

OUTPUT = N_("output class")  # the code is its English label: the link holds the label of either language
GRADIENT_TINT = "rgba(0,114,178,0.42)"  # Okabe-Ito blue, beside the orange box
LAB_TABS = [N_("Cover a patch"), N_("Adversarial nudge (FGSM)"), N_("Shift, rotate, thicken")]
EPSILON_MAX, EPSILON_STEP = 0.3, 0.005
# Grey levels (of 255) a pixel moves by, and what an eye makes of it on MNIST's black background.
# 2 levels is about the paper's own example of an invisible nudge: epsilon = 0.007 (1.8 levels) on
# a photo of a panda, "the smallest bit of an 8 bit image encoding". Past about 16 levels (6 % of
# full brightness) the speckle on black is plain on a classroom projector; between, it is faint.
INVISIBLE_LEVELS, FAINT_LEVELS = 2, 16


def percent(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else "<0.1%"


# --- receptive field ----------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def cached_fields(preset: str) -> list[rf.LayerField]:
    # The geometry of a preset does not depend on its weights: a fresh copy answers for all.
    return rf.layer_fields(preset)


@st.cache_data(max_entries=512, show_spinner=False)  # the spinner's text is the session's: receptive_field
def cached_check(preset: str, layer: str | None, channel: int, row: int, col: int) -> rf.GradientCheck:
    return rf.check_unit(preset, layer, channel, row, col)


def default_layer(choices: list[rf.LayerField]) -> int:
    """The deepest convolution whose map is still larger than one unit (conv2 of lenet5)."""
    wide = [i for i, f in enumerate(choices) if f.kind == "conv" and f.out_size[0] > 1]
    return wide[-1] if wide else 0


def formula_rows(fields: list[rf.LayerField], last: int) -> list[dict]:
    """The formula composed layer by layer up to ``fields[last]``, one table row per layer."""
    layer, kernel, stride, padding = _("layer"), _("kernel k"), _("stride s"), _("padding p")
    size_rule, jump_rule = _("field r = r + (k-1)·d·j"), _("jump j = j·s")
    rows = [{layer: _("input"), kernel: "", stride: "", padding: "", size_rule: "1", jump_rule: "1"}]
    size, jump = 1, 1
    for field in fields[: last + 1]:
        rows.append(
            {
                layer: field.short_name,
                kernel: str(field.kernel),
                stride: str(field.stride),
                padding: str(field.padding),
                size_rule: f"{size} + ({field.kernel}-1)·{field.dilation}·{jump} = {field.size}",
                jump_rule: f"{jump}·{field.stride} = {field.jump}",
            }
        )
        size, jump = field.size, field.jump
    return rows


def span(first: int, last: int) -> str:
    return str(first) if first == last else _("{first} to {last}").format(first=first, last=last)


def receptive_field(preset: str, digit: np.ndarray, predicted: int) -> None:
    """Choose a unit (or an output class); see its box on the digit, by formula and by gradient."""
    fields = cached_fields(preset)
    if not fields:
        st.info(
            _(
                "This network has no convolution: every unit of its first layer reads all 784 pixels, "
                "so every unit, and every class, sees the whole digit."
            ),
            icon=":material/info:",
        )
        return
    choices = [f for f in fields if f.kind != "pad"]  # a padding layer's units are pixels
    names = [f.short_name for f in choices] + [OUTPUT]
    pick, unit_col = st.columns([1, 2.2], gap="medium")
    output_label = _(OUTPUT)  # translated here, in the session: a format_func may be called outside it
    with pick:
        chosen = st.selectbox(
            _("Unit of"),
            names,
            index=default_layer(choices),
            key="rf_layer",
            bind=BOUND,
            format_func=lambda name: output_label if name == OUTPUT else name,
            help=_(
                "A convolution or pooling layer, or an output class (which reads every "
                "unit of the last map through the dense layers)."
            ),
        )
    if chosen == OUTPUT:
        with unit_col:
            target = st.selectbox(_("Class"), range(10), index=predicted, key="rf_class", bind=BOUND)
        layer, channel, row, col = None, int(target), 0, 0
        box = rf.class_box(fields)
        what = _("output class {target}").format(target=target)
        last = len(fields) - 1
    else:
        field = rf.find_layer(fields, chosen)
        height, width = field.out_size
        with unit_col:
            c1, c2, c3 = st.columns(3)
            channel = (
                c1.slider(_("Channel"), 0, field.channels - 1, 0, key="rf_channel", bind=BOUND)
                if field.channels > 1
                else 0
            )
            row = c2.slider(_("Row"), 0, height - 1, height // 2, key="rf_row", bind=BOUND) if height > 1 else 0
            col = c3.slider(_("Column"), 0, width - 1, width // 2, key="rf_col", bind=BOUND) if width > 1 else 0
        layer = field.name
        box = rf.unit_box(fields, field.name, channel, row, col)
        what = _("{layer} unit (channel {channel}, row {row}, col {col})").format(
            layer=field.short_name, channel=channel, row=row, col=col
        )
        last = fields.index(field)
    with st.spinner(_("Checking the box with a gradient...")):
        check = cached_check(preset, layer, channel, row, col)
    top, left, bottom, right = box.unclipped
    picture, facts = st.columns([1, 1.5], gap="large")
    with picture:
        ui.chart(
            plots.digit_with_boxes(
                digit,
                [(top, left, bottom, right, palettes.HIGHLIGHT, "solid")],
                overlay=check.support,
                overlay_color=GRADIENT_TINT,
                size_px=300,
            ),
            "rf_fig",
            description=_(
                "Your digit with the receptive field of {what} as an orange box, rows {rows} and "
                "columns {cols}; the {reached} pixels its gradient reaches are tinted blue."
            ).format(
                what=what.replace("**", ""), rows=span(top, bottom), cols=span(left, right), reached=check.reached
            ),
        )
        st.caption(
            _(
                "Orange box: the field by the formula (grey: zero padding beyond the picture). "
                "Blue: pixels where the gradient of the unit is not zero."
            )
        )
    with facts:
        side = bottom - top + 1
        clipped = (box.height, box.width) != (side, right - left + 1)
        sees = (
            _(
                "**{what}** sees a **{height}×{width}** square of input pixels, rows {rows} and columns {cols} "
                "({inside_height}×{inside_width} of them inside the picture)."
            )
            if clipped
            else _("**{what}** sees a **{height}×{width}** square of input pixels, rows {rows} and columns {cols}.")
        )
        st.markdown(
            sees.format(
                what=what,
                height=side,
                width=right - left + 1,
                rows=span(top, bottom),
                cols=span(left, right),
                inside_height=box.height,
                inside_width=box.width,
            )
        )
        st.table(formula_rows(fields, last), hide_index=True)
        if layer is None:
            edge = fields[-1]
            st.caption(
                _(
                    "A class reads every unit of {layer} ({height}×{width}, each seeing {size} pixels, {jump} "
                    "apart) through the dense layers: {size} + ({height}-1)·{jump} = {side} pixels a "
                    "side."
                ).format(
                    layer=edge.short_name,
                    height=edge.out_size[0],
                    width=edge.out_size[1],
                    size=edge.size,
                    jump=edge.jump,
                    side=side,
                )
            )
        else:
            steps = rf.trace_back(fields, layer, row, col)
            chain = " ← ".join(
                _("{layer} rows {rows}, cols {cols} ({count})").format(
                    layer=_("input") if step.name == "input" else step.name.rsplit(".", 1)[-1],
                    rows=span(*step.rows),
                    cols=span(*step.cols),
                    count=step.count,
                )
                for step in steps
            )
            st.caption(_("Traced back through every layer (units each one depends on): {chain}.").format(chain=chain))
        verdict = (
            _("Gradient check: its gradient reaches {reached} input pixels, exactly the box ({pixels} pixels).")
            if check.equal
            else _("Gradient check: its gradient reaches {reached} input pixels, all inside the box ({pixels} pixels).")
            if check.inside
            else _(
                "Gradient check: its gradient reaches {reached} input pixels, NOT all inside the box ({pixels} pixels)."
            )
        )
        (st.success if check.inside else st.error)(
            verdict.format(reached=check.reached, pixels=box.height * box.width),
            icon=":material/check_circle:" if check.inside else ":material/error:",
        )
        st.caption(
            _(
                "The check: the gradient of the unit with respect to every input pixel, summed over 32 "
                "random inputs on a copy with random weights (ReLUs off, so none hides a pixel). "
                "Formula: Araujo, Norris & Sim, Computing Receptive Fields of CNNs, Distill 2019."
            )
        )


# --- perturbation lab -----------------------------------------------------------------------------


@st.cache_data(max_entries=256, show_spinner=False)  # the spinner's text is the session's: fgsm_tab
def cached_flip(name: str, sha256: str, digit: np.ndarray) -> perturb.FlipSearch:
    model, _record = ui.load_model(name)
    with torch_threads(1):
        return perturb.smallest_flip(model, digit, max_epsilon=EPSILON_MAX)


def outcome_panel(outcome: perturb.Outcome, original: perturb.Outcome, key: str, title: str) -> None:
    """The prediction after a change beside the one before, and the ten probabilities. A changed
    answer is bad news for the network: it is shown in the "wrong" colour of the answer palette
    (red, or orange in presenter mode), never in the green of a gain."""
    before = original.prediction
    flipped = outcome.prediction != before
    answer = ui.palette("answer")
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
    ui.chart(
        plots.probability_bars(
            outcome.probabilities,
            highlight=outcome.prediction,
            title=title,
            highlight_color=answer.colors[verdict],
            height_px=220,
        ),
        key,
        description=_("{title}: {probabilities}").format(
            title=title, probabilities=plots.probabilities_text(outcome.probabilities)
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
        ui.chart(
            plots.digit_with_boxes(
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
    signed = ui.palette("signed")
    shown, change, probs = st.columns([1, 1, 1.5], gap="medium")
    with shown:
        ui.chart(
            plots.digit_with_boxes(
                nudge.outcome.picture, title=_("Nudged by ε = {epsilon:.3f}").format(epsilon=epsilon), size_px=220
            ),
            "lab_fgsm_fig",
        )
    with change:
        ui.chart(
            plots.image_heatmap(nudge.change, title=_("The change"), colorscale=signed.scale, zmid=0, size_px=200),
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
                high=plots.colour(signed.high),
                low=plots.colour(signed.low),
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
        ui.chart(
            plots.digit_with_boxes(changed.picture, title=_("Shifted, rotated, thickened"), size_px=240), "lab_tf_fig"
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


# --- the two sections ------------------------------------------------------------------------------


def sections(model: torch.nn.Module, name: str, record: dict, digit: np.ndarray, predicted: int) -> None:
    """The two expanders; each computes only while open, and reruns on its own (a fragment)."""
    preset = record.get("preset", name)
    field = st.expander(
        _("Receptive field: which pixels a unit can see"),
        icon=":material/filter_center_focus:",
        key="draw_rf",
        on_change="rerun",
        bind=BOUND,
    )
    if field.open:
        with field:
            fragment(receptive_field, preset, digit, predicted)
    lab = st.expander(
        _("Perturbation lab: cover, nudge, move the digit"),
        icon=":material/science:",
        key="draw_lab",
        on_change="rerun",
        bind=BOUND,
    )

    if lab.open:
        with lab:
            fragment(perturbation_lab, model, name, record.get("sha256", ""), digit)


@st.fragment
def fragment(section, *args) -> None:
    """Run a section as a fragment: its widgets rerun it alone, on one torch thread."""
    with torch_threads(1):
        section(*args)
