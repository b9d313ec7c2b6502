"""Every shipped checkpoint loads, verifies, and scores what its record says (issue 9)."""

import dataclasses
import json

import pytest

from core import models
from core.models import checkpoints
from core.models.inference import evaluate_checkpoint
from core.training.recipes import REPORTED, shipped_runs

# Issue 9's floors on test accuracy.
FLOOR = {
    "lenet5": 0.990,
    "lenet5_1998": 0.985,
    "cnn_avgpool": 0.980,
    "mlp_784": 0.975,
    "mlp_256_128": 0.975,
    "mlp_128": 0.975,
}
CNN_FLOOR = 0.988

SHIPPED = shipped_runs()

pytestmark = pytest.mark.fullset  # every shipped network on the 10,000 test images


@pytest.mark.parametrize("run", SHIPPED, ids=[r.name for r in SHIPPED])
def test_shipped_checkpoint(run):
    preset, recipe, name, snapshots = run.preset, run.recipe, run.name, run.snapshots
    info = checkpoints.read_info(name)
    assert info.record.get("variant") == run.variant
    assert info.preset == preset and info.record["recipe_name"] == recipe
    result = evaluate_checkpoint(name)
    assert result["n"] == 10_000
    # The record was written from the same weights on the same test set.
    assert result["accuracy"] == pytest.approx(info.test_accuracy, abs=0.001)
    if recipe == "fast":
        assert result["accuracy"] >= FLOOR.get(preset, CNN_FLOOR if models.is_cnn(preset) else 0.975)
    else:  # the seed recipe's run is kept for its history, beside the source's reported figure
        assert info.record["reported"] == REPORTED[preset]
        assert len(info.record["history"]) == info.record["recipe"]["epochs"]
    if snapshots:
        assert len(checkpoints.load_snapshots(name)) == info.epochs


def test_lenet5_1998_reaches_its_papers_error_with_the_papers_recipe():
    # LeCun et al. 1998, section III-C: 0.95% test error without distortions after 20 passes.
    info = checkpoints.read_info("lenet5_1998_seed")
    assert info.record["recipe"]["loss"] == "map" and info.record["recipe"]["schedule"] == "lecun1998"
    assert len(info.record["history"]) == 20
    assert 1 - info.test_accuracy <= 0.0095


def test_every_shipped_record_holds_its_config_and_loads_through_it():
    # All 22 records are of format 2 and say which configuration their model was built from: the
    # preset's own (as checkpoints.save writes it), and the weights load into it, verified.
    for run in SHIPPED:
        info = checkpoints.read_info(run.name)
        assert info.record["format"] == checkpoints.FORMAT_VERSION == 2, run.name
        assert info.record["config"] == json.loads(json.dumps(dataclasses.asdict(models.get(run.preset).config)))
        model, _ = checkpoints.load(run.name)
        assert model.config == models.get(run.preset).config, run.name
    assert len(SHIPPED) == 22
