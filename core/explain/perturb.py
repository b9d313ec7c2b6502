"""The perturbation lab: what the network says when the digit is covered, nudged, moved or
thickened.

Pictures here are 28x28 in pixel units, 0 (black) to 255 (white ink), like the uint8 digits of
``core.data.mnist`` and ``core.data.preprocess.Preprocessed.digit``. Every function takes one (numpy uint8
or float, or a torch tensor) and returns float32 numpy 28x28 in [0, 255], so a result can be
shown as it is and perturbed again. The network sees ``core.data.mnist.normalize(picture)``
(``1 x 1 x 28 x 28``), where pixel 0 is the normalised black (0 - 0.1307) / 0.3081.

FGSM (Goodfellow, Shlens, Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015)
is computed by hand: one gradient of the cross-entropy with respect to the input only, via
``torch.autograd.grad``, so a shared (cached) model is never changed, not even its ``.grad``.
Its epsilon is a fraction of full brightness, as in the paper's MNIST experiments on [0, 1]:
0.1 moves every pixel by at most 25.5 levels. tests/test_perturb.py checks it against
``captum.robust.FGSM``, which we do not call: it treats gradient components below 1e-6 as zero,
and for a confidently recognised digit that is most of them, often all (measured: all 784 for
test digit #1 under the shipped lenet5), so its attack would change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from torch import nn

from core.data.mnist import normalize
from core.device import model_device
from core.i18n import _
from core.models.copies import private_copy

SIDE = 28
WHITE = 255.0
INK_LEVEL = 127.5  # a pixel at least half white counts as ink


@dataclass(frozen=True, eq=False)
class Outcome:
    """A picture and what the network makes of it."""

    picture: np.ndarray  # float32 28x28, 0-255
    probabilities: np.ndarray  # float64 (10,), softmax of the logits

    @property
    def prediction(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())


@dataclass(frozen=True, eq=False)
class Effect:
    """One transformation of the digit and its outcome, e.g. kind "shift", amount (2, 0)."""

    kind: str  # shift | rotate | thicken
    amount: object  # (dx, dy) px, degrees, or dilation steps
    label: str  # for a table: "shift right 2 px"
    outcome: Outcome


@dataclass(frozen=True, eq=False)
class Adversarial:
    """An FGSM picture: ``clip(picture + 255 epsilon sign(gradient), 0, 255)``."""

    epsilon: float
    label: int  # the class it pushes away from
    original: Outcome
    outcome: Outcome

    @property
    def flipped(self) -> bool:
        return self.outcome.prediction != self.label

    @property
    def change(self) -> np.ndarray:
        """The perturbation actually added, in pixel levels (clipping included)."""
        return self.outcome.picture - self.original.picture

    @property
    def changed_pixels(self) -> int:
        return int((np.abs(self.change) > 0).sum())


@dataclass(frozen=True, eq=False)
class FlipSearch:
    """The smallest FGSM epsilon found that changes the prediction (None: none up to the max)."""

    epsilon: float | None
    adversarial: Adversarial | None
    label: int
    max_epsilon: float
    tried: list[tuple[float, int]]  # (epsilon, prediction) of every picture evaluated, in order


# --- pictures ---------------------------------------------------------------------------------


def as_picture(digit: np.ndarray | torch.Tensor) -> np.ndarray:
    """A 28x28 digit (uint8 0-255 or float 0-255; 1x28x28 and 1x1x28x28 accepted) as float32."""
    array = digit.detach().cpu().numpy() if isinstance(digit, torch.Tensor) else np.asarray(digit)
    if array.ndim > 2 and array.shape[-2:] == (SIDE, SIDE) and array.size == SIDE * SIDE:
        array = array.reshape(SIDE, SIDE)
    array = np.asarray(array, dtype=np.float32)
    if array.shape != (SIDE, SIDE):
        raise ValueError(_("expected a 28x28 digit, got shape {shape}").format(shape=array.shape))
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > WHITE:
        raise ValueError(_("pixel values must lie in 0..255 (uint8 brightness), not a normalised tensor"))
    return array.copy()


def ink_count(picture: np.ndarray | torch.Tensor, threshold: float = INK_LEVEL) -> int:
    """Pixels at least ``threshold`` bright (half white by default)."""
    return int((as_picture(picture) >= threshold).sum())


def patch_box(row: int, col: int, size: int) -> tuple[int, int, int, int] | None:
    """The pixels the ``size x size`` square whose top-left pixel is (row, col) covers, cut at
    the edges of the 28x28 picture: (top, left, bottom, right), the last two included; None
    when it covers none."""
    top, left = max(row, 0), max(col, 0)
    bottom, right = min(row + size, SIDE) - 1, min(col + size, SIDE) - 1
    return (top, left, bottom, right) if bottom >= top and right >= left else None


def occluded(digit: np.ndarray | torch.Tensor, row: int, col: int, size: int, fill: float = 0.0) -> np.ndarray:
    """The digit with the ``size x size`` square whose top-left pixel is (row, col) set to
    ``fill`` (0: black, which is normalised black for the network); cut at the edges
    (:func:`patch_box`)."""
    if size < 1:
        raise ValueError(_("the patch size must be at least 1 pixel, got {size}").format(size=size))
    if not 0 <= fill <= WHITE:
        raise ValueError(_("the fill must be a brightness in 0..255, got {fill}").format(fill=fill))
    picture = as_picture(digit)
    box = patch_box(row, col, size)
    if box is not None:
        top, left, bottom, right = box
        picture[top : bottom + 1, left : right + 1] = fill
    return picture


def shifted(digit: np.ndarray | torch.Tensor, dx: int, dy: int) -> np.ndarray:
    """Moved ``dx`` px right and ``dy`` px down (negative: left, up); black comes in, ink that
    leaves the frame is lost."""
    picture = as_picture(digit)
    moved = np.zeros_like(picture)
    dx, dy = int(dx), int(dy)
    if abs(dx) >= SIDE or abs(dy) >= SIDE:
        return moved
    source = picture[max(-dy, 0) : SIDE - max(dy, 0), max(-dx, 0) : SIDE - max(dx, 0)]
    moved[max(dy, 0) : max(dy, 0) + source.shape[0], max(dx, 0) : max(dx, 0) + source.shape[1]] = source
    return moved


def rotated(digit: np.ndarray | torch.Tensor, degrees: float) -> np.ndarray:
    """Turned ``degrees`` counter-clockwise about the picture's centre (bilinear, black fill)."""
    picture = as_picture(digit)
    if float(degrees) % 360.0 == 0.0:
        return picture
    turned = Image.fromarray(picture).rotate(float(degrees), resample=Image.Resampling.BILINEAR, fillcolor=0.0)
    return np.clip(np.asarray(turned, dtype=np.float32), 0.0, WHITE)


