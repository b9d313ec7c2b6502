"""core.evaluation: hand-computed confusion matrices, torch as the reference for feature maps."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core import data, models
from core import evaluation as ev


@pytest.fixture
def toy():
    # Six images: labels 0 0 1 2 2 2, answers 0 1 1 2 0 2 (by hand: two mistakes).
    labels = np.array([0, 0, 1, 2, 2, 2])
    probs = np.full((6, 10), 0.01, dtype=np.float32)
    for i, (answer, p) in enumerate(zip([0, 1, 1, 2, 0, 2], [0.9, 0.6, 0.8, 0.7, 0.95, 0.5])):
        probs[i, answer] = p
    return ev.TestPredictions(probs, labels)


def test_confusion_matrix_by_hand(toy):
    m = ev.confusion_matrix(toy.labels, toy.predicted)
    assert m.shape == (10, 10) and m.sum() == 6
    assert (m[0, 0], m[0, 1], m[1, 1], m[2, 2], m[2, 0]) == (1, 1, 1, 2, 1)
    assert np.trace(m) == 4 and toy.accuracy == pytest.approx(4 / 6)
    assert ev.per_class_accuracy(m)[:3] == pytest.approx([0.5, 1.0, 2 / 3])
    assert ev.per_class_accuracy(m)[5] == 0.0  # no image of 5: no division by zero
    assert ev.worst_confusions(m, 5) == [(0, 1, 1), (2, 0, 1)]  # only the two mistakes, row order


def test_cell_indices_most_confident_first(toy):
    assert ev.cell_indices(toy, 2, 2).tolist() == [3, 5]  # p 0.7 before 0.5
    assert ev.cell_indices(toy, 2, 0).tolist() == [4]
    assert ev.cell_indices(toy, 7, 3).tolist() == []


def test_confusion_matrix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        ev.confusion_matrix(np.zeros(3, int), np.zeros(4, int))


def test_random_gallery_is_distinct_and_repeatable():
    a, b = ev.random_gallery(10, seed=3), ev.random_gallery(10, seed=3)
    assert len(set(a.tolist())) == 10 and a.tolist() == b.tolist()
    assert a.tolist() != ev.random_gallery(10, seed=4).tolist()
    assert a.min() >= 0 and a.max() < 10_000
    with pytest.raises(ValueError):
        ev.random_gallery(0)


def test_predict_test_set_matches_the_model_run_by_hand():
    torch.manual_seed(0)
    model = models.build("lenet5").eval()
    preds = ev.predict_test_set(model, limit=50)
    test = data.load_test()
    with torch.no_grad():
        expected = torch.softmax(model(data.normalize(test.images[:50])), 1).numpy()
    assert len(preds) == 50 and preds.labels.tolist() == test.labels[:50].tolist()
    np.testing.assert_allclose(preds.probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(preds.probabilities.sum(1), 1.0, atol=1e-5)


@pytest.mark.parametrize("preset, shape", [("lenet5", (6, 28, 28)), ("keras_cnn_small", (32, 28, 28)),
                                           ("cnn_avgpool", (6, 24, 24)), ("lenet5_1998", (6, 28, 28))])
def test_first_layer_maps_equal_torch_conv2d(preset, shape):
    torch.manual_seed(1)
    model = models.build(preset).eval()
    image = data.load_test().images[0]  # a 7
    first = ev.first_layer_maps(model, image.numpy())
    conv = model.get_submodule(first.name)
    x = data.normalize(image[None])
    if preset == "lenet5_1998":  # the paper's 32x32 input: the 28x28 digit padded by 2 (of black)
        x = F.pad(x, (2, 2, 2, 2), value=float(x.min()))
    with torch.no_grad():
        reference = F.conv2d(x, conv.weight, conv.bias, padding=conv.padding)[0]
        probs = torch.softmax(model(data.normalize(image[None])), 1)[0]
    assert first.maps.shape == shape and isinstance(conv, torch.nn.Conv2d)
    np.testing.assert_allclose(first.maps, reference.numpy(), atol=1e-5)
    np.testing.assert_allclose(first.probabilities, probs.numpy(), atol=1e-6)
    assert not conv._forward_hooks  # the model itself was never hooked


def test_mlp_has_no_first_layer_maps():
    with pytest.raises(ValueError, match="no convolution"):
        ev.first_layer_maps(models.build("mlp_128"), np.zeros((28, 28), np.uint8))


def test_snapshots_by_epoch_number():
    torch.manual_seed(2)
    a, b = models.build("lenet5").state_dict(), models.build("lenet5").state_dict()
    snaps = {"epoch_10": b, "epoch_2": a, "other": {}}
    assert ev.snapshot_epochs(snaps) == [2, 10]  # numeric, not "10" < "2"
    model = ev.model_at_epoch("lenet5", snaps, 10)
    assert torch.equal(model.state_dict()["features.conv1.weight"], b["features.conv1.weight"])
    assert not model.training
    with pytest.raises(KeyError, match="epoch 3"):
        ev.model_at_epoch("lenet5", snaps, 3)


def test_history_series_and_run_row():
    record = {"preset": "cnn_avgpool_bn", "recipe_name": "seed", "test_accuracy": 0.9861,
              "recipe": {"optimizer": "sgd", "lr": 0.001, "batch_size": 512},
              "history": [{"epoch": 1, "train_loss": 0.5, "test_loss": 0.4, "train_accuracy": 0.9,
                           "test_accuracy": 0.95}, {"epoch": 2, "train_loss": 0.2, "test_loss": 0.3,
                                                    "train_accuracy": 0.97, "test_accuracy": 0.9861}],
              "reported": {"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15}}
    series = ev.history_series(record)
    assert series["epoch"] == [1, 2] and series["test_accuracy"] == [0.95, 0.9861]
    row = ev.run_row("cnn_avgpool_bn_seed", record)
    assert row["epochs"] == 2 and row["reported_accuracy"] == 0.9844 and row["source"] == "seed 000"
    assert row["difference"] == pytest.approx(0.0017)  # 98.61% - 98.44%
    assert "difference" not in ev.run_row("x", {"history": []})


def test_learned_late_picks_the_largest_gain_among_right_answers():
    from core import recipes
    from core.train import train
    torch.manual_seed(3)
    untrained = models.build("lenet5").state_dict()
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(epochs=1, limit=1000, batch_size=100)
    trained = train("lenet5", recipe, test_limit=100).model.state_dict()
    snaps = {"epoch_1": untrained, "epoch_2": trained}
    index = ev.learned_late("lenet5", snaps, limit=200)
    # Reference: every one of the 200 images by hand, with the two models run directly.
    test = data.load_test()
    x, y = data.normalize(test.images[:200]), test.labels[:200]
    with torch.no_grad():
        p1, p2 = (torch.softmax(ev.model_at_epoch("lenet5", snaps, e)(x), 1) for e in (1, 2))
    gains = [(float(p2[i, y[i]] - p1[i, y[i]]), i) for i in range(200) if int(p2[i].argmax()) == int(y[i])]
    assert index == max(gains)[1]
    assert int(p2[index].argmax()) == int(y[index])  # right at the end
