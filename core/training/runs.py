"""Comparing training runs from their records: per-epoch curves, one table row per run; which
checkpoints are shipped, reproduce a source write-up or were trained here; and, for a
reproduction, one line on why it differs from its source's figure.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from core.data import mnist
from core.i18n import N_, _
from core.models.checkpoints import CheckpointInfo
from core.training import recipes
from core.training.jobs.spec import shipped_names
from core.training.train import epoch_position


def train_images(record: dict) -> int:
    """How many images one epoch of a record's run saw: its recipe's ``limit``, else the whole
    training split (less the validation images when the recipe keeps them back)."""
    recipe = record.get("recipe") or {}
    return recipe.get("limit") or mnist.training_images(bool(recipe.get("select_by_validation")))


def history_series(record: dict) -> dict[str, list[float]]:
    """A checkpoint record's (or a running job's) per-epoch history as columns: epoch, train/test
    loss and accuracy, and ``epochs_done``: where each test was made, on an axis of epochs (the
    epoch number, or less for an epoch a stopped run left part-way)."""
    history = record.get("history") or []
    keys = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
    series = {k: [h.get(k) for h in history] for k in keys}
    n_images = train_images(record)
    series["epochs_done"] = [epoch_position(h, n_images) for h in history]
    return series


def run_row(name: str, record: dict) -> dict:
    """One line of the runs table: final accuracy, epochs, and the source's figure when it reports one."""
    reported = record.get("reported") or {}
    recipe = record.get("recipe") or {}
    history = record.get("history") or []
    row = {
        "name": name,
        "model": record.get("preset", "?"),
        "recipe": record.get("recipe_name", "?"),
        "epochs": len(history),
        "optimizer": recipe.get("optimizer"),
        "lr": recipe.get("lr"),
        "batch": recipe.get("batch_size"),
        "test_accuracy": record.get("test_accuracy"),
        "best_test_accuracy": max((h.get("test_accuracy", 0.0) for h in history), default=None),
        "reported_accuracy": reported.get("test_accuracy"),
        "reported_epochs": reported.get("epochs"),
        "source": reported.get("source"),
        "seconds": record.get("train_seconds"),
    }
    if row["test_accuracy"] is not None and row["reported_accuracy"] is not None:
        row["difference"] = row["test_accuracy"] - row["reported_accuracy"]
    return row


# --- which checkpoints are whose -------------------------------------------------------------

# Codes that are also the groups' English names (marked N_: a page shows them with _()).
SHIPPED, REPRODUCTION, TRAINED_HERE = N_("shipped"), N_("reproduction"), N_("trained here")
GROUPS = (SHIPPED, REPRODUCTION, TRAINED_HERE)


def is_reproduction(record: dict) -> bool:
    """A run of a source's own recipe: it carries the source's figure (``reported``), or its
    recipe is the ``seed`` one (maybe with changed settings)."""
    return bool(record.get("reported")) or record.get("recipe_name") == "seed"


def checkpoint_group(info: CheckpointInfo, shipped: Collection[str] | None = None) -> str:
    """Which of Home's groups a checkpoint belongs to: ``REPRODUCTION`` (of a source write-up),
    ``SHIPPED`` (made by ``make checkpoints``; ``shipped`` names them, by default
    :func:`core.training.jobs.runner.shipped_names`) or ``TRAINED_HERE`` (anything else, and a shipped name
    that the training page has overwritten)."""
    if is_reproduction(info.record):
        return REPRODUCTION
    shipped = shipped_names() if shipped is None else shipped
    if info.name in shipped and "trained_on" not in info.record:
        return SHIPPED
    return TRAINED_HERE


def group_checkpoints(
    infos: Iterable[CheckpointInfo], shipped: Collection[str] | None = None
) -> dict[str, list[CheckpointInfo]]:
    """``{group: [checkpoints, in the order given]}`` for every group of ``GROUPS``, empty ones too."""
    shipped = shipped_names() if shipped is None else shipped
    groups: dict[str, list[CheckpointInfo]] = {g: [] for g in GROUPS}
    for info in infos:
        groups[checkpoint_group(info, shipped)].append(info)
    return groups


