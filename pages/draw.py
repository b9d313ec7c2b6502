"""/draw: draw a digit (or upload a picture) and see what the network does with it.

Thin: canvas or file -> core.data.preprocess -> dashboard.draw.digit_panel (prediction, feature maps,
attributions, shared with the class wall), dashboard.draw.send_panel (send the digit to the class)
and dashboard.draw.explorations (the receptive field and the perturbation lab, each folded).

The input (canvas, upload, a test digit for whoever cannot draw) is ``dashboard.draw.inputs``.
The prediction is said to a screen reader each time it changes (``accessibility.announce``).

The settings live in the URL (``bind="query-params"``, the key is the parameter's name), e.g.
``/draw?draw_model=lenet5_1998&draw_methods=Saliency&draw_methods=Occlusion&draw_target=3``:
``draw_source draw_model draw_compare draw_others draw_target draw_methods draw_sanity``, and
the explorations' ``draw_journey draw_rf draw_lab`` (dashboard/draw/explorations.py), ``journey_unit``
(LAYER:MAP:ROW:COL, dashboard/draw/journey.py), ``rf_layer rf_class
rf_channel rf_row rf_col`` (receptive_field.py) and ``lab_tab occ_size occ_row occ_col fgsm_eps tf_dx
tf_dy tf_angle tf_thicken`` (perturbation_lab.py).
``draw_target`` is a class, ``0`` to ``9``; without it the maps follow the prediction.

Each section runs in ``guard.guarded``: whatever fails is said in one line, the rest still shown.
"""

import streamlit as st

from core.data import preprocess
from core.device import torch_threads
from core.explain import pictures
from core.i18n import _
from dashboard.draw import digit_panel, explorations, inputs, send_panel
from dashboard.frame import accessibility, guard, presenter, shared_models
from dashboard.frame.links import BOUND

STEP_PX = 142  # preprocessing pictures: 28 px shown 5x (plus the outline), each pixel a crisp square


def show_steps(pre: preprocess.Preprocessed, origin: str) -> None:
    st.markdown(
        _(
            "**What the network receives**: the drawing is made like an MNIST digit "
            "(LeCun et al. 1998): cropped to the ink, its longer side scaled to 20 px, "
            "and centred by its centre of mass in 28 × 28."
        )
    )
    cols = st.columns(4)
    first = {"canvas": _("What you drew"), "upload": _("Your picture"), "test": _("The test digit")}[origin]
    steps = [
        (pre.raw, first),
        (pre.cropped, _("Cropped to the ink")),
        (pre.scaled, _("Longer side 20 px")),
        (pre.digit, _("Centred in 28 × 28")),
    ]
    for col, (image, label) in zip(cols, steps):
        height, width = image.shape
        with col:
            st.image(
                pictures.framed(image, round(STEP_PX * presenter.figure_scale())),
                alt=_("{step}: your digit at {height} × {width} pixels, {where}").format(
                    step=label, height=height, width=width, where=pictures.describe_map(image)
                ),
            )
            st.caption(_("{step} · {height} × {width}").format(step=label, height=height, width=width))


def predictions(name: str, others: list[str], pre: preprocess.Preprocessed):
    """The chosen model's prediction (beside the compared models' ones): (model, record, result),
    or None when the model cannot be loaded (said in one line)."""
    model, record = digit_panel.load(name)
    if model is None:
        return None
    if not others:
        return model, record, digit_panel.prediction(name, model, record, pre.tensor, key="draw_probs")
    results = {}
    for col, each in zip(st.columns(1 + len(others), gap="medium"), [name, *others]):
        with col:
            each_model, each_record = (model, record) if each == name else digit_panel.load(each)
            if each_model is not None:
                results[each] = digit_panel.prediction(
                    each, each_model, each_record, pre.tensor, key=f"draw_probs_{each}", compact=True
                )
    return model, record, results[name]


def pick_models() -> tuple[str | None, list[str]]:
    """The model (None without checkpoints) and, in compare mode, up to two others."""
    name = shared_models.checkpoint_picker(_("Model"), key="draw_model", bind=BOUND)
    others: list[str] = []
    with presenter.secondary(_("Compare models")):
        compare = st.toggle(_("Compare models side by side"), key="draw_compare", bind=BOUND)
        if compare and name is not None:
            options = [n for n in shared_models.checkpoint_names() if n != name]
            others = st.multiselect(
                _("Compare with (up to two)"),
                options,
                max_selections=2,
                key="draw_others",
                default=options[:1],
                bind=BOUND,
            )
    return name, others


st.title(_("Draw a digit"))
st.session_state.setdefault("draw_canvas_round", 0)

picture, origin, name, others, pre, shown = None, "canvas", None, [], None, None
input_col, model_col = st.columns([1, 1.6], gap="large")
with input_col, guard.guarded(_("The drawing")):
    picture, origin = inputs.read_input()
    inputs.challenge_note()
# The Send panel right under the drawing: on a phone, where the columns stack, it is then within
# one screen of the canvas (with the network's answer in its first line), and the prediction's
# figure follows; the heavier panels come after.
send_spot = input_col.container()
with model_col:
    with guard.guarded(_("The model picker")):
        name, others = pick_models()
    with guard.guarded(_("Your digit")):
        pre = inputs.preprocess_input(picture, origin)
    if pre is not None and name is not None:
        with guard.guarded(_("The prediction")), torch_threads(1):
            shown = predictions(name, others, pre)
    if shown is not None:
        result = shown[2]
        accessibility.announce(
            _("Prediction: {digit}, {probability:.0%} sure").format(
                digit=result.prediction, probability=result.probabilities[result.prediction]
            )
        )
        if origin == "test":  # MNIST's handwriting, not the student's: the class's data stays the class's
            send_spot.caption(
                _("A test digit is not sent to the class: the wall and its lessons are about your own handwriting.")
            )
        else:
            with send_spot, guard.guarded(_("Send to the class")):
                send_panel.send_panel(pre.digit, name, shown[2].prediction, shown[2].probabilities)

if pre is not None:
    with guard.guarded(_("What the network receives")):
        show_steps(pre, origin)
if shown is not None:
    model, record, result = shown
    with torch_threads(1):
        with guard.guarded(_("The feature maps")):
            digit_panel.feature_maps(model, pre.tensor, prefix="draw")
        with guard.guarded(_("Which pixels mattered")):
            digit_panel.which_pixels(model, pre.tensor, pre.digit, result.prediction, prefix="draw")
        with guard.guarded(_("The explorations")):
            st.subheader(_("Explore"))
            explorations.sections(model, name, record, pre.digit, pre.tensor, result.prediction)
