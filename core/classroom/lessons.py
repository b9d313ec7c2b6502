"""Our class against MNIST: a distribution shift, measured.

Every figure here comes from running a model on the class's stored 28x28 digits now (not from the
answer stored when a digit was sent), so a model trained later is judged on the same class:

- :func:`class_digits`: the session's digits as arrays (hidden ones and ones marked "not fair"
  left out: they are not fair to judge a network on, nor to teach it);
- :func:`compare`: one model's accuracy on the class beside its accuracy on the MNIST test set,
  overall and per digit, the class's confusion matrix, a cell's entries, the hardest digits;
- :func:`compare_models`: every checkpoint on the same class digits (model, MNIST test
  accuracy, class accuracy).

MNIST test predictions take about a second per model on a CPU: they are kept per checkpoint
SHA-256 (:func:`mnist_predictions`), so a retrained checkpoint is measured again and an
unchanged one never twice. Returns plain values and dataclasses; the page draws them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from core.classroom.store import ClassStore
from core.models import checkpoints
from core.models.inference import predict_batch
from core.training.confusion import (
    NUM_CLASSES,
    TestPredictions,
    cell_indices,
    confusion_matrix,
    per_class_accuracy,
    predict_test_set,
)


@dataclass(frozen=True, eq=False)  # arrays inside: == would be ambiguous
class ClassDigits:
    """A session's digits, oldest first: entry ids, uint8 images N x 28 x 28, labels N."""

    session: int
    entry_ids: np.ndarray
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def counts(self) -> list[int]:
        """How many digits of each label, 0 to 9."""
        return np.bincount(self.labels, minlength=NUM_CLASSES).tolist()

    def subset(self, index: np.ndarray) -> ClassDigits:
        """The digits at ``index`` (positions, not entry ids)."""
        index = np.asarray(index, dtype=np.int64)
        return ClassDigits(self.session, self.entry_ids[index], self.images[index], self.labels[index])


def class_digits(store: ClassStore, session_id: int | None = None, *, include_unfair: bool = False) -> ClassDigits:
    """The session's visible digits (default: the current session), oldest first; without the
    ones marked "not fair" unless ``include_unfair``."""
    session = store.session(session_id)
    entries = list(reversed(store.entries(session.id, fair_only=not include_unfair)))
    images = np.stack([e.image for e in entries]) if entries else np.zeros((0, 28, 28), np.uint8)
    return ClassDigits(
        session.id,
        np.array([e.id for e in entries], dtype=np.int64),
        images,
        np.array([e.label for e in entries], dtype=np.int64),
    )


def class_predictions(model: torch.nn.Module, digits: ClassDigits) -> TestPredictions:
    """``model``'s probabilities on the class's digits (the model is only read)."""
    if len(digits) == 0:
        return TestPredictions(np.zeros((0, NUM_CLASSES), np.float32), digits.labels)
    device = next(model.parameters()).device
    probs = predict_batch(model, torch.from_numpy(digits.images).to(device)).cpu().numpy()
    return TestPredictions(probs.astype(np.float32), digits.labels)


_mnist_cache: dict[tuple[str, int | None], TestPredictions] = {}
_mnist_lock = threading.Lock()


def mnist_predictions(name: str, *, folder=None, limit: int | None = None) -> TestPredictions:
    """A checkpoint's predictions on the MNIST test set (its first ``limit`` images), computed
    once per checkpoint SHA-256 in this process. CheckpointError if it does not load."""
    info = checkpoints.read_info(name, folder)
    key = (info.record["sha256"], limit)
    with _mnist_lock:
        cached = _mnist_cache.get(key)
    if cached is None:
        model, _ = checkpoints.load(name, folder=folder)
        cached = predict_test_set(model, limit=limit)
        with _mnist_lock:
            _mnist_cache[key] = cached
    return cached


def accuracy_of(predictions: TestPredictions) -> float | None:
    """Share answered right, or None when there is nothing to count."""
    return predictions.accuracy if len(predictions) else None


@dataclass(frozen=True)
class DigitAccuracy:
    """One digit's bars: the share of the class's (and of MNIST's test) digits read right.
    An accuracy is None where there is no digit of that label to count."""

    digit: int
    class_n: int
    class_accuracy: float | None
    mnist_n: int
    mnist_accuracy: float | None


