"""The training loop, on a fast data path: all of MNIST as uint8 tensors on the device.

Batches are drawn by a seeded generator and normalised per batch on the device, so there is
no DataLoader, no per-image Python and (on CUDA) no per-step host synchronisation: the loss
is read back every ``SYNC_EVERY`` steps, which is also when a NaN is noticed and progress is
reported.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from core import models
from core.data import mnist
from core.data.batches import DeviceData
from core.device import pick_device
from core.i18n import N_, MessageError
from core.models.common import Dropout
from core.models.inference import evaluate
from core.models.init import seeded
from core.models.lenet1998 import EuclideanRBF
from core.training.recipes import LECUN1998_AFTER, LECUN1998_STEPS, REPORTED, VARIANTS, Recipe, get_recipe

SYNC_EVERY = 10
# Eq. (9) of LeCun et al. 1998 adds e^-j inside the log: "j is a positive constant" that keeps a
# class whose penalty is already large from being pushed further up. The paper gives no value.
MAP_J = 1.0
ProgressFn = Callable[[dict], None]


class TrainingDiverged(MessageError, RuntimeError):
    """The loss became NaN or infinite; nothing is saved. ``values``: loss, epoch, step, lr."""

    def __init__(self, loss: float, epoch: int, step: int, lr: float) -> None:
        super().__init__(
            N_(
                "the loss became {loss} in epoch {epoch} (step {step}) with learning rate {lr:g}: lower "
                "the learning rate; nothing was saved"
            ),
            {"loss": str(loss), "epoch": epoch, "step": step, "lr": lr},
        )


@dataclass
class TrainResult:
    preset: str
    recipe: Recipe
    model: torch.nn.Module
    history: list[dict]
    test_accuracy: float
    test_loss: float
    seconds: float
    device: str
    stopped: bool = False
    snapshots: dict[str, dict] = field(default_factory=dict)

    def record(self, recipe_name: str | None = None, variant: str | None = None) -> dict:
        """What goes into the checkpoint's .json (besides what ``checkpoints.save`` adds).

        With ``recipe_name``, that too; and a run of the preset's unchanged ``seed`` recipe (or of
        one of its :data:`core.training.recipes.VARIANTS`) gets the figure its source reports, so pages can
        set the reproduction beside it.
        """
        out = {
            "recipe": self.recipe.to_dict(),
            "history": self.history,
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            "train_seconds": round(self.seconds, 2),
            "device": self.device,
            "stopped": self.stopped,
        }
        if recipe_name is not None:
            out["recipe_name"] = recipe_name
            if variant is not None:
                out["variant"], out["variant_label"] = variant, VARIANTS[variant].label
            if (
                recipe_name == "seed"
                and self.preset in REPORTED
                and self.recipe == get_recipe(self.preset, "seed", variant)
            ):
                out["reported"] = REPORTED[self.preset]  # a faithful reproduction (or one change) only
        return out


def epoch_position(entry: dict, train_images: int | None = None) -> float:
    """Where a history entry sits on an axis of epochs done: ``epoch`` for a whole epoch, less
    the part a stopped run did not reach (its ``epoch_fraction``; for records written before that
    field, ``images`` / ``train_images`` when given)."""
    fraction = entry.get("epoch_fraction")
    if fraction is None and train_images and entry.get("images") is not None:
        fraction = min(1.0, entry["images"] / train_images)
    return entry["epoch"] - 1 + (1.0 if fraction is None else fraction)


def map_loss(logits: torch.Tensor, targets: torch.Tensor, j: float = MAP_J) -> torch.Tensor:
    """The maximum a posteriori criterion of LeCun et al. 1998, eq. (9), for an RBF output whose
    logits are minus the penalties y_i: E = y_D + log(e^-j + sum_i e^-y_i), averaged over the batch.
    Without the e^-j term it is exactly the cross-entropy of the logits."""
    penalty = -logits.gather(1, targets[:, None]).squeeze(1)
    constant = torch.full_like(logits[:, :1], -j)
    return (penalty + torch.logsumexp(torch.cat([logits, constant], dim=1), dim=1)).mean()


def loss_function(recipe: Recipe, model: torch.nn.Module):
    """The recipe's training loss for ``model``: cross-entropy, or eq. (9) for an RBF output."""
    if recipe.loss == "map":
        if not any(isinstance(m, EuclideanRBF) for m in model.modules()):
            raise ValueError(
                "loss 'map' (LeCun et al. 1998, eq. 9) needs an RBF output of penalties, "
                "as lenet5_1998 has; use cross_entropy for this model"
            )
        return map_loss
    if recipe.label_smoothing:
        return functools.partial(F.cross_entropy, label_smoothing=recipe.label_smoothing)
    return F.cross_entropy


