"""/convolution's third mode: pooling, step by step: max, average and LeNet-5's 1998 trainable
subsampling over the same windows, side by side.
"""

import numpy as np
import streamlit as st

from core.grids import arithmetic, gridmath, presets
from core.grids.gridmath import GridSettingsError
from core.grids.pooling import pool
from core.i18n import N_, _
from dashboard.convolution.grid_widgets import RANDOM, TYPED, impossible, labels, typed_grid
from dashboard.convolution.numbered_draw import numbered_draw
from dashboard.convolution.step_grids import DECIMALS, grid, largest_cell, play, row, written
from dashboard.frame import presenter
from dashboard.frame.links import BOUND
from dashboard.stepping import stepper
from dashboard.stepping.stepper import GridPart

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
    with c3, presenter.secondary(_(POOLINGS["subsample"])):
        coefficient = float(st.number_input(_("1998 coefficient"), value=0.5, step=0.25, format="%g", key="pool_coef"))
        bias = float(st.number_input(_("1998 bias"), value=0.25, step=0.25, format="%g", key="pool_bias"))
    try:
        results = {
            kind: pool(x, kind=kind, kernel=kernel, stride=stride, coefficient=coefficient, bias=bias)
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
                name=_(POOLINGS[kind]), arithmetic=arithmetic.describe_step(result, i, DECIMALS)[0]
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
