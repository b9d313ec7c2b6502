"""/convolution: one filter sliding over a small grid, step by step; then pooling.

Thin: widgets -> core.gridmath / core.gridpresets -> dashboard.plots; the step player (play,
pause, step, predict-then-reveal) is dashboard.stepper.

The settings live in the URL (``bind="query-params"``, the key is the parameter's name), e.g.
``/convolution?conv_input=Random+whole+numbers&conv_size=5&conv_kernel=Sharpen&conv_stride=2&conv_padding=1``
(mode ``conv_mode``; one channel ``conv_input conv_size conv_digit conv_seed conv_kernel conv_ksize
conv_stride conv_padding conv_dilation real_digit``; three channels ``three_source three_stride
three_padding three_dilation``; pooling ``pool_source pool_size pool_kernel pool_stride``).
"""

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run standalone (AppTest) as well as through dashboard/app.py
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from core import checkpoints, gridmath, gridpresets, worksheet  # noqa: E402
from core.data import DataNotFoundError, load_test  # noqa: E402
from core.gridmath import GridSettingsError  # noqa: E402
from dashboard import stepper, ui  # noqa: E402
from dashboard.stepper import GridPart, animate, pause_all  # noqa: E402
from dashboard.plots import grid_html, grids_row, image_heatmap, label_html  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

DECIMALS = 2
GAP_PX = 28               # between the grids of one row


@st.cache_resource(show_spinner="Loading the MNIST test digits...")
def test_digits() -> np.ndarray | None:
    try:
        return load_test().images.numpy()
    except DataNotFoundError:
        return None


@st.cache_resource(show_spinner=False)
def lenet_first_layer(folder: str, stamp: float | None):
    """Cached per checkpoint file version (``stamp``: its modification time)."""
    return gridpresets.trained_first_layer("lenet5", folder)


def trained_kernels():
    folder = Path(checkpoints.DEFAULT_DIR)
    path = folder / "lenet5.pt"
    return lenet_first_layer(str(folder), path.stat().st_mtime if path.is_file() else None)


def signature(*parts) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return digest.hexdigest()


def largest_cell(largest: int = 56) -> int:
    """The largest cell side in px: larger in presenter mode, when there is room for it."""
    return int(largest * ui.figure_scale())



def grid(values: np.ndarray, **options) -> str:
    """A small grid of numbers as an HTML table: redrawn fast enough to animate."""
    options.setdefault("colorscale", ui.palette("input").scale)
    return grid_html(values, decimals=DECIMALS, **options)


def signed() -> str | tuple:
    """The colour map of weights, products and sums (blue-orange in presenter mode)."""
    return ui.palette("signed").scale


def row(*parts: str, cell: str, gap_px: int = GAP_PX, align: str = "flex-start") -> None:
    """Grids side by side, their cells sized by ``cell`` (``stepper.cell_style``); they wrap on a
    narrow screen."""
    st.html(stepper.fitted(grids_row(*parts, gap_px=gap_px, align=align), cell))


def stack(*parts: str, gap_px: int = 8) -> str:
    """HTML pieces one above the other, centred."""
    return (f"<div style='display:flex;flex-direction:column;align-items:center;gap:{gap_px}px'>"
            + "".join(parts) + "</div>")


# --- shared widgets ---------------------------------------------------------------------------

def geometry_controls(prefix: str, column) -> tuple[int, int, int]:
    with column:
        stride = st.slider("Stride", 1, 3, 1, key=f"{prefix}_stride", bind=BOUND)
        padding = st.slider("Padding", 0, 2, 0, key=f"{prefix}_padding", bind=BOUND)
        with ui.secondary("Dilation"):
            dilation = st.slider("Dilation", 1, 2, 1, key=f"{prefix}_dilation", bind=BOUND)
    return stride, padding, dilation


def output_shape_calculator(n: int, k: int, stride: int, padding: int, dilation: int) -> bool:
    """The formula with this page's numbers in it; False (and the reason) when it cannot work."""
    formula = r"\left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
    try:
        size = gridmath.output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        st.latex(rf"\text{{output size}} = {formula}")
        st.error(f"Impossible: {exc}.", icon=":material/block:")
        return False
    st.latex(rf"\text{{output size}} = {formula} = \left\lfloor \frac{{{n} + 2\cdot{padding} - {dilation}({k}-1) - 1}}"
             rf"{{{stride}}} \right\rfloor + 1 = {size}")
    st.markdown(f"<div style='text-align:center'>The {n}×{n} input gives a <b>{size}×{size}</b> output "
                f"(n={n}, k={k}, padding p={padding}, dilation d={dilation}, stride s={stride}).</div>",
                unsafe_allow_html=True)
    return True


