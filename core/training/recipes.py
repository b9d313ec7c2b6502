"""Training recipes: how each preset is trained.

Every preset has a ``seed`` recipe, reproducing its source write-up's optimiser, learning
rate, batch size and epochs (where a source is silent the choice is marked "not given"),
and a ``fast`` recipe aimed at the shortest time to 99% test accuracy. Every field can be
overridden, from the command line or the training page: :func:`prepare` is where a run's recipe
is chosen, overridden and checked (:func:`validate`), once; what trains it relies on that.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field

from core import models
from core.data import mnist
from core.i18n import N_, _
from core.models import checkpoints

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "onecycle", "step", "lecun1998")
# LeCun et al. 1998, section III-C: the global learning rate was "0.0005 for the first two passes,
# 0.0002 for the next three, 0.0001 for the next three, 0.00005 for the next four, and 0.00001
# thereafter": as multiples of the first, pass by pass.
LECUN1998_STEPS = (1.0, 1.0, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1)
LECUN1998_AFTER = 0.02
LOSSES = ("cross_entropy", "map")  # map: LeCun et al. 1998, eq. (9), for an RBF output (core.training.train.map_loss)
MAX_LR = 10.0  # above this every optimiser here diverges on MNIST: refuse before starting


class RecipeError(ValueError):
    """A hyperparameter that cannot work; the message says which and what is allowed."""


@dataclass(frozen=True)
class Recipe:
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 5
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str = "constant"
    augment: bool = False  # small random shifts and rotations
    limit: int | None = None  # train on the first N images of the shuffled set
    seed: int = 0
    select_by_validation: bool = False  # seed 002: train on 50k, keep the best epoch on 10k
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0  # cross-entropy's: the target puts this much on the other classes
    note: str = ""  # where the numbers come from (marked N_: shown translated with _())
    milestones: tuple[int, ...] = field(default_factory=tuple)  # for "step": epochs where lr /= 10

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["milestones"] = list(self.milestones)
        return out

    def with_overrides(self, **overrides) -> Recipe:
        """A copy with the given fields replaced (None values are ignored), not yet checked: a run's
        recipe is checked once, by :func:`prepare` (or :func:`validate`)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(clean) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise RecipeError(_("unknown recipe field(s): {fields}").format(fields=", ".join(sorted(unknown))))
        if "milestones" in clean:
            clean["milestones"] = tuple(clean["milestones"])
        return dataclasses.replace(self, **clean)


def prepare(
    preset: str,
    recipe_name: str = "fast",
    variant: str | None = None,
    overrides: dict | None = None,
    *,
    strict: bool = False,
) -> Recipe:
    """The recipe a run trains with: the preset's named recipe (and variant), ``overrides``
    applied (None values ignored), checked once by :func:`validate`. Raises RecipeError saying
    which setting is wrong and what is allowed."""
    return validate(get_recipe(preset, recipe_name, variant).with_overrides(**(overrides or {})), strict=strict)


