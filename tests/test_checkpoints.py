"""core.models.checkpoints: records of the current format only, and what a broken checkpoint's
error tells the user to run to make it again."""

import json
import shutil

import pytest

from core.models import checkpoints
from core.training import recipes

SHIPPED = checkpoints.DEFAULT_DIR


def copy_shipped(name, folder):
    for suffix in (".json", ".pt"):
        shutil.copy(SHIPPED / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder / f"{name}.json"


def rewrite(path, **changes):
    record = json.loads(path.read_text())
    record.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del record[key]
    path.write_text(json.dumps(record))


def test_a_record_of_the_older_format_is_a_clear_error(tmp_path):
    path = copy_shipped("mlp_128", tmp_path)
    rewrite(path, format=1)
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load("mlp_128", folder=tmp_path)
    message = str(error.value)
    assert str(path) in message and "format 1; this version reads format 2 only" in message
    assert "`python -m core train mlp_128 --name mlp_128`" in message


def test_a_record_without_its_config_is_a_clear_error(tmp_path):
    path = copy_shipped("mlp_128", tmp_path)
    rewrite(path, config=None)
    with pytest.raises(checkpoints.CheckpointError, match=r"does not say which configuration .*'config'.*core train"):
        checkpoints.load("mlp_128", folder=tmp_path)


def test_a_corrupted_variant_is_told_to_retrain_with_its_recipe_and_variant(tmp_path):
    # The record says seed 000's recipe with momentum 0.9: the fast recipe would make another network.
    copy_shipped("cnn_avgpool_bn_seed_momentum", tmp_path)
    pt = tmp_path / "cnn_avgpool_bn_seed_momentum.pt"
    raw = bytearray(pt.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    pt.write_bytes(bytes(raw))
    command = "python -m core train cnn_avgpool_bn --recipe seed --variant momentum --name cnn_avgpool_bn_seed_momentum"
    with pytest.raises(checkpoints.CheckpointError, match="is corrupted") as error:
        checkpoints.load("cnn_avgpool_bn_seed_momentum", folder=tmp_path)
    assert f"`{command}`" in str(error.value)


def test_missing_weights_of_a_seed_run_are_told_its_recipe(tmp_path):
    copy_shipped("lenet5_1998_seed", tmp_path)
    (tmp_path / "lenet5_1998_seed.pt").unlink()
    with pytest.raises(checkpoints.CheckpointError, match="is missing") as error:
        checkpoints.load("lenet5_1998_seed", folder=tmp_path)
    assert "`python -m core train lenet5_1998 --recipe seed --name lenet5_1998_seed`" in str(error.value)


def test_an_unreadable_record_is_told_its_shipped_run_or_else_to_choose_a_model(tmp_path):
    (tmp_path / "mlp_128_seed.json").write_text("{ not json")
    with pytest.raises(checkpoints.CheckpointError, match="not a valid checkpoint record") as error:
        checkpoints.read_info("mlp_128_seed", tmp_path)
    assert "`python -m core train mlp_128 --recipe seed --name mlp_128_seed`" in str(error.value)
    (tmp_path / "mine.json").write_text("{ not json")
    with pytest.raises(checkpoints.CheckpointError, match="`python -m core train MODEL --name mine`"):
        checkpoints.read_info("mine", tmp_path)


def test_the_shipped_runs_checkpoints_knows_are_the_trainers():
    assert checkpoints.SHIPPED_RUNS == {
        run.name: (run.preset, run.recipe, run.variant) for run in recipes.shipped_runs()
    }
    assert len(checkpoints.SHIPPED_RUNS) == 22


def test_a_class_fine_tune_is_told_to_fine_tune_again():
    record = {"preset": "lenet5", "recipe_name": "class fine-tune", "finetune": {"session": 3}}
    assert "`python -m core class finetune MODEL --session 3`" in checkpoints.regenerate_hint("class_lenet5_3", record)
