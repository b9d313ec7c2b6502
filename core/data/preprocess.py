"""One path from a picture to a network input: canvas arrays and image files.

A drawing is not an MNIST digit until it is made like one. MNIST's recipe
(LeCun et al. 1998, section III-A): the digit is scaled so its longer side fits 20 px,
anti-aliased, and pasted into 28x28 so its centre of mass is in the middle; white ink on
black (that geometry: :mod:`core.data.geometry`).

Steps, each kept in :class:`Preprocessed` so a page can show them:

1. ``raw``: grey, alpha composited onto the background, dark-on-light inverted, the
   background levelled to 0 and the ink stretched to 255;
2. ``cropped``: the box around the ink;
3. ``scaled``: longer side 20 px (area averaging when shrinking, bilinear when growing),
   its peak stretched back to 255 as in MNIST;
4. ``digit``: 28x28 with the centre of mass at (14, 14) within half a pixel, unless that
   would push ink out of the frame;
5. ``tensor``: ``1 x 1 x 28 x 28`` normalised with :data:`core.data.mnist.NORM_MEAN` and ``NORM_STD``.

Animated images (GIF, APNG, multi-page TIFF) are rejected, not reduced to a first frame:
which frame holds the digit is a guess, and this module reports, it does not guess.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from core.data.geometry import centre_of_mass, paste_centred, scale_box
from core.data.mnist import normalize
from core.i18n import _

MIN_CONTRAST = 0.2  # ink must differ from the background by 20% of full scale (51 of 255)
NOISE_SIGMAS = 5.0  # background noise (robust sigma of the border) is levelled away up to here
INK_FRACTION = 0.05  # a pixel above 5% of the ink's peak belongs to the ink box
MIN_INK_FRACTION = 0.1  # ink box shorter than 10% of the picture: a stray dot, not a digit
MAX_PIXELS = 25_000_000
# Files are shrunk to this longer side before anything else: the network sees 20 px, and a
# 25 Mpx photo at full size would need about half a gigabyte of working memory.
WORK_SIDE = 1024
MAX_BYTES = 20_000_000


class PreprocessError(ValueError):
    """The picture cannot be made into an MNIST-style digit; the message says why."""


class NotAnImageError(PreprocessError):
    """The data is not an image this module can read."""


class ImageTooLargeError(PreprocessError):
    """The file or its pixel count is above the limit."""


class AnimatedImageError(PreprocessError):
    """The image has more than one frame."""


class EmptyImageError(PreprocessError):
    """Nothing stands out from the background: an empty canvas, an all-white picture."""


class TooLittleInkError(PreprocessError):
    """Some ink, but far too little for a digit: a stray dot."""


@dataclass(frozen=True, eq=False)  # arrays inside: == would be ambiguous
class Preprocessed:
    """Every step from picture to tensor, for the network and for a page to show."""

    raw: np.ndarray  # uint8 HxW, white ink on black, background 0, ink peak 255
    cropped: np.ndarray  # uint8, raw cut to ink_box
    scaled: np.ndarray  # uint8, longer side BOX_SIZE
    digit: np.ndarray  # uint8 28x28
    tensor: torch.Tensor  # float32 1x1x28x28, normalised
    inverted: bool  # the picture was dark ink on a light background
    background: float  # background brightness of the input, 0 (black) to 1 (white)
    ink_box: tuple[int, int, int, int]  # (top, left, bottom, right) in raw, bottom/right exclusive
    offset: tuple[int, int]  # (row, col) where scaled sits in digit
    shift: tuple[int, int]  # offset minus the geometrically centred offset: the centre-of-mass move
    centre_of_mass: tuple[float, float]  # (row, col) of digit, weighted by brightness


def from_array(
    arr: np.ndarray, *, max_pixels: int = MAX_PIXELS, min_ink_fraction: float = MIN_INK_FRACTION
) -> Preprocessed:
    """Preprocess an HxW grey, HxWx2 grey+alpha, HxWx3 RGB or HxWx4 RGBA array.

    uint8 and bool are read as 0-255 and 0-1; uint16 as 0-65535; other integers and floats as
    0-1 when their maximum is at most 1, else as 0-255. Either polarity is accepted.
    """
    grey, alpha = _grey_and_alpha(arr, max_pixels)
    ink, background, inverted = _composite_and_polarity(grey, alpha)
    levelled = _level(ink)
    box = _ink_box(levelled, min_ink_fraction)
    raw = _to_uint8(levelled)
    top, left, bottom, right = box
    crop = levelled[top:bottom, left:right]
    scaled = scale_box(crop)
    digit, offset, shift = paste_centred(scaled)
    tensor = normalize(torch.from_numpy(digit).unsqueeze(0))
    return Preprocessed(
        raw=raw,
        cropped=raw[top:bottom, left:right].copy(),
        scaled=_to_uint8(scaled / 255.0),
        digit=digit,
        tensor=tensor,
        inverted=inverted,
        background=background,
        ink_box=box,
        offset=offset,
        shift=shift,
        centre_of_mass=centre_of_mass(digit),
    )


def from_bytes(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES, min_ink_fraction: float = MIN_INK_FRACTION
) -> Preprocessed:
    """Preprocess an encoded image (PNG, JPEG, anything PIL reads), checking it first.

    The pixel count is checked from the header, before any pixel data is decoded. Pictures
    over WORK_SIDE px are shrunk to it first, so ``raw`` and ``ink_box`` are in those pixels.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise NotAnImageError(_("expected the bytes of an image file, got {kind}").format(kind=type(data).__name__))
    if len(data) == 0:
        raise NotAnImageError(_("the file is empty (0 bytes): not an image"))
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            _("the file is {size:,} bytes, above the limit of {limit:,}: use a smaller picture of the digit").format(
                size=len(data), limit=max_bytes
            )
        )
    try:
        with warnings.catch_warnings():
            # PIL warns above ~89 Mpx; our own limit, checked next, is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(bytes(data)))
    except Image.DecompressionBombError as exc:
        # PIL's own words ("could be decompression bomb DOS attack") are not for a student, and
        # English: only the pixel count is kept from them.
        counted = re.search(r"\((\d+) pixels\)", str(exc))
        if counted is None:
            raise ImageTooLargeError(
                _("the image has far too many pixels: use a smaller picture of the digit")
            ) from exc
        raise ImageTooLargeError(
            _(
                "the image has {pixels:,} pixels, above the limit of {limit:,}: use a smaller picture of the digit"
            ).format(pixels=int(counted.group(1)), limit=max_pixels)
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImageError(
            _("not an image that can be read (PNG, JPEG, GIF, BMP, ...): check that the file really is a picture")
        ) from exc
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            _(
                "the image is {width:,} x {height:,} = {pixels:,} pixels, above the limit "
                "of {limit:,}: use a smaller picture of the digit"
            ).format(width=width, height=height, pixels=width * height, limit=max_pixels)
        )
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        raise AnimatedImageError(
            _(
                "the image is animated or has several pages ({frames} frames): use a single still picture of one digit"
            ).format(frames=frames)
        )
    try:
        img.draft(None, (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 size directly
        img.load()
        img = ImageOps.exif_transpose(img)  # phone photos are stored sideways plus a rotation tag
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImageError(
            _("the image could not be decoded ({reason}): the file is damaged or truncated").format(reason=exc)
        ) from exc
    return from_array(_pil_to_array(img), max_pixels=max_pixels, min_ink_fraction=min_ink_fraction)


def from_path(
    path: str | Path,
    *,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    min_ink_fraction: float = MIN_INK_FRACTION,
) -> Preprocessed:
    """Preprocess an image file; every error message starts with the file's name."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise PreprocessError(_("is a folder, not an image file"))
        if size > max_bytes:
            raise ImageTooLargeError(
                _(
                    "the file is {size:,} bytes, above the limit of {limit:,}: use a smaller picture of the digit"
                ).format(size=size, limit=max_bytes)
            )
        data = path.read_bytes()
        return from_bytes(data, max_pixels=max_pixels, max_bytes=max_bytes, min_ink_fraction=min_ink_fraction)
    except FileNotFoundError as exc:
        raise PreprocessError(_("{path}: no such file").format(path=path)) from exc
    except PermissionError as exc:
        raise PreprocessError(_("{path}: permission denied").format(path=path)) from exc
    except OSError as exc:
        raise PreprocessError(
            _("{path}: cannot be read ({reason})").format(path=path, reason=exc.strerror or exc)
        ) from exc
    except PreprocessError as exc:
        raise type(exc)(_("{path}: {message}").format(path=path, message=exc)) from exc


# --- steps -------------------------------------------------------------------------


def _grey_and_alpha(arr: np.ndarray, max_pixels: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Float32 grey in [0, 1] and alpha in [0, 1] (None when the input has no alpha)."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (2, 3, 4))):
        raise PreprocessError(
            _("expected an HxW, HxWx3 or HxWx4 image array, got shape {shape}").format(shape=arr.shape)
        )
    height, width = arr.shape[:2]
    if height == 0 or width == 0:
        raise EmptyImageError(_("the image has no pixels (shape {shape})").format(shape=arr.shape))
    if height * width > max_pixels:
        raise ImageTooLargeError(
            _(
                "the image is {width:,} x {height:,} pixels, above the limit of {limit:,}: "
                "use a smaller picture of the digit"
            ).format(width=width, height=height, limit=max_pixels)
        )
    values = _unit_range(arr)
    channels = 1 if values.ndim == 2 else values.shape[2]
    alpha = values[:, :, channels - 1] if channels in (2, 4) else None
    if channels == 1:
        grey = values
    elif channels == 2:
        grey = values[:, :, 0]
    else:  # ITU-R 601 luma, the weights PIL's convert("L") uses
        grey = values[:, :, 0] * 0.299 + values[:, :, 1] * 0.587 + values[:, :, 2] * 0.114
    return np.ascontiguousarray(grey, dtype=np.float32), alpha


def _unit_range(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise PreprocessError(_("expected numbers in the image array, got dtype {dtype}").format(dtype=arr.dtype))
    values = arr.astype(np.float32)
    if not np.isfinite(values).all():
        raise PreprocessError(_("the image array holds NaN or infinite values"))
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        raise PreprocessError(
            _("image values run from {low:g} to {high:g}: expected 0-1 or 0-255").format(low=low, high=high)
        )
    return values if high <= 1.0 else values / 255.0


def _border(image: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels, where the background is."""
    if min(image.shape) <= 2:
        return image.ravel()
    return np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])