def validate(recipe: Recipe, *, strict: bool = False) -> Recipe:
    """Refuse settings that cannot train, with one clear sentence each; the number of training
    images available is MNIST's (less the validation images when the recipe keeps them back).

    ``strict`` also refuses a learning rate above MAX_LR before starting (the training page
    does, so a class's shared machine is not spent on a run that can only diverge); without
    it such a run starts and stops at the first NaN, which is what the command line shows.
    """
    lr = recipe.lr
    if not isinstance(lr, (int, float)) or math.isnan(lr) or math.isinf(lr) or lr <= 0:
        raise RecipeError(_("learning rate must be a positive number, got {lr}").format(lr=lr))
    if strict and lr > MAX_LR:
        raise RecipeError(
            _("learning rate {lr:g} is absurd (more than {max:g}); try 1e-3 for Adam or 0.1 for SGD").format(
                lr=lr, max=MAX_LR
            )
        )
    if recipe.optimizer not in OPTIMIZERS:
        raise RecipeError(
            _("optimizer must be one of {allowed}, got {value}").format(
                allowed=", ".join(OPTIMIZERS), value=repr(recipe.optimizer)
            )
        )
    if recipe.loss not in LOSSES:
        raise RecipeError(
            _("loss must be one of {allowed}, got {value}").format(allowed=", ".join(LOSSES), value=repr(recipe.loss))
        )
    if recipe.schedule not in SCHEDULES:
        raise RecipeError(
            _("schedule must be one of {allowed}, got {value}").format(
                allowed=", ".join(SCHEDULES), value=repr(recipe.schedule)
            )
        )
    if not isinstance(recipe.epochs, int) or recipe.epochs < 1:
        raise RecipeError(_("epochs must be a whole number of at least 1, got {epochs}").format(epochs=recipe.epochs))
    if recipe.epochs > 500:
        raise RecipeError(_("{epochs} epochs is more than this tool allows (500)").format(epochs=recipe.epochs))
    n_available = mnist.training_images(recipe.select_by_validation)
    limit = recipe.limit if recipe.limit is not None else n_available
    if recipe.limit is not None and not (1 <= recipe.limit <= n_available):
        raise RecipeError(
            _("number of training images must be between 1 and {available:,}, got {limit}").format(
                available=n_available, limit=recipe.limit
            )
        )
    if not isinstance(recipe.batch_size, int) or recipe.batch_size < 1:
        raise RecipeError(
            _("batch size must be a whole number of at least 1, got {batch}").format(batch=recipe.batch_size)
        )
    if recipe.batch_size > limit:
        raise RecipeError(
            _("batch size {batch} is larger than the {limit:,} training images").format(
                batch=recipe.batch_size, limit=limit
            )
        )
    if not 0 <= recipe.label_smoothing < 1:
        raise RecipeError(_("label smoothing must be in [0, 1), got {value}").format(value=recipe.label_smoothing))
    for name, message in (
        ("momentum", N_("momentum must be in [0, 1), got {value}")),
        ("weight_decay", N_("weight decay must be in [0, 1), got {value}")),
    ):
        value = getattr(recipe, name)
        if math.isnan(value) or value < 0 or (name == "momentum" and value >= 1):
            raise RecipeError(_(message).format(value=value))
    return recipe


# Sources: seed 000 (SGD lr 1e-3, batch 512; 50 epochs plain, 15 with BatchNorm), seed 001
# (Keras Adam defaults lr 1e-3; batch and epochs not given: Keras' batch 32 is too slow on 2
# cores, we use the classic tutorial's 200 and 10), seed 002 (SGD lr 0.2, batch 128, best by
# validation; epochs not given: 20), seed 003 (Adam, Keras default batch 32, 10 epochs), seed
# 004 (Adam lr 1e-3, batch 64, 5 epochs). lenet5_1998: the paper itself (below).
_SEED = {
    # LeCun et al. 1998, section III-C: 20 passes, the MAP criterion of eq. (9) on the RBF
    # penalties, the paper's decreasing step pass by pass; its optimiser (stochastic diagonal
    # Levenberg-Marquardt, one image at a time) is replaced by Adam at batch 32, whose per-weight
    # step sizes play SDLM's part. Plain SGD with momentum at lr 0.05 on this criterion collapsed
    # to 10% (PERFORMANCE.md, "LeNet-5 against its own paper").
    "lenet5_1998": Recipe(
        "adam",
        1e-3,
        32,
        20,
        schedule="lecun1998",
        loss="map",
        note=N_(
            "paper: 20 passes, the MAP criterion (eq. 9), the decreasing step of section "
            "III-C; Adam at batch 32 stands in for stochastic diagonal Levenberg-Marquardt"
        ),
    ),
    "lenet5": Recipe("adam", 1e-3, 64, 5, note=N_("seed 004: Adam lr 1e-3, batch 64, 5 epochs")),
    "cnn_avgpool": Recipe("sgd", 1e-3, 512, 50, note=N_("seed 000: SGD lr 1e-3, batch 512, 50 epochs")),
    "cnn_avgpool_bn": Recipe("sgd", 1e-3, 512, 15, note=N_("seed 000: SGD lr 1e-3, batch 512, 15 epochs")),
    "keras_cnn_small": Recipe("adam", 1e-3, 200, 10, note=N_("seed 001: Keras Adam; batch/epochs not given")),
    "keras_cnn_deeper": Recipe("adam", 1e-3, 200, 10, note=N_("seed 001: Keras Adam; batch/epochs not given")),
    "keras_cnn_wide": Recipe("adam", 1e-3, 200, 10, note=N_("seed 001: Keras Adam; batch/epochs not given")),
    "mlp_784": Recipe("adam", 1e-3, 200, 10, note=N_("seed 001: Keras Adam; batch/epochs not given")),
    "mlp_256_128": Recipe(
        "sgd",
        0.2,
        128,
        20,
        select_by_validation=True,
        note=N_("seed 002: SGD lr 0.2, batch 128, best by validation; epochs not given"),
    ),
    "mlp_128": Recipe("adam", 1e-3, 32, 10, note=N_("seed 003: Adam, Keras default batch 32, 10 epochs")),
}

