"""Convolution and pooling on small grids, one output cell at a time.

Every operation returns the whole sequence of steps (where the window sits, what it covers,
the products, their sum, the cell written) so a page can replay it; the final output is the
same as ``torch.nn.functional.conv2d`` / ``max_pool2d`` / ``avg_pool2d`` on the same numbers
(tests/test_gridmath.py checks that). Conventions are torch's: cross-correlation (the kernel
is not flipped), zero padding, dilation spaces the kernel taps ``dilation`` cells apart, and
the output side is floor((n + 2p - d(k - 1) - 1) / s) + 1.

The 1998 LeNet subsampling (S2, S4) adds the block's inputs, multiplies by one trainable
coefficient and adds one trainable bias (LeCun et al., Proc. IEEE 1998); the paper then
squashes the result, which is left to the caller here.
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


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        return _("{name} must be a whole number from {low} to {high}, got {value}").format(
            name=_(name), low=low, high=high, value=repr(value)
        )
    return None


def _fit_problem(height: int, width: int, kernel: int, *, stride: int, padding: int, dilation: int) -> str | None:
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
    problem = _fit_problem(n, n, kernel, stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    return conv_output_size(n, kernel, padding=padding, stride=stride, dilation=dilation)


def _as_chw(values: np.ndarray | list, name: str) -> np.ndarray:
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
        _check_range("kernel size", k_shape[1], KERNEL_RANGE),
        _check_range("stride", stride, STRIDE_RANGE),
        _check_range("padding", padding, PADDING_RANGE),
        _check_range("dilation", dilation, DILATION_RANGE),
    ):
        if problem:
            return problem
    return _fit_problem(height, width, k_shape[1], stride=stride, padding=padding, dilation=dilation)


def pad(values: np.ndarray, padding: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad ``C x H x W`` on all four sides; returns (padded, mask True on padding)."""
    values = np.asarray(values, dtype=float)
    padded = np.pad(values, ((0, 0), (padding, padding), (padding, padding)))
    mask = np.ones(padded.shape[1:], dtype=bool)
    mask[padding : padding + values.shape[1], padding : padding + values.shape[2]] = False
    return padded, mask


def _windows(height: int, width: int, kernel: int, stride: int, dilation: int):
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
    x = _as_chw(values, "input")
    w = _as_chw(kernel, "kernel")
    problem = conv_problem(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    bias = float(bias)
    padded, mask = pad(x, padding)
    steps, cells = [], {}
    for i, j, rows, cols in _windows(*mask.shape, w.shape[1], stride, dilation):
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
    return GridResult("conv", padded, mask, w, 1.0, tuple(steps), _grid_of(cells))


def _grid_of(cells: dict[tuple[int, int], float]) -> np.ndarray:
    rows = max(i for i, _col in cells) + 1
    cols = max(j for _row, j in cells) + 1
    grid = np.zeros((rows, cols))
    for (i, j), value in cells.items():
        grid[i, j] = value
    return grid


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
        _check_range("pooling window", kernel, POOL_KERNEL_RANGE),
        _check_range("pooling stride", stride, POOL_STRIDE_RANGE),
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
    x = _as_chw(values, "input")
    if x.shape[0] != 1:
        raise GridSettingsError(_("pooling here works on one grid (rows x cols), not several channels"))
    problem = pool_problem(x.shape[1:], kernel, stride)
    if problem:
        raise GridSettingsError(problem)
    coefficient, bias = (float(coefficient), float(bias)) if kind == "subsample" else (1.0, 0.0)
    mask = np.zeros(x.shape[1:], dtype=bool)
    steps, cells = [], {}
    for i, j, rows, cols in _windows(*mask.shape, kernel, stride, 1):
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
    return GridResult(kind, x, mask, None, coefficient, tuple(steps), _grid_of(cells))


def feature_map(
    image: np.ndarray, kernel: np.ndarray, *, bias: float = 0.0, stride: int = 1, padding: int = 0, dilation: int = 1
) -> np.ndarray:
    """One kernel over a whole ``H x W`` image of any size (no steps kept): the feature map."""
    x = _as_chw(image, "image")[0]
    w = _as_chw(kernel, "kernel")[0]
    if w.shape[0] != w.shape[1]:
        raise GridSettingsError(
            _("the kernel must be square, got {height}x{width}").format(height=w.shape[0], width=w.shape[1])
        )
    problem = _fit_problem(*x.shape, w.shape[0], stride=stride, padding=padding, dilation=dilation)
    if problem:
        raise GridSettingsError(problem)
    padded = np.pad(x, padding)
    span = dilation * (w.shape[0] - 1) + 1
    windows = sliding_window_view(padded, (span, span))[::stride, ::stride, ::dilation, ::dilation]
    return np.einsum("ijkl,kl->ij", windows, w) + float(bias)


def format_number(value: float, decimals: int = 2) -> str:
    """A number as a person writes it: ``3``, ``-0.5``, ``0.25`` (no ``-0``, no trailing zeros)."""
    text = (
        f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
        if decimals
        else f"{round(float(value)):d}"
    )
    return "0" if text in ("-0", "") else text


def _signed(value: float, decimals: int) -> str:
    text = format_number(value, decimals)
    return f"({text})" if text.startswith("-") else text


def describe_step(result: GridResult, index: int, decimals: int = 2) -> list[str]:
    """The arithmetic of one step as lines of plain text, ending with the value written."""
    step = result.steps[index]
    fmt = lambda v: format_number(v, decimals)  # noqa: E731
    cell = _("output[{row}, {col}]").format(row=step.out_row, col=step.out_col)
    numbers = [fmt(v) for v in step.patch.ravel()]
    if result.operation == "max":
        return [f"max({', '.join(numbers)}) = {fmt(step.value)}", f"{cell} = {fmt(step.value)}"]
    block_sum = f"({' + '.join(_signed(v, decimals) for v in step.patch.ravel())})"
    if result.operation == "avg":
        return [
            f"{block_sum} / {step.patch.size} = {fmt(step.total)} / {step.patch.size} = {fmt(step.value)}",
            f"{cell} = {fmt(step.value)}",
        ]
    if result.operation == "subsample":
        return [
            f"{block_sum} × {fmt(result.coefficient)} + {_signed(step.bias, decimals)}"
            f" = {fmt(step.total)} × {fmt(result.coefficient)} + {_signed(step.bias, decimals)}"
            f" = {fmt(step.value)}",
            f"{cell} = {fmt(step.value)}",
        ]
    lines = []
    for c in range(step.patch.shape[0]):
        terms = " + ".join(
            f"{_signed(a, decimals)}×{_signed(b, decimals)}"
            for a, b in zip(step.patch[c].ravel(), result.weights[c].ravel())
        )
        line = f"{terms} = {fmt(step.channel_sums[c])}"
        lines.append(
            _("channel {channel}: {arithmetic}").format(channel=c + 1, arithmetic=line)
            if step.patch.shape[0] > 1
            else line
        )
    if step.patch.shape[0] > 1:
        lines.append(" + ".join(_signed(s, decimals) for s in step.channel_sums) + f" = {fmt(step.total)}")
    lines.append(
        _("sum {total} + bias {bias} = {value}").format(
            total=fmt(step.total), bias=_signed(step.bias, decimals), value=fmt(step.value)
        )
    )
    return lines


def is_right_guess(guess: float, value: float, decimals: int = 2) -> bool:
    """A typed prediction counts as right when it matches the value shown to ``decimals`` places."""
    return abs(float(guess) - float(value)) <= 0.5 * 10.0**-decimals + 1e-9
