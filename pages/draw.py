"""/draw: draw a digit (or upload a picture) and see what the network does with it.

Thin: canvas or file -> core.preprocess -> dashboard.digit_panel (prediction, feature maps,
attributions, shared with the class wall), dashboard.send_panel (send the digit to the class)
and dashboard.explorations (receptive field, perturbation lab).

A drawing can also be handed over through session state (``draw_image_override``: an RGBA/grey
array or the bytes of an image file), which is how the page's AppTest injects one.

Who cannot draw on the canvas (a keyboard, a screen reader) has "Try a test digit", beside the
input's choice and the next control after it: a random MNIST test digit (its number in session state,
``draw_test_digit``) goes through the same preprocessing as a drawing (it is not sent to the
class: not the student's handwriting); or the upload. The prediction is said to a screen reader
each time it changes (``ui.announce``).

The settings live in the URL (``bind="query-params"``, the key is the parameter's name), e.g.
``/draw?draw_model=lenet5_1998&draw_methods=Saliency&draw_methods=Occlusion&draw_target=3``:
``draw_source draw_model draw_compare draw_others draw_target draw_methods draw_sanity``, and
the explorations' (dashboard/explorations.py) ``draw_rf rf_layer rf_class rf_channel rf_row
rf_col draw_lab lab_tab occ_size occ_row occ_col fgsm_eps tf_dx tf_dy tf_angle tf_thicken``.
``draw_target`` is a class, ``0`` to ``9``; without it the maps follow the prediction.

Each section runs in ``ui.guarded``: whatever fails is said in one line, the rest still shown.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run standalone (AppTest) as well as through dashboard/app.py
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from core import pictures, preprocess  # noqa: E402
from core.data import DataNotFoundError, load_test  # noqa: E402
from core.i18n import N_, _  # noqa: E402
from core.device import torch_threads  # noqa: E402
from dashboard import digit_panel, explorations, send_panel, ui  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

CANVAS_PX = 280
PROMPT = N_("Draw a digit in the black square (or upload a picture of one) to see what the network makes of it.")
UPLOAD_PROMPT = N_("Upload a picture of one digit to see what the network makes of it.")
SOURCES = {"Draw": N_("Draw"), "Upload a picture": N_("Upload a picture")}  # link value -> label
STEP_PX = 142  # preprocessing pictures: 28 px shown 5x (plus the outline), each pixel a crisp square
OVERRIDE_KEY = "draw_image_override"
TEST_DIGIT_KEY = "draw_test_digit"  # the MNIST test digit shown in the canvas's place, if any
MISSING_KEY = "_draw_test_missing"  # why there is no test digit to try (MNIST not in data/)
CANVAS_ZOOM = CANVAS_PX // 28       # a test digit blown up to the canvas's size, as if drawn there

def read_canvas(stroke_width: int):
    """The canvas's RGBA picture, or None before anything is drawn."""
    from streamlit_drawable_canvas import st_canvas  # raises on import outside a running app

    result = st_canvas(fill_color="rgba(0, 0, 0, 0)", stroke_width=stroke_width, stroke_color="#FFFFFF",
                       background_color="#000000", height=CANVAS_PX, width=CANVAS_PX,
                       drawing_mode="freedraw", return_image_data=True,
                       key=f"draw_canvas_{st.session_state.draw_canvas_round}")
    return result.image_data


def clear_canvas() -> None:
    # A new key gives a new, empty canvas; the last "sent" line described the old drawing.
    st.session_state.draw_canvas_round += 1
    st.session_state.pop(TEST_DIGIT_KEY, None)
    send_panel.forget_last()


def pick_test_digit() -> None:
    """A random digit of the MNIST test set in the canvas's place (another one each press)."""
    try:
        count = len(test_digits()[1])
    except DataNotFoundError as exc:  # said where the digit would be (a callback has no guard)
        st.session_state[MISSING_KEY] = str(exc)
        return
    st.session_state[TEST_DIGIT_KEY] = int(np.random.default_rng().integers(count))
    send_panel.forget_last()


