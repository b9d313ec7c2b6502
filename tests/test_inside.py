"""core.explain.inside: each stage's features of the test digits, their PCA map, a digit's nearest
neighbours and the classes' separation, against numpy (SVD, a brute-force search) and a hand count."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core import models
from core.__main__ import main
from core.data import mnist
from core.explain.inside import INPUT, nearest, pca, separation, stage_features
from core.explain.journey import journey
from core.models import checkpoints

SHIPPED_CNNS = [name for name in models.names() if models.is_cnn(name)]
DIGITS = 500  # MNIST's first 500 test digits: every stage's vote in a fraction of a second


@pytest.fixture(scope="module")
def test_digits() -> tuple[torch.Tensor, torch.Tensor]:
    test = mnist.load_test()
    return mnist.normalize(test.images[:DIGITS]).reshape(-1, 1, 28, 28), test.labels[:DIGITS]


def test_pca_is_numpys_svd_of_the_centred_features_and_a_digit_lands_on_its_own_row(test_digits):
    model, _info = checkpoints.load("lenet5")
    features = stage_features(model, test_digits[0])["act4"]  # the last hidden layer: 84 numbers
    projection = pca(features)
    centred = features.double().numpy() - features.double().numpy().mean(0)
    _u, singular, vt = np.linalg.svd(centred, full_matrices=False)
    reference = centred @ vt[:2].T
    signs = np.sign((projection.coords.numpy() * reference).sum(0))  # a direction's sign is free
    assert np.allclose(projection.coords.numpy(), reference * signs, atol=1e-9)
    assert projection.explained == pytest.approx(tuple(singular[:2] ** 2 / (singular**2).sum()))
    assert torch.allclose(projection.place(features[123]), projection.coords[123], atol=1e-9)  # the star


def test_the_nearest_digits_are_a_brute_force_searchs(test_digits):
    model, _info = checkpoints.load("lenet5")
    features = stage_features(model, test_digits[0])["act4"]
    query = features[7] + 0.01
    brute = np.argsort(((features.double().numpy() - query.double().numpy()) ** 2).sum(1), kind="stable")[:8]
    assert nearest(features, query) == brute.tolist()


def test_separation_is_the_share_of_digits_whose_five_neighbours_vote_for_their_label():
    # Two tight clusters on a line and one stray: by hand, every row of a cluster has 4 cluster-mates
    # (and the stray or the other cluster) as its 5 nearest, so all 10 vote right; the stray (label
    # 0, sitting by the 1s) is outvoted: 10 of 11.
    points = torch.tensor([[0.0 + 0.1 * i] for i in range(5)] + [[10.0 + 0.1 * i] for i in range(5)] + [[9.0]])
    labels = torch.tensor([0] * 5 + [1] * 5 + [0])
    assert separation(points, labels) == pytest.approx(10 / 11)


def test_stage_features_are_the_journeys_stages_of_each_digit(test_digits):
    model, _info = checkpoints.load("lenet5_1998")
    features = stage_features(model, test_digits[0][:3])
    stages = journey(model, test_digits[0][2:3])
    assert list(features) == [INPUT] + [s.short for s in stages if s.short != "output"]
    for stage in stages[:-1]:
        assert torch.allclose(features[stage.short][2], stage.output.flatten(), atol=1e-6), stage.short


@pytest.mark.parametrize("name", SHIPPED_CNNS)
def test_the_layers_untangle_the_classes_for_every_shipped_cnn(name, test_digits):
    model, _info = checkpoints.load(name)
    images, labels = test_digits
    features = stage_features(model, images)
    raw, last = separation(features[INPUT], labels), separation(list(features.values())[-1], labels)
    assert last > raw, (name, raw, last)
    assert last >= 0.95  # a trained network's last hidden layer: its classes almost apart


def test_the_command_reports_every_stage_and_a_stages_map(capsys):
    assert main(["inside", "lenet5", "--digits", "300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["stage"] for s in report["stages"]][:3] == ["input", "conv1", "bn1"] and report["voters"] == 5
    assert report["stages"][0]["dims"] == 784 and report["stages"][-1]["dims"] == 84  # pixels, then F6's 84
    assert main(["inside", "lenet5", "--digits", "300", "--stage", "act4", "--json"]) == 0
    [act4] = json.loads(capsys.readouterr().out)["stages"]
    assert len(act4["coords"]) == len(act4["labels"]) == 300 and len(act4["explained"]) == 2
    assert main(["inside", "lenet5", "--stage", "conv9"]) == 2  # named, with the stages there are
    assert "no stage 'conv9'" in capsys.readouterr().err
