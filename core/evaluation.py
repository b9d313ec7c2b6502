"""What the training page shows about a trained model: its mistakes, a gallery, runs compared.

Every array handed out is numpy, so a page can draw it directly (and cache it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from core import data, explain, models
from core.inference import predict_batch

NUM_CLASSES = 10


@dataclass(frozen=True)
class TestPredictions:
    """A model's softmax probabilities (N x 10) on the first N test images, and their labels."""

    probabilities: np.ndarray
    labels: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean())

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def predict_test_set(model: nn.Module, *, limit: int | None = None) -> TestPredictions:
    """Run ``model`` (in eval mode, not modified) over the test set, or its first ``limit`` images."""
    test = data.load_test()
    images, labels = test.images, test.labels
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    device = next(model.parameters()).device
    probs = predict_batch(model, images.to(device)).cpu().numpy()
    return TestPredictions(probs.astype(np.float32), labels.numpy())


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts ``C[true, predicted]``: the diagonal holds the correct answers."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    return np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Share of each true class answered correctly (the diagonal over the row sums)."""
    rows = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), rows, out=np.zeros(len(rows)), where=rows > 0)


def cell_indices(predictions: TestPredictions, true_class: int, predicted_class: int) -> np.ndarray:
    """Test indices of images of ``true_class`` answered ``predicted_class``, most confident first."""
    mask = (predictions.labels == true_class) & (predictions.predicted == predicted_class)
    idx = np.flatnonzero(mask)
    confidence = predictions.probabilities[idx, predicted_class]
    return idx[np.argsort(-confidence, kind="stable")]


def worst_confusions(matrix: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells as (true, predicted, count), largest first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    return [(int(i // off.shape[1]), int(i % off.shape[1]), int(off.flat[i])) for i in order if off.flat[i] > 0]


def random_gallery(n: int = 10, seed: int = 0, n_images: int = 10_000) -> np.ndarray:
    """``n`` distinct random test indices, the same ones for the same seed."""
    if not 1 <= n <= n_images:
        raise ValueError(f"n must be between 1 and {n_images}, got {n}")
    return torch.randperm(n_images, generator=torch.Generator().manual_seed(seed))[:n].numpy()


# --- comparing runs ------------------------------------------------------------------------

def history_series(record: dict) -> dict[str, list[float]]:
    """A checkpoint record's per-epoch history as columns: epoch, train/test loss and accuracy."""
    history = record.get("history") or []
    keys = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
    return {k: [h.get(k) for h in history] for k in keys}


def run_row(name: str, record: dict) -> dict:
    """One line of the runs table: final accuracy, epochs, and the source's figure when it reports one."""
    reported = record.get("reported") or {}
    recipe = record.get("recipe") or {}
    history = record.get("history") or []
    row = {"name": name, "model": record.get("preset", "?"), "recipe": record.get("recipe_name", "?"),
           "epochs": len(history), "optimizer": recipe.get("optimizer"), "lr": recipe.get("lr"),
           "batch": recipe.get("batch_size"), "test_accuracy": record.get("test_accuracy"),
           "best_test_accuracy": max((h.get("test_accuracy", 0.0) for h in history), default=None),
           "reported_accuracy": reported.get("test_accuracy"), "reported_epochs": reported.get("epochs"),
           "source": reported.get("source"), "seconds": record.get("train_seconds")}
    if row["test_accuracy"] is not None and row["reported_accuracy"] is not None:
        row["difference"] = row["test_accuracy"] - row["reported_accuracy"]
    return row


# --- the training scrubber -------------------------------------------------------------------

def snapshot_epochs(snapshots: dict[str, dict]) -> list[int]:
    """Epoch numbers of ``{"epoch_1": state_dict, ...}``, ascending."""
    found = [int(m.group(1)) for key in snapshots if (m := re.fullmatch(r"epoch_(\d+)", key))]
    return sorted(found)


def model_at_epoch(preset: str, snapshots: dict[str, dict], epoch: int) -> nn.Module:
    """A fresh ``preset`` model holding the weights saved after ``epoch`` (eval mode)."""
    key = f"epoch_{epoch}"
    if key not in snapshots:
        raise KeyError(f"no snapshot for epoch {epoch}; saved: {snapshot_epochs(snapshots)}")
    model = models.build(preset)
    model.load_state_dict(snapshots[key])
    return model.eval()


class FirstLayer(NamedTuple):
    """The first convolution's output for one image, and the model's answer to it."""

    name: str                  # module path, e.g. "features.conv1" or "c1"
    maps: np.ndarray           # C x H x W
    probabilities: np.ndarray  # 10 softmax probabilities


def first_layer_maps(model: nn.Module, image: np.ndarray | torch.Tensor) -> FirstLayer:
    """Feature maps of the first convolution and the probabilities, for one uint8 28x28 image.

    The maps come from :func:`core.explain.feature_maps` (hooks on a private copy), so ``model``
    is left as it is. ValueError for a model without convolutions (an MLP).
    """
    x = data.normalize(torch.as_tensor(np.asarray(image)).reshape(1, 28, 28))
    with explain.torch_threads(1):  # one digit: too little work to share between cores
        conv = next((s for s in explain.feature_maps(model, x) if s.kind == "conv"), None)
        if conv is None:
            raise ValueError(f"{type(model).__name__} has no convolution layer (an MLP has no feature maps)")
        with torch.inference_mode():
            probs = torch.softmax(model(x.to(explain.model_device(model))).float(), dim=1)[0]
    return FirstLayer(conv.name, conv.tensor.numpy(), probs.cpu().numpy())


@torch.inference_mode()
def learned_late(preset: str, snapshots: dict[str, dict], *, limit: int = 1000) -> int:
    """The test image (of the first ``limit``) whose right answer gained most probability from the
    first snapshot to the last, among those right at the end: a digit worth scrubbing through."""
    epochs = snapshot_epochs(snapshots)
    if not epochs:
        raise ValueError("no per-epoch snapshots")
    test = data.load_test()
    labels = test.labels[:limit]
    first, last = (predict_batch(model_at_epoch(preset, snapshots, e), test.images[:limit])
                   for e in (epochs[0], epochs[-1]))
    rows = torch.arange(len(labels))
    gain = last[rows, labels] - first[rows, labels]
    gain[last.argmax(1) != labels] = -float("inf")
    return int(gain.argmax())
