"""core.training.confusion: confusion matrices and their cells counted by hand, torch as the reference
for the test-set predictions."""

import numpy as np
import pytest
import torch

from core import models
from core.data import mnist
from core.training import confusion as cf


@pytest.fixture
def toy():
    # Six images: labels 0 0 1 2 2 2, answers 0 1 1 2 0 2 (by hand: two mistakes).
    labels = np.array([0, 0, 1, 2, 2, 2])
    probs = np.full((6, 10), 0.01, dtype=np.float32)
    for i, (answer, p) in enumerate(zip([0, 1, 1, 2, 0, 2], [0.9, 0.6, 0.8, 0.7, 0.95, 0.5])):
        probs[i, answer] = p
    return cf.TestPredictions(probs, labels)


def test_confusion_matrix_by_hand(toy):
    m = cf.confusion_matrix(toy.labels, toy.predicted)
    assert m.shape == (10, 10) and m.sum() == 6
    assert (m[0, 0], m[0, 1], m[1, 1], m[2, 2], m[2, 0]) == (1, 1, 1, 2, 1)
    assert np.trace(m) == 4 and toy.accuracy == pytest.approx(4 / 6)
    assert cf.per_class_accuracy(m)[:3] == pytest.approx([0.5, 1.0, 2 / 3])
    assert cf.per_class_accuracy(m)[5] == 0.0  # no image of 5: no division by zero
    assert cf.worst_confusions(m, 5) == [(0, 1, 1), (2, 0, 1)]  # only the two mistakes, row order


def test_cell_indices_most_confident_first(toy):
    assert cf.cell_indices(toy, 2, 2).tolist() == [3, 5]  # p 0.7 before 0.5
    assert cf.cell_indices(toy, 2, 0).tolist() == [4]
    assert cf.cell_indices(toy, 7, 3).tolist() == []


def test_confusion_matrix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        cf.confusion_matrix(np.zeros(3, int), np.zeros(4, int))


def test_random_gallery_is_distinct_and_repeatable():
    a, b = cf.random_gallery(10, seed=3), cf.random_gallery(10, seed=3)
    assert len(set(a.tolist())) == 10 and a.tolist() == b.tolist()
    assert a.tolist() != cf.random_gallery(10, seed=4).tolist()
    assert a.min() >= 0 and a.max() < 10_000
    with pytest.raises(ValueError):
        cf.random_gallery(0)


def test_predict_test_set_matches_the_model_run_by_hand():
    torch.manual_seed(0)
    model = models.build("lenet5").eval()
    preds = cf.predict_test_set(model, limit=50)
    test = mnist.load_test()
    with torch.no_grad():
        expected = torch.softmax(model(mnist.normalize(test.images[:50])), 1).numpy()
    assert len(preds) == 50 and preds.labels.tolist() == test.labels[:50].tolist()
    np.testing.assert_allclose(preds.probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(preds.probabilities.sum(1), 1.0, atol=1e-5)


def test_mistakes_and_right_among_by_hand(toy):
    m = cf.confusion_matrix(toy.labels, toy.predicted)
    assert cf.mistakes(m) == 2  # images 1 (0 read as 1) and 4 (2 read as 0)
    assert cf.right_among(toy, [0, 1, 4]) == 1 and cf.right_among(toy, range(6)) == 4