def thickened(digit: np.ndarray | torch.Tensor, steps: int = 1) -> np.ndarray:
    """Strokes grown by grey dilation: each step, every pixel takes the brightest of its 3x3
    neighbourhood (a 3x3 max-pool at stride 1). Negative steps thin by grey erosion (the
    darkest of the neighbourhood, black beyond the frame)."""
    picture = as_picture(digit)
    for _step in range(abs(int(steps))):
        windows = sliding_window_view(np.pad(picture, 1), (3, 3))
        picture = windows.max(axis=(2, 3)) if steps > 0 else windows.min(axis=(2, 3))
    return picture.astype(np.float32)


# --- what the network says --------------------------------------------------------------------


def _ready(model: nn.Module) -> nn.Module:
    # A model in training mode would update BatchNorm statistics and drop units: use a copy.
    return private_copy(model) if model.training else model


def probabilities(model: nn.Module, pictures: np.ndarray | torch.Tensor) -> np.ndarray:
    """Softmax probabilities of one 28x28 picture, ``(10,)``, or of N of them, ``(N, 10)``."""
    batch = torch.as_tensor(np.asarray(pictures, dtype=np.float32))
    single = batch.dim() == 2
    batch = batch.reshape(-1, SIDE, SIDE)
    model = _ready(model)
    with torch.inference_mode():
        logits = model(normalize(batch).to(model_device(model)))
    probs = torch.softmax(logits.double(), dim=1).cpu().numpy()
    return probs[0] if single else probs


def outcome(model: nn.Module, picture: np.ndarray | torch.Tensor) -> Outcome:
    """The network's probabilities for one picture."""
    picture = as_picture(picture)
    return Outcome(picture, probabilities(model, picture))


def occlude(
    model: nn.Module, digit: np.ndarray | torch.Tensor, row: int, col: int, size: int, fill: float = 0.0
) -> Outcome:
    """The probabilities with a square patch over the digit (see :func:`occluded`)."""
    return outcome(model, occluded(digit, row, col, size, fill))


def transformations(
    model: nn.Module,
    digit: np.ndarray | torch.Tensor,
    *,
    shifts: tuple[tuple[int, int], ...] = ((-2, 0), (2, 0), (0, -2), (0, 2)),
    angles: tuple[float, ...] = (-20.0, -10.0, 10.0, 20.0),
    thicken_steps: tuple[int, ...] = (1, -1),
) -> list[Effect]:
    """Small shifts, rotations and stroke thickening of one digit, and what each does to the
    prediction, evaluated in one batch."""
    pictures, meta = [], []
    for dx, dy in shifts:
        words = [(_("right {px} px") if dx > 0 else _("left {px} px")).format(px=abs(dx))] if dx else []
        words += [(_("down {px} px") if dy > 0 else _("up {px} px")).format(px=abs(dy))] if dy else []
        pictures.append(shifted(digit, dx, dy))
        meta.append(
            ("shift", (dx, dy), _("shift {moves}").format(moves=_(", ").join(words)) if words else _("shift 0 px"))
        )
    for degrees in angles:
        pictures.append(rotated(digit, degrees))
        turn = (
            _("rotate {degrees:+g}° (anticlockwise)")
            if degrees > 0
            else _("rotate {degrees:+g}° (clockwise)")
            if degrees
            else _("rotate 0°")
        )
        meta.append(("rotate", degrees, turn.format(degrees=degrees)))
    for steps in thicken_steps:
        pictures.append(thickened(digit, steps))
        meta.append(
            ("thicken", steps, (_("thicken by {px} px") if steps >= 0 else _("thin by {px} px")).format(px=abs(steps)))
        )
    if not pictures:
        return []
    probs = probabilities(model, np.stack(pictures))
    return [
        Effect(kind, amount, label, Outcome(picture, p))
        for (kind, amount, label), picture, p in zip(meta, pictures, probs)
    ]


