"""Home: the checkpoints in three groups (shipped, reproductions of the sources, trained here).

The checkpoint folder is a temporary one holding hand-written records (Home reads records only,
never weights), so the groups do not depend on what `make checkpoints` or other tests left.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from harness import ROOT
from core import checkpoints

PAGE = str(ROOT / "pages" / "home.py")


def write_record(folder, name, **record):
    history = record.pop("history", [{"epoch": 1, "test_accuracy": record.get("test_accuracy", 0.9),
                                      "train_loss": 0.3, "images": 60_000, "epoch_fraction": 1.0}])
    full = {"preset": "lenet5", "sha256": "0" * 64, "recipe": {"limit": None, "batch_size": 256},
            "test_accuracy": 0.99, "history": history, **record}
    (folder / f"{name}.json").write_text(json.dumps(full))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    return tmp_path


def run_home():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]  # no section failed
    return app


def test_home_shows_the_three_groups(folder):
    write_record(folder, "lenet5", recipe_name="fast")                                   # shipped name
    write_record(folder, "keras_cnn_small", recipe_name="fast", preset="keras_cnn_small")  # shipped name
    # seed 000's recipe as printed: 15 epochs whose train loss never leaves ln 10 = 2.30
    write_record(folder, "cnn_avgpool_bn_seed", recipe_name="seed", preset="cnn_avgpool_bn", test_accuracy=0.4499,
                 recipe={"optimizer": "sgd", "lr": 0.001, "batch_size": 512, "momentum": 0.0, "limit": None},
                 reported={"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15},
                 history=[{"epoch": e, "test_accuracy": 0.03 * e, "train_loss": 2.31 - 0.007 * e}
                          for e in range(1, 16)])
    write_record(folder, "class_lenet5", recipe_name="fast", trained_on="training page", test_accuracy=0.929)
    # stopped after a quarter of its second epoch
    write_record(folder, "stop_test", recipe_name="fast", trained_on="training page", stopped=True,
                 history=[{"epoch": 1, "test_accuracy": 0.9, "epoch_fraction": 1.0},
                          {"epoch": 2, "test_accuracy": 0.913, "epoch_fraction": 0.25}])
    app = run_home()
    assert [h.value for h in app.subheader] == ["Shipped with the dashboard", "Reproductions of the source write-ups",
                                                "Trained here"]
    shipped, reproductions, here = (t.value for t in app.table)
    assert list(shipped["checkpoint"]) == ["keras_cnn_small", "lenet5"]
    assert list(reproductions["checkpoint"]) == ["cnn_avgpool_bn_seed"]
    assert list(here["checkpoint"]) == ["class_lenet5", "stop_test"]
    row = reproductions.iloc[0]
    assert row["test accuracy"] == "44.99% (15 ep.)" and row["source reports"] == "98.44% (seed 000, 15 ep.)"
    # One line on why: 98.44% - 44.99% = 53.45 points; 60,000 / 512 -> 118 steps an epoch.
    why = row["how it compares, and why"]
    assert why.startswith("53.45 points below") and "118 steps an epoch" in why and "another recipe" in why
    assert list(here["epochs"]) == ["1", "1.25 (stopped)"]


def test_home_with_no_trained_run_says_where_they_come_from(folder):
    write_record(folder, "lenet5", recipe_name="fast")
    app = run_home()
    assert len(app.table) == 1
    captions = " ".join(c.value for c in app.caption)
    assert "None yet: a run saved on the Training page appears here." in captions
    assert "None: `make checkpoints` trains them" in captions


def test_home_without_checkpoints(folder):
    app = run_home()
    assert "No checkpoints yet" in app.info[0].value and not app.subheader
