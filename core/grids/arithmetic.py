"""A grid step's arithmetic written out as a person writes it, and whether a typed guess is right.

Numbers without trailing zeros or ``-0`` (:func:`format_number`, used wherever the app shows a
number of a grid or a map), the products and sums of one convolution or pooling step
(:func:`describe_step`), and the rounding a student's guess is judged by (:func:`is_right_guess`).
"""

from __future__ import annotations

from core.grids.gridmath import GridResult
from core.i18n import _


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
