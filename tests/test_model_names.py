"""core.training.names and the model pickers: each checkpoint by a short name and one line on what it
is, grouped (shipped, reproductions of the sources, trained here, the class's), in English and
Chinese; the value and the link still the checkpoint's own name."""

import pytest

from core import models
from core.models import checkpoints
from core.models.checkpoints import CheckpointInfo
from core.training import names as model_names
from core.training import recipes, runs
from tests.harness import run_page


def shipped_info(run: recipes.ShippedRun, **record) -> CheckpointInfo:
    """A shipped run's record as `make checkpoints` writes it (no weights needed)."""
    base = {"preset": run.preset, "recipe_name": run.recipe, "test_accuracy": 0.99, "history": [{"epoch": 1}]}
    if run.variant:
        base["variant"] = run.variant
    if run.preset in recipes.REPORTED and run.recipe == "seed":
        base["reported"] = recipes.REPORTED[run.preset]
    return CheckpointInfo(run.name, checkpoints.DEFAULT_DIR, {**base, **record})


def test_every_preset_and_variant_has_a_short_name_and_a_line():
    # The registry's ten presets and seed 000's four variants: none named by a fallback.
    assert set(model_names.SHORT) == set(model_names.PLAIN) == {*models.names(), models.DESIGN}
    assert set(model_names.CHANGES) == set(recipes.VARIANTS)


def test_every_shipped_run_has_its_own_name_in_its_group():
    runs_ = recipes.shipped_runs()
    named = [model_names.name_of(shipped_info(run)) for run in runs_]
    # core.training.recipes: 10 fast runs (shipped), 4 seed runs of a reported figure + 2 x 4 variants (reproductions).
    assert [m.group for m in named].count(runs.SHIPPED) == 10
    assert [m.group for m in named].count(runs.REPRODUCTION) == 12
    assert len({m.title for m in named}) == len(named) == 22  # no two alike
    assert all(m.name not in m.title for m in named)  # a friendly name, not the technical one...
    assert all(m.label.endswith(f"({m.name})") for m in named)  # ...which is still there, in brackets
    by_name = {m.name: m for m in named}
    assert by_name["lenet5"].title == "Modern LeNet"
    assert (
        by_name["cnn_avgpool_bn_seed_lr1e-2"].title
        == "Average-pooling CNN with BatchNorm, the source's recipe with 10x the learning rate"
    )
    # Its figure against the source's: seed 000 reports 98.44% for cnn_avgpool_bn.
    assert by_name["cnn_avgpool_bn_seed_lr1e-2"].line == "99.00% right on the test set; seed 000 reports 98.44%"


def test_trained_here_and_the_class_s_and_the_group_order():
    here = CheckpointInfo(
        "my_run",
        checkpoints.DEFAULT_DIR,
        {
            "preset": "mlp_128",
            "recipe_name": "fast",
            "trained_on": "training page",
            "test_accuracy": 0.9712,
            "history": [{}, {}, {}],
        },
    )
    tuned = CheckpointInfo(
        "class_lenet5_2",
        checkpoints.DEFAULT_DIR,
        {
            "preset": "lenet5",
            "recipe_name": "class fine-tune",
            "test_accuracy": 0.9875,
            "finetune": {"session": 2, "steps": 30, "train_digits": 24},
        },
    )
    first = shipped_info(recipes.shipped_runs()[0])  # lenet5_1998, fast
    named = model_names.names_of([tuned, here, first])
    assert [m.group for m in named] == [runs.SHIPPED, runs.TRAINED_HERE, model_names.CLASS]
    assert named[1].title == "Small MLP, trained here"
    assert named[1].line == "the fast recipe, 3 epochs: 97.12% right on the test set"
    assert named[2].title == "Modern LeNet, tuned on the class's digits"
    assert (
        named[2].about == "The class's · session 2: 30 steps on 24 of the class's digits; 98.75% right on "
        "MNIST's test set · class_lenet5_2"
    )


def test_names_in_chinese(in_chinese):
    named = {run.name: model_names.name_of(shipped_info(run)) for run in recipes.shipped_runs()}
    assert named["lenet5"].label == "现代 LeNet（lenet5）"
    assert named["mlp_128_seed"].title == "小型多层感知机，原文的方案"
    assert named["cnn_avgpool_seed_momentum"].about.startswith("原文的复现 · 测试集上的准确率为 99.00%")


@pytest.mark.skipif(not (checkpoints.DEFAULT_DIR / "lenet5_1998.json").is_file(), reason="no shipped checkpoints")
def test_the_picker_shows_names_and_keeps_the_technical_one_in_the_link():
    at = run_page("draw", {"draw_model": "lenet5_1998"})
    assert not at.exception
    bound, shown = at.selectbox(key="draw_model"), at.selectbox(key="draw_model_shown")
    # The link's value is the checkpoint's name, and so is the widget's; the one shown says it in words.
    assert bound.value == shown.value == "lenet5_1998"
    assert bound.options[:2] == ["lenet5_1998", "lenet5"]  # grouped: the shipped ones first, LeNet-5 first
    assert shown.options[0] == "LeNet-5 of 1998 (lenet5_1998)"
    assert [o for o in shown.options if o.endswith("(cnn_avgpool_seed_lr0.1)")] == [
        "Average-pooling CNN, the source's recipe with 100x the learning rate (cnn_avgpool_seed_lr0.1)"
    ]
    shipped = len(recipes.shipped_runs()) - sum(1 for o in shown.options if "the source's recipe" in o)
    assert all("the source's recipe" not in o for o in shown.options[:shipped])  # reproductions after them
    assert any(c.value.startswith("Shipped · the network of LeCun") for c in at.caption)
    # Choosing in the one shown changes the value the page and the link use.
    at.selectbox(key="draw_model_shown").set_value("mlp_128").run()
    assert not at.exception
    assert at.selectbox(key="draw_model").value == "mlp_128" and at.session_state["draw_model"] == "mlp_128"
    assert "Shipped · one hidden layer of 128 units, no convolution · mlp_128" in [c.value for c in at.caption]