@dataclass(frozen=True)
class HardDigit:
    """A class digit the network finds hard: the probability it gives the digit's own label."""

    entry_id: int
    label: int
    prediction: int
    own_probability: float
    answer_probability: float
    image: np.ndarray


@dataclass(frozen=True, eq=False)
class Comparison:
    """One model on the class and on MNIST's test set."""

    model: str
    preset: str
    digits: ClassDigits
    on_class: TestPredictions
    on_mnist: TestPredictions

    @property
    def class_accuracy(self) -> float | None:
        return accuracy_of(self.on_class)

    @property
    def mnist_accuracy(self) -> float | None:
        return accuracy_of(self.on_mnist)

    @property
    def class_confusion(self) -> np.ndarray:
        """Counts ``C[label, answer]`` of the class's digits (10 x 10)."""
        return confusion_matrix(self.on_class.labels, self.on_class.predicted)

    def per_digit(self) -> list[DigitAccuracy]:
        """Accuracy per digit on the class and on MNIST, for the grouped bar chart."""
        class_matrix = self.class_confusion
        mnist_matrix = confusion_matrix(self.on_mnist.labels, self.on_mnist.predicted)
        class_acc, mnist_acc = per_class_accuracy(class_matrix), per_class_accuracy(mnist_matrix)
        class_n, mnist_n = class_matrix.sum(axis=1), mnist_matrix.sum(axis=1)
        return [
            DigitAccuracy(
                d,
                int(class_n[d]),
                float(class_acc[d]) if class_n[d] else None,
                int(mnist_n[d]),
                float(mnist_acc[d]) if mnist_n[d] else None,
            )
            for d in range(NUM_CLASSES)
        ]

    def cell(self, label: int, answer: int) -> list[int]:
        """Entry ids of the class's digits of ``label`` read as ``answer``, most confident first."""
        return [int(self.digits.entry_ids[i]) for i in cell_indices(self.on_class, label, answer)]

    def hardest(self, k: int = 10) -> list[HardDigit]:
        """The ``k`` class digits with the lowest probability for their own label, lowest first
        (equal ones: the earlier entry first)."""
        if len(self.on_class) == 0:
            return []
        own = self.on_class.probabilities[np.arange(len(self.on_class)), self.on_class.labels]
        order = np.lexsort((self.digits.entry_ids, own))[: max(0, int(k))]
        predicted = self.on_class.predicted
        return [
            HardDigit(
                int(self.digits.entry_ids[i]),
                int(self.digits.labels[i]),
                int(predicted[i]),
                float(own[i]),
                float(self.on_class.probabilities[i, predicted[i]]),
                self.digits.images[i],
            )
            for i in order
        ]


def compare(name: str, digits: ClassDigits, *, folder=None, mnist_limit: int | None = None) -> Comparison:
    """Checkpoint ``name`` run on the class's digits and (cached) on the MNIST test set (its
    first ``mnist_limit`` images). CheckpointError when it does not load."""
    model, info = checkpoints.load(name, folder=folder)
    return Comparison(
        name,
        info.preset,
        digits,
        class_predictions(model, digits),
        mnist_predictions(name, folder=folder, limit=mnist_limit),
    )


@dataclass(frozen=True)
class ModelRow:
    """One line of the every-model table; ``error`` says why a checkpoint could not be measured."""

    model: str
    preset: str
    mnist_accuracy: float | None
    class_accuracy: float | None
    class_n: int
    error: str | None = None


def compare_models(
    digits: ClassDigits, names: list[str] | None = None, *, folder=None, mnist_limit: int | None = None
) -> list[ModelRow]:
    """Every checkpoint (default: all in the folder, read afresh, so a new one is included) on
    the same class digits, in name order. A checkpoint that does not load gets a row with its
    error instead of figures: the others are still measured."""
    if names is None:
        names = [info.name for info in checkpoints.list_checkpoints(folder)]
    rows = []
    for name in names:
        try:
            result = compare(name, digits, folder=folder, mnist_limit=mnist_limit)
        except checkpoints.CheckpointError as exc:
            rows.append(ModelRow(name, "?", None, None, len(digits), str(exc)))
            continue
        rows.append(ModelRow(name, result.preset, result.mnist_accuracy, result.class_accuracy, len(digits)))
    return rows
