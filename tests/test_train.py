"""Training engine and checkpoints: short runs on a few thousand images, never full epochs."""

import json
import math
import subprocess
import sys

import pytest
import torch

from core import models
from core.data.batches import random_affine
from core.files import file_digest
from core.models import checkpoints
from core.models.init import seeded
from core.training import recipes
from core.training.train import TrainingDiverged, epoch_position, lecun1998_factor, map_loss, train

SMALL = dict(epochs=1, limit=2000, batch_size=100)


@pytest.fixture(scope="module")
def short_run():
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(**{**SMALL, "epochs": 2})
    return train("lenet5", recipe, test_limit=500, keep_snapshots=True)


def test_short_run_lowers_the_loss(short_run):
    h = short_run.history
    # 10 classes: an untrained net's cross-entropy is about ln 10 = 2.30.
    assert h[0]["train_loss"] < 2.30
    assert h[1]["train_loss"] < h[0]["train_loss"]
    assert h[-1]["test_accuracy"] > 0.5
    assert set(h[0]) >= {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"}


def test_checkpoint_round_trip_gives_identical_logits(short_run, tmp_path):
    info = checkpoints.save(
        short_run.model,
        "tiny",
        preset="lenet5",
        record=short_run.record(),
        folder=tmp_path,
        snapshots=short_run.snapshots,
    )
    record = json.loads(info.json_path.read_text())
    assert record["sha256"] == file_digest(info.pt_path, "sha256")
    assert record["torch_version"] == torch.__version__ and len(record["history"]) == 2
    loaded, _ = checkpoints.load("tiny", folder=tmp_path)
    x = torch.randn(5, 1, 28, 28)
    short_run.model.eval()
    with torch.no_grad():
        assert torch.equal(loaded(x), short_run.model(x))
    assert sorted(checkpoints.load_snapshots("tiny", folder=tmp_path)) == ["epoch_1", "epoch_2"]


@pytest.fixture
def saved(short_run, tmp_path):
    checkpoints.save(short_run.model, "victim", preset="lenet5", record=short_run.record(), folder=tmp_path)
    return tmp_path


def test_corrupted_byte_is_a_clear_error(saved):
    pt = saved / "victim.pt"
    raw = bytearray(pt.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    pt.write_bytes(bytes(raw))
    with pytest.raises(checkpoints.CheckpointError, match=r"victim\.pt is corrupted.*python -m core train"):
        checkpoints.load("victim", folder=saved)


def test_wrong_hash_in_record_is_a_clear_error(saved):
    path = saved / "victim.json"
    record = json.loads(path.read_text())
    record["sha256"] = "0" * 64
    path.write_text(json.dumps(record))
    with pytest.raises(checkpoints.CheckpointError, match="does not match"):
        checkpoints.load("victim", folder=saved)


def test_weights_of_another_preset_are_a_clear_error(saved):
    path = saved / "victim.json"
    record = json.loads(path.read_text())
    record["preset"] = "cnn_avgpool"  # same hash, but lenet5's weights
    path.write_text(json.dumps(record))
    with pytest.raises(checkpoints.CheckpointError, match="another architecture than cnn_avgpool"):
        checkpoints.load("victim", folder=saved)


def test_nan_stops_the_run_and_the_old_checkpoint_stays(saved):
    before = (saved / "victim.pt").read_bytes()
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(lr=1e6, **SMALL)
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        train("lenet5", recipe, test_limit=100)
    assert (saved / "victim.pt").read_bytes() == before
    checkpoints.load("victim", folder=saved)


def test_cli_lr_1e6_stops_on_nan_and_nothing_written(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "lenet5",
            "--lr",
            "1e6",
            "--folder",
            str(tmp_path),
            "--limit",
            "2000",
            "--epochs",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "lower the learning rate" in out.stderr and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_stop_event_ends_after_the_current_batch():
    import threading

    stop = threading.Event()
    steps = []

    def progress(event):
        if event["event"] == "batch":
            steps.append(
                (event["step"], event["images"])
            )  # the images so far this epoch (core.training.jobs.runner' curve)
            stop.set()

    recipe = recipes.get_recipe("mlp_128", "fast").with_overrides(epochs=3, limit=3000, batch_size=100)
    result = train("mlp_128", recipe, progress=progress, stop=stop, test_limit=200)
    assert result.stopped and len(result.history) == 1
    assert result.history[0]["images"] == 10 * 100  # the first progress report comes after 10 batches
    assert steps == [(10, 1000)]
    # Stopped after 10 of the epoch's 30 batches (3,000 images at 100): a third of epoch 1, and
    # that is where its test point goes, not at epoch 1.
    assert result.history[0]["epoch_fraction"] == pytest.approx(1000 / 3000)
    assert epoch_position(result.history[0]) == pytest.approx(1 / 3)


def test_a_whole_epoch_sits_at_its_number(short_run):
    assert [h["epoch_fraction"] for h in short_run.history] == [1.0, 1.0]  # 2,000 of 2,000 images
    assert [epoch_position(h) for h in short_run.history] == [1.0, 2.0]
    # A record written before "epoch_fraction": from its images, when the epoch's size is known.
    assert epoch_position({"epoch": 3, "images": 1500}, 2000) == 2.75
    assert epoch_position({"epoch": 3}) == 3.0


def test_augmentation_keeps_digits_in_place_on_average():
    from core.data import mnist

    x = mnist.load_train().images[:200]
    out = random_affine(x, torch.Generator().manual_seed(0))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    # Shifts of at most 2 px and rotations of 10 degrees keep most ink where it was.
    overlap = ((out > 64) & (x > 64)).sum() / (x > 64).sum()
    assert 0.3 < overlap < 1.0


def test_best_by_validation_reports_the_kept_epoch():
    recipe = recipes.get_recipe("mlp_256_128", "seed").with_overrides(epochs=2, limit=2000)
    result = train("mlp_256_128", recipe, test_limit=500)
    best = max(result.history, key=lambda e: e["val_accuracy"])
    assert result.test_accuracy == pytest.approx(best["test_accuracy"])


def test_cli_evaluate_missing_checkpoint_is_one_line(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "core", "evaluate", str(tmp_path / "nope.pt")], capture_output=True, text=True
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "python -m core train" in out.stderr


def test_checkpoint_names_are_validated():
    for bad in ["../evil", "a/b", "", ".hidden", "x" * 65]:
        with pytest.raises(checkpoints.CheckpointError, match="invalid checkpoint name"):
            checkpoints.validate_name(bad)
    assert checkpoints.validate_name("my_run-2.v1") == "my_run-2.v1"


def test_load_from_accepts_a_path(saved):
    model, info = checkpoints.load_from(str(saved / "victim.pt"))
    assert info.preset == "lenet5" and not model.training


def test_one_cycle_with_fewer_steps_than_its_warm_up_still_trains():
    # 300 images at batch 256 is 2 steps: OneCycleLR would divide by zero; a constant rate is used.
    recipe = recipes.get_recipe("mlp_128", "fast").with_overrides(epochs=1, limit=300)
    result = train("mlp_128", recipe, test_limit=100)
    assert len(result.history) == 1 and result.history[0]["images"] == 300


@pytest.mark.fullset  # each loop's model is measured on the 10,000 test images
def test_bench_smoke_runs_both_loops_side_by_side():
    from core.device import pick_device
    from core.training.bench import bench

    r = bench("mlp_128", seed_epochs=1, fast_epochs=1, limit=1000, seeds=2, log=lambda line: None)
    a, b = r["seed_loop"], r["fast_path"]
    # One epoch on the first 1,000 images: every fast run saw exactly those 1,000.
    assert [p["images_seen"] for p in r["fast_seeds"]["per_seed"]] == [1000, 1000]
    assert a["images_per_second"] > 0 and r["speed_ratio"] > 0
    assert r["device"] == str(pick_device()) and len(a["epochs"]) == 1
    assert [p["seed"] for p in r["fast_seeds"]["per_seed"]] == [0, 1]
    assert r["fast_seeds"]["final_min"] <= r["fast_seeds"]["final_mean"] <= r["fast_seeds"]["final_max"]
    assert r["raw_images_per_second"] > b["images_per_second"] * 0.5


def test_only_an_unchanged_seed_recipe_is_recorded_as_the_sources_reproduction():
    from core.training.train import TrainResult

    seed = recipes.get_recipe("mlp_128", "seed")

    def record(recipe, name):
        return TrainResult("mlp_128", recipe, None, [], 0.9, 0.3, 1.0, "cpu").record(name)

    assert record(seed, "seed")["reported"] == {"source": "seed 003", "test_accuracy": 0.977, "epochs": 10}
    assert "reported" not in record(seed.with_overrides(epochs=2), "seed")
    assert "reported" not in record(recipes.get_recipe("mlp_128", "fast"), "fast")
    assert record(seed, "seed")["recipe_name"] == "seed"


# --- issue 19: the paper's criterion and schedule, seed 000's variants ------------------------


def test_map_loss_is_eq_9_of_the_1998_paper_by_hand():
    # Two classes' penalties y = (1, 3) (logits -1, -3), true class 0, j = 1:
    # E = y_0 + log(e^-1 + e^-1 + e^-3) = 1 + log(2e^-1 + e^-3).
    logits = torch.tensor([[-1.0, -3.0]])
    expected = 1 + math.log(2 * math.exp(-1) + math.exp(-3))
    assert float(map_loss(logits, torch.tensor([0]), j=1.0)) == pytest.approx(expected, rel=1e-6)
    # Without the e^-j term (j -> infinity) it is the cross-entropy of the logits.
    assert float(map_loss(logits, torch.tensor([1]), j=1e6)) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, torch.tensor([1]))), rel=1e-6
    )


