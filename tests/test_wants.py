"""core.explain.wants: the picture that excites a class or a filter most, by gradient ascent on the
input. The model's own numbers judge it: its softmax, and its activations on MNIST's 10,000 test
digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from core.__main__ import main
from core.data import mnist
from core.explain.wants import activation, normalised, wanted
from core.models import checkpoints, inference


@pytest.fixture(scope="module")
def lenet5():
    return checkpoints.load("lenet5")[0]


@pytest.fixture(scope="module")
def test_set() -> torch.Tensor:
    return mnist.normalize(mnist.load_test().images)


def as_input(picture: torch.Tensor) -> torch.Tensor:
    return normalised(picture.reshape(1, 1, 28, 28))


@pytest.mark.fullset  # the 10,000 test digits
def test_each_class_picture_is_that_class_for_sure_and_beats_every_test_digit(lenet5, test_set):
    best = lenet5(test_set).detach().max(0).values  # each class's highest logit over the 10,000 test digits
    for k in range(10):
        x = as_input(wanted(lenet5, f"output:{k}"))
        assert torch.softmax(lenet5(x), 1)[0, k] >= 0.99, k
        assert activation(lenet5, x, f"output:{k}")[0] > best[k], k


@pytest.mark.fullset
@pytest.mark.parametrize("unit", ["conv1:0", "conv1:5", "conv2:3", "conv2:15"])
def test_a_filters_picture_excites_it_more_than_the_test_digits_do_on_average(lenet5, test_set, unit):
    x = as_input(wanted(lenet5, unit))
    assert activation(lenet5, x, unit)[0] > activation(lenet5, test_set, unit).mean()


def test_the_same_seed_gives_the_same_picture_and_the_global_generator_is_untouched(lenet5):
    before = torch.random.get_rng_state()
    first, again = wanted(lenet5, "output:3"), wanted(lenet5, "output:3")
    assert torch.equal(first, again) and torch.equal(torch.random.get_rng_state(), before)
    assert 0.0 <= float(first.min()) and float(first.max()) <= 1.0  # a digit's pixel range


def test_the_command_writes_the_picture_as_a_28_by_28_png(tmp_path, capsys, lenet5):
    out = tmp_path / "three.png"
    assert main(["visualize", "lenet5", "--unit", "output:3", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unit"] == "output:3" and report["activation"] > 0
    pixels = np.asarray(Image.open(out))
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert np.abs(pixels / 255.0 - wanted(lenet5, "output:3").numpy()).max() <= 0.5 / 255 + 1e-6  # the same picture
    read = torch.from_numpy(pixels).float().div(255).reshape(1, 1, 28, 28)
    assert inference.predict(lenet5, normalised(read)).prediction == 3  # as the network reads those pixels
    assert main(["visualize", "lenet5", "--unit", "conv9:1", "--out", str(out)]) == 2
    assert "no layer 'conv9'" in capsys.readouterr().err
