"""/convolution's first mode: one kernel over one channel, step by step (the input typed, drawn at
random or cut from an MNIST digit), then the same kernel and settings over a whole test digit as a
feature map.
"""

import numpy as np
import streamlit as st

from core.explain.pictures import describe_map
from core.grids import arithmetic, gridmath, presets, worksheet
from core.grids.gridmath import GridSettingsError
from core.i18n import _
from dashboard.convolution.grid_widgets import (
    geometry_controls,
    impossible,
    input_grid,
    kernel_choice,
    output_shape_calculator,
)
from dashboard.convolution.step_grids import (
    DECIMALS,
    GAP_PX,
    grid,
    largest_cell,
    play,
    reach,
    row,
    signed_grid,
    written,
)
from dashboard.figures import charts
from dashboard.figures.grids import image_heatmap
from dashboard.frame import guard, presenter
from dashboard.frame.links import BOUND
from dashboard.stepping import stepper
from dashboard.stepping.stepper import GridPart


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
    if not presenter.is_on():  # a download is for the teacher's own machine, not the projector
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
    lines = max(stepper.equation_lines(arithmetic.describe_step(result, i, DECIMALS)) for i in range(len(steps)))
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
            return arithmetic.describe_step(result, pos - 1, DECIMALS)
        return [_("Press Step forward (or Play) to compute the first output cell.")]

    play("one", (x, kernel, bias, stride, padding, dilation), steps, draw, equation_key="conv_sum")
    with guard.guarded(_("The kernel on a real image")):
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
    colors = charts.palette("signed")
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
        charts.chart(
            image_heatmap(
                image, title=_("Test digit #{index}").format(index=index), colorscale=charts.palette("image").scale
            ),
            "fig_real_digit_fig",
            description=_("Test digit #{index}, 28 × 28, as brightness levels 0-9: {where}.").format(
                index=index, where=describe_map(image)
            ),
        )
    with right:
        charts.chart(
            image_heatmap(fmap, title=_("Feature map"), colorscale=colors.scale, zmid=0),
            "fig_real_map_fig",
            description=_("The feature map, {height} × {width}, from {low} to {high}: {where}.").format(
                height=fmap.shape[0],
                width=fmap.shape[1],
                low=arithmetic.format_number(float(fmap.min())),
                high=arithmetic.format_number(float(fmap.max())),
                where=describe_map(fmap, signed=True),
            ),
        )
