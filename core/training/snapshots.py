"""The per-epoch snapshots of a run, for the training scrubber: a model as it was after each
epoch, what its first convolution makes of one image, how the right answer's probability grew
epoch by epoch, and a digit the network learned late.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from core import models
from core.data import mnist
from core.device import model_device, torch_threads
from core.explain.feature_maps import feature_maps
from core.i18n import _
from core.models.inference import predict_batch


def snapshot_epochs(snapshots: dict[str, dict]) -> list[int]:
    """Epoch numbers of ``{"epoch_1": state_dict, ...}``, ascending."""
    found = [int(m.group(1)) for key in snapshots if (m := re.fullmatch(r"epoch_(\d+)", key))]
    return sorted(found)


def model_at_epoch(preset: str, snapshots: dict[str, dict], epoch: int) -> nn.Module:
    """A fresh ``preset`` model holding the weights saved after ``epoch`` (eval mode)."""
    key = f"epoch_{epoch}"
    if key not in snapshots:
        raise KeyError(
            _("no snapshot for epoch {epoch}; saved: {saved}").format(epoch=epoch, saved=snapshot_epochs(snapshots))
        )
    model = models.build(preset)
    model.load_state_dict(snapshots[key])
    return model.eval()


def _batch(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """One uint8 28x28 digit as the network takes it: normalised, ``1 x 28 x 28``."""
    return mnist.normalize(torch.as_tensor(np.asarray(image)).reshape(1, 28, 28))


def _softmax(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return torch.softmax(model(x.to(model_device(model))).float(), dim=1)[0].cpu().numpy()


class FirstConvMaps(NamedTuple):
    """The feature maps the first convolution makes of one image, and the model's answer to it
    (not to be confused with :class:`core.grids.presets.TrainedKernels`, that layer's weights)."""

    name: str  # module path, e.g. "features.conv1" or "c1"
    maps: np.ndarray  # C x H x W
    probabilities: np.ndarray  # 10 softmax probabilities


def first_conv_maps(model: nn.Module, image: np.ndarray | torch.Tensor) -> FirstConvMaps:
    """Feature maps of the first convolution and the probabilities, for one uint8 28x28 image.

    The maps come from :func:`core.explain.feature_maps.feature_maps` (hooks on a private copy), so ``model``
    is left as it is. ValueError for a model without convolutions (an MLP).
    """
    x = _batch(image)
    with torch_threads(1):  # one digit: too little work to share between cores
        conv = next((s for s in feature_maps(model, x) if s.kind == "conv"), None)
        if conv is None:
            raise ValueError(
                _("{model} has no convolution layer (an MLP has no feature maps)").format(model=type(model).__name__)
            )
        probs = _softmax(model, x)
    return FirstConvMaps(conv.name, conv.tensor.numpy(), probs)


def probability_trail(
    preset: str, snapshots: dict[str, dict], image: np.ndarray | torch.Tensor, label: int
) -> list[float]:
    """The probability the model gave ``label`` for one uint8 28x28 image after each epoch, in the
    order of :func:`snapshot_epochs`: how the right answer grew (or not) during training."""
    x = _batch(image)
    with torch_threads(1):
        return [float(_softmax(model_at_epoch(preset, snapshots, e), x)[label]) for e in snapshot_epochs(snapshots)]


@torch.inference_mode()
def learned_late(preset: str, snapshots: dict[str, dict], *, limit: int = 1000) -> int:
    """The test image (of the first ``limit``) whose right answer gained most probability from the
    first snapshot to the last, among those right at the end: a digit worth scrubbing through."""
    epochs = snapshot_epochs(snapshots)
    if not epochs:
        raise ValueError(_("no per-epoch snapshots"))
    test = mnist.load_test()
    labels = test.labels[:limit]
    first, last = (
        predict_batch(model_at_epoch(preset, snapshots, e), test.images[:limit]) for e in (epochs[0], epochs[-1])
    )
    rows = torch.arange(len(labels))
    gain = last[rows, labels] - first[rows, labels]
    gain[last.argmax(1) != labels] = -float("inf")
    return int(gain.argmax())
