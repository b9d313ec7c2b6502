"""/architecture's "Kernel, filter, channel": the three words on the layer a student picks, with
one filter's kernels drawn (``anatomy_layer``, ``anatomy_filter`` in the URL)."""

from __future__ import annotations

import streamlit as st
import torch

from core.architecture import layers
from core.architecture import views as av
from core.explain.pictures import describe_map
from core.grids.arithmetic import format_number
from core.i18n import _, ngettext, sentences
from dashboard.figures import charts, html_pictures
from dashboard.frame import accessibility, presenter
from dashboard.frame.links import BOUND

MAX_KERNELS_SHOWN = 16
KERNEL_GRID_PX = 200  # a kernel's grid is about this wide (5x5: cells of 40 px), larger in presenter mode
KERNEL_CELL_PX = 40  # ... never with cells below this: "-0.07" must fit in one
KERNEL_FONT_PX = 13


def channels_text(count: int) -> str:
    """``1 channel``, ``6 channels``."""
    return ngettext("{n:,} channel", "{n:,} channels", count).format(n=count)


def kernels_text(count: int) -> str:
    """``1 kernel``, ``96 kernels``."""
    return ngettext("{n:,} kernel", "{n:,} kernels", count).format(n=count)


def section(model: torch.nn.Module, name: str, rows: list[layers.LayerRow], checkpoint: str | None) -> None:
    """The words, then the chosen convolution's filter as sentences and its kernels as grids."""
    st.header(_("Kernel, filter, channel"))
    anatomy = av.conv_anatomy(model)
    st.markdown(
        "\n".join(
            "- " + item
            for item in (
                _(
                    "A **channel** (or feature map) is one 2-D grid of values: a grey image has 1, a colour image 3, a layer with "
                    "6 filters outputs 6."
                ),
                _("A **kernel** is one 2-D grid of weights, e.g. 5x5, applied to one input channel."),
                _(
                    "A **filter** is a stack of kernels, one per input channel it reads: with a 3-channel 5x5 input and a 3x3x3 "
                    "filter, each of the 3 kernels slides over its channel and the three results are added (plus one bias) into "
                    "**one** 3x3 output channel. A layer has one filter per output channel."
                ),
            )
        )
    )
    if not anatomy:
        first = next(r for r in rows if r.kind == "linear")
        st.info(
            _(
                "{model} has no convolution. Its first layer, {layer}, gives every unit one weight per pixel "
                "({formula}): like a kernel as large as the image, used at one position only, so a digit shifted by a "
                "pixel meets different weights."
            ).format(model=name, layer=first.name, formula=first.formula)
        )
    else:
        by_name = {a.name: a for a in anatomy}
        c_layer, c_filter = st.columns([2, 1])
        layer = c_layer.selectbox(
            _("Convolution"), list(by_name), index=min(1, len(anatomy) - 1), key="anatomy_layer", bind=BOUND
        )
        a = by_name[layer]
        index = c_filter.number_input(
            _("Filter (0 to {last})").format(last=a.filters - 1), 0, a.filters - 1, 0, key="anatomy_filter", bind=BOUND
        )
        channels, kernels = av.filter_kernels(model, layer, int(index))
        (kh, kw), k = a.kernel, len(channels)
        listed = ", ".join(map(str, channels))
        reads = (
            _("all {n:,} input channels").format(n=k)
            if k == a.in_shape[0] and k > 1
            else ngettext("input channel {channels}", "input channels {channels}", k).format(channels=listed)
        )
        shape = " x ".join(str(s) for s in a.weight_shape)
        stored = (
            _("{n} kernels of {kh}x{kw}, one per connection of Table I").format(n=a.weight_shape[0], kh=kh, kw=kw)
            if len(a.weight_shape) == 3
            else _("{filters} filters x {channels} channels x {kh}x{kw}").format(
                filters=a.weight_shape[0], channels=a.weight_shape[1], kh=kh, kw=kw
            )
        )
        st.markdown(
            sentences(
                _(
                    "**{layer}** reads {inputs} of {height}x{width} and writes {outputs} of {out_height}x{out_width}, so it "
                    "has **{filters}**."
                ).format(
                    layer=layer,
                    inputs=channels_text(a.in_shape[0]),
                    height=a.in_shape[1],
                    width=a.in_shape[2],
                    outputs=channels_text(a.filters),
                    out_height=a.out_shape[1],
                    out_width=a.out_shape[2],
                    filters=ngettext("{n:,} filter", "{n:,} filters", a.filters).format(n=a.filters),
                ),
                _("Its weight tensor is {shape} ({stored}): **{count}** in all.").format(
                    shape=shape, stored=stored, count=kernels_text(a.kernels)
                ),
                _(
                    "Filter {index} is {count} of {kh}x{kw}, a {k}x{kh}x{kw} block reading {reads}; at each position it "
                    "multiplies its {weights} weights with the {weights} input values under it and adds them and its bias "
                    "into one value of output channel {index}."
                ).format(index=index, count=kernels_text(k), kh=kh, kw=kw, k=k, reads=reads, weights=k * kh * kw),
                _("With one input channel, filter and kernel are the same 2-D grid.") if k == 1 else "",
            )
        )
        source = (
            _("Trained weights of checkpoint `{checkpoint}`.").format(checkpoint=checkpoint)
            if checkpoint
            else _("Weights as initialised (seed 0): no checkpoint of this model yet.")
        )
        signed = charts.palette("signed")
        st.caption(
            sentences(
                source,
                _(
                    "The kernels of filter {index}, one per input channel: {low} negative, {high} "
                    "positive, {middle} zero."
                ).format(index=index, low=_(signed.low), high=_(signed.high), middle=_(signed.middle)),
            )
        )
        shown = min(k, MAX_KERNELS_SHOWN)
        # HTML grids in a row that wraps: each kernel whole at any width (plotly figures in six
        # fixed columns were cut on the right in presenter mode), its description for a screen reader.
        scale = presenter.figure_scale()
        cell = round(max(KERNEL_CELL_PX, KERNEL_GRID_PX // kw) * scale)
        grids = [
            html_pictures.grid_html(
                kernels[j],
                decimals=2,
                colorscale=signed.scale,
                zmid=0,
                cell_px=cell,
                font_px=round(KERNEL_FONT_PX * scale),
                title=_("channel {channel}").format(channel=channels[j]),
            )
            + accessibility.hidden_html(
                _(
                    "{layer}, filter {index}, its kernel on input channel {channel}: {height} × "
                    "{width} weights from {low} to {high}, {where}."
                ).format(
                    layer=layer,
                    index=index,
                    channel=channels[j],
                    height=kh,
                    width=kw,
                    low=format_number(float(kernels[j].min())),
                    high=format_number(float(kernels[j].max())),
                    where=describe_map(kernels[j], signed=True),
                )
            )
            for j in range(shown)
        ]
        st.html(html_pictures.grids_row(*grids, gap_px=round(18 * scale)))
        if k > shown:
            st.caption(_("The first {shown} of the filter's {n} kernels.").format(shown=shown, n=k))