# --- why a reproduction differs from its source ---------------------------------------------

CHANCE_LOSS = math.log(10)  # cross-entropy of an even guess over the 10 digits: 2.30
NEAR_CHANCE = 0.95  # a train loss above 95% of that has not started to learn
LAST_EPOCHS = 5  # how far back "the last epochs" look, for noise and for a rising curve
RISING = 0.005  # half a point of test accuracy over those epochs: still learning

# What running a source's own code outside this project showed: no record can say it.
OUTSIDE_CHECKS = {
    "cnn_avgpool_bn": N_(
        "Seed 000's own code, run outside this project, also ends near 45%: its {reported} came from another recipe."
    ),
}


def _points(x: float) -> str:
    return _("{points:.2f} points").format(points=abs(x) * 100)


def _sentences(first: str, second: str) -> str:
    """Two sentences one after the other (a space between them in English, none in Chinese)."""
    return _("{first} {second}").format(first=first, second=second)


OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}


def _describe_optimizer(recipe: dict) -> str:
    """ "SGD lr 0.001 without momentum at batch 512"."""
    optimizer = recipe.get("optimizer", "?")
    plain = optimizer == "sgd" and not recipe.get("momentum")
    text = (
        _("{optimizer} lr {lr:g} without momentum at batch {batch}")
        if plain
        else _("{optimizer} lr {lr:g} at batch {batch}")
    )
    return text.format(
        optimizer=OPTIMIZER_NAMES.get(optimizer, optimizer),
        lr=recipe.get("lr", float("nan")),
        batch=recipe.get("batch_size", "?"),
    )


# A recipe's settings as a sentence names them (its field names, underscores as spaces).
SETTING_NAMES = {
    "optimizer": N_("optimizer"),
    "lr": N_("lr"),
    "batch_size": N_("batch size"),
    "epochs": N_("epochs"),
    "momentum": N_("momentum"),
    "weight_decay": N_("weight decay"),
    "schedule": N_("schedule"),
    "augment": N_("augment"),
    "limit": N_("limit"),
    "seed": N_("random seed"),
    "select_by_validation": N_("select by validation"),
    "loss": N_("loss"),
    "label_smoothing": N_("label smoothing"),
    "milestones": N_("milestones"),
}


def _changed_settings(preset: str, recipe: dict) -> list[str]:
    """The settings of ``recipe`` that differ from the preset's ``seed`` recipe, as "epochs 2, not 50"."""
    try:
        seed = recipes.get_recipe(preset, "seed").to_dict()
    except recipes.RecipeError:
        return []

    def change(key: str) -> str:
        ours, theirs = recipe[key], seed[key]
        text = (
            _("{setting} all, not {seed}")
            if ours is None
            else _("{setting} {value}, not all")
            if theirs is None
            else _("{setting} {value}, not {seed}")
        )
        name = _(SETTING_NAMES[key]) if key in SETTING_NAMES else key.replace("_", " ")
        return text.format(setting=name, value=ours, seed=theirs)

    return [change(k) for k in seed if k != "note" and k in recipe and recipe[k] != seed[k]]


