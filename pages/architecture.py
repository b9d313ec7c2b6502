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
from core.models.init import seeded  # noqa: E402
from dashboard import figures_arch as figs  # noqa: E402
from dashboard import palettes, plots, ui  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

DEFAULT_MODEL = "lenet5_1998"
MAX_KERNELS_SHOWN = 16
KERNEL_COLUMNS = 6
KERNEL_FIGURE_PX = 150  # smaller plotly figures clip their last column
DEFAULT_C3_MAP = 6      # the first map that reads four S2 maps


def plural(count: int, noun: str, *, number: bool = True) -> str:
    """``plural(1, "kernel")`` -> "1 kernel", ``plural(60, "kernel")`` -> "60 kernels"."""
    word = noun if count == 1 else noun + "s"
    return f"{count:,} {word}" if number else word


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


@st.cache_data(show_spinner=False)
def cached_table(name: str) -> list[layers.LayerRow]:
    return layers.layer_table(name)


@st.cache_data(show_spinner=False)
def cached_stages(name: str) -> list[diagram.Stage]:
    return diagram.stages(name)


@st.cache_data(show_spinner=False)
def cached_comparison() -> list[av.Difference]:
    return av.lenet_comparison()


st.title("Architecture: what the network is made of")
names = models.names()
wanted = st.session_state.get("model")
# The preset's own name as the option (no format_func): it is what the URL holds, ?arch_model=lenet5.
name = st.selectbox("Model", names, index=names.index(wanted if wanted in names else DEFAULT_MODEL),
                    key="arch_model", bind=BOUND)
preset = models.PRESETS[name]
model, checkpoint = model_for(name)
st.markdown(f"**{preset.title}.** {preset.description}  \n*From {preset.source}.*")

COLORS = palettes.figure_colors(ui.palette("answer"))  # colour-blind-safe in presenter mode

# --- the diagram ---------------------------------------------------------------------------
st.header("The network, stage by stage")
ui.plotly_chart(figs.network_diagram(cached_stages(name), COLORS), key="diagram")
caption = ("Drawn like Fig. 2 of LeCun et al. 1998: stacks are feature maps (maps@height x width; at "
           f"most {figs.MAX_STACK} drawn), bars are layers of units; under each arrow, how the next "
           "stage is computed; under each box, what is applied to it value by value.")
st.caption(caption)

# --- the per-layer table --------------------------------------------------------------------
st.header("Every layer, counted")
rows = cached_table(name)
total = layers.totals(rows)
has_fixed = total["fixed"] > 0
# st.table: every row visible and long formulas wrap, where a data grid would scroll sideways.
st.table(
    [{"layer": r.name, "kind": r.kind, "output": diagram.shape_text(r.output_shape),
      "parameters": f"{r.trainable_params:,}", "parameters as": r.formula,
      **({"fixed": f"{r.fixed:,}"} if has_fixed else {}),
      "connections": f"{r.connections:,}", "connections as": r.connections_formula,
      "multiply-adds": f"{r.macs:,}"}
     for r in rows],
    hide_index=True)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Trainable parameters", f"{total['trainable_params']:,}")
m2.metric("Fixed values", f"{total['fixed']:,}")
m3.metric("Connections", f"{total['connections']:,}")
m4.metric("Multiply-adds per image", f"{total['macs']:,}")
if total["batchnorm_params"]:
    st.caption(f"Of the trainable parameters, {total['batchnorm_params']:,} are BatchNorm scales and "
               f"shifts; the convolutions and dense layers alone have {total['weighted_layer_params']:,}.")
st.caption("A connection is one input value read by one unit (its bias counts as one); a multiply-add "
           "is one weight times one input. Convolutions have many connections but few parameters: the "
           "same kernel is reused at every position.")

# --- kernel, filter, channel ------------------------------------------------------------------
st.header("Kernel, filter, channel")
anatomy = av.conv_anatomy(model)
st.markdown(
    "- A **channel** (or feature map) is one 2-D grid of values: a grey image has 1, a colour image 3, "
    "a layer with 6 filters outputs 6.\n"
    "- A **kernel** is one 2-D grid of weights, e.g. 5x5, applied to one input channel.\n"
    "- A **filter** is a stack of kernels, one per input channel it reads: with a 3-channel 5x5 input "
    "and a 3x3x3 filter, each of the 3 kernels slides over its channel and the three results are "
    "added (plus one bias) into **one** 3x3 output channel. A layer has one filter per output channel.")
if not anatomy:
    first = next(r for r in rows if r.kind == "linear")
    st.info(f"{name} has no convolution. Its first layer, {first.name}, gives every unit one weight "
            f"per pixel ({first.formula}): like a kernel as large as the image, used at one position "
            "only, so a digit shifted by a pixel meets different weights.")
