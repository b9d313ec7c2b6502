"""Ready-made grids for the convolution page: inputs, kernels, and the trained LeNet's C1 kernels.

Inputs are small whole numbers (0-9) so a student can do the arithmetic of a step by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.data.geometry import centre_of_mass
from core.i18n import N_, _
from core.models import checkpoints

# 3x3 kernels, written so that a bright-left / dark-right edge gives a positive response. The
# names are the options' values (and in the URL): shown translated with ``_(name)``.
KERNELS: dict[str, np.ndarray] = {
    N_("Vertical edge"): np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
    N_("Horizontal edge"): np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float),
    N_("Blur (box)"): np.full((3, 3), 1 / 9),
    N_("Sharpen"): np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
}

LEVELS = 9  # MNIST brightness 0-255 shown as whole levels 0-9


def vertical_edge(size: int = 6) -> np.ndarray:
    """A bright left half (9) beside a dark right half (0): the classic edge-detection input."""
    grid = np.zeros((size, size))
    grid[:, : (size + 1) // 2] = LEVELS
    return grid


def random_integers(shape: tuple[int, ...], seed: int, low: int = 0, high: int = 9) -> np.ndarray:
    """Whole numbers from ``low`` to ``high`` inclusive, the same for the same seed."""
    return np.random.default_rng(seed).integers(low, high + 1, size=shape).astype(float)


def to_levels(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """uint8 brightness 0-255 as whole levels 0-9 (rounded), so products stay readable."""
    values = np.asarray(image, dtype=float)
    return np.rint(values / 255.0 * LEVELS)


def ink_centre(image: np.ndarray | torch.Tensor) -> tuple[int, int]:
    """The pixel nearest the image's centre of mass (brightness-weighted); the middle if blank."""
    values = np.asarray(image, dtype=float)
    row, col = centre_of_mass(values)
    if np.isnan(row):
        return values.shape[0] // 2, values.shape[1] // 2
    return int(round(row)), int(round(col))


def mnist_patch(image: np.ndarray | torch.Tensor, size: int = 8) -> np.ndarray:
    """A ``size x size`` crop of a 28x28 digit around its ink's centre, as levels 0-9."""
    values = np.asarray(image)
    row, col = ink_centre(values)
    top = int(np.clip(row - size // 2, 0, values.shape[0] - size))
    left = int(np.clip(col - size // 2, 0, values.shape[1] - size))
    return to_levels(values[top : top + size, left : left + size])


def multichannel_example() -> tuple[np.ndarray, np.ndarray, float]:
    """A 3x5x5 input, one 3x3x3 filter and its bias (seed 001: three channels, one filter).

    Small whole numbers so each channel's products can be added up by hand.
    """
    x = np.array(
        [
            [[1, 0, 2, 1, 0], [0, 1, 3, 0, 1], [2, 1, 0, 1, 2], [1, 0, 1, 2, 0], [0, 2, 1, 0, 1]],
            [[2, 1, 0, 0, 1], [1, 3, 1, 2, 0], [0, 1, 2, 1, 1], [2, 0, 1, 0, 3], [1, 1, 0, 2, 0]],
            [[0, 1, 1, 2, 0], [1, 0, 2, 1, 1], [3, 1, 0, 0, 2], [0, 2, 1, 1, 0], [1, 0, 2, 0, 1]],
        ],
        dtype=float,
    )
    w = np.array(
        [
            [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
            [[0, 1, 0], [1, -1, 1], [0, 1, 0]],
            [[-1, 0, 1], [0, 1, 0], [1, 0, -1]],
        ],
        dtype=float,
    )
    return x, w, 1.0


def pooling_example() -> np.ndarray:
    """The 4x4 grid pooled 2x2 with stride 2 into 2x2 on the pooling demo."""
    return np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 1, 7, 2], [0, 6, 3, 8]], dtype=float)


@dataclass(frozen=True)
class TrainedKernels:
    """The first convolution of a trained checkpoint: kernels ``N x k x k`` and biases ``N``."""

    checkpoint: str
    kernels: np.ndarray
    biases: np.ndarray
    test_accuracy: float | None


def first_conv_layer(model: torch.nn.Module) -> torch.nn.Conv2d:
    """The first ``nn.Conv2d`` in ``model.modules()`` (C1 of LeNet)."""
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            return module
    raise ValueError(f"{type(model).__name__} has no nn.Conv2d layer")


def trained_first_layer(name: str = "lenet5", folder: Path | str | None = None) -> tuple[TrainedKernels | None, str]:
    """The first-layer kernels of checkpoint ``name`` (input channel 0), or (None, why not).

    ``folder`` defaults to ``checkpoints.DEFAULT_DIR``, read at call time. Only a missing or
    unusable checkpoint is reported as a reason; other errors propagate.
    """
    folder = checkpoints.folder_or_default(folder)
    if not (folder / f"{name}.pt").is_file() or not (folder / f"{name}.json").is_file():
        return None, _(
            "No trained `{name}` checkpoint yet: run `python -m core train {name}` to add its first-layer kernels here."
        ).format(name=name)
    try:
        model, info = checkpoints.load(name, folder=folder)
    except checkpoints.CheckpointError as exc:
        return None, _("The `{name}` checkpoint cannot be used: {reason}").format(name=name, reason=exc)
    conv = first_conv_layer(model)
    weights = conv.weight.detach().cpu().double().numpy()[:, 0]
    biases = conv.bias.detach().cpu().double().numpy() if conv.bias is not None else np.zeros(weights.shape[0])
    return TrainedKernels(name, weights, biases, info.test_accuracy), ""
