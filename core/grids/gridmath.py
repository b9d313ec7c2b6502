"""Convolution on small grids, one output cell at a time, and what every grid operation shares.

Every operation (convolution here, pooling in ``core.grids.pooling``) returns the whole sequence
of steps (where the window sits, what it covers, the products, their sum, the cell written) so a
page can replay it; the final output is the same as ``torch.nn.functional.conv2d`` /
``max_pool2d`` / ``avg_pool2d`` on the same numbers (tests/test_gridmath.py checks that).
``core.grids.arithmetic`` writes a step's arithmetic out. Conventions are torch's:
cross-correlation (the kernel is not flipped), zero padding, dilation spaces the kernel taps
``dilation`` cells apart, and the output side is floor((n + 2p - d(k - 1) - 1) / s) + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.i18n import N_, _
from core.models.common import conv_output_size

# The limits of the step-by-step grids: small enough to read every number on a projector.
MAX_SIDE = 12
MAX_CHANNELS = 3
KERNEL_RANGE = (1, 5)
STRIDE_RANGE = (1, 3)
PADDING_RANGE = (0, 2)
DILATION_RANGE = (1, 2)
POOL_KERNEL_RANGE = (2, 3)
POOL_STRIDE_RANGE = (1, 3)


class GridSettingsError(ValueError):
    """Settings that cannot work (the window does not fit, a size out of range); says why."""


@dataclass(frozen=True)
class Step:
    """One window position and the output cell it writes.

    ``rows``/``cols`` are coordinates in the padded input (dilation-spaced taps);
    ``patch`` is ``C x k x k`` (zeros on padding), ``padding`` is ``k x k``, True on padding.
    ``products`` and ``channel_sums`` exist for convolution only. ``total`` is the sum of the
    products (conv), of the block (avg, subsample) or the block's maximum (max).
    """

    index: int
    out_row: int
    out_col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    patch: np.ndarray
    padding: np.ndarray
    products: np.ndarray | None
    channel_sums: np.ndarray | None
    total: float
    bias: float
    value: float

    @property
    def window_cells(self) -> list[tuple[int, int]]:
        """Every (row, col) of the padded input under the window."""
        return [(r, c) for r in self.rows for c in self.cols]

    @property
    def largest_cell(self) -> tuple[int, int]:
        """(row, col) of the padded input holding the window's largest value (first channel)."""
        r, c = np.unravel_index(int(np.argmax(self.patch[0])), self.patch[0].shape)
        return self.rows[r], self.cols[c]


@dataclass(frozen=True)
class GridResult:
    """The steps of one operation, its output, and the padded input they refer to."""

    operation: str
    padded: np.ndarray  # C x Hp x Wp
    padding_mask: np.ndarray  # Hp x Wp, True on padding cells
    weights: np.ndarray | None  # C x k x k (conv only)
    coefficient: float  # subsample only (1.0 otherwise)
    steps: tuple[Step, ...]
    output: np.ndarray  # Ho x Wo

    def output_after(self, n_steps: int) -> np.ndarray:
        """The output grid once ``n_steps`` cells are written; NaN where not yet."""
        grid = np.full(self.output.shape, np.nan)
        for step in self.steps[: max(0, n_steps)]:
            grid[step.out_row, step.out_col] = step.value
        return grid


# The settings a message names (marked here, translated where the message is made).
SETTING_NAMES = (
    N_("kernel size"),
    N_("stride"),
    N_("padding"),
    N_("dilation"),
    N_("pooling window"),
    N_("pooling stride"),
)
GRID_NAMES = (N_("input"), N_("kernel"), N_("image"))
SIDES = {"height": N_("height"), "width": N_("width")}


