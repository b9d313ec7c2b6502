"""What /convolution's three modes share: small grids of numbers drawn as HTML tables, redrawn at every
step, a row of them sized by the browser to fit the screen (``stepper.cell_style``), and the step
player (``dashboard.stepping.stepper``) started on a mode's steps.
"""

import hashlib

import numpy as np
import streamlit as st

from core.grids import gridmath
from core.i18n import _
from dashboard.figures import charts
from dashboard.figures.html_pictures import grid_html, grids_row
from dashboard.frame import presenter
from dashboard.stepping import stepper
from dashboard.stepping.stepper import animate

DECIMALS = 2
GAP_PX = 28  # between the grids of one row


def largest_cell(largest: int = 56) -> int:
    """The largest cell side in px: larger in presenter mode, when there is room for it."""
    return int(largest * presenter.figure_scale())


def grid(values: np.ndarray, **options) -> str:
    """A small grid of numbers as an HTML table: redrawn fast enough to animate."""
    options.setdefault("colorscale", charts.palette("input").scale)
    return grid_html(values, decimals=DECIMALS, **options)


def signed_grid(values: np.ndarray, reach: float | None = None, **options) -> str:
    """A grid of weights, products or sums: blue-orange about 0 (in presenter mode), over
    -``reach``..``reach`` when given, else over its own values."""
    if reach is not None:
        options.update(zmin=-reach, zmax=reach)
    return grid(values, colorscale=charts.palette("signed").scale, zmid=0, **options)


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
    "max-pooling output"; the output cell by default, as ``arithmetic.describe_step`` names it);
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
