"""/draw: draw a digit (or upload a picture) and see what the network does with it.

Thin: canvas or file -> core.preprocess -> core.inference (prediction), core.explain (feature
maps), core.attributions (Captum) -> dashboard.plots. Models come from dashboard.ui.load_model,
shared by every session: core works on private copies wherever it needs hooks.

A drawing can also be handed over through session state (``draw_image_override``: an RGBA/grey
array or the bytes of an image file), which is how the page's AppTest injects one.

The settings live in the URL (``bind="query-params"``, the key is the parameter's name), e.g.
``/draw?draw_model=lenet5_1998&draw_methods=Saliency&draw_methods=Occlusion&draw_target=3``:
``draw_source draw_model draw_compare draw_others draw_target draw_methods draw_sanity``, and
the explorations' (dashboard/explorations.py) ``draw_rf rf_layer rf_class rf_channel rf_row
rf_col draw_lab lab_tab occ_size occ_row occ_col fgsm_eps tf_dx tf_dy tf_angle tf_thicken``.
``draw_target`` is a class, ``0`` to ``9``; without it the maps follow the prediction.

A select widget's label is a function of its option alone, never of the drawing or the model:
in Streamlit 1.67 the browser (and the URL) hold the *label*, so a label that changes under
the widget (e.g. "2 (predicted)") goes stale and comes back as a value when the prediction does.
Each section runs in ``ui.guarded``: whatever fails is said in one line, the rest still shown.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run standalone (AppTest) as well as through dashboard/app.py
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from core import attributions, checkpoints, explain, inference, models, preprocess  # noqa: E402
from dashboard import explorations, ui  # noqa: E402
from dashboard.plots import (ANSWER_RIGHT, OVERLAY_VISIBLE_FROM, attribution_overlay, grid_heatmap,  # noqa: E402
                             image_heatmap, probability_bars)

CANVAS_PX = 280
PROMPT = "Draw a digit in the black square (or upload a picture of one) to see what the network makes of it."
UPLOAD_PROMPT = "Upload a picture of one digit to see what the network makes of it."
CHART_CONFIG = {"displayModeBar": False}
STEP_PX = 142  # preprocessing pictures: 28 px shown 5x (plus the outline), each pixel a crisp square
OVERRIDE_KEY = "draw_image_override"
BOUND = "query-params"
# "Explain the class": the prediction (a value of its own, whose label never names the
# prediction), or a class the student chose.
PREDICTED = "predicted"
TARGET_CHOICES = (PREDICTED, *range(10))
TARGET_LABELS = {PREDICTED: "Predicted", **{digit: str(digit) for digit in range(10)}}


def chart(fig, key: str) -> None:
    ui.plotly_chart(fig, width="content", config=CHART_CONFIG, key=key)


def read_canvas(stroke_width: int):
    """The canvas's RGBA picture, or None before anything is drawn."""
    from streamlit_drawable_canvas import st_canvas  # raises on import outside a running app

    result = st_canvas(fill_color="rgba(0, 0, 0, 0)", stroke_width=stroke_width, stroke_color="#FFFFFF",
                       background_color="#000000", height=CANVAS_PX, width=CANVAS_PX,
                       drawing_mode="freedraw", return_image_data=True,
                       key=f"draw_canvas_{st.session_state.draw_canvas_round}")
    return result.image_data


def clear_canvas() -> None:
    # A new key gives a new, empty canvas.
    st.session_state.draw_canvas_round += 1


def read_input():
    """(picture, where from): an array, the bytes of a file, or None, and "canvas" / "upload"."""
    override = st.session_state.get(OVERRIDE_KEY)
    if override is not None:
        return override, "canvas"
    source = st.segmented_control("Input", ["Draw", "Upload a picture"], default="Draw",
                                  key="draw_source", label_visibility="collapsed", bind=BOUND) or "Draw"
    if source == "Draw":
        # The canvas's own toolbar (undo, redo, edit, reset) appears over its top right corner
        # while the pointer is on it, 2.65rem above the square: the space keeps that free, and
        # the app's controls go below the square.
        st.space("medium")
        canvas_spot = st.container()
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button("Clear", icon=":material/delete:", key="draw_clear", on_click=clear_canvas)
            st.caption("Undo, redo: over the square's top right corner.")
        with ui.secondary("Pen"):
            stroke = st.slider("Stroke width (px)", 8, 40, 20, key="draw_stroke")
        with canvas_spot:
            image = read_canvas(stroke)
        return image, "canvas"
    upload = st.file_uploader("A picture of one digit (PNG or JPEG; dark on light or light on dark)",
                              type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key="draw_upload")
    return (upload.getvalue() if upload is not None else None), "upload"


