"""A model's answers on the test set: the predictions, the confusion matrix and the images of
each of its cells, how many are wrong, and a repeatable random gallery.

Every array handed out is numpy, so a page can draw it directly (and cache it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.data import mnist
from core.i18n import _
from core.models.inference import predict_batch

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
    test = mnist.load_test()
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
        raise ValueError(
            _("labels {labels} and predictions {predicted} differ in shape").format(
                labels=labels.shape, predicted=predicted.shape
            )
        )
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


def mistakes(matrix: np.ndarray) -> int:
    """How many images a confusion matrix counts as wrong (everything off the diagonal)."""
    return int(matrix.sum() - np.trace(matrix))


def right_among(predictions: TestPredictions, indices: Iterable[int]) -> int:
    """How many of the test images ``indices`` the model answers right."""
    idx = np.asarray(list(indices), dtype=int)
    return int((predictions.predicted[idx] == predictions.labels[idx]).sum())


def random_gallery(n: int = 10, seed: int = 0, n_images: int = 10_000) -> np.ndarray:
    """``n`` distinct random test indices, the same ones for the same seed."""
    if not 1 <= n <= n_images:
        raise ValueError(_("n must be between 1 and {images}, got {n}").format(images=n_images, n=n))
    return torch.randperm(n_images, generator=torch.Generator().manual_seed(seed))[:n].numpy()