def reproduction_note(record: dict) -> str:
    """One line on how a reproduction compares with its source's figure, and why, from the record.

    Within the wobble of its own last epochs it "matches"; below, the recipe's steps and how far
    the train loss got from an even guess's say why, with what a run of the source's own code
    outside this project showed (``OUTSIDE_CHECKS``); with changed settings, which ones.
    """
    preset, recipe = record.get("preset", "?"), record.get("recipe") or {}
    reported = record.get("reported")
    if not reported:
        if preset not in recipes.REPORTED:
            return _("The source's recipe; the source reports no accuracy to compare with.")
        changed = _changed_settings(preset, recipe)
        source = recipes.source_name(recipes.REPORTED[preset]["source"])
        return _(
            "The source's recipe with other settings ({changes}): {source}'s figure is for its own settings, "
            "so there is none to compare with."
        ).format(changes=_("; ").join(changed) or _("changed"), source=source)
    history = record.get("history") or []
    accuracy = record.get("test_accuracy")
    if accuracy is None or not history:
        return _("No test accuracy recorded: nothing to compare.")
    target, source = reported["test_accuracy"], recipes.source_name(reported["source"])
    if record.get("stopped"):
        done = epoch_position(history[-1], train_images(record))
        return _(
            "Stopped after {done:.2f} of {epochs} epochs: not comparable with {source}'s {target:.2%} after "
            "{reported_epochs}."
        ).format(
            done=done,
            epochs=recipe.get("epochs", "?"),
            source=source,
            target=target,
            reported_epochs=reported["epochs"],
        )
    difference = accuracy - target
    last = [h["test_accuracy"] for h in history[-LAST_EPOCHS:]]
    wobble = max(last) - min(last)
    if abs(difference) <= wobble:
        text = (
            _("Matches: {points} below {source}'s {target:.2%}, less than its own last {n} epochs differ ({wobble}).")
            if difference < 0
            else _(
                "Matches: {points} above {source}'s {target:.2%}, less than its own last {n} epochs differ ({wobble})."
            )
        )
        return text.format(
            points=_points(difference), source=source, target=target, n=len(last), wobble=_points(wobble)
        )
    if difference > 0:
        return _("{points} above {source}'s {target:.2%}, more than its own last {n} epochs differ ({wobble}).").format(
            points=_points(difference), source=source, target=target, n=len(last), wobble=_points(wobble)
        )
    steps = math.ceil(train_images(record) / recipe.get("batch_size", 1))
    losses = [h["train_loss"] for h in history]
    near = CHANCE_LOSS * NEAR_CHANCE
    stuck = next((i for i, loss in enumerate(losses) if loss < near), len(losses))
    if stuck == len(losses):
        loss = _("the train loss barely moved from an even guess's {chance:.2f} ({first:.2f} to {last:.2f})")
    elif stuck >= 2:
        loss = _("the train loss stayed near an even guess's {chance:.2f} for {stuck} epochs, then fell to {last:.2f}")
    else:
        loss = _("the train loss fell from {first:.2f} to {last:.2f}")
    loss = loss.format(chance=CHANCE_LOSS, first=losses[0], last=losses[-1], stuck=stuck)
    span = min(LAST_EPOCHS, len(history) - 1)
    gain = accuracy - history[-span - 1]["test_accuracy"] if span else 0.0
    if stuck < len(losses) and gain > RISING:
        loss = _("{loss}, and test accuracy was still rising (+{gain:.1f} points in the last {epochs} epochs)").format(
            loss=loss, gain=gain * 100, epochs=span
        )
    text = _("{points} below: {optimizer} is {steps:,} steps an epoch, {total:,} in all; {loss}.").format(
        points=_points(difference),
        optimizer=_describe_optimizer(recipe),
        steps=steps,
        total=steps * len(history),
        loss=loss,
    )
    finding = OUTSIDE_CHECKS.get(preset)
    return _sentences(text, _(finding).format(reported=f"{target:.2%}")) if finding else text


# --- seed 000's printed recipe against its one-change variants --------------------------


@dataclass(frozen=True)
class VariantResult:
    """One variant's run beside the source's figure."""

    checkpoint: str
    variant: str
    label: str  # what changed, in words
    test_accuracy: float
    reaches: bool  # at or above the source's figure (within REACH of it)
    step_factor: float | None  # how many times larger a typical step is than the printed recipe's
    sentence: str


REACH = 0.002  # 0.2 points: as close as a rerun with another seed lands (seed 003: 0.24 points)