# --- FGSM -------------------------------------------------------------------------------------


def gradient_sign(model: nn.Module, digit: np.ndarray | torch.Tensor, label: int) -> np.ndarray:
    """sign(d loss / d pixel) of the cross-entropy for ``label``, float32 28x28 of -1, 0, +1.

    The gradient is taken with respect to the input only; the model is not changed.
    """
    model = _ready(model)
    x = torch.as_tensor(as_picture(digit)).reshape(1, SIDE, SIDE).to(model_device(model))
    x.requires_grad_(True)
    with torch.enable_grad():
        logits = model(normalize(x))
        # float64: for a confident digit, p - 1 of the true class rounds to 0 in float32.
        loss = F.cross_entropy(logits.double(), torch.tensor([int(label)], device=logits.device))
        (gradient,) = torch.autograd.grad(loss, x)
    return torch.sign(gradient)[0].cpu().numpy().astype(np.float32)


def _nudged(picture: np.ndarray, sign: np.ndarray, epsilon: float) -> np.ndarray:
    return np.clip(picture + np.float32(WHITE * epsilon) * sign, 0.0, WHITE).astype(np.float32)


def fgsm(model: nn.Module, digit: np.ndarray | torch.Tensor, epsilon: float, label: int | None = None) -> Adversarial:
    """One FGSM step of size ``epsilon`` (a fraction of full brightness, 0..1) away from
    ``label`` (default: the network's own prediction for the digit)."""
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(_("epsilon is a fraction of full brightness, 0 to 1; got {epsilon}").format(epsilon=epsilon))
    original = outcome(model, digit)
    label = original.prediction if label is None else int(label)
    sign = gradient_sign(model, original.picture, label)
    return Adversarial(float(epsilon), label, original, outcome(model, _nudged(original.picture, sign, epsilon)))


def smallest_flip(
    model: nn.Module,
    digit: np.ndarray | torch.Tensor,
    *,
    max_epsilon: float = 0.3,
    grid: int = 30,
    tolerance: float = 0.001,
    label: int | None = None,
) -> FlipSearch:
    """The smallest FGSM epsilon in (0, max_epsilon] that changes the prediction away from
    ``label`` (default: the network's prediction).

    FGSM's direction is computed once; ``grid`` evenly spaced epsilons are tried in one batch,
    then the first bracket that flips is bisected down to ``tolerance``. Returns the smallest
    flipping epsilon found (the first crossing on the grid, refined), or None if none flips.
    """
    if not 0.0 < max_epsilon <= 1.0 or grid < 1 or tolerance <= 0:
        raise ValueError(_("need 0 < max_epsilon <= 1, grid >= 1 and tolerance > 0"))

    original = outcome(model, digit)
    label = original.prediction if label is None else int(label)
    if original.prediction != label:  # already predicted as another class: nothing to flip
        return FlipSearch(0.0, Adversarial(0.0, label, original, original), label, float(max_epsilon), [])
    sign = gradient_sign(model, original.picture, label)
    epsilons = np.linspace(0.0, max_epsilon, grid + 1)[1:]
    predictions = probabilities(model, np.stack([_nudged(original.picture, sign, e) for e in epsilons])).argmax(1)
    tried = [(float(e), int(p)) for e, p in zip(epsilons, predictions)]
    flips = np.flatnonzero(predictions != label)
    if not len(flips):
        return FlipSearch(None, None, label, float(max_epsilon), tried)
    high = float(epsilons[flips[0]])
    low = float(epsilons[flips[0] - 1]) if flips[0] else 0.0
    while high - low > tolerance:
        middle = (low + high) / 2
        prediction = int(probabilities(model, _nudged(original.picture, sign, middle)).argmax())
        tried.append((middle, prediction))
        low, high = (low, middle) if prediction != label else (middle, high)
    flipped = outcome(model, _nudged(original.picture, sign, high))
    return FlipSearch(high, Adversarial(high, label, original, flipped), label, float(max_epsilon), tried)