def check_range(name: str, value: int, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        return _("{name} must be a whole number from {low} to {high}, got {value}").format(
            name=_(name), low=low, high=high, value=repr(value)
        )
    return None


def fit_problem(height: int, width: int, kernel: int, *, stride: int, padding: int, dilation: int) -> str | None:
    span = dilation * (kernel - 1) + 1
    for side, n in (("height", height), ("width", width)):
        if span > n + 2 * padding:
            numbers = dict(
                side=_(SIDES[side]),
                n=n,
                padding=padding,
                padded=n + 2 * padding,
                kernel=kernel,
                dilation=dilation,
                span=span,
            )
            if dilation > 1:
                return _(
                    "the kernel (kernel {kernel} with dilation {dilation} spans {span} cells) is larger "
                    "than the padded input {side} {n} + 2×{padding} = {padded}: use a smaller kernel or "
                    "dilation, or more padding"
                ).format(**numbers)
            return _(
                "the kernel is larger than the padded input {side} {n} + 2×{padding} = {padded}: use a "
                "smaller kernel or dilation, or more padding"
            ).format(**numbers)
    return None


def output_size(n: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output side floor((n + 2p - d(k - 1) - 1) / s) + 1, as torch computes it.

    Raises GridSettingsError when the (dilated) kernel is larger than the padded input.
    """
    problem = fit_problem(n, n, kernel, stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    return conv_output_size(n, kernel, padding=padding, stride=stride, dilation=dilation)


def as_chw(values: np.ndarray | list, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise GridSettingsError(
            _("the {name} must be a grid (rows x cols) or channels x rows x cols, got {ndim} dimensions").format(
                name=_(name), ndim=array.ndim
            )
        )
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        where = tuple(int(i) for i in bad[0][-2:])
        raise GridSettingsError(
            _("the {name} cell at row {row}, column {col} is empty or not a number: type a number there").format(
                name=_(name), row=where[0], col=where[1]
            )
        )
    return array


def conv_problem(
    input_shape: tuple[int, ...], kernel_shape: tuple[int, ...], *, stride: int = 1, padding: int = 0, dilation: int = 1
) -> str | None:
    """Why these convolution settings cannot run (one sentence), or None when they can."""
    in_shape = (1, *input_shape) if len(input_shape) == 2 else tuple(input_shape)
    k_shape = (1, *kernel_shape) if len(kernel_shape) == 2 else tuple(kernel_shape)
    if len(in_shape) != 3 or len(k_shape) != 3:
        return _("input and kernel must be grids (rows x cols) or channels x rows x cols")
    channels, height, width = in_shape
    if not 1 <= channels <= MAX_CHANNELS:
        return _("the input has {channels} channels: use 1 to {most}").format(channels=channels, most=MAX_CHANNELS)
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        return _("the input is {height}x{width}: use at most {most}x{most} cells").format(
            height=height, width=width, most=MAX_SIDE
        )
    if k_shape[1] != k_shape[2]:
        return _("the kernel must be square, got {height}x{width}").format(height=k_shape[1], width=k_shape[2])
    if k_shape[0] != channels:
        return _(
            "the filter has {filter_channels} channels but the input has {channels}: a filter needs one "
            "kernel per input channel"
        ).format(filter_channels=k_shape[0], channels=channels)
    for problem in (
        check_range("kernel size", k_shape[1], KERNEL_RANGE),
        check_range("stride", stride, STRIDE_RANGE),
        check_range("padding", padding, PADDING_RANGE),
        check_range("dilation", dilation, DILATION_RANGE),
    ):
        if problem:
            return problem
    return fit_problem(height, width, k_shape[1], stride=stride, padding=padding, dilation=dilation)


def pad(values: np.ndarray, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad ``C x H x W`` on all four sides; returns (padded, mask True on padding)."""
    values = np.asarray(values, dtype=float)
    padded = np.pad(values, ((0, 0), (padding, padding), (padding, padding)))
    mask = np.ones(padded.shape[1:], dtype=bool)
    mask[padding : padding + values.shape[1], padding : padding + values.shape[2]] = False
    return padded, mask


def window_positions(height: int, width: int, kernel: int, stride: int, dilation: int):
    """Yield (out_row, out_col, rows, cols) in reading order over a (padded) H x W grid."""
    span = dilation * (kernel - 1) + 1
    for i, top in enumerate(range(0, height - span + 1, stride)):
        for j, left in enumerate(range(0, width - span + 1, stride)):
            yield i, j, tuple(range(top, top + span, dilation)), tuple(range(left, left + span, dilation))


def convolve(
    values: np.ndarray | list,
    kernel: np.ndarray | list,
    *,
    bias: float = 0.0,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> GridResult:
    """Slide one filter over a small input (``H x W`` or ``C x H x W``), step by step.

    Raises GridSettingsError (with the reason) when the settings cannot work.
    """
    x = as_chw(values, "input")
    w = as_chw(kernel, "kernel")
    problem = conv_problem(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    bias = float(bias)
    padded, mask = pad(x, padding)
    steps, cells = [], {}
    for i, j, rows, cols in window_positions(*mask.shape, w.shape[1], stride, dilation):
        patch = padded[:, rows][:, :, cols]
        products = patch * w
        channel_sums = products.sum(axis=(1, 2))
        total = float(channel_sums.sum())
        steps.append(
            Step(
                len(steps),
                i,
                j,
                rows,
                cols,
                patch,
                mask[np.ix_(rows, cols)],
                products,
                channel_sums,
                total,
                bias,
                total + bias,
            )
        )
        cells[i, j] = total + bias
    return GridResult("conv", padded, mask, w, 1.0, tuple(steps), grid_of(cells))


def grid_of(cells: dict[tuple[int, int], float]) -> np.ndarray:
    rows = max(i for i, _col in cells) + 1
    cols = max(j for _row, j in cells) + 1
    grid = np.zeros((rows, cols))
    for (i, j), value in cells.items():
        grid[i, j] = value
    return grid


def feature_map(
    image: np.ndarray, kernel: np.ndarray, *, bias: float = 0.0, stride: int = 1, padding: int = 0, dilation: int = 1
) -> np.ndarray:
    """One kernel over a whole ``H x W`` image of any size (no steps kept): the feature map."""
    x = as_chw(image, "image")[0]
    w = as_chw(kernel, "kernel")[0]
    if w.shape[0] != w.shape[1]:
        raise GridSettingsError(
            _("the kernel must be square, got {height}x{width}").format(height=w.shape[0], width=w.shape[1])
        )
    problem = fit_problem(*x.shape, w.shape[0], stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    padded = np.pad(x, padding)
    span = dilation * (w.shape[0] - 1) + 1
    windows = sliding_window_view(padded, (span, span))[::stride, ::stride, ::dilation, ::dilation]
    return np.einsum("ijkl,kl->ij", windows, w) + float(bias)
