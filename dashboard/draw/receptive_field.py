"""The /draw page's receptive-field exploration: choose a unit of a layer (or an output class) and see
the square of input pixels it can see, by the formula composed layer by layer and checked by a
gradient (``core.explain.receptive_field``). Drawn in its folded section (``dashboard.draw.explorations``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.explain import receptive_field as rf
from core.explain.field_check import GradientCheck, check_unit
from core.i18n import N_, _
from dashboard.figures import charts, one_digit, palettes
from dashboard.frame.links import BOUND

OUTPUT = N_("output class")  # the code is its English label: the link holds the label of either language
GRADIENT_TINT = "rgba(0,114,178,0.42)"  # Okabe-Ito blue, beside the orange box


@st.cache_data(max_entries=32, show_spinner=False)
def cached_fields(preset: str) -> list[rf.LayerField]:
    # The geometry of a preset does not depend on its weights: a fresh copy answers for all.
    return rf.layer_fields(preset)


@st.cache_data(max_entries=512, show_spinner=False)  # the spinner's text is the session's: receptive_field
def cached_check(preset: str, layer: str | None, channel: int, row: int, col: int) -> GradientCheck:
    return check_unit(preset, layer, channel, row, col)


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
        charts.chart(
            one_digit.digit_with_boxes(
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