def preprocess_input(picture, origin: str) -> preprocess.Preprocessed | None:
    """The MNIST-style digit, or None after saying (without raising) why there is none."""
    if picture is None:
        st.info(PROMPT if origin == "canvas" else UPLOAD_PROMPT, icon=":material/draw:")
        return None
    try:
        if isinstance(picture, (bytes, bytearray, memoryview)):
            return preprocess.from_bytes(bytes(picture))
        return preprocess.from_array(np.asarray(picture))
    except preprocess.EmptyImageError as exc:
        if origin == "canvas":
            st.info(PROMPT, icon=":material/draw:")
        else:
            st.warning(f"Nothing to read in this picture: {exc}.", icon=":material/image:")
    except preprocess.TooLittleInkError as exc:
        st.warning(f"Too little ink: {str(exc).removeprefix('too little ink: ')}. A digit fills "
                   "most of the square, like the ones in MNIST.", icon=":material/ink_pen:")
    except preprocess.PreprocessError as exc:
        message = str(exc)
        st.error(f"This file cannot be used: {message[0].lower()}{message[1:]}.", icon=":material/error:")
    return None


def show_steps(pre: preprocess.Preprocessed, origin: str) -> None:
    st.markdown("**What the network receives**: the drawing is made like an MNIST digit "
                "(LeCun et al. 1998): cropped to the ink, its longer side scaled to 20 px, "
                "and centred by its centre of mass in 28 × 28.")
    cols = st.columns(4)
    steps = [(pre.raw, "What you drew" if origin == "canvas" else "Your picture"), (pre.cropped, "Cropped to the ink"),
             (pre.scaled, "Longer side 20 px"), (pre.digit, "Centred in 28 × 28")]
    for col, (image, label) in zip(cols, steps):
        height, width = image.shape
        with col:
            st.image(explain.framed(image, round(STEP_PX * ui.figure_scale())))
            st.caption(f"{label} · {height} × {width}")


def load(name: str):
    try:
        return ui.load_model(name)
    except checkpoints.CheckpointError as exc:
        st.error(str(exc), icon=":material/error:")
        return None, None


def show_prediction(name: str, model, record: dict, x, *, key: str, compact: bool = False):
    result = inference.predict(model, x)
    preset = record.get("preset", name)
    title = models.PRESETS[preset].title if preset in models.PRESETS else preset
    accuracy = record.get("test_accuracy")
    winner = ui.palette("answer").colors[ANSWER_RIGHT]  # green, or blue in presenter mode
    facts = [f"{result.seconds * 1000:.1f} ms"]
    if accuracy is not None:
        facts.append(f"test accuracy {accuracy:.2%}")
    if compact:
        st.markdown(f"**{name}**")
        st.caption(title)
        st.metric("Prediction", result.prediction)
        st.caption(f"{result.probabilities[result.prediction]:.1%} sure · " + " · ".join(facts))
        chart(probability_bars(result.probabilities, highlight=result.prediction, height_px=200,
                               highlight_color=winner), key)
        return result
    left, right = st.columns([1, 3], vertical_alignment="center")
    with left:
        st.metric("Prediction", result.prediction)
        st.caption(f"{result.probabilities[result.prediction]:.1%} sure · {name}: {title} · "
                   + " · ".join(facts))
    with right:
        chart(probability_bars(result.probabilities, highlight=result.prediction, highlight_color=winner,
                               title="Probability of each class (softmax)"), key)
    return result