else:
    by_name = {a.name: a for a in anatomy}
    c_layer, c_filter = st.columns([2, 1])
    layer = c_layer.selectbox("Convolution", list(by_name), index=min(1, len(anatomy) - 1),
                              key="anatomy_layer", bind=BOUND)
    a = by_name[layer]
    index = c_filter.number_input(f"Filter (0 to {a.filters - 1})", 0, a.filters - 1, 0,
                                  key="anatomy_filter", bind=BOUND)
    channels, kernels = av.filter_kernels(model, layer, int(index))
    (kh, kw), k = a.kernel, len(channels)
    reads = (f"all {plural(k, 'input channel')}" if k == a.in_shape[0] and k > 1 else
             f"input {plural(k, 'channel', number=False)} {', '.join(map(str, channels))}")
    shape = " x ".join(str(s) for s in a.weight_shape)
    stored = (f"{a.weight_shape[0]} kernels of {kh}x{kw}, one per connection of Table I"
              if len(a.weight_shape) == 3 else
              f"{a.weight_shape[0]} filters x {a.weight_shape[1]} channels x {kh}x{kw}")
    st.markdown(
        f"**{layer}** reads {plural(a.in_shape[0], 'channel')} of {a.in_shape[1]}x{a.in_shape[2]} and "
        f"writes {plural(a.filters, 'channel')} of {a.out_shape[1]}x{a.out_shape[2]}, so it has "
        f"**{plural(a.filters, 'filter')}**. Its weight tensor is {shape} ({stored}): "
        f"**{plural(a.kernels, 'kernel')}** in all. Filter {index} is {plural(k, 'kernel')} of {kh}x{kw}, "
        f"a {k}x{kh}x{kw} block reading {reads}; at each position it multiplies its {k * kh * kw} weights with "
        f"the {k * kh * kw} input values under it and adds them and its bias into one value of output "
        f"channel {index}."
        + (" With one input channel, filter and kernel are the same 2-D grid." if k == 1 else ""))
    source = (f"Trained weights of checkpoint `{checkpoint}`." if checkpoint else
              "Weights as initialised (seed 0): no checkpoint of this model yet.")
    signed = ui.palette("signed")
    st.caption(f"{source} The kernels of filter {index}, one per input channel: {signed.low} negative, "
               f"{signed.high} positive, {signed.middle} zero.")
    shown = min(k, MAX_KERNELS_SHOWN)
    columns = st.columns(KERNEL_COLUMNS)
    for j in range(shown):
        ui.plotly_chart(
            plots.grid_heatmap(kernels[j], decimals=2, colorscale=signed.scale, zmid=0,
                               cell_px=max(28, KERNEL_FIGURE_PX // kw),
                               title=f"channel {channels[j]}"),
            container=columns[j % len(columns)], width="content", key=f"kernel_{j}",
            )
    if k > shown:
        st.caption(f"The first {shown} of the filter's {k} kernels.")

# --- ONNX export (not in presenter mode: a download is for a student's own machine) ------------
if not ui.presenter():
    st.header("Open it in Netron")
    st.download_button(
        f"Download {name} as ONNX", data=lambda: onnx_export.export_onnx(model),
        file_name=onnx_export.file_name(name, checkpoint), mime="application/octet-stream",
        icon=":material/download:", key="onnx")
    st.markdown("Drop the file on **https://netron.app** (or run `pip install netron` then "
                "`netron FILE.onnx` offline) to browse the graph: click a node to see its weights' shapes. "
                + ("The weights are the checkpoint's." if checkpoint else "No checkpoint yet: the weights "
                   "are untrained, the graph and shapes are the same."))

# --- LeNet-5 of 1998 -----------------------------------------------------------------------------
st.header("LeNet-5 of 1998 and the modern LeNet")
comparison = cached_comparison()
st.table([{"": d.aspect, "LeNet-5 (1998)": d.paper, "modern LeNet": d.modern} for d in comparison],
         hide_index=True)
st.markdown("\n".join(f"- **{d.aspect}**: {d.sentence}" for d in comparison))

st.subheader("C3's connection table (Table I of the paper)")
with ui.guarded("C3's connection table"):
    paper_model = fresh_model(av.PAPER)  # only its wiring is shown
    c3 = av.partial_conv(paper_model)
    c3_row = next(r for r in cached_table(av.PAPER) if r.kind == "partial conv")
    # Two ways to choose a map, kept in step: the pills, or a click on the table (which sets the
    # pills' value, so the choice is in the URL as c3_map either way).
    chosen = st.pills("C3 map", list(range(c3.out_channels)), default=DEFAULT_C3_MAP, key="c3_map",
                      bind=BOUND)
    chosen = DEFAULT_C3_MAP if chosen is None else chosen
    ui.plotly_chart(figs.connection_table(av.connection_grid(c3), selected=chosen, colors=COLORS), key="c3_table",
                    on_select=c3_clicked, selection_mode="points")
    st.caption("Click a cell of the table, or a number above it, to see what that C3 map reads.")
    arith = av.map_arithmetic(c3, chosen, c3_row.output_shape[1:])
    st.markdown(
        f"C3 map **{chosen}** reads S2 maps **{', '.join(map(str, arith.inputs))}**: "
        f"{arith.formula} parameters; {arith.connections_formula} connections.  \n"
        f"All 16 maps: {av.partial_conv_total(c3)} parameters. The paper leaves connections out to keep "
        "their number in check and to break the symmetry: maps that read different inputs are pushed to "
        "learn different features.")

st.subheader("The output layer's bitmaps")
bitmaps = models.rbf_bitmaps().numpy()
st.image([figs.bitmap_image(b) for b in bitmaps], caption=[str(d) for d in range(len(bitmaps))],
         width=8 * figs.BITMAP_ZOOM, output_format="PNG")
st.caption(f"Each output unit of LeNet-5 holds a fixed {bitmaps.shape[1]}x{bitmaps.shape[2]} picture of "
           f"its digit, {bitmaps[0].size} values of +1 (black) or -1 (grey), never trained; its output is "
           "the squared distance between F6's 84 values and this picture, so F6 learns to draw the digit.")
