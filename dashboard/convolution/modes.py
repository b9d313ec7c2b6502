"""What /convolution shows, one mode each, every one with its step player (``dashboard.convolution.stepper``):
one filter over one channel (then over a whole MNIST digit), one filter over three channels,
and pooling (max, average and LeNet-5's 1998 subsampling side by side).

The grids are HTML tables (``dashboard.figures.html_pictures.grid_html``), redrawn at every step; a row of them
is sized by the browser to fit the screen (``stepper.cell_style``).
"""

import hashlib

import numpy as np
import streamlit as st

from core.explain.pictures import describe_map
from core.grids import gridmath, presets, worksheet
from core.grids.gridmath import GridSettingsError
from core.i18n import N_, _
from dashboard import ui
from dashboard.convolution import stepper
from dashboard.convolution.grid_widgets import (
    RANDOM,
    TYPED,
    geometry_controls,
    impossible,
    input_grid,
    kernel_choice,
    labels,
    output_shape_calculator,
    typed_grid,
)
from dashboard.convolution.numbered_draw import numbered_draw
from dashboard.convolution.stepper import GridPart, animate
from dashboard.figures.html_pictures import grid_html, grids_row, label_html
from dashboard.figures.plots import image_heatmap
from dashboard.frame.links import BOUND

DECIMALS = 2
GAP_PX = 28  # between the grids of one row


# --- drawing ----------------------------------------------------------------------------------


def largest_cell(largest: int = 56) -> int:
    """The largest cell side in px: larger in presenter mode, when there is room for it."""
    return int(largest * ui.figure_scale())


def grid(values: np.ndarray, **options) -> str:
    """A small grid of numbers as an HTML table: redrawn fast enough to animate."""
    options.setdefault("colorscale", ui.palette("input").scale)
    return grid_html(values, decimals=DECIMALS, **options)


def signed_grid(values: np.ndarray, reach: float | None = None, **options) -> str:
    """A grid of weights, products or sums: blue-orange about 0 (in presenter mode), over
    -``reach``..``reach`` when given, else over its own values."""
    if reach is not None:
        options.update(zmin=-reach, zmax=reach)
    return grid(values, colorscale=ui.palette("signed").scale, zmid=0, **options)


def reach(values: np.ndarray) -> float:
    """The largest absolute value (never 0): a signed colour scale's end."""
    return max(np.abs(values).max(), 1e-9)


def written(step: gridmath.Step | None) -> list[tuple[int, int]] | None:
    """The output cell a step writes, outlined (none before the first step)."""
    return [(step.out_row, step.out_col)] if step else None


def row(*parts: str, cell: str, gap_px: int = GAP_PX) -> None:
    """Grids side by side, their cells sized by ``cell`` (``stepper.cell_style``); they wrap on a
    narrow screen."""
    st.html(stepper.fitted(grids_row(*parts, gap_px=gap_px), cell))


def stack(*parts: str, gap_px: int = 8) -> str:
    """HTML pieces one above the other, centred."""
    return (
        f"<div style='display:flex;flex-direction:column;align-items:center;gap:{gap_px}px'>"
        + "".join(parts)
        + "</div>"
    )


def play(
    key: str,
    settings: tuple,
    steps: list,
    draw,
    *,
    equation_key: str,
    target: str | None = None,
    bold_last: bool = True,
) -> None:
    """The step player over ``steps`` (``target``: what the student predicts, translated, e.g.
    "max-pooling output"; the output cell by default, as ``gridmath.describe_step`` names it);
    new ``settings`` (every number and setting drawn) start it again. ``draw(pos, step, playing)``
    draws ``pos`` steps done, ``step`` the last of them (None at 0), and returns the equation."""
    digest = hashlib.sha1()
    for part in (key, *settings):
        digest.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    cell = _("output[{row}, {col}]") if target is None else target + "[{row}, {col}]"
    animate(
        key,
        digest.hexdigest(),
        [s.value for s in steps],
        [cell.format(row=s.out_row, col=s.out_col) for s in steps],
        lambda pos, playing: draw(pos, steps[pos - 1] if pos else None, playing),
        decimals=DECIMALS,
        equation_key=equation_key,
        bold_last=bold_last,
    )


# --- one channel ------------------------------------------------------------------------------