def test_the_map_loss_needs_an_rbf_output():
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(loss="map", epochs=1, limit=256)
    with pytest.raises(ValueError, match="needs an RBF output"):
        train("lenet5", recipe, test_limit=100)


def test_the_papers_decreasing_step_pass_by_pass():
    # Section III-C: 0.0005 for 2 passes, 0.0002 for 3, 0.0001 for 3, 0.00005 for 4, then 0.00001.
    rates = [0.0005 * lecun1998_factor(epoch) for epoch in range(14)]
    assert rates == pytest.approx([5e-4, 5e-4, 2e-4, 2e-4, 2e-4, 1e-4, 1e-4, 1e-4, 5e-5, 5e-5, 5e-5, 5e-5, 1e-5, 1e-5])


def test_a_variant_changes_one_thing_and_is_named_for_it():
    printed = recipes.get_recipe("cnn_avgpool_bn", "seed")
    momentum = recipes.get_recipe("cnn_avgpool_bn", "seed", "momentum")
    changed = {k for k, v in momentum.to_dict().items() if v != printed.to_dict()[k]} - {"note"}
    assert changed == {"momentum"} and momentum.momentum == 0.9
    assert recipes.run_name("cnn_avgpool_bn", "seed", "momentum") == "cnn_avgpool_bn_seed_momentum"
    names = [run.name for run in recipes.shipped_runs()]
    # Ten presets' fast runs, four seed recipes (lenet5_1998, cnn_avgpool, cnn_avgpool_bn, mlp_128),
    # and every variant of the two seed-000 networks.
    assert len(names) == len(set(names)) == 10 + 4 + 2 * len(recipes.VARIANTS)
    with pytest.raises(recipes.RecipeError, match="variants are of seed 000's printed recipe"):
        recipes.get_recipe("lenet5", "fast", "momentum")


def test_a_checkpoint_is_rebuilt_from_the_configuration_it_was_trained_with(tmp_path):
    # A lenet5 with 4 and 8 channels instead of the preset's 6 and 16 (nanoGPT's model_args):
    # saved with its configuration, it loads as that network, not as today's preset.
    model = models.build("lenet5", channels=(4, 8), generator=seeded(0))
    recipe = recipes.get_recipe("lenet5", "fast")
    checkpoints.save(
        model, "narrow", preset="lenet5", record={"recipe": recipe.to_dict(), "history": []}, folder=tmp_path
    )
    record = checkpoints.read_info("narrow", tmp_path).record
    assert record["config"]["channels"] == [4, 8]
    loaded, _ = checkpoints.load("narrow", folder=tmp_path)
    assert loaded.features.conv1.out_channels == 4 and loaded.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