def _optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def lecun1998_factor(epoch: int) -> float:
    """The paper's decreasing step at pass ``epoch`` (0-based), as a multiple of the first rate."""
    return LECUN1998_STEPS[epoch] if epoch < len(LECUN1998_STEPS) else LECUN1998_AFTER


def _scheduler(optimizer, recipe: Recipe, steps_per_epoch: int):
    """(scheduler, steps per scheduler step): one-cycle steps per batch, step per epoch."""
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "onecycle" and total_steps >= 8:  # fewer: OneCycleLR's warm-up has no steps
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=recipe.lr, total_steps=total_steps, pct_start=0.25
        ), "batch"
    if recipe.schedule == "lecun1998":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: lecun1998_factor(epoch)), "epoch"
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(recipe.milestones), gamma=0.1), "epoch"
    return None, None


def _training_sets(recipe: Recipe, device: torch.device, test_limit: int | None):
    """(train, validation or None, test) on the device, honouring limit and the 50k/10k split."""
    if recipe.select_by_validation:
        train_split, val_split = mnist.train_validation_split()
    else:
        train_split, val_split = mnist.load_train(), None
    if recipe.limit is not None:
        # A seeded subset, so "2,000 images" holds every class, not the file's first digits.
        pick = torch.randperm(len(train_split), generator=seeded(recipe.seed))
        pick = pick[: recipe.limit]
        train_split = mnist.MnistSplit(train_split.images[pick], train_split.labels[pick])
    test_split = mnist.load_test()
    if test_limit is not None:
        test_split = mnist.MnistSplit(test_split.images[:test_limit], test_split.labels[:test_limit])
        if val_split is not None:
            val_split = mnist.MnistSplit(val_split.images[:test_limit], val_split.labels[:test_limit])
    val_set = DeviceData(val_split, device) if val_split is not None else None
    return DeviceData(train_split, device), val_set, DeviceData(test_split, device)


@dataclass
class _Run:
    """What one run carries from epoch to epoch."""

    model: torch.nn.Module
    recipe: Recipe
    device: torch.device
    train_set: DeviceData
    optimizer: torch.optim.Optimizer
    scheduler: object
    schedule_unit: str | None
    batches: torch.Generator  # shuffling and augmentation: the run's own, never the global one
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    progress: ProgressFn | None
    stop: threading.Event | None

    @classmethod
    def start(cls, model, recipe: Recipe, device: torch.device, train_set, progress, stop) -> _Run:
        """A run's first state: its optimizer, its schedule, its own generator, its loss."""
        optimizer = _optimizer(model, recipe)
        scheduler, unit = _scheduler(optimizer, recipe, math.ceil(len(train_set) / recipe.batch_size))
        batches = seeded(recipe.seed)
        return cls(
            model,
            recipe,
            device,
            train_set,
            optimizer,
            scheduler,
            unit,
            batches,
            loss_function(recipe, model),
            progress,
            stop,
        )

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train_set) / self.recipe.batch_size)


class _BestByValidation:
    """Keep-best-by-validation (seed 002): the weights of the epoch with the best validation accuracy."""

    def __init__(self) -> None:
        self.accuracy, self.state = -1.0, None

    def offer(self, accuracy: float, model: torch.nn.Module) -> None:
        if accuracy > self.accuracy:
            self.accuracy, self.state = accuracy, copy.deepcopy(model.state_dict())


def _train_epoch(run: _Run, epoch: int) -> tuple[dict | None, bool]:
    """One pass over the training set: (the epoch's train figures, or None if no batch ran;
    whether the run was asked to stop)."""
    model, recipe, device = run.model, run.recipe, run.device
    model.train()
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    started = time.perf_counter()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen, stopped = 0, False
    lr_now = run.optimizer.param_groups[0]["lr"]
    for step, (x, y) in enumerate(run.train_set.batches(recipe.batch_size, run.batches, recipe.augment), 1):
        with autocast:
            logits = model(x)
            loss = run.loss(logits.float(), y)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        if run.schedule_unit == "batch":
            run.scheduler.step()
        loss_sum += loss.detach() * y.shape[0]
        correct += (logits.detach().argmax(1) == y).sum()
        seen += y.shape[0]
        if step % SYNC_EVERY == 0 or step == run.steps_per_epoch:
            mean_loss = float(loss_sum) / seen
            if not math.isfinite(mean_loss):
                raise TrainingDiverged(mean_loss, epoch, step, recipe.lr)
            if run.progress:
                run.progress(
                    {
                        "event": "batch",
                        "epoch": epoch,
                        "epochs": recipe.epochs,
                        "step": step,
                        "steps": run.steps_per_epoch,
                        "loss": mean_loss,
                        "accuracy": float(correct) / seen,
                        "images": seen,
                        "images_per_second": seen / max(time.perf_counter() - started, 1e-9),
                    }
                )
        if run.stop is not None and run.stop.is_set():
            stopped = True
            break
    if run.schedule_unit == "epoch":
        run.scheduler.step()
    if seen == 0:
        return None, stopped
    # A run stopped part-way is tested after ``seen`` of the epoch's images: its test point
    # belongs at that fraction of the epoch, not at the epoch's end.
    return {
        "epoch": epoch,
        "train_loss": float(loss_sum) / seen,
        "train_accuracy": float(correct) / seen,
        "lr": lr_now,
        "seconds": round(time.perf_counter() - started, 3),
        "images": seen,
        "epoch_fraction": seen / len(run.train_set),
    }, stopped


