"""Home starts the lesson: its steps in order (the class wall among them), each a link; the models
the pickers offer are on /models, in four groups (shipped, reproductions of the sources, trained
here, the class's).

The checkpoint folder is a temporary one holding hand-written records (Home and /models read
records only, never weights), so the groups do not depend on what `make checkpoints` or other
tests left.
"""

import json

import pytest

from core.models import checkpoints
from tests.harness import run_page


def write_record(folder, name, **record):
    history = record.pop(
        "history",
        [
            {
                "epoch": 1,
                "test_accuracy": record.get("test_accuracy", 0.9),
                "train_loss": 0.3,
                "images": 60_000,
                "epoch_fraction": 1.0,
            }
        ],
    )
    full = {
        "preset": "lenet5",
        "sha256": "0" * 64,
        "recipe": {"limit": None, "batch_size": 256},
        "test_accuracy": 0.99,
        "history": history,
        **record,
    }
    (folder / f"{name}.json").write_text(json.dumps(full))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    return tmp_path


def run(page, params=None):
    app = run_page(page, params, timeout=60)
    assert not app.exception
    assert not app.error, [e.value for e in app.error]  # no section failed
    return app


def links(app) -> list[tuple[str, str, str]]:
    """Every page link of the page: its label, the page it opens, the link's query string."""
    return [(p.proto.label, p.proto.page, p.proto.query_string) for p in app.get("page_link")]


def test_home_is_the_lesson_in_order_with_the_class_wall(folder):
    write_record(folder, "lenet5", recipe_name="fast")
    app = run("home")
    assert [h.value for h in app.header] == ["The lesson, in order", "The models"]
    # The lesson as a class runs it: the data, the operation, the network, a digit of one's own, the
    # class's digits on the wall (left out of the old walk-through), training, a network of one's own;
    # then the models page.
    assert [(label, page) for label, page, _query in links(app)] == [
        ("1. Dataset", "dataset"),
        ("2. Convolution", "convolution"),
        ("3. Architecture", "architecture"),
        ("4. Draw a digit", "draw"),
        ("5. Class wall", "class"),
        ("6. Training", "training"),
        ("7. Design a network", "design"),
        ("Every model, and how the reproductions compare with their sources", "models"),
    ]
    assert len(app.caption) >= 7  # each step says what a class does there
    assert not app.table  # the reproductions' table is on /models, not on Home
    assert "offers 1 models: 1 shipped with the dashboard, 0 reproductions" in app.markdown[1].value


def test_home_links_keep_the_language_and_presenter_mode(folder):
    write_record(folder, "lenet5", recipe_name="fast")
    app = run("home", {"lang": "zh", "presenter": "true"})
    found = links(app)
    assert found[4][:2] == ("5. 班级数字墙", "class")
    assert all(query == "lang=zh&presenter=true" for _label, _page, query in found), found
    assert [h.value for h in app.header] == ["一节课的顺序", "模型"]


def test_models_page_shows_the_four_groups(folder):
    write_record(folder, "lenet5", recipe_name="fast")  # shipped name
    write_record(folder, "keras_cnn_small", recipe_name="fast", preset="keras_cnn_small")  # shipped name
    # seed 000's recipe as printed: 15 epochs whose train loss never leaves ln 10 = 2.30
    write_record(
        folder,
        "cnn_avgpool_bn_seed",
        recipe_name="seed",
        preset="cnn_avgpool_bn",
        test_accuracy=0.4499,
        recipe={"optimizer": "sgd", "lr": 0.001, "batch_size": 512, "momentum": 0.0, "limit": None},
        reported={"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15},
        history=[{"epoch": e, "test_accuracy": 0.03 * e, "train_loss": 2.31 - 0.007 * e} for e in range(1, 16)],
    )
    write_record(folder, "class_lenet5", recipe_name="fast", trained_on="training page", test_accuracy=0.929)
    # stopped after a quarter of its second epoch
    write_record(
        folder,
        "stop_test",
        recipe_name="fast",
        trained_on="training page",
        stopped=True,
        history=[
            {"epoch": 1, "test_accuracy": 0.9, "epoch_fraction": 1.0},
            {"epoch": 2, "test_accuracy": 0.913, "epoch_fraction": 0.25},
        ],
    )
    # a fine-tune on the class's digits (core.classroom.finetune's record): session 3, 40 steps on 32 digits
    write_record(
        folder,
        "class_lenet5_3",
        recipe_name="class fine-tune",
        trained_on="class fine-tune",
        test_accuracy=0.9871,
        finetune={"model": "lenet5", "session": 3, "steps": 40, "train_digits": 32},
    )
    app = run("models")
    assert [h.value for h in app.subheader] == [
        "Shipped with the dashboard",
        "Reproductions of the source write-ups",
        "Trained here",
        "The class's fine-tunes",
    ]
    shipped, reproductions, here, tuned = (t.value for t in app.table)
    # In a group, the registry's order (LeNet-5 first), as the pickers list them.
    assert list(shipped["checkpoint"]) == ["lenet5", "keras_cnn_small"]
    assert list(shipped["model"]) == ["Modern LeNet", "Small Keras CNN"]
    assert list(reproductions["checkpoint"]) == ["cnn_avgpool_bn_seed"]
    assert list(here["checkpoint"]) == ["class_lenet5", "stop_test"]
    assert list(tuned["checkpoint"]) == ["class_lenet5_3"]
    assert tuned["model"][0] == "Modern LeNet, tuned on the class's digits"
    assert tuned["what it is"][0] == "session 3: 40 steps on 32 of the class's digits; 98.71% right on MNIST's test set"
    row = reproductions.iloc[0]
    assert row["model"] == "Average-pooling CNN with BatchNorm, the source's recipe"
    assert row["test accuracy"] == "44.99% (15 ep.)" and row["source reports"] == "98.44% (seed 000, 15 ep.)"
    # One line on why: 98.44% - 44.99% = 53.45 points; 60,000 / 512 -> 118 steps an epoch.
    why = row["how it compares, and why"]
    assert why.startswith("53.45 points below") and "118 steps an epoch" in why and "another recipe" in why
    assert list(here["epochs"]) == ["1", "1.25 (stopped)"]


def test_models_page_with_no_trained_run_says_where_they_come_from(folder):
    write_record(folder, "lenet5", recipe_name="fast")
    app = run("models")
    assert len(app.table) == 1
    captions = " ".join(c.value for c in app.caption)
    assert "None yet: a run saved on the Training page appears here." in captions
    assert "None: `make checkpoints` trains them" in captions
    assert "None yet: the teacher fine-tunes one on the class wall." in captions


def test_home_and_models_without_checkpoints(folder):
    assert "No checkpoints yet" in run("home").info[0].value
    app = run("models")
    assert "No checkpoints yet" in app.info[0].value and not app.subheader
