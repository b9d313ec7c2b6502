"""Pooling on small grids, one output cell at a time: max, average, and the 1998 subsampling.

The steps are those of every grid operation (``core.grids.gridmath``: where the window sits, what
it covers, the cell written); the output equals torch's ``max_pool2d`` / ``avg_pool2d`` on the
same numbers (tests/test_gridmath.py checks that).

The 1998 LeNet subsampling (S2, S4) adds the block's inputs, multiplies by one trainable
coefficient and adds one trainable bias (LeCun et al., Proc. IEEE 1998); the paper then
squashes the result, which is left to the caller here.
"""

from __future__ import annotations

import numpy as np

from core.grids.gridmath import (
    MAX_SIDE,
    POOL_KERNEL_RANGE,
    POOL_STRIDE_RANGE,
    GridResult,
    GridSettingsError,
    Step,
    as_chw,
    check_range,
    grid_of,
    window_positions,
)
from core.i18n import _


def pool_problem(input_shape: tuple[int, ...], kernel: int, stride: int) -> str | None:
    """Why these pooling settings cannot run (one sentence), or None when they can."""
    if len(input_shape) != 2:
        return _("pooling here works on one grid (rows x cols)")
    height, width = input_shape
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        return _("the input is {height}x{width}: use at most {most}x{most} cells").format(
            height=height, width=width, most=MAX_SIDE
        )
    for problem in (
        check_range("pooling window", kernel, POOL_KERNEL_RANGE),
        check_range("pooling stride", stride, POOL_STRIDE_RANGE),
    ):
        if problem:
            return problem
    if kernel > min(height, width):
        return _(
            "the {size}x{size} pooling window is larger than the {height}x{width} input: use a smaller "
            "window or a larger input"
        ).format(size=kernel, height=height, width=width)
    return None


def pool(
    values: np.ndarray | list,
    *,
    kind: str = "max",
    kernel: int = 2,
    stride: int = 2,
    coefficient: float = 1.0,
    bias: float = 0.0,
) -> GridResult:
    """Max or average pooling, or the 1998 subsampling, of one ``H x W`` grid, step by step.

    ``kind``: "max" (largest value of the block), "avg" (block sum / k^2, torch's avg_pool2d)
    or "subsample" (LeNet-5 S2: block sum x coefficient + bias, before the squashing).
    """
    if kind not in ("max", "avg", "subsample"):
        raise GridSettingsError(
            _("unknown pooling kind {kind}: use 'max', 'avg' or 'subsample'").format(kind=repr(kind))
        )
    x = as_chw(values, "input")
    if x.shape[0] != 1:
        raise GridSettingsError(_("pooling here works on one grid (rows x cols), not several channels"))
    problem = pool_problem(x.shape[1:], kernel, stride)
    if problem:
        raise GridSettingsError(problem)
    coefficient, bias = (float(coefficient), float(bias)) if kind == "subsample" else (1.0, 0.0)
    mask = np.zeros(x.shape[1:], dtype=bool)
    steps, cells = [], {}
    for i, j, rows, cols in window_positions(*mask.shape, kernel, stride, 1):
        patch = x[:, rows][:, :, cols]
        if kind == "max":
            total = value = float(patch.max())
        else:
            total = float(patch.sum())
            value = total / kernel**2 if kind == "avg" else total * coefficient + bias
        steps.append(
            Step(len(steps), i, j, rows, cols, patch, mask[np.ix_(rows, cols)], None, None, total, bias, value)
        )
        cells[i, j] = value
    return GridResult(kind, x, mask, None, coefficient, tuple(steps), grid_of(cells))
