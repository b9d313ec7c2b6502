"""Pictures of numbers, as arrays: a map stretched to grey, enlarged by whole pixels, framed,
a stack of channels as tiles, a kernel's slices side by side.

No text is drawn into a picture: numbers and labels go in captions and figure text, which the
browser renders in the student's own language and fonts (no server font is needed). What a
picture shows is said in words too (``describe_map``), for its text alternative.
"""

from __future__ import annotations

import base64
import io
import math
import warnings

import numpy as np
import torch
from PIL import Image

from core.data.views import upscale_nearest
from core.grids.arithmetic import format_number
from core.i18n import N_, _


def to_grey(values: np.ndarray) -> np.ndarray:
    """A map stretched to 0-255 over its own range (a constant map is black)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if not math.isfinite(low) or not math.isfinite(high) or high - low < 1e-12:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) / (high - low) * 255.0).astype(np.uint8)


def enlarge(image: np.ndarray, side_px: int) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor, so that each pixel stays a crisp square."""
    image = np.asarray(image)
    return upscale_nearest(image, max(1, side_px // max(image.shape[0], image.shape[1], 1)))


def framed(image: np.ndarray, side_px: int) -> np.ndarray:
    """A grey uint8 picture fitted into a black ``side_px`` square with a grey outline, so that a
    thin or all-white picture still shows its edges. Small pictures grow by a whole factor
    (crisp squares); large ones shrink with area averaging."""
    image = np.asarray(image, dtype=np.uint8)
    height, width = image.shape
    inner = side_px - 2
    if max(height, width) <= inner:
        fitted = enlarge(image, inner)
    else:
        scale = inner / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        fitted = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))
    square = np.zeros((side_px, side_px), dtype=np.uint8)
    top, left = (side_px - fitted.shape[0]) // 2, (side_px - fitted.shape[1]) // 2
    square[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    square[[0, -1], :] = 128
    square[:, [0, -1]] = 128
    return square


def channel_tiles(tensor: torch.Tensor | np.ndarray, *, tile_px: int = 56) -> list[np.ndarray]:
    """A ``C x H x W`` stack as ``C`` grey uint8 pictures, each channel stretched to its own
    range and enlarged by whole pixels to about ``tile_px``."""
    maps = np.asarray(tensor.numpy() if isinstance(tensor, torch.Tensor) else tensor, dtype=np.float32)
    return [enlarge(to_grey(m), tile_px) for m in maps]


def kernel_grid(kernel: torch.Tensor | np.ndarray, *, columns: int = 6) -> np.ndarray:
    """One output channel's kernel, ``C_in x k x k``, as one 2-D array for a grid picture: the
    ``C_in`` slices side by side, ``columns`` to a row, NaN in the one-cell gaps between them."""
    slices = np.asarray(kernel.numpy() if isinstance(kernel, torch.Tensor) else kernel, dtype=np.float64)
    if slices.ndim == 2:
        slices = slices[None]
    count, height, width = slices.shape
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for index, piece in enumerate(slices):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        grid[top : top + height, left : left + width] = piece
    return grid


# --- what a map shows, in words (a picture's text alternative) -------------------------------------

# The map is cut into 3 x 3 regions. A pixel is bright when it is at least halfway from the map's
# typical value (its median) to its highest: a feature map's background, whatever its level, is
# not bright, its strongest responses are. A region is bright when its share of bright pixels is
# within the top 40% of the span from the emptiest region's share to the fullest's. When the
# emptiest region's share is within UNIFORM_SHARE of the fullest's, the map is "about equally
# bright": nothing stands out.
BRIGHT_SHARE, UNIFORM_SHARE = 0.6, 0.25
REGION_NAMES = (
    (N_("the top left"), N_("the top"), N_("the top right")),
    (N_("the left"), N_("the centre"), N_("the right")),
    (N_("the bottom left"), N_("the bottom"), N_("the bottom right")),
)
_LEFT, _MIDDLE, _RIGHT = ({(r, c) for r in range(3)} for c in range(3))
_TOP, _BAND, _BOTTOM = ({(r, c) for c in range(3)} for r in range(3))
# Whole lines of regions that have a name of their own, before the list of regions.
SHAPES = (
    (_LEFT, N_("along the left edge")),
    (_RIGHT, N_("along the right edge")),
    (_TOP, N_("along the top edge")),
    (_BOTTOM, N_("along the bottom edge")),
    (_MIDDLE, N_("in a vertical band through the middle")),
    (_BAND, N_("in a horizontal band through the middle")),
    ({(0, 0), (1, 1), (2, 2)}, N_("along the diagonal from the top left to the bottom right")),
    ({(0, 2), (1, 1), (2, 0)}, N_("along the diagonal from the top right to the bottom left")),
    ({(1, 1)}, N_("in the centre")),
    ({(r, c) for r in range(3) for c in range(3)} - {(1, 1)}, N_("all around the border")),
)


def _bands(size: int) -> list[tuple[int, slice]]:
    """A side of ``size`` cells cut into up to three bands: (region index 0-2, which cells). One
    band is the middle (a single row is neither top nor bottom); two are the two ends."""
    count = min(3, size)
    positions = {1: (1,), 2: (0, 2), 3: (0, 1, 2)}[count]
    # Cell k is in band k * count // size: band i runs from ceil(i * size / count).
    starts = [-(-i * size // count) for i in range(count + 1)]
    return [(position, slice(starts[i], starts[i + 1])) for i, position in enumerate(positions)]


def bright_regions(values: np.ndarray) -> set[tuple[int, int]] | None:
    """The (row, column) regions, of 3 x 3, where the map is brightest; None when none stands
    out (a flat or evenly bright map). A map under 3 cells in a direction has fewer regions there
    (``_bands``)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        return None
    return _bright_regions_of_stack(values[None])[0]


def _bright_regions_of_stack(stack: np.ndarray) -> list[set[tuple[int, int]] | None]:
    """:func:`bright_regions` of each map of a ``C x H x W`` stack, worked out for all at once
    (a layer's channels are described on every /draw run)."""
    finite = np.isfinite(stack)
    shares = {}  # region -> each map's share of bright pixels there (NaN: no finite pixel there)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN map: its span is NaN, below
        filled = np.where(finite, stack, np.nan)
        low, high = np.nanmin(filled, axis=(1, 2)), np.nanmax(filled, axis=(1, 2))
        scaled = (filled - low[:, None, None]) / (high - low)[:, None, None]
        typical = np.nanmedian(scaled.reshape(len(stack), -1), axis=1)
        bright = scaled >= (typical + 0.5 * (1.0 - typical))[:, None, None]  # False where NaN
        for r, rows in _bands(stack.shape[1]):
            for c, cols in _bands(stack.shape[2]):
                shares[r, c] = bright[:, rows, cols].sum(axis=(1, 2)) / finite[:, rows, cols].sum(axis=(1, 2))
    found: list[set[tuple[int, int]] | None] = []
    for k in range(len(stack)):
        if not high[k] - low[k] >= 1e-12:  # flat, or no finite value at all (NaN)
            found.append(None)
            continue
        mine = {region: float(share[k]) for region, share in shares.items() if not np.isnan(share[k])}
        emptiest, fullest = min(mine.values()), max(mine.values())
        if fullest - emptiest < UNIFORM_SHARE * fullest:
            found.append(None)
            continue
        threshold = emptiest + BRIGHT_SHARE * (fullest - emptiest)
        found.append({region for region, share in mine.items() if share >= threshold})
    return found


def where_bright(regions: set[tuple[int, int]]) -> str:
    """Where ``regions`` (from ``bright_regions``) lie, as a phrase: a named shape (an edge, a
    band, a diagonal, the centre), else the list of regions."""
    for shape, phrase in SHAPES:
        if regions == shape:
            return _(phrase)
    names = _(", ").join(_(REGION_NAMES[r][c]) for r, c in sorted(regions))
    return _("at {places}").format(places=names)


def describe_map(values: np.ndarray, *, signed: bool = False) -> str:
    """What a map (a feature map, an attribution, a digit) shows, in words for its text
    alternative: where it is bright ("bright along the left edge"), or that it is flat or evenly
    bright. ``signed``: a map coloured by sign, whose bright end is its highest values."""
    values = np.asarray(values, dtype=np.float64)
    return _describe(values, bright_regions(values), signed)


def describe_maps(stack: np.ndarray, *, signed: bool = False) -> list[str]:
    """:func:`describe_map` of each map of a ``C x H x W`` stack (a layer's channels)."""
    stack = np.asarray(stack, dtype=np.float64)
    return [_describe(values, regions, signed) for values, regions in zip(stack, _bright_regions_of_stack(stack))]


def _describe(values: np.ndarray, regions: set[tuple[int, int]] | None, signed: bool) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return _("empty: no values yet")
    if float(finite.max() - finite.min()) < 1e-12:
        return _("flat: every value is {value}").format(value=format_number(float(finite[0]), 2))
    if regions is None:
        return _("about the same values all over") if signed else _("about equally bright all over")
    where = where_bright(regions)
    return (_("highest values {where}") if signed else _("bright {where}")).format(where=where)


def png_data_uri(picture: np.ndarray) -> str:
    """A uint8 picture (grey or RGB) as a PNG ``data:`` URI, to sit inside HTML or a figure."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