@st.cache_resource(show_spinner=False)
def test_digits():
    """The MNIST test set (images uint8, labels), shared by every session."""
    test = load_test()
    return test.images.numpy(), test.labels.numpy()


def show_test_digit(index: int) -> np.ndarray:
    """Test digit ``index`` where the canvas was, said what it is; returns it at the canvas's size."""
    images, labels = test_digits()
    picture = np.kron(images[index], np.ones((CANVAS_ZOOM, CANVAS_ZOOM), dtype=np.uint8))
    st.image(picture, width=CANVAS_PX, output_format="PNG",
             alt=_("MNIST test digit #{index}, a handwritten {label}").format(index=index, label=int(labels[index])))
    st.caption(_("MNIST test digit #{index} (its label: {label}), made ready for the network as a drawing is. "
                 "Clear to draw your own.").format(index=index, label=int(labels[index])))
    return picture


def read_input():
    """(picture, where from): an array, the bytes of a file, or None, and "canvas" / "upload"."""
    override = st.session_state.get(OVERRIDE_KEY)
    if override is not None:
        return override, "canvas"
    labels = {value: _(label) for value, label in SOURCES.items()}  # in this session's language
    # The choice of input, and beside it the keyboard's way in: the next Tab after the choice is
    # a test digit, before the canvas (whose own toolbar takes three more).
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="draw_input_row"):
        source = st.segmented_control(_("Input"), list(SOURCES), default="Draw", format_func=labels.get,
                                      key="draw_source", label_visibility="collapsed", bind=BOUND) or "Draw"
        if source == "Draw":
            st.button(_("Try a test digit"), key="draw_try_test", on_click=pick_test_digit,  # no icon: one line
                      help=_("No mouse or pen at hand? A random handwritten digit of the MNIST test set goes "
                             "through the same steps as a drawing."))
    if source == "Draw":
        # The canvas's own toolbar (undo, redo, edit, reset) appears over its top right corner
        # while the pointer is on it, 2.65rem above the square: the space keeps that free, and
        # the app's controls go below the square.
        st.space("medium")
        canvas_spot = st.container()
        # One row under the square, whatever the screen: Clear, the pen (folded), the hint.
        with st.container(horizontal=True, vertical_alignment="center", key="draw_controls"):
            st.button(_("Clear"), icon=":material/delete:", key="draw_clear", on_click=clear_canvas)
            with st.popover(_("Pen"), icon=":material/edit:"):
                stroke = st.slider(_("Stroke width (px)"), 8, 40, 20, key="draw_stroke")
            st.caption(_("Undo, redo: the square's top right corner."))
        with canvas_spot:
            missing = st.session_state.pop(MISSING_KEY, None)
            if missing:
                st.warning(missing, icon=":material/error:")
            index = st.session_state.get(TEST_DIGIT_KEY)
            if index is not None:
                return show_test_digit(int(index)), "test"
            image = read_canvas(stroke)
        return image, "canvas"
    upload = st.file_uploader(_("A picture of one digit (PNG or JPEG; dark on light or light on dark)"),
                              type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key="draw_upload")
    return (upload.getvalue() if upload is not None else None), "upload"


def preprocess_input(picture, origin: str) -> preprocess.Preprocessed | None:
    """The MNIST-style digit, or None after saying (without raising) why there is none."""
    if picture is None:
        st.info(_(UPLOAD_PROMPT) if origin == "upload" else _(PROMPT), icon=":material/draw:")
        return None
    try:
        if isinstance(picture, (bytes, bytearray, memoryview)):
            return preprocess.from_bytes(bytes(picture))
        return preprocess.from_array(np.asarray(picture))
    except preprocess.EmptyImageError as exc:
        if origin != "upload":
            st.info(_(PROMPT), icon=":material/draw:")
        else:
            st.warning(_("Nothing to read in this picture: {reason}.").format(reason=exc), icon=":material/image:")
    except preprocess.TooLittleInkError as exc:
        st.warning(_("Too little ink: {reason}. A digit fills most of the square, like the ones in MNIST.").format(
            reason=str(exc).removeprefix(_("too little ink: "))), icon=":material/ink_pen:")
    except preprocess.PreprocessError as exc:
        message = str(exc)
        st.error(_("This file cannot be used: {reason}.").format(reason=message[:1].lower() + message[1:]),
                 icon=":material/error:")
    return None