def _composite_and_polarity(grey: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, float, bool]:
    """White-on-black float image, the background brightness, and whether it was inverted."""
    if alpha is not None and float(alpha.min()) < 1.0:
        if float(alpha.max()) == 0.0:
            raise EmptyImageError(_("the picture is fully transparent: nothing is drawn"))
        border_opaque = _border(alpha > 0.5)
        if border_opaque.mean() >= 0.5:
            # The picture has its own background; transparent holes take its colour.
            behind = float(np.median(_border(grey)[border_opaque]))
        else:
            # Transparent background, so the opaque part is the ink: put it on the opposite shade.
            ink_shade = float((grey * alpha).sum() / max(float(alpha.sum()), 1e-6))
            behind = 1.0 if ink_shade < 0.5 else 0.0
        grey = grey * alpha + behind * (1.0 - alpha)
    background = float(np.median(_border(grey)))
    inverted = background > 0.5
    ink = 1.0 - grey if inverted else grey
    # Snap to a 16-bit grid: 1 - (1 - v) is not v in floating point, and an 8-bit picture and
    # its negative must give the same tensor, not one a grey level apart here and there.
    return np.rint(ink * 65535.0) / np.float32(65535.0), background, inverted


def _level(ink: np.ndarray) -> np.ndarray:
    """Background to 0, the ink's peak to 1; fails if nothing stands out."""
    border = _border(ink)
    floor = float(np.median(border))
    peak = float(ink.max())
    if peak - floor < MIN_CONTRAST:
        raise EmptyImageError(
            _(
                "the picture is empty: no ink stands out from the background "
                "(contrast {contrast:.0%}, needs {needed:.0%}): draw a digit"
            ).format(contrast=peak - floor, needed=MIN_CONTRAST)
        )
    noise = 1.4826 * float(np.median(np.abs(border - floor)))  # robust sigma (MAD)
    floor += NOISE_SIGMAS * noise
    if peak - floor < MIN_CONTRAST / 2:
        raise EmptyImageError(
            _("the picture is empty: nothing stands out from the background noise: use a clearer picture of one digit")
        )
    return np.clip((ink - floor) / (peak - floor), 0.0, 1.0)


