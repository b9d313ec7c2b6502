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


def test_mistakes_and_right_among_by_hand(toy):
    m = ev.confusion_matrix(toy.labels, toy.predicted)
    assert ev.mistakes(m) == 2  # images 1 (0 read as 1) and 4 (2 read as 0)
    assert ev.right_among(toy, [0, 1, 4]) == 1 and ev.right_among(toy, range(6)) == 4


def test_history_series_places_a_stopped_epoch_at_its_fraction():
    # A run on 2,000 images at batch 100, stopped after 5 of epoch 2's 20 batches: 500 images,
    # so its test point sits at 1 + 500 / 2,000 = 1.25 epochs.
    history = [{"epoch": 1, "images": 2000, "epoch_fraction": 1.0, "test_accuracy": 0.8},
               {"epoch": 2, "images": 500, "epoch_fraction": 0.25, "test_accuracy": 0.85}]
    record = {"recipe": {"limit": 2000, "batch_size": 100}, "history": history, "stopped": True}
    assert ev.history_series(record)["epochs_done"] == [1.0, 1.25]
    # A record written before "epoch_fraction": the same position from "images" and the recipe's limit.
    old = {**record, "history": [{k: v for k, v in h.items() if k != "epoch_fraction"} for h in history]}
    assert ev.history_series(old)["epochs_done"] == [1.0, 1.25]
    # Without a limit an epoch is the 60,000 training images (50,000 when 10,000 are kept for validation).
    assert ev.train_images({"recipe": {"limit": None}}) == 60_000
    assert ev.train_images({"recipe": {"select_by_validation": True}}) == 50_000


def info(name, **record):
    from core.checkpoints import CheckpointInfo
    return CheckpointInfo(name, data.REPO_ROOT, {"preset": "lenet5", "sha256": "0" * 64, **record})