# Fast: AdamW + one-cycle, larger batches; epochs chosen to clear the accuracy targets on CPU.
_FAST = {
    "lenet5_1998": Recipe("adamw", 3e-3, 128, 8, weight_decay=1e-4, schedule="onecycle"),
    # 99% in two epochs: label smoothing 0.1 made it robust at batch 256 (5 seeds of 5; without it
    # 3 of 5): PERFORMANCE.md, "99% in two epochs".
    "lenet5": Recipe("adamw", 1e-2, 256, 2, weight_decay=5e-4, schedule="onecycle", label_smoothing=0.1),
    "cnn_avgpool": Recipe("adamw", 3e-3, 256, 10, weight_decay=1e-4, schedule="onecycle"),
    "cnn_avgpool_bn": Recipe("adamw", 1e-2, 256, 4, weight_decay=5e-4, schedule="onecycle"),
    "keras_cnn_small": Recipe("adamw", 3e-3, 256, 3, weight_decay=1e-4, schedule="onecycle"),
    "keras_cnn_deeper": Recipe("adamw", 3e-3, 256, 4, weight_decay=1e-4, schedule="onecycle"),
    "keras_cnn_wide": Recipe("adamw", 2e-3, 256, 3, weight_decay=1e-4, schedule="onecycle"),
    "mlp_784": Recipe("adamw", 2e-3, 256, 6, weight_decay=1e-4, schedule="onecycle"),
    "mlp_256_128": Recipe("adamw", 2e-3, 256, 8, weight_decay=1e-4, schedule="onecycle"),
    "mlp_128": Recipe("adamw", 3e-3, 256, 8, weight_decay=1e-4, schedule="onecycle"),
}
RECIPES = {"seed": _SEED, "fast": _FAST}
# A network designed here (models.DESIGN) has one recipe, fast: the presets' fast recipe on a few
# thousand images for one epoch, a run of seconds on a 2-core machine (PERFORMANCE.md measures it),
# so a class sees what a change does within the lesson; epochs and images are the page's to raise.
DESIGN_RECIPE = Recipe(
    "adamw",
    3e-3,
    128,
    1,
    weight_decay=1e-4,
    schedule="onecycle",
    limit=12000,
    note=N_("designed here: the fast recipe (AdamW, one-cycle) on a seeded subset of the training images"),
)
# A recipe as a reader sees it named: the code name in English, a word of theirs in Chinese. The
# fine-tune on a class's digits (core.classroom.finetune) and a design challenge's entry record themselves
# as recipes of their own.
TITLES = {
    "seed": N_("seed"),
    "fast": N_("fast"),
    "class fine-tune": N_("class fine-tune"),
    "challenge": N_(
        "design challenge"
    ),  # an entry of the class's design challenge (core.classroom.design_challenge.queue)
}


# The source write-ups a figure comes from, as records name them: "seed 000" (the source write-up numbered 000), the paper.
SOURCE_NAMES = (N_("seed {number}"), N_("LeCun et al. 1998"))


def source_name(source: str) -> str:
    """A source as a reader sees it named: ``seed 000`` is the write-up numbered 000 (原文 000 in
    Chinese, never read as a random seed), ``LeCun et al. 1998`` the paper; several, joined."""

    def one(part: str) -> str:
        numbered = re.fullmatch(r"seed (\d+)", part.strip())
        return _("seed {number}").format(number=numbered.group(1)) if numbered else _(part.strip())

    return _(", ").join(one(part) for part in source.split(", "))


def title(recipe_name: str) -> str:
    """``recipe_name`` (``seed``, ``fast``, a fine-tune's) in the session's language; another
    name as it is."""
    return _(TITLES[recipe_name]) if recipe_name in TITLES else recipe_name


@dataclass(frozen=True)
class Variant:
    """One change to a source's printed recipe, to see which single change reaches its figure."""

    name: str
    changes: dict
    label: str  # what changed, in words (marked N_: shown translated with _())