def show_feature_maps(model, x) -> None:
    st.subheader("Feature maps")
    stages = explain.feature_maps(model, x)
    if not stages:
        st.info("This network has no convolutional layers: it sees the 784 pixels as one long "
                "vector, so there are no maps to show. Pick a CNN to see them.", icon=":material/info:")
        return
    st.caption("Every stage of the network on your digit, one small picture per channel, each "
               "stretched from its own lowest (black) to highest (white) value. Shapes are "
               "written as in the 1998 paper: channels@height×width.")
    for first in range(0, len(stages), 2):
        cols = st.columns(2, gap="large")
        for col, stage in zip(cols, stages[first:first + 2]):
            with col:
                st.markdown(f"**{stage.short_name}** · {stage.layer} · `{stage.shape_text}`")
                channels = stage.shape[0]
                st.image(explain.channel_mosaic(stage.tensor, columns=min(channels, 8)))
    st.markdown("**Look closer**")
    by_name = {stage.short_name: stage for stage in stages}  # unique within a network
    pick, channel_col = st.columns([1, 2])
    with pick:
        # Stages by name, labelled by name: another network keeps the choice where it has a
        # stage of that name, else Streamlit goes back to the first stage.
        stage = by_name[st.selectbox("Stage", list(by_name), key="draw_stage")]
    channels = stage.shape[0]
    with channel_col:
        # Streamlit gives a slider a new identity when its range changes: never a stale channel.
        channel = st.slider("Channel", 0, channels - 1, 0, key="draw_channel") if channels > 1 else 0
    left, right = st.columns([1, 1.2], gap="large")
    signed = ui.palette("signed")
    with left:
        chart(image_heatmap(stage.tensor[channel].numpy(),
                            title=f"{stage.short_name} ({stage.shape_text}), channel {channel}",
                            colorscale=ui.palette("activation").scale, size_px=300), "draw_channel_fig")
    with right:
        if stage.kernel is None:
            st.caption("No convolution before this stage.")
        else:
            kernel = stage.kernel[channel]
            inputs = kernel.shape[0]
            source = stage.kernel_from.rsplit(".", 1)[-1]
            chart(grid_heatmap(explain.kernel_grid(kernel), text=inputs == 1, colorscale=signed.scale, zmid=0,
                               cell_px=52 if inputs == 1 else 16,
                               title=f"{source}'s kernel {channel}"), "draw_kernel_fig")
            made = "made" if stage.kind == "conv" else f"made the channel that {stage.short_name} turned into"
            slices = ("" if inputs == 1 else
                      f" It has one {kernel.shape[1]}×{kernel.shape[2]} slice per input channel "
                      f"({inputs}, left to right, row by row); all-zero slices are inputs it does not read.")
            st.caption(f"The weights that {made} this channel ({signed.high} positive, {signed.low} negative)."
                       f"{slices}")


def explained_class(choice, predicted: int) -> int:
    """The class whose maps are drawn: the one chosen, else (the default, or a value that is no
    class at all) the prediction."""
    if choice in range(10) and not isinstance(choice, (bool, str)):
        return int(choice)
    return predicted


def target_label(choice) -> str:
    # Anything that is not one of the choices gets a label that is none of theirs, so Streamlit
    # resets it instead of taking it for a choice.
    return TARGET_LABELS.get(choice, f"{choice!r} (not a class)")


def scale_caption(chosen: list[str], signed) -> str:
    """How the maps' colours read, for the methods shown: signed ones, one-sided ones, or both."""
    kinds = {attributions.METHODS[key].signed for key in chosen}
    titles = [attributions.METHODS[key].title for key in chosen if not attributions.METHODS[key].signed]
    parts = []
    if True in kinds:
        parts.append(f"{signed.high} pixels raise it, {signed.low} pixels lower it")
    if False in kinds:
        parts.append(f"{' and '.join(titles)} {'shows' if len(titles) == 1 else 'show'} only how much, not "
                     f"which way: the darker {signed.high}, the more the pixel matters")
    percentile = f"{attributions.DISPLAY_PERCENTILE:g}"
    return ("; ".join(parts) + f". Each map has its own scale, which ends at the {percentile}th percentile "
            f"of its |attribution| (the {100 - attributions.DISPLAY_PERCENTILE:g}% most extreme pixels get "
            f"the end colour, as Captum's visualisation clips outliers); pixels under {OVERLAY_VISIBLE_FROM:.0%} "
            "of it are left uncoloured.")