def _ink_box(levelled: np.ndarray, min_ink_fraction: float) -> tuple[int, int, int, int]:
    mask = levelled > INK_FRACTION
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise EmptyImageError(_("the picture is empty: draw a digit"))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    longer = max(box[2] - box[0], box[3] - box[1])
    needed = max(2.0, min_ink_fraction * max(levelled.shape))
    if longer < needed:
        raise TooLittleInkError(
            _(
                "too little ink: draw a bigger digit (the ink spans {longer} px of a "
                "{width} x {height} picture; at least {needed} px needed)"
            ).format(longer=longer, width=levelled.shape[1], height=levelled.shape[0], needed=int(np.ceil(needed)))
        )

    return box


def _to_uint8(unit: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """A decoded image as an array from_array accepts, alpha kept, no larger than WORK_SIDE."""
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grey: keep the depth
        values = np.asarray(img, dtype=np.float32)
        high = float(values.max()) if values.size else 0.0
        if img.mode.startswith("I;16") or high > 255:
            scale = 65535.0
        else:  # 32-bit integer or float files carry no scale: guess 0-255 or 0-1 from the values
            scale = 255.0 if high > 1 else 1.0
        img = Image.fromarray(np.clip(values / scale, 0.0, 1.0).astype(np.float32))
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        img = img.convert("RGBA")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("L" if img.mode == "1" else "RGB")
    if max(img.size) > WORK_SIDE:
        # BOX averages areas (and Pillow premultiplies alpha for RGBA), so thin ink survives.
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return np.asarray(img)