def one_channel(digits: np.ndarray | None) -> None:
    """One kernel over one channel (``digits``: the MNIST test images, or None), then over a whole digit."""
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
        impossible(_("Cannot convolve"), exc)
        return
    st.subheader(_("Step by step"))
    st.caption(
        _(
            "Input: {input}. Grey cells are zero padding. The orange window multiplies the cells under it by "
            "the kernel; the sum plus the bias is written into the green output cell."
        ).format(input=described)
    )
    if not ui.presenter():  # a download is for the teacher's own machine, not the projector
        st.download_button(
            _("Download as a worksheet"),
            worksheet.convolution_worksheet(
                x, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation, decimals=DECIMALS
            ),
            file_name="convolution_worksheet.html",
            mime="text/html",
            key="one_worksheet",
            on_click="ignore",
            icon=":material/print:",
            help=_(
                "This exercise on paper: page 1 the input, kernel and a blank output "
                "grid, page 2 the answer key. Open the file and print it (or save it as "
                "PDF from the print dialog)."
            ),
        )
    steps = result.steps
    lines = max(stepper.equation_lines(gridmath.describe_step(result, i, DECIMALS)) for i in range(len(steps)))
    largest = largest_cell()
    titles = [_("Input"), _("Kernel"), _("Window × kernel"), _("Output")]
    (hp, wp), k, wo = result.padding_mask.shape, kernel.shape[0], result.output.shape[1]
    parts = [GridPart(n, stepper.title_rem(t)) for n, t in zip((wp, k, k, wo), titles)]
    cell = stepper.cell_style(parts, hp, gap_px=GAP_PX, rest_rem=stepper.player_rest_rem(1, lines), largest=largest)
    output_reach, product_reach = reach(result.output), reach(np.stack([s.products for s in steps]))

    def draw(pos: int, step, playing: bool) -> list[str]:
        preview = steps[pos].window_cells if pos < len(steps) and not playing else []
        row(
            grid(
                result.padded[0],
                muted=result.padding_mask,
                highlight=step.window_cells if step else None,
                preview=preview,
                title=titles[0],
                cell_px=largest,
                zmin=min(x.min(), 0),
                zmax=max(x.max(), 1),
            ),
            signed_grid(kernel, reach(kernel), title=titles[1], cell_px=largest),
            signed_grid(
                step.products[0] if step else np.full(kernel.shape, np.nan),
                product_reach,
                muted=step.padding if step else None,
                title=titles[2],
                cell_px=largest,
            ),
            signed_grid(result.output_after(pos), output_reach, accent=written(step), title=titles[3], cell_px=largest),
            cell=cell,
        )
        if step:
            return gridmath.describe_step(result, pos - 1, DECIMALS)
        return [_("Press Step forward (or Play) to compute the first output cell.")]

    play("one", (x, kernel, bias, stride, padding, dilation), steps, draw, equation_key="conv_sum")
    with ui.guarded(_("The kernel on a real image")):
        real_image(digits, kernel, bias, stride, padding, dilation, kernel_name)


