"""core.classroom.lessons: our class against MNIST, from numbers worked out by hand, then on real models.

The hand-made part sets the probabilities itself (no network), so every expected count is read
off the table in the test; the measured part runs the shipped lenet5 and checks its figures
against what its checkpoint record says it scored on MNIST's test set.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from core.classroom import lessons
from core.classroom.lessons import ClassDigits, Comparison, class_digits, compare, compare_models
from core.classroom.store import ClassStore
from core.data.mnist import normalize
from core.models import checkpoints
from core.training import confusion
from tests.class_hand import fill_store, scripted_class
from tests.harness import needs_lenet5


def sure_of(answer: int, p: float) -> list[float]:
    rest = (1 - p) / 9
    return [p if d == answer else rest for d in range(10)]


# (entry id, label, answer, probability of the answer)
CLASS = [(11, 4, 4, 0.9), (12, 4, 9, 0.8), (13, 4, 9, 0.6), (14, 7, 7, 0.99), (15, 7, 1, 0.55), (16, 1, 1, 0.7)]
# MNIST side: 4 fours (3 right), 2 sevens (2 right), no ones
MNIST = [(4, 4), (4, 4), (4, 4), (4, 9), (7, 7), (7, 7)]


@pytest.fixture
def hand_made() -> Comparison:
    ids, labels, answers, sure = zip(*CLASS)
    images = np.zeros((len(ids), 28, 28), np.uint8) + np.arange(len(ids), dtype=np.uint8)[:, None, None]
    digits = ClassDigits(1, np.array(ids), images, np.array(labels))
    on_class = confusion.TestPredictions(
        np.array([sure_of(a, p) for a, p in zip(answers, sure)], np.float32), np.array(labels)
    )
    on_mnist = confusion.TestPredictions(
        np.array([sure_of(a, 0.9) for _, a in MNIST], np.float32), np.array([label for label, _ in MNIST])
    )
    return Comparison("hand", "lenet5", digits, on_class, on_mnist)


def test_per_digit_accuracy_of_the_class_beside_mnist(hand_made):
    rows = {row.digit: row for row in hand_made.per_digit()}
    assert (rows[4].class_n, rows[4].class_accuracy, rows[4].mnist_n, rows[4].mnist_accuracy) == (3, 1 / 3, 4, 3 / 4)
    assert (rows[7].class_accuracy, rows[7].mnist_accuracy) == (1 / 2, 1.0)
    assert (rows[1].class_n, rows[1].class_accuracy, rows[1].mnist_n, rows[1].mnist_accuracy) == (1, 1.0, 0, None)
    assert rows[0].class_accuracy is None and rows[0].mnist_accuracy is None  # nothing to count: no bar, not 0%
    assert hand_made.class_accuracy == pytest.approx(3 / 6) and hand_made.mnist_accuracy == pytest.approx(5 / 6)


def test_the_class_confusion_and_the_entries_of_one_cell(hand_made):
    matrix = hand_made.class_confusion
    assert matrix.sum() == 6 and matrix[4, 4] == 1 and matrix[4, 9] == 2 and matrix[7, 1] == 1 and matrix[1, 1] == 1
    assert hand_made.cell(4, 9) == [12, 13]  # both 4s read as 9, the surer one (0.8) first
    assert hand_made.cell(9, 4) == []


def test_the_hardest_digits_have_the_lowest_probability_for_their_own_label(hand_made):
    hardest = hand_made.hardest(3)
    # own-label probabilities: 12 and 13 give their 4 (1 - p) / 9 = 0.022 and 0.044, 15 gives its 7
    # (1 - 0.55) / 9 = 0.05; the right ones give 0.7 and more.
    assert [h.entry_id for h in hardest] == [12, 13, 15]
    assert hardest[0].own_probability == pytest.approx(0.2 / 9) and hardest[0].prediction == 9
    assert hardest[0].answer_probability == pytest.approx(0.8) and hardest[0].image[0, 0] == 1
    assert len(hand_made.hardest(100)) == 6


def test_class_digits_leave_out_hidden_and_unfair_ones_oldest_first(tmp_path):
    store = ClassStore(tmp_path / "class.sqlite")
    images, labels = scripted_class(per_label=1, seed=4)
    sent = fill_store(store, images, labels)
    store.set_hidden(sent[2].id)
    store.set_unfair(sent[5].id)
    digits = class_digits(store)
    assert digits.entry_ids.tolist() == [e.id for i, e in enumerate(sent) if i not in (2, 5)]
    assert np.array_equal(digits.images[0], images[0]) and digits.labels.tolist() == np.delete(labels, [2, 5]).tolist()
    assert len(class_digits(store, include_unfair=True)) == 9


@needs_lenet5
@pytest.mark.fullset  # lenet5 on the 10,000 test images, as its record was measured
def test_lenet5_is_measured_on_the_class_and_on_mnist_as_its_record_says(tmp_path):
    store = ClassStore(tmp_path / "class.sqlite")
    images, labels = scripted_class(per_label=10, seed=1)
    # The answer stored at send time is deliberately wrong: the figures come from running the model now.
    fill_store(store, images, labels, predictions=(labels + 1) % 10)
    result = compare("lenet5", class_digits(store))
    model, info = checkpoints.load("lenet5")
    with torch.inference_mode():  # the reference: the model run directly on the stored pictures
        expected = (model(normalize(torch.from_numpy(images))).argmax(1).numpy() == labels).mean()
    assert result.class_accuracy == pytest.approx(expected)
    assert result.class_accuracy > 0.1  # not the stored answers, which are all wrong
    assert result.mnist_accuracy == pytest.approx(info.record["test_accuracy"])  # 0.9918, measured when trained
    assert len(result.on_mnist) == 10_000 and sum(r.mnist_n for r in result.per_digit()) == 10_000


@needs_lenet5
def test_mnist_predictions_are_kept_per_checkpoint_hash(tmp_path):
    for suffix in (".pt", ".json"):
        shutil.copy(checkpoints.DEFAULT_DIR / f"lenet5{suffix}", tmp_path / f"lenet5{suffix}")
    first = lessons.mnist_predictions("lenet5", folder=tmp_path, limit=300)
    assert lessons.mnist_predictions("lenet5", folder=tmp_path, limit=300) is first  # not measured again
    model, _ = checkpoints.load("lenet5", folder=tmp_path)
    with torch.no_grad():
        model.classifier.fc3.bias += 5.0 * torch.nn.functional.one_hot(torch.tensor(3), 10)  # a different checkpoint
    checkpoints.save(model, "lenet5", preset="lenet5", record={}, folder=tmp_path)
    changed = lessons.mnist_predictions("lenet5", folder=tmp_path, limit=300)
    assert changed is not first and changed.accuracy != first.accuracy


@needs_lenet5
def test_every_model_on_the_same_digits_and_a_broken_one_gets_its_reason(tmp_path):
    for name in ("lenet5", "mlp_128"):
        for suffix in (".pt", ".json"):
            shutil.copy(checkpoints.DEFAULT_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    broken = tmp_path / "mlp_128.pt"
    broken.write_bytes(broken.read_bytes()[:-10] + b"0123456789")
    store = ClassStore(tmp_path / "class.sqlite")
    images, labels = scripted_class(per_label=3, seed=2)
    fill_store(store, images, labels)
    rows = compare_models(class_digits(store), folder=tmp_path, mnist_limit=500)
    assert [(r.model, r.class_n) for r in rows] == [("lenet5", 30), ("mlp_128", 30)]
    assert rows[0].error is None and 0 < rows[0].class_accuracy <= 1 and rows[0].mnist_accuracy > 0.95
    assert rows[1].mnist_accuracy is None and "corrupted" in rows[1].error
