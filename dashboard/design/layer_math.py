"""A design's layer math, drawn again after every edit: the totals (against the start), every
layer's shape, parameters with their formula, connections, multiply-adds and activation memory,
the rows that changed since the start highlighted, the diagram /architecture draws and the
receptive field of the last convolution."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.architecture import design_table as table
from core.architecture import diagram, layers
from core.explain import receptive_field
from core.i18n import _, current_language
from core.models.common import INPUT_SIZE
from core.models.design import Design, build, parse
from dashboard.architecture import figures as arch_figs
from dashboard.figures import charts, palettes
from dashboard.frame import presenter

# Row colours of the layer table (dark text stays readable on both): a changed layer, a new one.
CHANGED_BG, ADDED_BG = "#fde7b0", "#c8ecd4"


@st.cache_data(show_spinner=False, max_entries=64)
def views(notation: str, language: str) -> tuple[dict, list[diagram.Stage], list[receptive_field.LayerField]]:
    """The layer table, the diagram's stages and the receptive fields of a design that can be built
    (cached per language: the formulas' and the diagram's words are in the session's)."""
    design = parse(notation)
    model = build(design)
    return table.design_summary(design), diagram.stages(model), receptive_field.layer_fields(model)


def _kb(size: int, signed: bool = False) -> str:
    """Bytes as kilobytes (1 KB = 1,000 bytes), one decimal."""
    return (_("{kb:+,.1f} KB") if signed else _("{kb:,.1f} KB")).format(kb=size / 1000)


def _signed(value: int) -> str:
    return f"{value:+,}" if value else ""


def totals(design: Design, start: Design | None, start_name: str) -> None:
    """The design's totals as metrics, each with its change from the start."""
    memory = sum(table.activation_bytes(layer) for layer in design.layers)
    before = sum(table.activation_bytes(layer) for layer in start.layers) if start else memory
    items = (
        (_("Trainable parameters"), f"{design.params:,}", design.params - (start.params if start else design.params)),
        (_("Multiply-adds per image"), f"{design.macs:,}", design.macs - (start.macs if start else design.macs)),
        (_("Activation memory per image"), _kb(memory), memory - before),
        (
            _("Layers"),
            str(len(design.layers)),
            len(design.layers) - (len(start.layers) if start else len(design.layers)),
        ),
    )
    with st.container(horizontal=True, gap="medium", key="design_totals"):
        for label, value, change in items:
            delta = None
            if change:
                delta = _signed(change) if label != _("Activation memory per image") else _kb(change, signed=True)
            st.metric(label, value, delta=delta, delta_color="off", width="content")
    if start is not None:
        st.caption(_("Changes are counted against {start}.").format(start=start_name))


def _memory_formula(shape: tuple[int, ...]) -> str:
    total = table.activation_bytes_of(shape)
    return _("{values} x {size} B = {total:,} B").format(
        values="x".join(map(str, shape)), size=table.BYTES_PER_VALUE, total=total
    )


def layer_rows(design: Design, start: Design | None) -> tuple[pd.DataFrame, list[str], list[table.LayerChange]]:
    """The table's rows in the reader's language, each row's status, and the start's removed layers."""
    summary, _stages, _fields = views(design.notation, current_language())
    changes = table.layer_changes(start, design) if start is not None else []
    by_name = {change.name: change for change in changes if change.status != table.REMOVED}
    rows, statuses = [], []
    for row, layer in zip(summary["layers"], design.layers):
        change = by_name.get(layer.name)
        status = change.status if change else table.SAME
        if status == table.ADDED:
            shown = _("new")
        elif change and change.delta:
            shown = _signed(change.delta)
        else:
            shown = ""
        rows.append(
            {
                _("layer"): layer.name,
                _("kind"): layers.kind_label(row["kind"]),
                _("output"): diagram.shape_text(layer.shape),
                _("parameters"): f"{layer.params:,}",
                _("parameters as"): row["formula"],
                _("connections"): f"{row['connections']:,}",
                _("multiply-adds"): f"{layer.macs:,}",
                _("activation memory"): _memory_formula(layer.shape),
                _("parameter change"): shown,
            }
        )
        statuses.append(status)
    return pd.DataFrame(rows), statuses, [change for change in changes if change.status == table.REMOVED]


def layer_table(design: Design, start: Design | None, start_name: str) -> None:
    frame, statuses, removed = layer_rows(design, start)
    colours = {table.CHANGED: CHANGED_BG, table.ADDED: ADDED_BG}

    def shade(row: pd.Series) -> list[str]:
        colour = colours.get(statuses[row.name])
        return [f"background-color: {colour}; color: #1a1a1a" if colour else ""] * len(row)

    st.table(frame.style.apply(shade, axis=1).hide(axis="index"))
    changed = sum(status != table.SAME for status in statuses)
    if start is not None:
        said = _("Against {start}: {changed} layer(s) changed or new (highlighted), {removed} removed.").format(
            start=start_name, changed=changed, removed=len(removed)
        )
        if removed:
            said += " " + _("Removed: {names}.").format(names=", ".join(change.was for change in removed))
        st.caption(said)
    st.caption(
        _(
            "Activation memory: the values a layer outputs for one image, 4 bytes each (32-bit floating point); "
            "training keeps them all for the backward pass, once per image of the batch."
        )
    )


def network_diagram(design: Design) -> None:
    """The network as /architecture draws it."""
    _summary, stages, _fields = views(design.notation, current_language())
    colours = palettes.figure_colors(charts.palette("answer"))
    label = arch_figs.diagram_text(_("your design"), stages)
    st.html(arch_figs.network_html(stages, colours, presenter.figure_scale(), label=label))


def receptive_field_text(design: Design) -> None:
    """What one unit of the last convolution sees of the input."""
    _summary, _stages, fields = views(design.notation, current_language())
    convolutions = [field for field in fields if field.kind == "conv"]
    if not convolutions:
        st.caption(
            _("No convolution: every unit of the first dense layer sees all {pixels} pixels of the input.").format(
                pixels=INPUT_SIZE * INPUT_SIZE
            )
        )
        return
    last = convolutions[-1]
    if last.size >= INPUT_SIZE:  # a field past the input's edges reaches into the padding
        text = _(
            "**Receptive field of {layer}** (the last convolution): each of its units sees the whole {side}x{side} "
            "input (its field, {size}x{size}, reaches into the padding); neighbouring units look {jump} pixel(s) apart."
        )
    else:
        text = _(
            "**Receptive field of {layer}** (the last convolution): each of its units sees a {size}x{size} "
            "patch of the {side}x{side} input; neighbouring units look {jump} pixel(s) apart."
        )
    st.markdown(text.format(layer=last.short_name, size=last.size, side=INPUT_SIZE, jump=last.jump))
