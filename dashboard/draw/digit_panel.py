"""One digit through one network, as /draw shows it and the class wall shows a sent digit large:
the prediction, the feature maps of every stage, and which pixels mattered (Captum).

Thin: core.models.inference (prediction), core.explain.feature_maps, core.explain.attributions (Captum) ->
dashboard.figures. Models come from dashboard.frame.shared_models.load_model, shared by every session: core works on
private copies wherever it needs hooks. Widget keys start with the page's ``prefix`` (``draw_target``
on /draw, ``wall_target`` on /class), each bound to that page's URL.

A select widget's label is a function of its option alone, never of the drawing or the model:
in Streamlit 1.67 the browser (and the URL) hold the *label*, so a label that changes under the
widget (e.g. "2 (predicted)") goes stale and comes back as a value when the prediction does.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st
import torch

from core import models
from core.data import mnist
from core.device import torch_threads
from core.explain import attributions, pictures
from core.explain.feature_maps import feature_maps as stage_maps
from core.i18n import N_, _, ngettext
from core.models import checkpoints, inference
from dashboard.figures import charts, html_pictures, one_digit, palettes
from dashboard.figures.grids import grid_heatmap, image_heatmap
from dashboard.figures.one_digit import OVERLAY_VISIBLE_FROM, attribution_overlay, probability_bars
from dashboard.figures.palettes import ANSWER_RIGHT
from dashboard.frame import guard, presenter, shared_models
from dashboard.frame.links import BOUND

# "Explain the class": the prediction (a value of its own, whose label never names the
# prediction), or a class the student chose.
TILE_PX = 56  # one channel of a stage, enlarged by whole pixels
PREDICTED = "predicted"
TARGET_CHOICES = (PREDICTED, *range(10))
TARGET_LABELS = {PREDICTED: N_("Predicted"), **{digit: str(digit) for digit in range(10)}}


def load(name: str):
    try:
        return shared_models.load_model(name)
    except checkpoints.CheckpointError as exc:
        st.error(str(exc), icon=":material/error:")
        return None, None


def prediction(name: str, model, record: dict, x, *, key: str, compact: bool = False):
    result = inference.predict(model, x)
    preset = record.get("preset", name)
    title = _(models.PRESETS[preset].title) if preset in models.PRESETS else preset
    accuracy = record.get("test_accuracy")
    winner = charts.palette("answer").colors[ANSWER_RIGHT]  # green, or blue in presenter mode
    facts = [f"{result.seconds * 1000:.1f} ms"]
    if accuracy is not None:
        facts.append(_("test accuracy {accuracy:.2%}").format(accuracy=accuracy))
    sure = _("{probability:.1%} sure").format(probability=result.probabilities[result.prediction])
    if compact:
        st.markdown(f"**{name}**")
        st.caption(title)
        st.metric(_("Prediction"), result.prediction)
        st.caption(" · ".join([sure, *facts]))
        charts.chart(
            probability_bars(result.probabilities, highlight=result.prediction, height_px=200, highlight_color=winner),
            key,
            description=one_digit.probabilities_text(result.probabilities),
        )
        return result
    left, right = st.columns([1, 3], vertical_alignment="center")
    with left:
        st.metric(_("Prediction"), result.prediction)
        st.caption(" · ".join([sure, f"{name}: {title}", *facts]))
    with right:
        charts.chart(
            probability_bars(
                result.probabilities,
                highlight=result.prediction,
                highlight_color=winner,
                title=_("Probability of each class (softmax)"),
            ),
            key,
            description=one_digit.probabilities_text(result.probabilities),
        )
    return result


def feature_maps(model, x, *, prefix: str) -> None:
    st.subheader(_("Feature maps"))
    stages = stage_maps(model, x)
    if not stages:
        st.info(
            _(
                "This network has no convolutional layers: it sees the 784 pixels as one long "
                "vector, so there are no maps to show. Pick a CNN to see them."
            ),
            icon=":material/info:",
        )
        return
    st.caption(
        _(
            "Every stage of the network on your digit, one small picture per channel, each "
            "stretched from its own lowest (black) to highest (white) value. Shapes are "
            "written as in the 1998 paper: channels@height×width."
        )
    )
    for first in range(0, len(stages), 2):
        cols = st.columns(2, gap="large")
        for col, stage in zip(cols, stages[first : first + 2]):
            with col:
                st.markdown(f"**{stage.short_name}** · {stage.layer} · `{stage.shape_text}`")
                st.html(
                    html_pictures.channels_html(
                        stage.tensor, stage.short_name, tile_px=round(TILE_PX * presenter.figure_scale())
                    )
                )
    st.markdown(_("**Look closer**"))
    by_name = {stage.short_name: stage for stage in stages}  # unique within a network
    pick, channel_col = st.columns([1, 2])
    with pick:
        # Stages by name, labelled by name: another network keeps the choice where it has a
        # stage of that name, else Streamlit goes back to the first stage.
        stage = by_name[st.selectbox(_("Stage"), list(by_name), key=f"{prefix}_stage")]
    channels = stage.shape[0]
    with channel_col:
        # Streamlit gives a slider a new identity when its range changes: never a stale channel.
        channel = st.slider(_("Channel"), 0, channels - 1, 0, key=f"{prefix}_channel") if channels > 1 else 0
    left, right = st.columns([1, 1.2], gap="large")
    signed = charts.palette("signed")
    with left:
        values = stage.tensor[channel].numpy()
        title = _("{stage} ({shape}), channel {channel}").format(
            stage=stage.short_name, shape=stage.shape_text, channel=channel
        )
        charts.chart(
            image_heatmap(values, title=title, colorscale=charts.palette("activation").scale, size_px=300),
            f"{prefix}_channel_fig",
            description=_("{title}: {where}.").format(title=title, where=pictures.describe_map(values)),
        )
    with right:
        if stage.kernel is None:
            st.caption(_("No convolution before this stage."))
        else:
            kernel = stage.kernel[channel]
            inputs = kernel.shape[0]
            source = stage.kernel_from.rsplit(".", 1)[-1]
            weights_of = kernel.numpy() if hasattr(kernel, "numpy") else np.asarray(kernel)
            title = _("{layer}'s kernel {channel}").format(layer=source, channel=channel)
            charts.chart(
                grid_heatmap(
                    pictures.kernel_grid(kernel),
                    text=inputs == 1,
                    colorscale=signed.scale,
                    zmid=0,
                    cell_px=52 if inputs == 1 else 16,
                    title=title,
                ),
                f"{prefix}_kernel_fig",
                description=_("{title}: {count} weights from {low} to {high}.").format(
                    title=title,
                    count=weights_of.size,
                    low=f"{float(weights_of.min()):.2g}",
                    high=f"{float(weights_of.max()):.2g}",
                ),
            )
            weights = (
                _("The weights that made this channel ({high} positive, {low} negative).")
                if stage.kind == "conv"
                else _(
                    "The weights that made the channel that {stage} turned into this channel ({high} positive, "
                    "{low} negative)."
                )
            )
            text = weights.format(
                stage=stage.short_name, high=palettes.colour(signed.high), low=palettes.colour(signed.low)
            )
            if inputs > 1:
                text = _("{first} {second}").format(
                    first=text,
                    second=_(
                        "It has one {height}×{width} slice per input channel ({inputs}, left to right, row by row); "
                        "all-zero slices are inputs it does not read."
                    ).format(height=kernel.shape[1], width=kernel.shape[2], inputs=inputs),
                )
            st.caption(text)


def explained_class(choice, predicted: int) -> int:
    """The class whose maps are drawn: the one chosen, else (the default, or a value that is no
    class at all) the prediction."""
    if choice in range(10) and not isinstance(choice, (bool, str)):
        return int(choice)
    return predicted


def target_label(choice) -> str:
    # Anything that is not one of the choices gets a label that is none of theirs, so Streamlit
    # resets it instead of taking it for a choice.
    if choice in TARGET_LABELS:
        return _(TARGET_LABELS[choice]) if choice == PREDICTED else TARGET_LABELS[choice]
    return _("{value} (not a class)").format(value=repr(choice))


def scale_caption(chosen: list[str], signed) -> str:
    """How the maps' colours read, for the methods shown: signed ones, one-sided ones, or both."""
    kinds = {attributions.METHODS[key].signed for key in chosen}
    titles = [attributions.METHODS[key].named() for key in chosen if not attributions.METHODS[key].signed]
    if False not in kinds:
        ways = _("{high} pixels raise it, {low} pixels lower it.")
    elif True not in kinds:
        ways = ngettext(
            "{titles} shows only how much, not which way: the darker {high}, the more the pixel matters.",
            "{titles} show only how much, not which way: the darker {high}, the more the pixel matters.",
            len(titles),
        )
    else:
        ways = ngettext(
            "{high} pixels raise it, {low} pixels lower it; {titles} shows only how much, not which way: "
            "the darker {high}, the more the pixel matters.",
            "{high} pixels raise it, {low} pixels lower it; {titles} show only how much, not which way: "
            "the darker {high}, the more the pixel matters.",
            len(titles),
        )
    ways = ways.format(
        high=palettes.colour(signed.high), low=palettes.colour(signed.low), titles=_(" and ").join(titles)
    )
    scale = _(
        "Each map has its own scale, which ends at the {percentile:g}th percentile of its |attribution| (the "
        "{extreme:g}% most extreme pixels get the end colour, as Captum's visualisation clips outliers); "
        "pixels under {visible:.0%} of it are left uncoloured."
    ).format(
        percentile=attributions.DISPLAY_PERCENTILE,
        extreme=100 - attributions.DISPLAY_PERCENTILE,
        visible=OVERLAY_VISIBLE_FROM,
    )
    return _("{first} {second}").format(first=ways, second=scale)


