"""How shapes are written, as the 1998 paper writes them: one place for the whole project."""

from __future__ import annotations

from collections.abc import Sequence


def shape_text(shape: Sequence[int]) -> str:
    """``(6, 28, 28)`` -> ``6@28×28`` (maps@height×width, the paper's notation); ``(84,)`` -> ``84``."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        return f"{shape[0]}@{shape[1]}×{shape[2]}"
    return "×".join(str(s) for s in shape)


def units_product(shape: Sequence[int]) -> str:
    """A layer's output units multiplied out as the paper's connection counts write them:
    ``(6, 28, 28)`` -> ``28x28x6``; ``(84,)`` -> ``84``."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 3:
        return f"{shape[1]}x{shape[2]}x{shape[0]}"
    return "x".join(str(s) for s in shape)
