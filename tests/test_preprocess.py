"""core.data.preprocess: picture -> MNIST-style 28x28 tensor, and every bad input it must refuse.

Expected numbers come from MNIST's recipe (LeCun et al. 1998, section III-A: longer side
20 px, centre of mass at the centre of 28x28), from measuring MNIST itself (centre of mass
(row, col) within [13.5, 14.5] for all 10,000 test digits) and from hand computation.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFile, ImageFilter

from core.data import preprocess as pp
from core.data.geometry import centre_of_mass
from core.data.mnist import load_test
from tests.harness import black_1bit_png

CANVAS = 280  # the draw page's canvas: 10x MNIST's 28


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def same_shape(a: np.ndarray, b: np.ndarray) -> float:
    """Best correlation over shifts of up to 1 px: centring rounds to whole pixels, so two
    near-identical digits may land 1 px apart, which alone drops the plain correlation of a
    2 px stroke to ~0.5."""
    return max(
        float(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b.ravel())[0, 1])
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def seven_in_corner() -> np.ndarray:
    """A thick, slightly blurred '7' in the top-left corner of a black canvas: white on black."""
    img = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(img).line([(20, 20), (90, 20), (45, 120)], fill=255, width=10)
    return np.asarray(img.filter(ImageFilter.GaussianBlur(1.5)))


def zero_touching_border() -> np.ndarray:
    """A thick '0' cut by the top and bottom edges of the canvas."""
    img = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(img).ellipse([60, -30, 230, 310], outline=255, width=28)
    return np.asarray(img)


def png_bytes(image: Image.Image, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=save_args.pop("format", "PNG"), **save_args)
    return buffer.getvalue()


# --- the MNIST recipe ----------------------------------------------------------------


@pytest.mark.parametrize("make", [seven_in_corner, zero_touching_border])
def test_small_off_centre_and_large_border_touching_digits_end_like_mnist(make):
    result = pp.from_array(make())
    assert max(result.scaled.shape) == 20
    top, left, bottom, right = ink_box(result.digit)
    assert max(bottom - top, right - left) == 20  # MNIST: longer side 20 px
    row, col = centre_of_mass(result.digit)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1  # MNIST: centre of mass at (14, 14)
    assert result.digit.dtype == np.uint8 and result.digit.shape == (28, 28)
    assert result.inverted is False


def test_off_centre_digit_is_found_where_it_was_drawn():
    result = pp.from_array(seven_in_corner())
    top, left, bottom, right = result.ink_box
    # By hand: the bar runs x 20..90 at y 15..25 (width 10), the stroke ends near (45, 120);
    # the 1.5 px blur widens each edge by a few pixels.
    assert 11 <= top <= 15 and 16 <= left <= 20 and 121 <= bottom <= 129 and 91 <= right <= 99
    assert result.cropped.shape == (bottom - top, right - left)


def test_tensor_is_normalised_with_mnist_statistics():
    result = pp.from_array(seven_in_corner())
    assert result.tensor.shape == (1, 1, 28, 28) and result.tensor.dtype == torch.float32
    # black is (0 - 0.1307) / 0.3081 = -0.42421, full ink (1 - 0.1307) / 0.3081 = 2.82149
    assert result.tensor.min().item() == pytest.approx(-0.42421, abs=1e-4)
    assert result.tensor.max().item() == pytest.approx(2.82149, abs=1e-4)


def test_real_mnist_digits_come_back_almost_unchanged():
    # MNIST digits were made by this very recipe, so redoing it is close to the identity.
    images = load_test().images[:200].numpy()
    first = pp.from_array(images[0])
    assert np.abs(first.digit.astype(int) - images[0].astype(int)).max() <= 1
    for image in images:
        digit = pp.from_array(image).digit
        row, col = centre_of_mass(digit)
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1
        assert np.corrcoef(digit.ravel(), image.ravel())[0, 1] > 0.9


# --- polarity, alpha, dtypes: one digit, one tensor ---------------------------------


def _variants(white_on_black: np.ndarray) -> dict[str, np.ndarray]:
    ink = white_on_black
    zeros, full = np.zeros_like(ink), np.full_like(ink, 255)
    return {
        "dark on white": 255 - ink,
        "dark on white RGB": np.stack([255 - ink] * 3, axis=-1),
        "float 0-1": ink.astype(np.float64) / 255.0,
        # streamlit-drawable-canvas: white strokes, transparent where nothing is drawn
        "canvas RGBA, transparent background": np.stack([np.where(ink > 0, full, zeros)] * 3 + [ink], axis=-1),
        "dark ink on transparent": np.stack([zeros] * 3 + [ink], axis=-1),
        "opaque RGBA": np.stack([ink] * 3 + [full], axis=-1),
    }


@pytest.mark.parametrize("name", list(_variants(seven_in_corner())))
def test_every_polarity_and_alpha_variant_gives_the_same_tensor(name):
    reference = pp.from_array(seven_in_corner())
    result = pp.from_array(_variants(seven_in_corner())[name])
    assert torch.allclose(result.tensor, reference.tensor, atol=1e-6)
    assert result.inverted is ("dark" in name)  # dark ink, wherever its background came from


def test_negatives_of_real_digits_give_identical_digits():
    # 100 MNIST digits blown up to canvas size: each, its negative and its dark-ink-on-
    # transparent version must give the same 28x28 bytes. Floating point alone (1 - (1 - v)
    # is not v) made 15 of 600 such pairs differ by a grey level before the 16-bit snap.
    for image in load_test().images[:100].numpy():
        big = np.asarray(Image.fromarray(image).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR))
        reference = pp.from_array(big).digit
        zeros = np.zeros_like(big)
        assert np.array_equal(pp.from_array(255 - big).digit, reference)
        assert np.array_equal(pp.from_array(np.stack([zeros] * 3 + [big], axis=-1)).digit, reference)


def test_grey_noisy_paper_is_levelled_not_taken_for_ink():
    # Dark ink on grey paper (0.8) with noise sigma 0.03: without the noise floor every
    # background pixel would pass the 5% ink threshold and the box would be the whole picture.
    rng = np.random.default_rng(0)
    paper = 0.8 - 0.6 * seven_in_corner() / 255.0 + rng.normal(0, 0.03, (CANVAS, CANVAS))
    result = pp.from_array(np.clip(paper, 0, 1))
    clean = pp.from_array(seven_in_corner())
    assert result.background == pytest.approx(0.8, abs=0.01)
    assert result.inverted is True
    assert all(abs(a - b) <= 3 for a, b in zip(result.ink_box, clean.ink_box))
    assert same_shape(result.digit, clean.digit) > 0.9


# --- empty and nearly empty --------------------------------------------------------


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((CANVAS, CANVAS, 4), np.uint8),  # the canvas before drawing: all transparent
        np.dstack([np.zeros((CANVAS, CANVAS, 3), np.uint8), np.full((CANVAS, CANVAS), 255, np.uint8)]),
        np.full((CANVAS, CANVAS), 255, np.uint8),
        np.full((CANVAS, CANVAS), 0.5),
    ],
    ids=["transparent", "opaque black", "white", "grey"],
)
def test_empty_canvas_is_reported_empty(canvas):
    with pytest.raises(pp.EmptyImageError, match="empty|transparent"):
        pp.from_array(canvas)


@pytest.mark.parametrize("diameter", [3, 20])
def test_a_stray_dot_is_too_little_ink_not_empty(diameter):
    # A click with a 20 px brush: 20 < 10% of 280 = 28 px, the shortest box taken for a digit.
    img = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(img).ellipse([140, 140, 140 + diameter - 1, 140 + diameter - 1], fill=255)
    with pytest.raises(pp.TooLittleInkError, match="too little ink: draw a bigger digit") as info:
        pp.from_array(np.asarray(img))
    assert not isinstance(info.value, pp.EmptyImageError)


@pytest.mark.parametrize(
    "arr, message",
    [
        (np.zeros((3, 28, 28), np.uint8), "shape"),
        (np.zeros((28, 28, 5), np.uint8), "shape"),
        (np.full((28, 28), np.nan), "NaN"),
        (np.full((28, 28), 300.0), "0-255"),
        (np.array([["a"]]), "dtype"),
    ],
)
def test_bad_arrays_get_a_clear_message(arr, message):
    with pytest.raises(pp.PreprocessError, match=message):
        pp.from_array(arr)


# --- bad-input matrix for files (issue 8) -------------------------------------------


def test_text_file_renamed_png_is_not_an_image(tmp_path):
    with pytest.raises(pp.NotAnImageError, match="not an image"):
        pp.from_bytes(b"hello")
    fake = tmp_path / "digit.png"
    fake.write_bytes(b"hello")
    with pytest.raises(pp.PreprocessError, match="digit.png: not an image"):
        pp.from_path(fake)


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(pp.PreprocessError, match="nowhere.png: no such file"):
        pp.from_path(tmp_path / "nowhere.png")
    with pytest.raises(pp.PreprocessError, match="is a folder"):
        pp.from_path(tmp_path)


class PixelsDecoded(Exception):
    """Raised by the patched load: the pixel data was about to be decoded."""


def _refuse_to_decode(monkeypatch):
    def load(self, *args, **kwargs):
        raise PixelsDecoded

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(Image.Image, "load", load)


def test_huge_png_is_rejected_from_its_header_before_decoding(monkeypatch):
    data = black_1bit_png(10_000, 10_000)
    assert len(data) < 100_000  # cheap to make: 100 M black pixels compress to ~12 kB
    _refuse_to_decode(monkeypatch)
    with pytest.raises(pp.ImageTooLargeError, match="10,000 x 10,000"):
        pp.from_bytes(data)
    # Control: with the limit raised, the same bytes reach the decoder, so the patch does bite.
    with pytest.raises(PixelsDecoded):
        pp.from_bytes(data, max_pixels=10**9)


def test_decompression_bomb_beyond_pil_own_limit_is_too_large():
    # 30,000^2 = 900 M pixels > 2 x PIL's MAX_IMAGE_PIXELS (89.5 M): PIL refuses in open().
    with pytest.raises(pp.ImageTooLargeError):
        pp.from_bytes(black_1bit_png(30_000, 30_000, rows=1))


def test_file_over_the_byte_limit_is_too_large():
    with pytest.raises(pp.ImageTooLargeError, match="bytes"):
        pp.from_bytes(png_bytes(Image.fromarray(seven_in_corner())), max_bytes=100)


def test_truncated_png_is_reported_damaged():
    data = png_bytes(Image.fromarray(seven_in_corner()))
    with pytest.raises(pp.NotAnImageError, match="damaged or truncated"):
        pp.from_bytes(data[: len(data) // 2])


def test_animated_gif_is_rejected():
    frames = [Image.fromarray(seven_in_corner()), Image.fromarray(zero_touching_border())]
    data = png_bytes(frames[0], format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(pp.AnimatedImageError, match="2 frames"):
        pp.from_bytes(data)


def test_single_frame_gif_is_fine():
    reference = pp.from_array(seven_in_corner())
    result = pp.from_bytes(png_bytes(Image.fromarray(seven_in_corner()), format="GIF"))
    assert torch.allclose(result.tensor, reference.tensor, atol=1e-6)


def test_rgba_png_with_transparent_background_works():
    canvas = _variants(seven_in_corner())["canvas RGBA, transparent background"]
    result = pp.from_bytes(png_bytes(Image.fromarray(canvas, mode="RGBA")))
    assert torch.allclose(result.tensor, pp.from_array(seven_in_corner()).tensor, atol=1e-6)


def test_dark_on_white_jpeg_file_works(tmp_path):
    path = tmp_path / "seven.jpg"
    path.write_bytes(png_bytes(Image.fromarray(255 - seven_in_corner()), format="JPEG", quality=75))
    result = pp.from_path(path)
    clean = pp.from_array(seven_in_corner())
    assert result.inverted is True
    assert all(abs(a - b) <= 2 for a, b in zip(result.ink_box, clean.ink_box))
    assert same_shape(result.digit, clean.digit) > 0.9


def test_big_photo_is_shrunk_to_work_side_and_still_read():
    big = Image.fromarray(255 - seven_in_corner()).resize((2048, 2048), Image.Resampling.BILINEAR)
    result = pp.from_bytes(png_bytes(big))
    assert result.raw.shape == (pp.WORK_SIDE, pp.WORK_SIDE)  # 2048 -> 1024
    assert same_shape(result.digit, pp.from_array(seven_in_corner()).digit) > 0.9


def test_sixteen_bit_png_matches_eight_bit():
    deep = Image.fromarray(seven_in_corner().astype(np.uint16) * 257)  # 255 * 257 = 65535
    result = pp.from_bytes(png_bytes(deep))
    assert torch.allclose(result.tensor, pp.from_array(seven_in_corner()).tensor, atol=1e-6)


@pytest.mark.parametrize(
    "colour, fmt", [(255, "PNG"), (0, "PNG"), (255, "JPEG")], ids=["white png", "black png", "white jpeg"]
)
def test_all_white_and_all_black_images_are_empty(colour, fmt):
    data = png_bytes(Image.new("L", (200, 200), colour), format=fmt)
    with pytest.raises(pp.EmptyImageError):
        pp.from_bytes(data)
