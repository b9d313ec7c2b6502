"""/convolution's second mode: one filter (a kernel per channel) over a three-channel input, the three
channels' sums added, with one bias, into one output channel, step by step.
"""

import numpy as np
import streamlit as st

from core.grids import arithmetic, gridmath, presets
from core.i18n import N_, _
from dashboard.convolution.grid_widgets import RANDOM, geometry_controls, labels, output_shape_calculator
from dashboard.convolution.numbered_draw import numbered_draw
from dashboard.convolution.step_grids import (
    DECIMALS,
    GAP_PX,
    grid,
    largest_cell,
    play,
    reach,
    row,
    signed_grid,
    stack,
    written,
)
from dashboard.figures.html_pictures import grids_row, label_html
from dashboard.frame.links import BOUND
from dashboard.stepping import stepper
from dashboard.stepping.stepper import GridPart

THREE_EXAMPLE = N_("The example (3×5×5 input, 3×3×3 filter)")


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
    lines = max(stepper.equation_lines(arithmetic.describe_step(result, i, DECIMALS)[-2:]) for i in range(len(steps)))
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
                        value=arithmetic.format_number(step.channel_sums[c], DECIMALS) if step else "?"
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
            return arithmetic.describe_step(result, pos - 1, DECIMALS)[-2:]
        return [_("Press Step forward (or Play).")]

    play("three", (x, w, bias, stride, padding, dilation), steps, draw, equation_key="three_sum")