def show_steps(pre: preprocess.Preprocessed, origin: str) -> None:
    st.markdown(_("**What the network receives**: the drawing is made like an MNIST digit "
                  "(LeCun et al. 1998): cropped to the ink, its longer side scaled to 20 px, "
                  "and centred by its centre of mass in 28 × 28."))
    cols = st.columns(4)
    first = {"canvas": _("What you drew"), "upload": _("Your picture"), "test": _("The test digit")}[origin]
    steps = [(pre.raw, first), (pre.cropped, _("Cropped to the ink")), (pre.scaled, _("Longer side 20 px")),
             (pre.digit, _("Centred in 28 × 28"))]
    for col, (image, label) in zip(cols, steps):
        height, width = image.shape
        with col:
            st.image(pictures.framed(image, round(STEP_PX * ui.figure_scale())),
                     alt=_("{step}: your digit at {height} × {width} pixels, {where}").format(
                         step=label, height=height, width=width, where=pictures.describe_map(image)))
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
                results[each] = digit_panel.prediction(each, each_model, each_record, pre.tensor,
                                                       key=f"draw_probs_{each}", compact=True)
    return model, record, results[name]


def pick_models() -> tuple[str | None, list[str]]:
    """The model (None without checkpoints) and, in compare mode, up to two others."""
    name = ui.checkpoint_picker(_("Model"), key="draw_model", bind=BOUND)
    others: list[str] = []
    with ui.secondary(_("Compare models")):
        compare = st.toggle(_("Compare models side by side"), key="draw_compare", bind=BOUND)
        if compare and name is not None:
            options = [n for n in ui.checkpoint_names() if n != name]
            others = st.multiselect(_("Compare with (up to two)"), options, max_selections=2, key="draw_others",
                                    default=options[:1], bind=BOUND)
    return name, others


st.title(_("Draw a digit"))
st.session_state.setdefault("draw_canvas_round", 0)

picture, origin, name, others, pre, shown = None, "canvas", None, [], None, None
input_col, model_col = st.columns([1, 1.6], gap="large")
with input_col, ui.guarded(_("The drawing")):
    picture, origin = read_input()
# The Send panel right under the drawing: on a phone, where the columns stack, it is then within
# one screen of the canvas (with the network's answer in its first line), and the prediction's
# figure follows; the heavier panels come after.
send_spot = input_col.container()
with model_col:
    with ui.guarded(_("The model picker")):
        name, others = pick_models()
    with ui.guarded(_("Your digit")):
        pre = preprocess_input(picture, origin)
    if pre is not None and name is not None:
        with ui.guarded(_("The prediction")), torch_threads(1):
            shown = predictions(name, others, pre)
    if shown is not None:
        result = shown[2]
        ui.announce(_("Prediction: {digit}, {probability:.0%} sure").format(
            digit=result.prediction, probability=result.probabilities[result.prediction]))
        if origin == "test":  # MNIST's handwriting, not the student's: the class's data stays the class's
            send_spot.caption(_("A test digit is not sent to the class: the wall and its lessons are about your own "
                                "handwriting."))
        else:
            with send_spot, ui.guarded(_("Send to the class")):
                send_panel.send_panel(pre.digit, name, shown[2].prediction, shown[2].probabilities)

if pre is not None:
    with ui.guarded(_("What the network receives")):
        show_steps(pre, origin)
if shown is not None:
    model, record, result = shown
    with torch_threads(1):
        with ui.guarded(_("The feature maps")):
            digit_panel.feature_maps(model, pre.tensor, prefix="draw")
        with ui.guarded(_("Which pixels mattered")):
            digit_panel.which_pixels(model, pre.tensor, pre.digit, result.prediction, prefix="draw")
        with ui.guarded(_("The explorations")):
            st.subheader(_("Explore"))
            explorations.sections(model, name, record, pre.digit, result.prediction)
