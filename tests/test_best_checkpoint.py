"""core.models.checkpoints.best_first: which checkpoint of a preset /architecture shows, from records
written by hand (it reads records only, never weights)."""

import json

from core.models import checkpoints


def write_record(folder, name, preset, accuracy=None):
    record = {"preset": preset, "sha256": "0" * 64, **({"test_accuracy": accuracy} if accuracy is not None else {})}
    (folder / f"{name}.json").write_text(json.dumps(record))


def test_best_first_by_test_accuracy(tmp_path):
    write_record(tmp_path, "a_lenet5", "lenet5", 0.97)
    write_record(tmp_path, "b_lenet5", "lenet5", 0.99)  # the best lenet5
    write_record(tmp_path, "c_lenet5", "lenet5")  # no accuracy recorded: counted as 0, last
    write_record(tmp_path, "d_lenet5", "lenet5", 0.97)  # equal to a_lenet5: after it, in name order
    write_record(tmp_path, "e_mlp", "mlp_128", 0.995)  # better, but another preset
    assert [i.name for i in checkpoints.best_first("lenet5", tmp_path)] == [
        "b_lenet5",
        "a_lenet5",
        "d_lenet5",
        "c_lenet5",
    ]
    assert [i.name for i in checkpoints.best_first("mlp_128", tmp_path)] == ["e_mlp"]
    assert checkpoints.best_first("keras_cnn_small", tmp_path) == []  # none: the page shows fresh weights


def test_best_first_reads_the_default_folder_at_call_time(tmp_path, monkeypatch):
    write_record(tmp_path, "only", "lenet5", 0.9)
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    assert [i.name for i in checkpoints.best_first("lenet5")] == ["only"]