# Seed 000's printed recipe (plain SGD, lr 1e-3, no momentum, batch 512) and its nearest
# variants, each one change only: which one reaches the write-up's figure?
VARIANTS = {
    v.name: v
    for v in (
        Variant("momentum", {"momentum": 0.9}, N_("momentum 0.9 (printed: none)")),
        Variant("lr1e-2", {"lr": 1e-2}, N_("learning rate 0.01 (printed: 0.001)")),
        Variant("lr0.1", {"lr": 0.1}, N_("learning rate 0.1 (printed: 0.001)")),
        Variant("adam", {"optimizer": "adam"}, N_("Adam instead of SGD, lr 0.001 as printed")),
    )
}
VARIANT_PRESETS = ("cnn_avgpool", "cnn_avgpool_bn")  # seed 000: the figures that need explaining


def get_recipe(preset: str, recipe_name: str = "fast", variant: str | None = None) -> Recipe:
    """The named recipe (``seed`` or ``fast``) of a preset; ``variant`` (seed 000's presets,
    ``seed`` recipe) applies one change from :data:`VARIANTS`."""
    if recipe_name not in RECIPES:
        raise RecipeError(_("recipe must be 'seed' or 'fast', got {value}").format(value=repr(recipe_name)))
    if preset == models.DESIGN:
        if recipe_name != "fast" or variant is not None:
            raise RecipeError(_("a network designed here trains with the fast recipe only"))
        return DESIGN_RECIPE
    try:
        recipe = RECIPES[recipe_name][preset]
    except KeyError:
        raise RecipeError(
            _("no recipe for model {preset}; models: {models}").format(preset=repr(preset), models=", ".join(_SEED))
        ) from None
    if variant is None:
        return recipe
    if recipe_name != "seed" or preset not in VARIANT_PRESETS:
        raise RecipeError(
            _(
                "variants are of seed 000's printed recipe: --recipe seed with {presets}, not "
                "{preset} with the {recipe} recipe"
            ).format(presets=" or ".join(VARIANT_PRESETS), preset=preset, recipe=recipe_name)
        )
    if variant not in VARIANTS:
        raise RecipeError(
            _("unknown variant {value}; variants: {variants}").format(value=repr(variant), variants=", ".join(VARIANTS))
        )

    chosen = VARIANTS[variant]
    return dataclasses.replace(recipe, **chosen.changes, note=f"{recipe.note}; one change: {chosen.label}")


def run_name(preset: str, recipe_name: str = "fast", variant: str | None = None) -> str:
    """The checkpoint name a run is shipped (or saved) under: ``lenet5``, ``cnn_avgpool_seed``,
    ``cnn_avgpool_bn_seed_momentum``."""
    return "_".join([preset] + ([recipe_name] if recipe_name != "fast" else []) + ([variant] if variant else []))


@dataclass(frozen=True)
class ShippedRun:
    """One checkpoint the project ships (``make checkpoints``)."""

    preset: str
    recipe: str
    variant: str | None
    snapshots: bool

    @property
    def name(self) -> str:
        return run_name(self.preset, self.recipe, self.variant)


def shipped_runs() -> list[ShippedRun]:
    """Every shipped checkpoint: the fast recipe of each preset (lenet5 with per-epoch snapshots),
    the seed recipe where a source reports a figure, and seed 000's variants."""
    runs = [ShippedRun(preset, "fast", None, preset == "lenet5") for preset in _FAST]
    runs += [ShippedRun(preset, "seed", None, False) for preset in REPORTED]
    runs += [ShippedRun(preset, "seed", variant, False) for preset in VARIANT_PRESETS for variant in VARIANTS]
    return runs


# Figures the source write-ups report, for the presets that have one: the training page puts
# our reproduction (the ``seed`` recipe's history, shipped as ``<preset>_seed``) beside them.
REPORTED = {
    "lenet5_1998": {"source": "LeCun et al. 1998", "test_accuracy": 0.9905, "epochs": 20},  # 0.95% error, III-C
    "cnn_avgpool": {"source": "seed 000", "test_accuracy": 0.9549, "epochs": 50},
    "cnn_avgpool_bn": {"source": "seed 000", "test_accuracy": 0.9844, "epochs": 15},
    "mlp_128": {"source": "seed 003", "test_accuracy": 0.977, "epochs": 10},
}

# A checkpoint whose record cannot be read is made again by its shipped run, if it is one: the
# checkpoints module says so in its error, and may not import this one.
checkpoints.SHIPPED_RUNS.update({run.name: (run.preset, run.recipe, run.variant) for run in shipped_runs()})