def typed_grid(label: str, initial: np.ndarray, key: str) -> np.ndarray:
    """An editable grid of numbers; an emptied cell comes back as NaN, which core reports."""
    st.caption(label)
    columns = {str(c): st.column_config.NumberColumn(str(c + 1), width=44) for c in range(initial.shape[1])}
    edited = st.data_editor(pd.DataFrame(initial, columns=list(columns)), key=key, hide_index=True,
                            column_config=columns, width="content")
    return edited.to_numpy(dtype=float)


def input_grid(prefix: str, digits: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The single-channel input chosen by the student, and a one-line description."""
    choices = (["MNIST digit patch"] if digits is not None else []) + \
        ["Vertical edge", "Random whole numbers", "Type your own"]
    choice = st.selectbox("Input", choices, key=f"{prefix}_input", bind=BOUND)
    # One key for every input, so that the size is one URL parameter; it keeps its value when
    # the input changes.
    size = st.slider("Input size", 3, gridmath.MAX_SIDE, 8 if choice == "MNIST digit patch" else 6,
                     key=f"{prefix}_size", bind=BOUND)
    if choice == "MNIST digit patch":
        index = st.number_input("Test digit number", 0, len(digits) - 1, 0, key=f"{prefix}_digit", width=220,
                                bind=BOUND)
        return gridpresets.mnist_patch(digits[index], size), f"the middle of test digit #{index}, brightness 0-9"
    if choice == "Vertical edge":
        return gridpresets.vertical_edge(size), "a bright left half beside a dark right half"
    if choice == "Random whole numbers":
        # A numbered draw, kept in the URL: a shared link shows everyone the same numbers.
        seed_key = f"{prefix}_seed"
        st.session_state.setdefault(seed_key, 1)  # not as the widget's default: the button sets it too
        seed = st.number_input("Draw number", 1, 1_000_000, key=seed_key, width=220, bind=BOUND,
                               help="The same number gives the same grid on every machine.")
        st.button("New numbers", icon=":material/casino:", key=f"{prefix}_reroll",
                  on_click=lambda: st.session_state.update({seed_key: st.session_state[seed_key] + 1}))
        return gridpresets.random_integers((size, size), int(seed)), "random whole numbers 0-9"
    return typed_grid("Type the input (click a cell):", gridpresets.vertical_edge(size),
                      f"{prefix}_typed_input_{size}"), "your numbers"


def kernel_choice(prefix: str) -> tuple[np.ndarray, float, str]:
    layer, why_not = trained_kernels()
    lenet = [f"LeNet-5 C1 kernel {i + 1}" for i in range(len(layer.kernels))] if layer else []
    choice = st.selectbox("Kernel", list(gridpresets.KERNELS) + lenet + ["Type your own"], key=f"{prefix}_kernel",
                          bind=BOUND)
    if not layer:
        st.caption(why_not)
    if choice in gridpresets.KERNELS:
        kernel, bias = gridpresets.KERNELS[choice], 0.0
    elif choice in lenet:
        i = lenet.index(choice)
        kernel, bias = layer.kernels[i], float(layer.biases[i])
        st.caption(f"Learned by the trained `lenet5` (test accuracy {layer.test_accuracy:.2%})."
                   if layer.test_accuracy is not None else "Learned by the trained `lenet5`.")
    else:
        k = st.slider("Kernel size", *gridmath.KERNEL_RANGE, 3, key=f"{prefix}_ksize", bind=BOUND)
        initial = np.zeros((k, k))
        initial[k // 2, k // 2] = 1
        kernel, bias = typed_grid("Type the kernel:", initial, f"{prefix}_typed_kernel_{k}"), 0.0
    with ui.secondary("Bias"):
        bias = st.number_input("Bias", value=round(bias, 4), step=0.5, format="%g", key=f"{prefix}_bias_{choice}")
    return kernel, float(bias), choice


# --- the three modes --------------------------------------------------------------------------

def one_channel(digits: np.ndarray | None) -> None:
    left, middle, geometry = st.columns(3, gap="large")
    with left:
        x, described = input_grid("conv", digits)
    with middle:
        kernel, bias, kernel_name = kernel_choice("conv")
    stride, padding, dilation = geometry_controls("conv", geometry)
    if not output_shape_calculator(x.shape[0], kernel.shape[0], stride, padding, dilation):
        return
    try:
        result = gridmath.convolve(x, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        st.error(f"Cannot convolve: {exc}.", icon=":material/block:")
        return
    st.subheader("Step by step")
    st.caption(f"Input: {described}. Grey cells are zero padding. The orange window multiplies the cells "
               "under it by the kernel; the sum plus the bias is written into the green output cell.")
    if not ui.presenter():  # a download is for the teacher's own machine, not the projector
        st.download_button("Download as a worksheet", worksheet.convolution_worksheet(
            x, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation, decimals=DECIMALS),
            file_name="convolution_worksheet.html", mime="text/html", key="one_worksheet", on_click="ignore",
            icon=":material/print:", help="This exercise on paper: page 1 the input, kernel and a blank output "
            "grid, page 2 the answer key. Open the file and print it (or save it as PDF from the print dialog).")
    k = kernel.shape[0]
    hp, wp = result.padding_mask.shape
    ho, wo = result.output.shape
    steps = result.steps
    lines = max(stepper.equation_lines(gridmath.describe_step(result, i, DECIMALS)) for i in range(len(steps)))
    largest = largest_cell()
    titles = ["Input", "Kernel", "Window × kernel", "Output"]
    parts = [GridPart(n, stepper.title_rem(t)) for n, t in zip((wp, k, k, wo), titles)]
    cell = stepper.cell_style(parts, hp, gap_px=GAP_PX, rest_rem=stepper.player_rest_rem(1, lines), largest=largest)
    reach = max(np.abs(result.output).max(), 1e-9)
    weights_reach = max(np.abs(kernel).max(), 1e-9)
    product_reach = max(max(np.abs(s.products).max() for s in result.steps), 1e-9)

    def draw(pos: int, playing: bool) -> list[str]:
        step = steps[pos - 1] if pos else None
        preview = steps[pos].window_cells if pos < len(steps) and not playing else []
        products = step.products[0] if step else np.full(kernel.shape, np.nan)
        row(grid(result.padded[0], muted=result.padding_mask, highlight=step.window_cells if step else None,
                 preview=preview, title=titles[0], cell_px=largest, zmin=min(x.min(), 0), zmax=max(x.max(), 1)),
            grid(kernel, colorscale=signed(), zmid=0, zmin=-weights_reach, zmax=weights_reach,
                 title=titles[1], cell_px=largest),
            grid(products, muted=step.padding if step else None, colorscale=signed(), zmid=0,
                 zmin=-product_reach, zmax=product_reach, title=titles[2], cell_px=largest),
            grid(result.output_after(pos), colorscale=signed(), zmid=0, zmin=-reach, zmax=reach,
                 accent=[(step.out_row, step.out_col)] if step else None, title=titles[3], cell_px=largest),
            cell=cell)
        if step:
            return gridmath.describe_step(result, pos - 1, DECIMALS)
        return ["Press Step forward (or Play) to compute the first output cell."]

    animate("one", signature("one", x, kernel, bias, stride, padding, dilation),
            [s.value for s in steps], [f"output[{s.out_row}, {s.out_col}]" for s in steps], draw,
            decimals=DECIMALS, equation_key="conv_sum")
    with ui.guarded("The kernel on a real image"):
        real_image(digits, kernel, bias, stride, padding, dilation, kernel_name)


def real_image(digits: np.ndarray | None, kernel: np.ndarray, bias: float, stride: int, padding: int,
               dilation: int, kernel_name: str) -> None:
    st.subheader("On a real image")
    if digits is None:
        st.info("MNIST is not available here: run `python -m core data` to see the kernel on a whole digit.")
        return
    index = st.number_input("Test digit number", 0, len(digits) - 1, 0, key="real_digit", width=220, bind=BOUND)
    image = gridpresets.to_levels(digits[index])
    try:
        fmap = gridmath.feature_map(image, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        st.error(f"Cannot convolve the digit: {exc}.", icon=":material/block:")
        return
    colors = ui.palette("signed")
    st.caption(f"The same kernel ({kernel_name}), bias, stride, padding and dilation over the whole 28×28 digit "
               f"(brightness 0-9): a {fmap.shape[0]}×{fmap.shape[1]} feature map. {colors.high.capitalize()}: "
               f"strong positive response, {colors.low}: negative.")
    left, right, _ = st.columns([1, 1, 0.4])
    with left:
        ui.chart(image_heatmap(image, title=f"Test digit #{index}", colorscale=ui.palette("image").scale),
              "fig_real_digit_fig")
    with right:
        ui.chart(image_heatmap(fmap, title="Feature map", colorscale=signed(), zmid=0), "fig_real_map_fig")


def three_channels() -> None:
    st.markdown("A colour image has three channels (red, green, blue). **One filter** holds one kernel "
                "per channel: each channel is convolved with its own kernel, and the three results are "
                "added, with one bias, into **one** output channel.")
    left, right = st.columns([2, 1.3], gap="large")
    x, w, bias = gridpresets.multichannel_example()
    with left:
        source = st.radio("Numbers", ["The example (3×5×5 input, 3×3×3 filter)", "Random whole numbers"],
                          horizontal=True, key="three_source", bind=BOUND)
        if source.startswith("Random"):
            st.session_state.setdefault("three_seed", 1)
            if st.button("New numbers", icon=":material/casino:", key="three_reroll"):
                st.session_state["three_seed"] += 1
            seed = st.session_state["three_seed"]
            x = gridpresets.random_integers((3, 5, 5), seed, 0, 3)
            w = gridpresets.random_integers((3, 3, 3), seed + 1000, -1, 1)
        bias = float(st.number_input("Bias", value=bias, step=0.5, format="%g", key="three_bias"))
    stride, padding, dilation = geometry_controls("three", right)
    if not output_shape_calculator(5, 3, stride, padding, dilation):
        return
    result = gridmath.convolve(x, w, bias=bias, stride=stride, padding=padding, dilation=dilation)
    steps = result.steps
    hp, wp = result.padding_mask.shape
    ho, wo = result.output.shape
    reach = max(np.abs(result.output).max(), 1e-9)
    # One column per channel (its input over its kernel and products, then the channel's sum),
    # the output beside them: the three sums line up above the equation that adds them. A column
    # is as wide as the input or as the kernel and products side by side (6 cells, 2 tables and
    # 12 px apart), or as their titles; it is as high as the input and a kernel.
    largest = largest_cell(48)
    lines = max(stepper.equation_lines(gridmath.describe_step(result, i, DECIMALS)[-2:])
                for i in range(len(steps)))
    title = stepper.title_rem
    column = GridPart(max(wp, 6), max(title("Input channel 1"), title("Kernel 1") + title("Products") + 0.6),
                      extra_px=16)
    parts = [column] * 3 + [GridPart(wo, title("Output (one channel)"))]
    cell = stepper.cell_style(parts, max(hp + 3, ho), gap_px=GAP_PX,
                             rest_rem=stepper.player_rest_rem(2, lines, extra_rem=3.0), largest=largest)

    def draw(pos: int, playing: bool) -> list[str]:
        step = steps[pos - 1] if pos else None
        columns = [stack(grid(result.padded[c], muted=result.padding_mask, cell_px=largest,
                              highlight=step.window_cells if step else None, zmin=0, zmax=max(x.max(), 1),
                              title=f"Input channel {c + 1}"),
                         grids_row(grid(w[c], colorscale=signed(), zmid=0, zmin=-1, zmax=1, cell_px=largest,
                                        title=f"Kernel {c + 1}"),
                                   grid(step.products[c] if step else np.full((3, 3), np.nan),
                                        muted=step.padding if step else None, colorscale=signed(), zmid=0,
                                        cell_px=largest, title="Products"), gap_px=12),
                         label_html(f"sum = {gridmath.format_number(step.channel_sums[c], DECIMALS)}"
                                    if step else "sum = ?"))
                   for c in range(3)]
        row(*columns, grid(result.output_after(pos), colorscale=signed(), zmid=0, zmin=-reach, zmax=reach,
                           accent=[(step.out_row, step.out_col)] if step else None, cell_px=largest,
                           title="Output (one channel)"), cell=cell)
        if step:
            return gridmath.describe_step(result, pos - 1, DECIMALS)[-2:]
        return ["Press Step forward (or Play)."]

    animate("three", signature("three", x, w, bias, stride, padding, dilation), [s.value for s in steps],
            [f"output[{s.out_row}, {s.out_col}]" for s in steps], draw, decimals=DECIMALS, equation_key="three_sum")


def pooling() -> None:
    st.markdown("Pooling shrinks a feature map: each window is replaced by one number. **Max pooling** "
                "keeps the largest, **average pooling** the mean. LeNet-5 (1998) used **trainable "
                "subsampling**: add the window's inputs, multiply by a learned coefficient, add a learned "
                "bias (the paper then squashes it with 1.7159 tanh(2a/3)).")
    c1, c2, c3 = st.columns([1.3, 1, 1], gap="large")
    with c1:
        source = st.radio("Input", ["The 4×4 example", "Random whole numbers", "Type your own"],
                          horizontal=True, key="pool_source", bind=BOUND)
        if source == "The 4×4 example":
            x = gridpresets.pooling_example()
        else:
            size = st.slider("Input size", 2, 8, 4, key="pool_size", bind=BOUND)
            if source == "Random whole numbers":
                st.session_state.setdefault("pool_seed", 1)
                if st.button("New numbers", icon=":material/casino:", key="pool_reroll"):
                    st.session_state["pool_seed"] += 1
                x = gridpresets.random_integers((size, size), st.session_state["pool_seed"])
            else:
                x = typed_grid("Type the input:", gridpresets.random_integers((size, size), 0),
                               f"pool_typed_{size}")
    with c2:
        kernel = st.slider("Window", *gridmath.POOL_KERNEL_RANGE, 2, key="pool_kernel", bind=BOUND)
        stride = st.slider("Stride", *gridmath.POOL_STRIDE_RANGE, 2, key="pool_stride", bind=BOUND)
    with c3, ui.secondary("1998 subsampling"):
        coefficient = float(st.number_input("1998 coefficient", value=0.5, step=0.25, format="%g", key="pool_coef"))
        bias = float(st.number_input("1998 bias", value=0.25, step=0.25, format="%g", key="pool_bias"))
    try:
        results = {kind: gridmath.pool(x, kind=kind, kernel=kernel, stride=stride, coefficient=coefficient,
                                       bias=bias) for kind in ("max", "avg", "subsample")}
    except GridSettingsError as exc:
        st.error(f"Cannot pool: {exc}.", icon=":material/block:")
        return
    steps = results["max"].steps
    h, w = x.shape
    ho, wo = results["max"].output.shape
    titles = {"max": "Max pooling", "avg": "Average pooling", "subsample": "1998 subsampling"}
    largest = largest_cell(60)
    lines = max(stepper.equation_lines([f"{titles[kind]}: {gridmath.describe_step(result, i, DECIMALS)[0]}"
                                        for kind, result in results.items()]) for i in range(len(steps)))
    parts = [GridPart(w, stepper.title_rem("Input"))] + [GridPart(wo, stepper.title_rem(t))
                                                         for t in titles.values()]
    cell = stepper.cell_style(parts, h, gap_px=40, rest_rem=stepper.player_rest_rem(1, lines), largest=largest)

    def draw(pos: int, playing: bool) -> list[str]:
        step = steps[pos - 1] if pos else None
        outputs = [grid(result.output_after(pos), cell_px=largest, zmin=min(x.min(), 0),
                        zmax=max(result.output.max(), x.max()),
                        accent=[(result.steps[pos - 1].out_row, result.steps[pos - 1].out_col)] if step else None,
                        title=titles[kind]) for kind, result in results.items()]
        row(grid(x, highlight=step.window_cells if step else None, cell_px=largest,
                 accent=[step.largest_cell] if step else None, zmin=min(x.min(), 0), title="Input"),
            *outputs, cell=cell, gap_px=40)
        if step:
            return [f"{titles[kind]}: {gridmath.describe_step(result, pos - 1, DECIMALS)[0]}"
                    for kind, result in results.items()]
        return ["Press Step forward (or Play). The green input cell is the largest in the window."]

    animate("pool", signature("pool", x, kernel, stride, coefficient, bias), [s.value for s in steps],
            [f"max-pooling output[{s.out_row}, {s.out_col}]" for s in steps], draw, decimals=DECIMALS,
            equation_key="pool_sum", bold_last=False)


# --- the page ---------------------------------------------------------------------------------

st.title("Convolution, step by step")
st.markdown("A convolution layer slides a small grid of weights, the **kernel**, over its input. At each "
            "position it multiplies the cells under it by the weights, adds the products and a bias, and "
            "writes one number of the output, the **feature map**. Predict each number before it appears.")
mode = st.segmented_control("What to watch", ["One channel", "Three channels", "Pooling"], default="One channel",
                            required=True, key="conv_mode", on_change=pause_all, bind=BOUND)
st.html(stepper.GRID_CSS)
digits = test_digits()
with ui.guarded(mode):
    if mode == "Three channels":
        three_channels()
    elif mode == "Pooling":
        pooling()
    else:
        one_channel(digits)
