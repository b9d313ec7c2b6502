"""core.data.views: the numbers the /dataset page shows."""

import numpy as np
import pytest
import torch

from core.data import views as dv
from tests.harness import TEST_COUNTS, TRAIN_COUNTS


def test_class_counts_are_mnists():
    assert dv.class_counts("train") == TRAIN_COUNTS
    assert dv.class_counts("test") == TEST_COUNTS


def test_first_samples_in_file_order():
    # The first ten training labels of MNIST: 5 0 4 1 9 2 1 3 1 4 (the write-ups' first preview).
    s = dv.select_samples("train", 10)
    assert s.labels.tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert s.indices.tolist() == list(range(10))
    assert s.images.shape == (10, 28, 28) and s.images.dtype == np.uint8


def test_class_filter_and_seed():
    a = dv.select_samples("test", 25, digit=7, seed=3)
    b = dv.select_samples("test", 25, digit=7, seed=3)
    c = dv.select_samples("test", 25, digit=7, seed=4)
    assert len(a) == 25 and set(a.labels.tolist()) == {7}
    assert a.indices.tolist() == b.indices.tolist()  # same seed, same draw
    assert a.indices.tolist() != c.indices.tolist()  # another seed, another draw
    assert len(set(a.indices.tolist())) == 25  # without repetition


def test_sample_indices_rejects_bad_arguments():
    labels = torch.zeros(5, dtype=torch.int64)
    with pytest.raises(ValueError):
        dv.sample_indices(labels, 0)
    with pytest.raises(ValueError):
        dv.sample_indices(labels, 101)
    with pytest.raises(ValueError):
        dv.sample_indices(labels, 3, digit=10)
    with pytest.raises(ValueError):
        dv.load_split("validation")


def test_mean_images_match_a_direct_mean():
    means = dv.mean_images("test")
    test = dv.load_split("test")
    ones = test.images[test.labels == 1].to(torch.float64).mean(0).numpy()
    assert means.shape == (10, 28, 28)
    np.testing.assert_allclose(means[1], ones, atol=1e-9)
    # A one is a thin vertical stroke: the centre column is inked, the corner never is.
    assert means[1][14, 14] > 150 and means[1][0, 0] == 0


def test_upscale_nearest_repeats_pixels():
    img = np.array([[0, 255], [10, 20]], dtype=np.uint8)
    big = dv.upscale_nearest(img, 3)
    assert big.shape == (6, 6)
    assert big[:3, 3:].tolist() == [[255] * 3] * 3 and big[5, 5] == 20


def test_one_hot():
    assert dv.one_hot(3).tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError):
        dv.one_hot(10)


def test_normalization_facts_and_image():
    f = dv.normalization_facts()
    # (0.1307, 0.3081): the mean/std of MNIST's 60,000 training images, as torchvision's examples use.
    assert (f.mean, f.std) == (0.1307, 0.3081)
    assert f.n_pixels == 60_000 * 784 == 47_040_000
    assert f.black == pytest.approx(-0.4242, abs=1e-4)  # (0 - 0.1307) / 0.3081
    assert f.white == pytest.approx(2.8215, abs=1e-4)  # (1 - 0.1307) / 0.3081
    img = np.zeros((28, 28), dtype=np.uint8)
    img[0, 0] = 255
    norm = dv.normalized_image(img)
    assert norm.shape == (28, 28)
    assert norm[0, 0] == pytest.approx(f.white, abs=1e-5) and norm[1, 1] == pytest.approx(f.black, abs=1e-5)