def which_pixels(model, x, digit: np.ndarray, predicted: int, *, prefix: str) -> None:
    st.subheader(_("Which pixels mattered"))
    available = attributions.available_methods(model)
    target_col, methods_col, sanity_col = st.columns([1.1, 3, 1.3], vertical_alignment="bottom")
    labels = {choice: target_label(choice) for choice in TARGET_CHOICES}  # in this session's language
    with target_col:
        choice = st.selectbox(
            _("Explain the class"),
            TARGET_CHOICES,
            key=f"{prefix}_target",
            bind=BOUND,
            format_func=lambda choice: labels[choice] if choice in labels else target_label(choice),
            help=_(
                "Predicted: whatever the network predicts for your drawing. A number: that "
                "class, until you choose another."
            ),
        )
    target = explained_class(choice, predicted)
    with methods_col:
        chosen = st.multiselect(
            _("Methods (Captum)"),
            available,
            key=f"{prefix}_methods",
            bind=BOUND,
            default=[m for m in attributions.DEFAULT_METHODS if m in available],
            format_func=lambda key: attributions.METHODS[key].named(),
        )
    with sanity_col:
        sanity = st.toggle(
            _("Sanity check"),
            key=f"{prefix}_sanity",
            bind=BOUND,
            help=_("Also explain a copy of the network with random, untrained weights."),
        )
    if not chosen:
        st.info(_("Choose one or more methods."), icon=":material/info:")
        return
    start = time.perf_counter()
    maps = attributions.attribute_many(model, x, chosen, target)
    random_maps = attributions.attribute_many(model, x, chosen, target, sanity_random=True) if sanity else None
    seconds = time.perf_counter() - start
    signed = charts.palette("signed")
    explains = (
        _(
            "Each map explains the score (logit) of class **{target}** (the predicted class): {scale} Computed "
            "in {ms:.0f} ms."
        )
        if target == predicted
        else _(
            "Each map explains the score (logit) of class **{target}** (the class you chose): {scale} Computed "
            "in {ms:.0f} ms."
        )
    )
    st.caption(explains.format(target=target, scale=scale_caption(chosen, signed), ms=seconds * 1000))
    # (key, label, maps): the key names the row's charts whatever the language
    rows = [("Traine", _("Trained network"), maps)] + (
        [("Random", _("Random weights (sanity check)"), random_maps)] if sanity else []
    )
    for row, label, row_maps in rows:
        if sanity:
            st.markdown(f"**{label}**")
        for first in range(0, len(chosen), 4):
            cols = st.columns(4)
            for col, key in zip(cols, chosen[first : first + 4]):
                method = attributions.METHODS[key]
                with col:
                    # the picker above gives Captum's name too: a quarter of a projector holds only one
                    charts.chart(
                        attribution_overlay(
                            digit,
                            row_maps[key],
                            signed=method.signed,
                            title=method.named().split("（")[0],
                            colorscale=signed.scale,
                        ),
                        f"{prefix}_attr_{row}_{key}",
                        description=_("{method}'s map over the digit, for class {target}: {where}.").format(
                            method=method.named(),
                            target=target,
                            where=pictures.describe_map(np.asarray(row_maps[key]), signed=True),
                        ),
                    )
                    if row == "Traine":
                        st.caption(method.described())
    if sanity:
        st.caption(
            _(
                "If a map for random weights looks much like the trained one, the method is "
                "showing the digit's outline, not what the network learned "
                "(Adebayo et al., Sanity Checks for Saliency Maps, 2018)."
            )
        )


def explain_digit(digit: np.ndarray, name: str, *, prefix: str) -> None:
    """A 28x28 uint8 digit (already made like an MNIST digit) through checkpoint ``name``: the
    prediction, the feature maps and which pixels mattered, each section guarded."""
    model = record = None
    with guard.guarded(_("The model")):
        model, record = load(name)
    if model is None:
        return
    x = mnist.normalize(torch.as_tensor(np.asarray(digit, dtype=np.uint8))[None])
    result = None
    with torch_threads(1):
        with guard.guarded(_("The prediction")):
            result = prediction(name, model, record, x, key=f"{prefix}_probs")
        if result is None:
            return
        with guard.guarded(_("The feature maps")):
            feature_maps(model, x, prefix=prefix)
        with guard.guarded(_("Which pixels mattered")):
            which_pixels(model, x, digit, result.prediction, prefix=prefix)
