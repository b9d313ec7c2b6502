"""/architecture: what the network is made of. Layers, shapes, parameter counts, LeNet-5 of 1998.

The main settings live in the URL (``bind="query-params"``, the key is the parameter's name):
``/architecture?arch_model=lenet5&anatomy_layer=features.conv2&anatomy_filter=3&c3_map=15``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # when run on its own (AppTest); app.py does this otherwise
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
import torch  # noqa: E402

from core import architecture_views as av  # noqa: E402
from core import checkpoints, diagram, layers, models, onnx_export  # noqa: E402
from core.gridmath import format_number  # noqa: E402
from core.i18n import _, current_language, ngettext  # noqa: E402
from core.pictures import describe_map  # noqa: E402
from core.models.init import seeded  # noqa: E402
from dashboard import figures_arch as figs  # noqa: E402
from dashboard import palettes, plots, ui  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

DEFAULT_MODEL = "lenet5_1998"
MAX_KERNELS_SHOWN = 16
KERNEL_COLUMNS = 6
KERNEL_FIGURE_PX = 150  # smaller plotly figures clip their last column
DEFAULT_C3_MAP = 6      # the first map that reads four S2 maps


def channels_text(count: int) -> str:
    """``1 channel``, ``6 channels``."""
    return ngettext("{n:,} channel", "{n:,} channels", count).format(n=count)


def kernels_text(count: int) -> str:
    """``1 kernel``, ``96 kernels``."""
    return ngettext("{n:,} kernel", "{n:,} kernels", count).format(n=count)


def sentences(*parts: str) -> str:
    """Sentences one after the other: a space after an English full stop, none after a Chinese one."""
    text = ""
    for part in filter(None, parts):
        text += part if not text or text[-1] in "。：；！？" else " " + part
    return text


def c3_clicked() -> None:
    """A click on C3's connection table chooses the map of the cell's column (through the pills' key)."""
    points = st.session_state.c3_table.selection.get("points") or []
    if points:
        st.session_state.c3_map = int(points[0]["x"])


@st.cache_resource(show_spinner=False)
def fresh_model(name: str) -> torch.nn.Module:
    """The preset as initialised with seed 0, shared by every session: read only."""
    return models.build(name, generator=seeded(0)).eval()  # a generator of its own: never torch's global one


def model_for(name: str) -> tuple[torch.nn.Module, str | None]:
    """The preset with the weights of its best checkpoint (and that checkpoint's name), or fresh
    weights and None. Either way shared: layer accounting and export work on copies."""
    for info in checkpoints.best_first(name):
        try:
            return ui.load_model(info.name)[0], info.name
        except checkpoints.CheckpointError:
            continue
    return fresh_model(name), None


# Cached per language too: their texts (a formula's words, the diagram's operations, the
# comparison's sentences) are in the language of the session that made them.
@st.cache_data(show_spinner=False)
def cached_table(name: str, language: str) -> list[layers.LayerRow]:
    return layers.layer_table(name)


@st.cache_data(show_spinner=False)
def cached_stages(name: str, language: str) -> list[diagram.Stage]:
    return diagram.stages(name)


@st.cache_data(show_spinner=False)
def cached_comparison(language: str) -> list[av.Difference]:
    return av.lenet_comparison()


language = current_language()
st.title(_("Architecture: what the network is made of"))
names = models.names()
wanted = st.session_state.get("model")
# The preset's own name as the option (no format_func): it is what the URL holds, ?arch_model=lenet5.
name = st.selectbox(_("Model"), names, index=names.index(wanted if wanted in names else DEFAULT_MODEL),
                    key="arch_model", bind=BOUND)
preset = models.PRESETS[name]
model, checkpoint = model_for(name)
st.markdown(f"**{_(preset.title)}.** {_(preset.description)}  \n*" + _("From {source}.").format(source=preset.source)
            + "*")

COLORS = palettes.figure_colors(ui.palette("answer"))  # colour-blind-safe in presenter mode

# --- the diagram ---------------------------------------------------------------------------
st.header(_("The network, stage by stage"))
stages = cached_stages(name, language)
ui.plotly_chart(figs.network_diagram(stages, COLORS), key="diagram", description=figs.diagram_text(name, stages))
caption = _("Drawn like Fig. 2 of LeCun et al. 1998: stacks are feature maps (maps@height x width; at most {most} "
            "drawn), bars are layers of units; under each arrow, how the next stage is computed; under each box, "
            "what is applied to it value by value.").format(most=figs.MAX_STACK)
st.caption(caption)

# --- the per-layer table --------------------------------------------------------------------
st.header(_("Every layer, counted"))
rows = cached_table(name, language)
total = layers.totals(rows)
has_fixed = total["fixed"] > 0
# st.table: every row visible and long formulas wrap, where a data grid would scroll sideways.
st.table(
    [{_("layer"): r.name, _("kind"): layers.kind_label(r.kind), _("output"): diagram.shape_text(r.output_shape),
      _("parameters"): f"{r.trainable_params:,}", _("parameters as"): r.formula,
      **({_("fixed"): f"{r.fixed:,}"} if has_fixed else {}),
      _("connections"): f"{r.connections:,}", _("connections as"): r.connections_formula,
      _("multiply-adds"): f"{r.macs:,}"}
     for r in rows],
    hide_index=True)
m1, m2, m3, m4 = st.columns(4)
m1.metric(_("Trainable parameters"), f"{total['trainable_params']:,}")
m2.metric(_("Fixed values"), f"{total['fixed']:,}")
m3.metric(_("Connections"), f"{total['connections']:,}")
m4.metric(_("Multiply-adds per image"), f"{total['macs']:,}")
if total["batchnorm_params"]:
    st.caption(_("Of the trainable parameters, {batchnorm:,} are BatchNorm scales and shifts; the convolutions and "
                 "dense layers alone have {weighted:,}.").format(batchnorm=total["batchnorm_params"],
                                                                weighted=total["weighted_layer_params"]))
st.caption(_("A connection is one input value read by one unit (its bias counts as one); a multiply-add is one "
             "weight times one input. Convolutions have many connections but few parameters: the same kernel is "
             "reused at every position."))

# --- kernel, filter, channel ------------------------------------------------------------------
st.header(_("Kernel, filter, channel"))
anatomy = av.conv_anatomy(model)
st.markdown("\n".join("- " + item for item in (
    _("A **channel** (or feature map) is one 2-D grid of values: a grey image has 1, a colour image 3, a layer with "
      "6 filters outputs 6."),
    _("A **kernel** is one 2-D grid of weights, e.g. 5x5, applied to one input channel."),
    _("A **filter** is a stack of kernels, one per input channel it reads: with a 3-channel 5x5 input and a 3x3x3 "
      "filter, each of the 3 kernels slides over its channel and the three results are added (plus one bias) into "
      "**one** 3x3 output channel. A layer has one filter per output channel."))))
if not anatomy:
    first = next(r for r in rows if r.kind == "linear")
    st.info(_("{model} has no convolution. Its first layer, {layer}, gives every unit one weight per pixel "
              "({formula}): like a kernel as large as the image, used at one position only, so a digit shifted by a "
              "pixel meets different weights.").format(model=name, layer=first.name, formula=first.formula))
else:
    by_name = {a.name: a for a in anatomy}
    c_layer, c_filter = st.columns([2, 1])
    layer = c_layer.selectbox(_("Convolution"), list(by_name), index=min(1, len(anatomy) - 1),
                              key="anatomy_layer", bind=BOUND)
    a = by_name[layer]
    index = c_filter.number_input(_("Filter (0 to {last})").format(last=a.filters - 1), 0, a.filters - 1, 0,
                                  key="anatomy_filter", bind=BOUND)
    channels, kernels = av.filter_kernels(model, layer, int(index))
    (kh, kw), k = a.kernel, len(channels)
    listed = ", ".join(map(str, channels))
    reads = (_("all {n:,} input channels").format(n=k) if k == a.in_shape[0] and k > 1 else
             ngettext("input channel {channels}", "input channels {channels}", k).format(channels=listed))
    shape = " x ".join(str(s) for s in a.weight_shape)
    stored = (_("{n} kernels of {kh}x{kw}, one per connection of Table I").format(n=a.weight_shape[0], kh=kh, kw=kw)
              if len(a.weight_shape) == 3 else
              _("{filters} filters x {channels} channels x {kh}x{kw}").format(
                  filters=a.weight_shape[0], channels=a.weight_shape[1], kh=kh, kw=kw))
    st.markdown(sentences(
        _("**{layer}** reads {inputs} of {height}x{width} and writes {outputs} of {out_height}x{out_width}, so it "
          "has **{filters}**.").format(
            layer=layer, inputs=channels_text(a.in_shape[0]), height=a.in_shape[1], width=a.in_shape[2],
            outputs=channels_text(a.filters), out_height=a.out_shape[1], out_width=a.out_shape[2],
            filters=ngettext("{n:,} filter", "{n:,} filters", a.filters).format(n=a.filters)),
        _("Its weight tensor is {shape} ({stored}): **{count}** in all.").format(
            shape=shape, stored=stored, count=kernels_text(a.kernels)),
        _("Filter {index} is {count} of {kh}x{kw}, a {k}x{kh}x{kw} block reading {reads}; at each position it "
          "multiplies its {weights} weights with the {weights} input values under it and adds them and its bias "
          "into one value of output channel {index}.").format(
            index=index, count=kernels_text(k), kh=kh, kw=kw, k=k, reads=reads, weights=k * kh * kw),
        _("With one input channel, filter and kernel are the same 2-D grid.") if k == 1 else ""))
    source = (_("Trained weights of checkpoint `{checkpoint}`.").format(checkpoint=checkpoint) if checkpoint else
              _("Weights as initialised (seed 0): no checkpoint of this model yet."))
    signed = ui.palette("signed")
    st.caption(sentences(source, _("The kernels of filter {index}, one per input channel: {low} negative, {high} "
                                   "positive, {middle} zero.").format(index=index, low=_(signed.low),
                                                                      high=_(signed.high), middle=_(signed.middle))))
    shown = min(k, MAX_KERNELS_SHOWN)
    columns = st.columns(KERNEL_COLUMNS)
    for j in range(shown):
        ui.plotly_chart(
            plots.grid_heatmap(kernels[j], decimals=2, colorscale=signed.scale, zmid=0,
                               cell_px=max(28, KERNEL_FIGURE_PX // kw),
                               title=_("channel {channel}").format(channel=channels[j])),
            container=columns[j % len(columns)], width="content", key=f"kernel_{j}",
            description=_("{layer}, filter {index}, its kernel on input channel {channel}: {height} × {width} "
                          "weights from {low} to {high}, {where}.").format(
                layer=layer, index=index, channel=channels[j], height=kh, width=kw,
                low=format_number(float(kernels[j].min())), high=format_number(float(kernels[j].max())),
                where=describe_map(kernels[j], signed=True)))
    if k > shown:
        st.caption(_("The first {shown} of the filter's {n} kernels.").format(shown=shown, n=k))

# --- ONNX export (not in presenter mode: a download is for a student's own machine) ------------
if not ui.presenter():
    st.header(_("Open it in Netron"))
    st.download_button(
        _("Download {model} as ONNX").format(model=name), data=lambda: onnx_export.export_onnx(model),
        file_name=onnx_export.file_name(name, checkpoint), mime="application/octet-stream",
        icon=":material/download:", key="onnx")
    st.markdown(sentences(
        _("Drop the file on **https://netron.app** (or run `pip install netron` then `netron FILE.onnx` offline) to "
          "browse the graph: click a node to see its weights' shapes."),
        _("The weights are the checkpoint's.") if checkpoint else
        _("No checkpoint yet: the weights are untrained, the graph and shapes are the same.")))

# --- LeNet-5 of 1998 -----------------------------------------------------------------------------
st.header(_("LeNet-5 of 1998 and the modern LeNet"))
comparison = cached_comparison(language)
st.table([{"": d.aspect, "LeNet-5 (1998)": d.paper, _("modern LeNet"): d.modern} for d in comparison],
         hide_index=True)
st.markdown("\n".join("- " + _("**{aspect}**: {sentence}").format(aspect=d.aspect, sentence=d.sentence)
                      for d in comparison))

st.subheader(_("C3's connection table (Table I of the paper)"))
with ui.guarded(_("C3's connection table")):
    paper_model = fresh_model(av.PAPER)  # only its wiring is shown
    c3 = av.partial_conv(paper_model)
    c3_row = next(r for r in cached_table(av.PAPER, language) if r.kind == "partial conv")
    # Two ways to choose a map, kept in step: the pills, or a click on the table (which sets the
    # pills' value, so the choice is in the URL as c3_map either way).
    chosen = st.pills(_("C3 map"), list(range(c3.out_channels)), default=DEFAULT_C3_MAP, key="c3_map",
                      bind=BOUND)
    chosen = DEFAULT_C3_MAP if chosen is None else chosen
    grid = av.connection_grid(c3)
    ui.plotly_chart(figs.connection_table(grid, selected=chosen, colors=COLORS), key="c3_table",
                    on_select=c3_clicked, selection_mode="points", description=figs.connection_text(grid, chosen))
    st.caption(_("Click a cell of the table, or a number above it, to see what that C3 map reads."))
    arith = av.map_arithmetic(c3, chosen, c3_row.output_shape[1:])
    st.markdown(
        _("C3 map **{map}** reads S2 maps **{inputs}**: {formula} parameters; {wiring} "
          "connections.").format(map=chosen, inputs=", ".join(map(str, arith.inputs)), formula=arith.formula,
                                 wiring=arith.connections_formula)
        + "  \n"
        + _("All 16 maps: {total} parameters. The paper leaves connections out to keep their number in check and to "
            "break the symmetry: maps that read different inputs are pushed to learn different features.").format(
            total=av.partial_conv_total(c3)))

st.subheader(_("The output layer's bitmaps"))
bitmaps = models.rbf_bitmaps().numpy()
st.image([figs.bitmap_image(b) for b in bitmaps], caption=[str(d) for d in range(len(bitmaps))],
         alt=[_("the output bitmap of the digit {digit}: a {height} × {width} picture of a {digit}, black on "
                "grey").format(digit=d, height=bitmaps.shape[1], width=bitmaps.shape[2]) for d in range(len(bitmaps))],
         width=8 * figs.BITMAP_ZOOM, output_format="PNG")
st.caption(_("Each output unit of LeNet-5 holds a fixed {height}x{width} picture of its digit, {size} values of +1 "
             "(black) or -1 (grey), never trained; its output is the squared distance between F6's 84 values and "
             "this picture, so F6 learns to draw the digit.").format(height=bitmaps.shape[1], width=bitmaps.shape[2],
                                                                      size=bitmaps[0].size))