def step_factor(variant: recipes.Variant, printed: recipes.Recipe) -> float | None:
    """How many times larger an SGD step is under ``variant`` than under the printed recipe: the
    learning rate's ratio, or 1/(1 - momentum) for momentum (a steady gradient's steps add up to
    that). None for Adam, whose steps are about the learning rate whatever the gradient's size."""
    changes = variant.changes
    if "optimizer" in changes:
        return None
    factor = changes.get("lr", printed.lr) / printed.lr
    momentum = changes.get("momentum", printed.momentum)
    return factor / (1 - momentum)


def variant_study(preset: str, records: dict[str, dict]) -> tuple[str | None, dict | None, list[VariantResult]]:
    """The printed recipe's checkpoint (``<preset>_seed``), the source's figure, and each shipped
    variant of it with one sentence: did this single change reach the figure, and by how much
    larger steps."""
    printed_name = recipes.run_name(preset, "seed")
    printed = recipes.get_recipe(preset, "seed")
    reported = recipes.REPORTED.get(preset)
    results = []
    for variant in recipes.VARIANTS.values():
        name = recipes.run_name(preset, "seed", variant.name)
        record = records.get(name)
        if record is None or record.get("test_accuracy") is None or reported is None:
            continue
        accuracy, target = record["test_accuracy"], reported["test_accuracy"]
        reaches = accuracy >= target - REACH
        factor = step_factor(variant, printed)
        why = (
            _("each step about {factor:g} times the printed one").format(factor=factor)
            if factor is not None
            else _("Adam scales every weight's step to about the learning rate, however small its gradient")
        )
        verdict = (
            _("reaches {source}'s {target:.2%}") if reaches else _("{points} short of {source}'s {target:.2%}")
        ).format(points=_points(accuracy - target), source=recipes.source_name(reported["source"]), target=target)
        label = _(variant.label)
        sentence = _("{label}: {accuracy:.2%} after {epochs} epochs, {verdict} ({why}).").format(
            label=label, accuracy=accuracy, epochs=len(record.get("history") or []), verdict=verdict, why=why
        )
        results.append(VariantResult(name, variant.name, label, accuracy, reaches, factor, sentence))
    return (printed_name if printed_name in records else None), reported, results


def variant_verdict(reported: dict, results: list[VariantResult]) -> str:
    """One sentence over all the variants: which single change reaches the source's figure."""
    if not results:
        return ""
    target = _("{source}'s {target:.2%}").format(
        source=recipes.source_name(reported["source"]), target=reported["test_accuracy"]
    )
    reaching = [r.label for r in results if r.reaches]
    if reaching:
        return _("One change is enough to reach {target}: {changes}.").format(
            target=target, changes=_("; or ").join(reaching)
        )
    best = max(results, key=lambda r: r.test_accuracy)
    return _(
        "No single change reaches {target} in the same epochs; the closest, {label}, ends {points} short: the "
        "write-up's figure needs more than one change to its printed recipe."
    ).format(target=target, label=best.label, points=_points(best.test_accuracy - reported["test_accuracy"]))


def why_printed_barely_moves(record: dict) -> str:
    """Why plain SGD at the printed rate hardly learns: its steps, counted from the record."""
    recipe = record.get("recipe") or {}
    steps = math.ceil(train_images(record) / recipe.get("batch_size", 1))
    epochs = len(record.get("history") or [])
    return _(
        "Plain SGD moves each weight by the learning rate times its gradient: at lr {lr:g}, without momentum, "
        "and with {steps:,} steps an epoch ({total:,} in {epochs} epochs at batch {batch}), the weights travel "
        "a small fraction of their starting size, so the loss stays near an even guess's. Any change that "
        "makes the steps larger or more of them lets it learn."
    ).format(
        lr=recipe.get("lr", 0), steps=steps, total=steps * epochs, epochs=epochs, batch=recipe.get("batch_size", "?")
    )
