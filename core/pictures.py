"""Pictures of numbers, as arrays: a map stretched to grey, enlarged by whole pixels, framed,
a stack of channels as tiles, a kernel's slices side by side.

No text is drawn into a picture: numbers and labels go in captions and figure text, which the
browser renders in the student's own language and fonts (no server font is needed).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

from core.dataset_views import upscale_nearest


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
    square[top:top + fitted.shape[0], left:left + fitted.shape[1]] = fitted
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
        grid[top:top + height, left:left + width] = piece
    return grid