def test_checkpoint_groups():
    shipped = {"lenet5", "cnn_avgpool_bn_seed"}
    reported = {"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15}
    cases = [
        (info("lenet5", recipe_name="fast"), ev.SHIPPED),
        # the shipped name, overwritten from the training page: no longer what was shipped
        (info("lenet5", recipe_name="fast", trained_on="training page"), ev.TRAINED_HERE),
        (info("cnn_avgpool_bn_seed", recipe_name="seed", reported=reported), ev.REPRODUCTION),
        (info("my_seed_run", recipe_name="seed", trained_on="training page"), ev.REPRODUCTION),  # settings changed
        (info("class_lenet5", recipe_name="fast", trained_on="training page"), ev.TRAINED_HERE),
        (info("from_the_cli", recipe_name="fast"), ev.TRAINED_HERE),  # not a shipped name
    ]
    for checkpoint, group in cases:
        assert ev.checkpoint_group(checkpoint, shipped) == group, (checkpoint.name, checkpoint.record)
    groups = ev.group_checkpoints([c for c, _ in cases], shipped)
    assert list(groups) == [ev.SHIPPED, ev.REPRODUCTION, ev.TRAINED_HERE]
    assert [c.name for c in groups[ev.TRAINED_HERE]] == ["lenet5", "class_lenet5", "from_the_cli"]
    # By default the shipped names are those of `make checkpoints` (core.commands.train.shipped_runs).
    assert ev.checkpoint_group(info("keras_cnn_wide", recipe_name="fast")) == ev.SHIPPED
    assert ev.checkpoint_group(info("keras_cnn_wide_2", recipe_name="fast")) == ev.TRAINED_HERE


def seed_history(test_accuracies, train_losses):
    return [{"epoch": i, "test_accuracy": a, "train_loss": loss, "images": 60_000, "epoch_fraction": 1.0}
            for i, (a, loss) in enumerate(zip(test_accuracies, train_losses), 1)]


SEED_000 = {"optimizer": "sgd", "lr": 0.001, "batch_size": 512, "momentum": 0.0, "limit": None}


def test_reproduction_note_of_a_run_that_barely_learned():
    # cnn_avgpool_bn's seed recipe: 60,000 images at batch 512 = ceil(117.2) = 118 steps an
    # epoch, 1,770 in 15 epochs; its loss 2.31 -> 2.20 never drops below 95% of ln 10 = 2.19.
    losses = [2.31 - 0.0073 * i for i in range(15)]
    record = {"preset": "cnn_avgpool_bn", "recipe": {**SEED_000, "epochs": 15}, "test_accuracy": 0.4499,
              "history": seed_history([0.1 + 0.025 * i for i in range(14)] + [0.4499], losses),
              "reported": {"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15}}
    note = ev.reproduction_note(record)
    assert note.startswith("53.45 points below")  # 98.44% - 44.99%
    assert "SGD lr 0.001 without momentum at batch 512 is 118 steps an epoch, 1,770 in all" in note
    assert "barely moved from an even guess's 2.30 (2.31 to 2.21)" in note
    assert "also ends near 45%: its 98.44% came from another recipe" in note


def test_reproduction_note_of_a_slow_start_and_of_a_match():
    # 8 epochs near ln 10 (above 2.19), then learning; the last 5 test accuracies rise 0.70 -> 0.80.
    losses = [2.30] * 8 + [1.5, 1.0, 0.8, 0.6, 0.5]
    accuracies = [0.1] * 8 + [0.70, 0.75, 0.78, 0.79, 0.80]
    record = {"preset": "cnn_avgpool", "recipe": {**SEED_000, "epochs": 13}, "test_accuracy": 0.80,
              "history": seed_history(accuracies, losses),
              "reported": {"source": "seed 000", "test_accuracy": 0.9549, "epochs": 50}}
    note = ev.reproduction_note(record)
    assert note.startswith("15.49 points below")
    assert "1,534 in all" in note  # 118 x 13
    assert "stayed near an even guess's 2.30 for 8 epochs, then fell to 0.50" in note
    assert "still rising (+70.0 points in the last 5 epochs)" in note  # 0.80 - 0.10 (epoch 8)
    assert "another recipe" not in note  # only what was checked outside the project is said
    # Within its own last epochs' spread (97.28%..97.74% = 0.46 points): 97.46% against 97.70% matches.
    mlp = {"preset": "mlp_128", "recipe": {"optimizer": "adam", "lr": 0.001, "batch_size": 32},
           "test_accuracy": 0.9746, "reported": {"source": "seed 003", "test_accuracy": 0.977, "epochs": 10},
           "history": seed_history([0.9753, 0.9728, 0.9764, 0.9774, 0.9746], [0.1] * 5)}
    assert ev.reproduction_note(mlp) == ("Matches: 0.24 points below seed 003's 97.70%, less than its own "
                                         "last 5 epochs differ (0.46 points).")


def test_reproduction_note_of_changed_settings_and_of_a_stopped_run():
    from core import recipes
    seed = recipes.get_recipe("cnn_avgpool", "seed").to_dict()
    changed = {"preset": "cnn_avgpool", "recipe_name": "seed", "recipe": {**seed, "epochs": 2, "limit": 2000},
               "test_accuracy": 0.2, "history": seed_history([0.2], [2.2])}
    note = ev.reproduction_note(changed)
    assert "epochs 2, not 50" in note and "limit 2000, not all" in note and "seed 000" in note
    stopped = {"preset": "cnn_avgpool", "recipe": seed, "stopped": True, "test_accuracy": 0.2,
               "reported": {"source": "seed 000", "test_accuracy": 0.9549, "epochs": 50},
               "history": [{"epoch": 1, "images": 15_000, "epoch_fraction": 0.25, "test_accuracy": 0.2,
                            "train_loss": 2.3}]}
    assert ev.reproduction_note(stopped).startswith("Stopped after 0.25 of 50 epochs")
