"""What a class calls each model: a short name, one line on what it is, and its group (shipped,
a reproduction of a source, trained here, the class's), made from a checkpoint's record (its
preset, recipe, variant, fine-tune) and the presets' registry. The checkpoint's own name (what
links and the command line use) is kept beside it for the curious.

Nothing here lists checkpoints: a new shipped run, a variant or a run saved on the Training
page is named from its record the moment it appears.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from core import models
from core.i18n import N_, _, current_language
from core.models import checkpoints
from core.models.checkpoints import CheckpointInfo
from core.training import recipes, runs
from core.training.jobs.spec import shipped_names

CLASS = N_("the class's")
GROUPS = (runs.SHIPPED, runs.REPRODUCTION, runs.TRAINED_HERE, CLASS)  # the order pickers list them in
GROUP_TITLES = {
    runs.SHIPPED: N_("Shipped"),
    runs.REPRODUCTION: N_("Reproductions of the sources"),
    runs.TRAINED_HERE: N_("Trained here"),
    CLASS: N_("The class's"),
}

# One short name and one plain line per preset of the registry (tests/test_model_names.py checks
# that every preset has both); a preset added without them is called by its registry title.
SHORT = {
    "lenet5_1998": N_("LeNet-5 of 1998"),
    "lenet5": N_("Modern LeNet"),
    "cnn_avgpool": N_("Average-pooling CNN"),
    "cnn_avgpool_bn": N_("Average-pooling CNN with BatchNorm"),
    "keras_cnn_small": N_("Small Keras CNN"),
    "keras_cnn_deeper": N_("Deeper Keras CNN"),
    "keras_cnn_wide": N_("Wide Keras CNN"),
    "mlp_784": N_("Wide MLP"),
    "mlp_256_128": N_("Two-layer MLP"),
    "mlp_128": N_("Small MLP"),
    models.DESIGN: N_("A network designed here"),
}
PLAIN = {
    "lenet5_1998": N_("the network of LeCun's 1998 paper, part for part"),
    "lenet5": N_("LeNet-5 with today's parts: ReLU, max-pooling, BatchNorm"),
    "cnn_avgpool": N_("two convolutions with average pooling, nothing nonlinear between them"),
    "cnn_avgpool_bn": N_("the same two convolutions, each followed by BatchNorm and ReLU"),
    "keras_cnn_small": N_("one convolution of 32 filters, then 128 hidden units"),
    "keras_cnn_deeper": N_("two convolutions (30 and 15 filters), then 128 and 50 hidden units"),
    "keras_cnn_wide": N_("two convolutions (32 and 64 filters), then 1,024 hidden units"),
    "mlp_784": N_("one hidden layer of 784 units, no convolution"),
    "mlp_256_128": N_("hidden layers of 256 and 128 units, no convolution"),
    "mlp_128": N_("one hidden layer of 128 units, no convolution"),
    models.DESIGN: N_("a stack of layers written in the design notation"),
}
# Seed 000's one-change variants (core.training.recipes.VARIANTS), as a title says them.
CHANGES = {
    "momentum": N_("with momentum"),
    "lr1e-2": N_("with 10x the learning rate"),
    "lr0.1": N_("with 100x the learning rate"),
    "adam": N_("with Adam"),
}
RECIPE_NAMES = {"fast": N_("the fast recipe"), "seed": N_("the source's recipe")}


@dataclass(frozen=True)
class ModelName:
    """How a picker shows one checkpoint."""

    name: str  # the checkpoint's own name: the option's value, what a link holds
    group: str  # one of GROUPS (its English code: show it with group_title)
    preset: str
    title: str  # a short name, in the session's language
    line: str  # one line on what it is, in the session's language

    @property
    def label(self) -> str:
        """The option's text: the short name and, for the curious, the checkpoint's own name (a
        picker's list cuts a longer line)."""
        return _("{title} ({name})").format(title=self.title, name=self.name)

    @property
    def about(self) -> str:
        """Its group, what it is and its own name, in one line (under a picker, for the chosen one:
        the picker's box cuts a long title, and the name with it)."""
        return _("{group} · {line} · {name}").format(group=group_title(self.group), line=self.line, name=self.name)


def group_title(group: str) -> str:
    return _(GROUP_TITLES.get(group, group))


def model_title(preset: str) -> str:
    """The preset's short name (its registry title for a preset without one; the name itself
    for a preset this code does not know)."""
    if preset in SHORT:
        return _(SHORT[preset])
    return _(models.PRESETS[preset].title) if preset in models.PRESETS else str(preset)


def _plain(preset: str) -> str:
    if preset in PLAIN:
        return _(PLAIN[preset])
    return _(models.PRESETS[preset].description) if preset in models.PRESETS else ""


def _accuracy(record: dict) -> str:
    value = record.get("test_accuracy")
    return f"{value:.2%}" if isinstance(value, (int, float)) else "-"


def group_of(info: CheckpointInfo, shipped: Collection[str] | None = None) -> str:
    """The class's fine-tunes apart; the others as Home groups them (``core.training.runs``)."""
    if "finetune" in info.record:
        return CLASS
    return runs.checkpoint_group(info, shipped_names() if shipped is None else shipped)


def name_of(info: CheckpointInfo, shipped: Collection[str] | None = None) -> ModelName:
    """A checkpoint's short name, line and group, from its record."""
    record, preset = info.record, info.preset
    model = model_title(preset)
    group = group_of(info, shipped)
    accuracy = _accuracy(record)
    if group == CLASS:
        tune = record["finetune"]
        title = _("{model}, tuned on the class's digits").format(model=model)
        line = _(
            "session {session}: {steps} steps on {digits} of the class's digits; {accuracy} right on MNIST's test set"
        ).format(
            session=tune.get("session", "?"),
            steps=tune.get("steps", "?"),
            digits=tune.get("train_digits", "?"),
            accuracy=accuracy,
        )
    elif group == runs.REPRODUCTION:
        reported = record.get("reported") or recipes.REPORTED.get(preset) or {}
        variant = record.get("variant")
        if variant:
            change = _(CHANGES[variant]) if variant in CHANGES else str(variant)
            title = _("{model}, the source's recipe {change}").format(model=model, change=change)
        else:
            title = _("{model}, the source's recipe").format(model=model)
        if reported:
            line = _("{accuracy} right on the test set; {source} reports {reported:.2%}").format(
                accuracy=accuracy,
                source=recipes.source_name(reported.get("source", "?")),
                reported=reported.get("test_accuracy", 0.0),
            )
        else:
            line = _("{accuracy} right on the test set").format(accuracy=accuracy)
    elif group == runs.SHIPPED:
        title, line = model, _plain(preset)
    elif preset == models.DESIGN:
        nickname = record.get("nickname")
        title = _("{nickname}'s design").format(nickname=nickname) if nickname else model
        line = _("{notation}: {accuracy} right on the test set").format(
            notation=(record.get("config") or {}).get("notation") or _("the output layer alone"), accuracy=accuracy
        )
    else:
        recipe = record.get("recipe_name")
        title = _("{model}, trained here").format(model=model)
        line = _("{recipe}, {epochs} epochs: {accuracy} right on the test set").format(
            recipe=_(RECIPE_NAMES[recipe]) if recipe in RECIPE_NAMES else (recipe or "-"),
            epochs=len(record.get("history") or []),
            accuracy=accuracy,
        )
    return ModelName(info.name, group, preset, title, line)


def names_of(infos: Iterable[CheckpointInfo], shipped: Collection[str] | None = None) -> list[ModelName]:
    """Every checkpoint named (:func:`name_of`), in the order of ``GROUPS`` (:func:`in_group_order`)."""
    shipped = shipped_names() if shipped is None else shipped
    return in_group_order([name_of(info, shipped) for info in infos])


def in_group_order(named: Iterable[ModelName]) -> list[ModelName]:
    """In the order of ``GROUPS``; in a group, the presets in the registry's order (LeNet-5 first),
    each preset's checkpoints by name."""
    order = {preset: i for i, preset in enumerate(models.names())}
    return sorted(named, key=lambda m: (GROUPS.index(m.group), order.get(m.preset, len(order)), m.name))


def for_names(names: Iterable[str], folder: Path | str | None = None) -> list[ModelName]:
    """The checkpoints called ``names`` named (:func:`name_of`), in the order of ``GROUPS``; a record that
    cannot be read any more is left out. A record read before and not changed since is not read
    again (the model pickers ask on every run of a page)."""
    folder = checkpoints.folder_or_default(folder)
    language, found = current_language(), []
    for name in names:
        try:
            stat = (folder / f"{name}.json").stat()
            found.append(_named(str(folder), name, stat.st_mtime_ns, stat.st_size, language))
        except (OSError, checkpoints.CheckpointError):
            continue
    return in_group_order(found)


@functools.lru_cache(maxsize=1024)
def _named(folder: str, name: str, mtime_ns: int, size: int, language: str) -> ModelName:
    return name_of(checkpoints.read_info(name, folder), _SHIPPED)


_SHIPPED = frozenset(shipped_names())