def show_attributions(model, x, pre: preprocess.Preprocessed, predicted: int) -> None:
    st.subheader("Which pixels mattered")
    available = attributions.available_methods(model)
    target_col, methods_col, sanity_col = st.columns([1.1, 3, 1.3], vertical_alignment="bottom")
    with target_col:
        choice = st.selectbox("Explain the class", TARGET_CHOICES, key="draw_target", bind=BOUND,
                              format_func=target_label,
                              help="Predicted: whatever the network predicts for your drawing. A number: that class, "
                                   "until you choose another.")
    target = explained_class(choice, predicted)
    with methods_col:
        chosen = st.multiselect("Methods (Captum)", available, key="draw_methods", bind=BOUND,
                                default=[m for m in attributions.DEFAULT_METHODS if m in available],
                                format_func=lambda key: attributions.METHODS[key].title)
    with sanity_col:
        sanity = st.toggle("Sanity check", key="draw_sanity", bind=BOUND,
                           help="Also explain a copy of the network with random, untrained weights.")
    if not chosen:
        st.info("Choose one or more methods.", icon=":material/info:")
        return
    start = time.perf_counter()
    maps = attributions.attribute_many(model, x, chosen, target)
    random_maps = attributions.attribute_many(model, x, chosen, target, sanity_random=True) if sanity else None
    seconds = time.perf_counter() - start
    signed = ui.palette("signed")
    whose = "the predicted class" if target == predicted else "the class you chose"
    st.caption(f"Each map explains the score (logit) of class **{target}** ({whose}): "
               f"{scale_caption(chosen, signed)} Computed in {seconds * 1000:.0f} ms.")
    rows = [("Trained network", maps)] + ([("Random weights (sanity check)", random_maps)] if sanity else [])
    for label, row_maps in rows:
        if sanity:
            st.markdown(f"**{label}**")
        for first in range(0, len(chosen), 4):
            cols = st.columns(4)
            for col, key in zip(cols, chosen[first:first + 4]):
                method = attributions.METHODS[key]
                with col:
                    chart(attribution_overlay(pre.digit, row_maps[key], signed=method.signed, title=method.title,
                                              colorscale=signed.scale),
                          f"draw_attr_{label[:6]}_{key}")
                    if label == "Trained network":
                        st.caption(method.summary)
    if sanity:
        st.caption("If a map for random weights looks much like the trained one, the method is "
                   "showing the digit's outline, not what the network learned "
                   "(Adebayo et al., Sanity Checks for Saliency Maps, 2018).")


def show_results(name: str, others: list[str], pre: preprocess.Preprocessed) -> None:
    """Prediction, feature maps, attribution maps and explorations, each its own guarded section."""
    model = record = None
    with ui.guarded("The model"):
        model, record = load(name)
    if model is None:
        return
    result = None
    with ui.guarded("The prediction"):
        st.subheader("Prediction")
        if others:
            cols = st.columns(1 + len(others), gap="large")
            results = {}
            for col, each in zip(cols, [name, *others]):
                with col:
                    each_model, each_record = (model, record) if each == name else load(each)
                    if each_model is not None:
                        results[each] = show_prediction(each, each_model, each_record, pre.tensor,
                                                        key=f"draw_probs_{each}", compact=True)
            result = results[name]
        else:
            result = show_prediction(name, model, record, pre.tensor, key="draw_probs")
    if result is None:
        return  # every section below explains the prediction
    with ui.guarded("The feature maps"):
        show_feature_maps(model, pre.tensor)
    with ui.guarded("Which pixels mattered"):
        show_attributions(model, pre.tensor, pre, result.prediction)
    with ui.guarded("The explorations"):
        st.subheader("Explore")
        explorations.sections(model, name, record, pre.digit, result.prediction)


def pick_models() -> tuple[str | None, list[str]]:
    """The model (None without checkpoints) and, in compare mode, up to two others."""
    name = ui.checkpoint_picker("Model", key="draw_model", bind=BOUND)
    others: list[str] = []
    with ui.secondary("Compare models"):
        compare = st.toggle("Compare models side by side", key="draw_compare", bind=BOUND)
        if compare and name is not None:
            options = [n for n in ui.checkpoint_names() if n != name]
            others = st.multiselect("Compare with (up to two)", options, max_selections=2, key="draw_others",
                                    default=options[:1], bind=BOUND)
    return name, others


st.title("Draw a digit")
st.session_state.setdefault("draw_canvas_round", 0)

picture, origin, name, others, pre = None, "canvas", None, [], None
input_col, model_col = st.columns([1, 1.6], gap="large")
with input_col, ui.guarded("The drawing"):
    picture, origin = read_input()
with model_col:
    with ui.guarded("The model picker"):
        name, others = pick_models()
    with ui.guarded("Your digit"):
        pre = preprocess_input(picture, origin)

if pre is not None:
    with ui.guarded("What the network receives"):
        show_steps(pre, origin)
    if name is not None:
        with explain.torch_threads(1):
            show_results(name, others, pre)