def real_image(
    digits: np.ndarray | None,
    kernel: np.ndarray,
    bias: float,
    stride: int,
    padding: int,
    dilation: int,
    kernel_name: str,
) -> None:
    """The same kernel and settings over a whole 28×28 test digit, as a feature map."""
    st.subheader(_("On a real image"))
    if digits is None:
        st.info(_("MNIST is not available here: run `python -m core data` to see the kernel on a whole digit."))
        return
    index = st.number_input(_("Test digit number"), 0, len(digits) - 1, 0, key="real_digit", width=220, bind=BOUND)
    image = presets.to_levels(digits[index])
    try:
        fmap = gridmath.feature_map(image, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        impossible(_("Cannot convolve the digit"), exc)
        return
    colors = ui.palette("signed")
    st.caption(
        _(
            "The same kernel ({kernel}), bias, stride, padding and dilation over the whole 28×28 digit "
            "(brightness 0-9): a {height}×{width} feature map. {high}: strong positive response, {low}: "
            "negative."
        ).format(
            kernel=kernel_name,
            height=fmap.shape[0],
            width=fmap.shape[1],
            high=_(colors.high).capitalize(),
            low=_(colors.low),
        )
    )
    left, right, _spare = st.columns([1, 1, 0.4])
    with left:
        ui.chart(
            image_heatmap(
                image, title=_("Test digit #{index}").format(index=index), colorscale=ui.palette("image").scale
            ),
            "fig_real_digit_fig",
            description=_("Test digit #{index}, 28 × 28, as brightness levels 0-9: {where}.").format(
                index=index, where=describe_map(image)
            ),
        )
    with right:
        ui.chart(
            image_heatmap(fmap, title=_("Feature map"), colorscale=colors.scale, zmid=0),
            "fig_real_map_fig",
            description=_("The feature map, {height} × {width}, from {low} to {high}: {where}.").format(
                height=fmap.shape[0],
                width=fmap.shape[1],
                low=gridmath.format_number(float(fmap.min())),
                high=gridmath.format_number(float(fmap.max())),
                where=describe_map(fmap, signed=True),
            ),
        )


# --- three channels ---------------------------------------------------------------------------


def three_channels() -> None:
    """One filter (a kernel per channel) over a three-channel input, into one output channel."""
    st.markdown(
        _(
            "A colour image has three channels (red, green, blue). **One filter** holds one kernel per "
            "channel: each channel is convolved with its own kernel, and the three results are added, with "
            "one bias, into **one** output channel."
        )
    )
    left, right = st.columns([2, 1.3], gap="large")
    x, w, bias = presets.multichannel_example()
    with left:
        source = st.radio(
            _("Numbers"), [THREE_EXAMPLE, RANDOM], format_func=labels(), horizontal=True, key="three_source", bind=BOUND
        )
        if source == RANDOM:
            seed = numbered_draw("three_seed", button_key="three_reroll")
            x = presets.random_integers(x.shape, seed, 0, 3)
            w = presets.random_integers(w.shape, seed + 1000, -1, 1)
        bias = float(st.number_input(_("Bias"), value=bias, step=0.5, format="%g", key="three_bias"))
    stride, padding, dilation = geometry_controls("three", right)
    if not output_shape_calculator(x.shape[-1], w.shape[-1], stride, padding, dilation):
        return
    result = gridmath.convolve(x, w, bias=bias, stride=stride, padding=padding, dilation=dilation)
    steps = result.steps
    channels, k = w.shape[0], w.shape[-1]
    (hp, wp), (ho, wo) = result.padding_mask.shape, result.output.shape
    # One column per channel (its input over its kernel and products, then the channel's sum),
    # the output beside them: the three sums line up above the equation that adds them. A column
    # is as wide as the input or as the kernel and products side by side (2k cells, 2 tables and
    # 12 px apart), or as their titles; it is as high as the input and a kernel.
    largest = largest_cell(48)
    lines = max(stepper.equation_lines(gridmath.describe_step(result, i, DECIMALS)[-2:]) for i in range(len(steps)))
    title = stepper.title_rem
    input_title, kernel_title = _("Input channel {channel}"), _("Kernel {channel}")
    products_title, output_title = _("Products"), _("Output (one channel)")
    column = GridPart(
        max(wp, 2 * k),
        max(title(input_title.format(channel=1)), title(kernel_title.format(channel=1)) + title(products_title) + 0.6),
        extra_px=16,
    )
    parts = [column] * channels + [GridPart(wo, title(output_title))]
    cell = stepper.cell_style(
        parts,
        max(hp + k, ho),
        gap_px=GAP_PX,
        rest_rem=stepper.player_rest_rem(2, lines, extra_rem=3.0),
        largest=largest,
    )
    output_reach = reach(result.output)

    def draw(pos: int, step, playing: bool) -> list[str]:
        columns = [
            stack(
                grid(
                    result.padded[c],
                    muted=result.padding_mask,
                    cell_px=largest,
                    highlight=step.window_cells if step else None,
                    zmin=0,
                    zmax=max(x.max(), 1),
                    title=input_title.format(channel=c + 1),
                ),
                grids_row(
                    signed_grid(w[c], 1, cell_px=largest, title=kernel_title.format(channel=c + 1)),
                    signed_grid(
                        step.products[c] if step else np.full((k, k), np.nan),
                        muted=step.padding if step else None,
                        cell_px=largest,
                        title=products_title,
                    ),
                    gap_px=12,
                ),
                label_html(
                    _("sum = {value}").format(
                        value=gridmath.format_number(step.channel_sums[c], DECIMALS) if step else "?"
                    )
                ),
            )
            for c in range(channels)
        ]
        row(
            *columns,
            signed_grid(
                result.output_after(pos), output_reach, accent=written(step), cell_px=largest, title=output_title
            ),
            cell=cell,
        )
        if step:
            return gridmath.describe_step(result, pos - 1, DECIMALS)[-2:]
        return [_("Press Step forward (or Play).")]

    play("three", (x, w, bias, stride, padding, dilation), steps, draw, equation_key="three_sum")


# --- pooling ----------------------------------------------------------------------------------

THREE_EXAMPLE = N_("The example (3×5×5 input, 3×3×3 filter)")
POOL_EXAMPLE = N_("The 4×4 example")
POOLINGS = {"max": N_("Max pooling"), "avg": N_("Average pooling"), "subsample": N_("1998 subsampling")}


def pooling_input() -> np.ndarray:
    """The grid to pool: the example, a numbered draw or typed."""
    source = st.radio(
        _("Input"), [POOL_EXAMPLE, RANDOM, TYPED], format_func=labels(), horizontal=True, key="pool_source", bind=BOUND
    )
    if source == POOL_EXAMPLE:
        return presets.pooling_example()
    size = st.slider(_("Input size"), 2, 8, 4, key="pool_size", bind=BOUND)
    if source == RANDOM:
        return presets.random_integers((size, size), numbered_draw("pool_seed", button_key="pool_reroll"))
    return typed_grid(_("Type the input:"), presets.random_integers((size, size), 0), f"pool_typed_{size}")


def pooling() -> None:
    """Max, average and 1998 subsampling over the same windows, side by side."""
    st.markdown(
        _(
            "Pooling shrinks a feature map: each window is replaced by one number. **Max pooling** keeps the "
            "largest, **average pooling** the mean. LeNet-5 (1998) used **trainable subsampling**: add the "
            "window's inputs, multiply by a learned coefficient, add a learned bias (the paper then squashes "
            "it with 1.7159 tanh(2a/3))."
        )
    )
    c1, c2, c3 = st.columns([1.3, 1, 1], gap="large")
    with c1:
        x = pooling_input()
    with c2:
        kernel = st.slider(_("Window"), *gridmath.POOL_KERNEL_RANGE, 2, key="pool_kernel", bind=BOUND)
        stride = st.slider(_("Stride"), *gridmath.POOL_STRIDE_RANGE, 2, key="pool_stride", bind=BOUND)
    with c3, ui.secondary(_(POOLINGS["subsample"])):
        coefficient = float(st.number_input(_("1998 coefficient"), value=0.5, step=0.25, format="%g", key="pool_coef"))
        bias = float(st.number_input(_("1998 bias"), value=0.25, step=0.25, format="%g", key="pool_bias"))
    try:
        results = {
            kind: gridmath.pool(x, kind=kind, kernel=kernel, stride=stride, coefficient=coefficient, bias=bias)
            for kind in POOLINGS
        }
    except GridSettingsError as exc:
        impossible(_("Cannot pool"), exc)
        return
    steps = results["max"].steps
    largest = largest_cell(60)

    def equation(i: int) -> list[str]:
        return [
            _("{name}: {arithmetic}").format(
                name=_(POOLINGS[kind]), arithmetic=gridmath.describe_step(result, i, DECIMALS)[0]
            )
            for kind, result in results.items()
        ]

    lines = max(stepper.equation_lines(equation(i)) for i in range(len(steps)))
    (h, w), wo = x.shape, results["max"].output.shape[1]
    parts = [GridPart(w, stepper.title_rem(_("Input")))] + [
        GridPart(wo, stepper.title_rem(_(t))) for t in POOLINGS.values()
    ]
    cell = stepper.cell_style(parts, h, gap_px=40, rest_rem=stepper.player_rest_rem(1, lines), largest=largest)

    def draw(pos: int, step, playing: bool) -> list[str]:
        outputs = [
            grid(
                result.output_after(pos),
                cell_px=largest,
                zmin=min(x.min(), 0),
                zmax=max(result.output.max(), x.max()),
                accent=written(result.steps[pos - 1] if pos else None),
                title=_(POOLINGS[kind]),
            )
            for kind, result in results.items()
        ]
        row(
            grid(
                x,
                highlight=step.window_cells if step else None,
                cell_px=largest,
                accent=[step.largest_cell] if step else None,
                zmin=min(x.min(), 0),
                title=_("Input"),
            ),
            *outputs,
            cell=cell,
            gap_px=40,
        )
        if step:
            return equation(pos - 1)
        return [_("Press Step forward (or Play). The green input cell is the largest in the window.")]

    play(
        "pool",
        (x, kernel, stride, coefficient, bias),
        steps,
        draw,
        equation_key="pool_sum",
        target=_("max-pooling output"),
        bold_last=False,
    )