def dropout_generator(model: torch.nn.Module, generator: torch.Generator | None) -> None:
    """Give every dropout layer of ``model`` the run's own generator (None: back to the global one)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator


def train_pass(
    model: torch.nn.Module,
    recipe: Recipe,
    train_set,
    *,
    device: torch.device,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> tuple[dict | None, bool]:
    """One pass of this loop for a model that already has its weights (a fine-tune,
    ``core.classroom.finetune``): ``recipe``'s optimiser, schedule and loss; batches from ``train_set``,
    anything with ``len()`` and :meth:`DeviceData.batches`'s ``batches(batch_size, generator,
    augment)``, drawn with a generator of the pass's own seeded with ``recipe.seed`` (dropout too);
    ``progress`` and ``stop`` as in :func:`train`.

    Returns (the pass's train figures as a history entry, without test figures, or None if no
    batch ran; whether it was asked to stop). Raises TrainingDiverged on a NaN/inf loss.
    """
    run = _Run.start(model, recipe, device, train_set, progress, stop)
    dropout_generator(model, torch.Generator(device=device).manual_seed(recipe.seed + 1))
    try:
        return _train_epoch(run, 1)
    finally:
        dropout_generator(model, None)


def train(
    preset: str,
    recipe: Recipe,
    *,
    device: torch.device | str | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    keep_snapshots: bool = False,
    test_limit: int | None = None,
    config: dict | None = None,
) -> TrainResult:
    """Train a fresh ``preset`` (its configuration's fields replaced by ``config``: a design's
    ``notation``) with ``recipe`` (as :func:`core.training.recipes.prepare` checked
    it); evaluate on the test set after every epoch.

    ``progress`` receives dicts (``{"event": "batch" | "epoch", ...}``); setting ``stop`` ends
    the run cleanly after the current batch. Raises TrainingDiverged on a NaN/inf loss.

    Everything random (the starting weights, the order of the batches, augmentation, dropout)
    comes from generators of the run's own seeded with ``recipe.seed``, never from torch's
    global one: the same recipe gives the same weights, to the bit on a CPU, whatever other
    threads of the process (a dashboard's sessions) do meanwhile.
    """
    device = pick_device(device) if not isinstance(device, torch.device) else device
    model = models.build(preset, generator=seeded(recipe.seed), **(config or {})).to(device)
    dropout_generator(model, torch.Generator(device=device).manual_seed(recipe.seed + 1))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    train_set, val_set, test_set = _training_sets(recipe, device, test_limit)
    run = _Run.start(model, recipe, device, train_set, progress, stop)
    history: list[dict] = []
    snapshots: dict[str, dict] = {}
    best = _BestByValidation()
    started = time.perf_counter()
    stopped = False
    try:
        for epoch in range(1, recipe.epochs + 1):
            entry, stopped = _train_epoch(run, epoch)
            if entry is None:
                break
            entry["test_accuracy"], entry["test_loss"] = evaluate(model, test_set)
            if val_set is not None:
                entry["val_accuracy"], entry["val_loss"] = evaluate(model, val_set)
                best.offer(entry["val_accuracy"], model)
            history.append(entry)
            if keep_snapshots:
                snapshots[f"epoch_{epoch}"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            if progress:
                progress({"event": "epoch", **entry, "epochs": recipe.epochs})
            if stopped:
                break
    finally:
        dropout_generator(model, None)
    if not history:
        test_acc = test_loss = float("nan")
    elif best.state is not None:  # best by validation: report the kept epoch's test figures
        model.load_state_dict(best.state)
        test_acc, test_loss = evaluate(model, test_set)
    else:
        test_acc, test_loss = history[-1]["test_accuracy"], history[-1]["test_loss"]
    return TrainResult(
        preset,
        recipe,
        model.cpu().eval(),
        history,
        test_acc,
        test_loss,
        time.perf_counter() - started,
        str(device),
        stopped,
        snapshots,
    )
