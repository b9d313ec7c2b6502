"""core.training.recipes: a run's recipe is checked once, by recipes.prepare, and each bad value
gets its own sentence, on the command line and on the training page alike."""

import pytest

from core.data import mnist
from core.training import recipes
from core.training.jobs import spec

# Each setting that cannot train, and the words of the sentence that refuses it.
BAD = [
    (dict(lr=0.0), "learning rate must be a positive number, got 0.0"),
    (dict(lr=-1.0), "learning rate must be a positive number"),
    (dict(lr=float("nan")), "learning rate must be a positive number, got nan"),
    (dict(optimizer="rmsprop"), "optimizer must be one of sgd, adam, adamw, got 'rmsprop'"),
    (dict(loss="hinge"), "loss must be one of cross_entropy, map, got 'hinge'"),
    (dict(schedule="cosine"), "schedule must be one of constant, onecycle, step, lecun1998"),
    (dict(epochs=0), "epochs must be a whole number of at least 1, got 0"),
    (dict(epochs=501), "501 epochs is more than this tool allows"),
    (dict(limit=0), "number of training images must be between 1 and 60,000, got 0"),
    (dict(limit=60_001), "between 1 and 60,000, got 60001"),
    (dict(batch_size=0), "batch size must be a whole number of at least 1, got 0"),
    (dict(batch_size=5000, limit=1000), "batch size 5000 is larger than the 1,000 training images"),
    (dict(label_smoothing=1.0), r"label smoothing must be in \[0, 1\), got 1.0"),
    (dict(momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
    (dict(weight_decay=-0.1), r"weight decay must be in \[0, 1\), got -0.1"),
    (dict(colour="red"), r"unknown recipe field\(s\): colour"),
]


@pytest.mark.parametrize(
    "bad, message", BAD, ids=[next(iter(bad)) + "=" + str(next(iter(bad.values()))) for bad, _ in BAD]
)
def test_each_bad_value_is_refused_with_its_sentence(bad, message):
    with pytest.raises(recipes.RecipeError, match=message):
        recipes.prepare("lenet5", "fast", overrides=bad)


@pytest.mark.parametrize("bad, message", BAD[:3] + BAD[-4:], ids=lambda value: str(value)[:30])
def test_the_training_page_gets_the_same_sentence(tmp_path, bad, message):
    with pytest.raises(spec.JobInputError, match=message):
        spec.prepare("lenet5", "fast", name="x", overrides=bad, folder=tmp_path)


def test_a_recipe_that_keeps_validation_images_back_has_fewer_to_train_on():
    # mlp_256_128's seed recipe keeps 10,000 of the 60,000 back: 50,000 to train on.
    assert mnist.training_images(True) == 50_000 and mnist.training_images(False) == mnist.N_TRAIN == 60_000
    with pytest.raises(recipes.RecipeError, match="between 1 and 50,000, got 50001"):
        recipes.prepare("mlp_256_128", "seed", overrides={"limit": 50_001})
    assert recipes.prepare("mlp_256_128", "seed", overrides={"limit": 50_000}).limit == 50_000


def test_only_the_page_refuses_an_absurd_learning_rate_before_starting():
    with pytest.raises(recipes.RecipeError, match="learning rate 1e\\+06 is absurd"):
        recipes.prepare("lenet5", "fast", overrides={"lr": 1e6}, strict=True)
    assert recipes.prepare("lenet5", "fast", overrides={"lr": 1e6}).lr == 1e6  # the command line lets it diverge


def test_unknown_model_recipe_and_variant_are_refused():
    with pytest.raises(recipes.RecipeError, match="no recipe for model 'lenet7'"):
        recipes.prepare("lenet7")
    with pytest.raises(recipes.RecipeError, match="recipe must be 'seed' or 'fast', got 'slow'"):
        recipes.prepare("lenet5", "slow")
    with pytest.raises(recipes.RecipeError, match="unknown variant 'nesterov'"):
        recipes.prepare("cnn_avgpool", "seed", "nesterov")


def test_a_run_prepared_for_the_page_is_checked_once(tmp_path, monkeypatch):
    calls = []
    check = recipes.validate
    monkeypatch.setattr(recipes, "validate", lambda recipe, **kw: calls.append(recipe) or check(recipe, **kw))
    job = spec.prepare("lenet5", "fast", name="x", overrides={"epochs": 2}, folder=tmp_path)
    assert job.recipe.epochs == 2 and calls == [job.recipe]


def test_overrides_replace_fields_and_ignore_none():
    recipe = recipes.get_recipe("lenet5", "fast").with_overrides(epochs=3, lr=None, milestones=[1, 2])
    assert (recipe.epochs, recipe.lr, recipe.milestones) == (3, recipes.get_recipe("lenet5", "fast").lr, (1, 2))
