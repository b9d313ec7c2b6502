"""The network learns our handwriting: fine-tune a checkpoint on the class's labelled digits.

A fixed part of the class's digits is held out (:func:`held_out_split`); the model is trained
for ``steps`` batches, each mixing ``class_share`` of the class's other digits (slightly shifted
and turned, as there are few) with MNIST training images, so it does not forget MNIST; then the
held-out class digits and the MNIST test set are measured before and after, side by side, and
the held-out digits whose answer changed are listed. The result is a checkpoint like any other,
``class_<model>_<session>``, whose record says what it was trained on.

Use: ``result = finetune("lenet5", class_digits(store))`` then ``save(result)``; as the server's
background run for the whole class, ``core.classroom.finetune_job.prepare``; from the command
line: ``python -m core class finetune lenet5 --json``.

Everything random (the split, the batches, the shifts, dropout) comes from hashes and generators
of the run's own seeded with ``settings.seed``, never from torch's global generator.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.classroom.lessons import ClassDigits, accuracy_of, class_predictions, mnist_predictions
from core.data import mnist as data
from core.data.batches import DeviceData, random_affine
from core.device import pick_device, shared_threads, torch_threads
from core.i18n import N_
from core.models import checkpoints
from core.training.confusion import predict_test_set
from core.training.jobs.spec import JobInputError
from core.training.recipes import Recipe
from core.training.train import ProgressFn, train_pass

MIN_DIGITS = 30
KIND = "class fine-tune"


class NotEnoughDigits(JobInputError):
    """The class has too few digits to fine-tune on; the message says how many more."""


@dataclass(frozen=True)
class FinetuneSettings:
    """How a fine-tune runs; every field is reported in the checkpoint's record."""

    steps: int = 100  # batches
    batch_size: int = 64
    class_share: float = 0.25  # of each batch from the class's digits; the rest MNIST training images
    lr: float = 1e-3  # Adam
    held_out: float = 0.2  # share of the class's digits kept out of training, to measure on
    seed: int = 0
    augment: bool = True  # shift and turn the class's digits a little each time they are drawn
    mnist_limit: int | None = None  # MNIST test images measured (None: all 10,000)

    def check(self) -> FinetuneSettings:
        """Itself, or JobInputError with the setting that cannot work."""
        problems = []  # (template, values) of each setting that cannot work
        if not isinstance(self.steps, int) or not 1 <= self.steps <= 10_000:
            problems.append((N_("steps must be a whole number from 1 to 10,000, got {value}"), self.steps))
        if not isinstance(self.batch_size, int) or not 2 <= self.batch_size <= 4096:
            problems.append((N_("the batch size must be from 2 to 4,096, got {value}"), self.batch_size))
        if not 0 < self.class_share <= 1:
            problems.append(
                (N_("the class's share of a batch must be above 0 and at most 1, got {value}"), self.class_share)
            )
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr <= 1):
            problems.append((N_("the learning rate must be above 0 and at most 1, got {value}"), self.lr))
        if not 0.2 <= self.held_out <= 0.5:
            problems.append((N_("the held-out share must be from 0.2 to 0.5, got {value}"), self.held_out))
        if self.mnist_limit is not None and not 1 <= self.mnist_limit <= data.N_TEST:
            problems.append((N_("mnist_limit must be from 1 to 10,000, got {value}"), self.mnist_limit))
        if problems:  # the first; the others, if any, once it is fixed
            template, value = problems[0]
            raise JobInputError(template, {"value": repr(value)})
        return self

    @property
    def class_per_batch(self) -> int:
        return max(1, min(self.batch_size, round(self.batch_size * self.class_share)))

    def recipe(self, loss: str = "cross_entropy") -> Recipe:
        """The training loop's recipe for these settings: one pass of ``steps`` batches ("limit"
        is the number of images the pass draws, with repeats)."""
        return Recipe(
            "adam",
            self.lr,
            self.batch_size,
            1,
            limit=self.steps * self.batch_size,
            seed=self.seed,
            loss=loss,
            note=f"class fine-tune: {self.steps} steps of {self.class_per_batch} class "
            f"digits + {self.batch_size - self.class_per_batch} MNIST images",
        )


def checkpoint_name(model: str, session: int) -> str:
    """``class_<model>_<session>``: where a fine-tune of ``model`` on a session is saved."""
    return checkpoints.validate_name(f"class_{model}_{session}")


def _rank(seed: int, entry_id: int) -> int:
    """A digit's place in the held-out order: a seeded hash of its entry id (the same on every
    machine and run, and unmoved by digits that arrive later)."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{entry_id}".encode(), digest_size=8).digest(), "big")


def held_out_split(
    entry_ids: np.ndarray, labels: np.ndarray, *, fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(training positions, held-out positions), each sorted.

    Stratified: of each label with two digits or more, ``ceil(fraction * n)`` are held out (a label
    with one digit keeps it for training); if that makes less than ``ceil(fraction * N)`` overall,
    more are taken from the labels with the most training digits left, never their last one.
    Which ones: the lowest seeded hashes of their entry ids, so the same digits give the same split.
    """
    entry_ids, labels = np.asarray(entry_ids), np.asarray(labels)
    ranked: dict[int, list[int]] = {}
    for position in sorted(range(len(labels)), key=lambda i: _rank(seed, int(entry_ids[i]))):
        ranked.setdefault(int(labels[position]), []).append(position)
    held: list[int] = []
    for positions in ranked.values():
        take = math.ceil(fraction * len(positions)) if len(positions) >= 2 else 0
        held += positions[:take]
        del positions[:take]
    while len(held) < math.ceil(fraction * len(labels)):
        label = max(
            (lbl for lbl, rest in ranked.items() if len(rest) >= 2),
            key=lambda lbl: (len(ranked[lbl]), -lbl),
            default=None,
        )
        if label is None:
            break
        held.append(ranked[label].pop(0))
    held_set = set(held)
    train = [i for i in range(len(labels)) if i not in held_set]
    return np.array(train, dtype=np.int64), np.array(sorted(held), dtype=np.int64)


def check_enough(digits: ClassDigits) -> None:
    """NotEnoughDigits, with a sentence, unless there are at least 30 digits and every label has one."""
    if len(digits) < MIN_DIGITS:
        raise NotEnoughDigits(
            N_(
                "fine-tuning needs at least {least} of the class's digits and session {session} has "
                "{count}: send {more} more first"
            ),
            dict(least=MIN_DIGITS, session=digits.session, count=len(digits), more=MIN_DIGITS - len(digits)),
        )
    missing = [d for d, n in enumerate(digits.counts()) if n == 0]
    if missing:
        raise NotEnoughDigits(
            N_(
                "fine-tuning needs every digit at least once and session {session} has no {digits} "
                "yet: draw and send some first"
            ),
            dict(session=digits.session, digits=", ".join(map(str, missing))),
        )


class MixedBatches:
    """Batches for :func:`core.training.train.train_pass`: ``class_per_batch`` of the class's training
    digits (drawn with repeats, shifted and turned a little) and the rest MNIST training images."""

    def __init__(
        self, class_images: torch.Tensor, class_labels: torch.Tensor, mnist: DeviceData, settings: FinetuneSettings
    ) -> None:
        self.images, self.labels = class_images.to(mnist.device), class_labels.to(mnist.device)
        self.mnist, self.settings = mnist, settings

    def __len__(self) -> int:
        return self.settings.steps * self.settings.batch_size

    def batches(self, batch_size: int, generator: torch.Generator | None = None, augment: bool = False):
        k = self.settings.class_per_batch
        device = self.mnist.device
        for _step in range(self.settings.steps):
            mine = torch.randint(len(self.labels), (k,), generator=generator).to(device)
            theirs = torch.randint(len(self.mnist), (batch_size - k,), generator=generator).to(device)
            class_x = self.images[mine]
            if self.settings.augment:
                class_x = random_affine(class_x, generator)
            x = torch.cat([class_x, self.mnist.images[theirs]])
            yield data.normalize(x), torch.cat([self.labels[mine], self.mnist.labels[theirs]])


@dataclass(eq=False)
class FinetuneResult:
    """A fine-tuned model and what it was measured at, before and after."""

    model: torch.nn.Module
    base: str
    base_sha256: str
    preset: str
    settings: FinetuneSettings
    digits: ClassDigits
    train_index: np.ndarray
    held_index: np.ndarray
    class_before: float
    class_after: float
    mnist_before: float
    mnist_after: float
    mnist_loss_after: float
    mnist_images: int
    changed: list[dict]  # held-out digits whose answer changed: entry, label, before, after
    history: list[dict]
    seconds: float
    device: str
    stopped: bool = False
    name: str = field(default="")

    def figures(self) -> dict:
        """The before/after figures as the command line prints them (the keys docs/reference.md lists)."""
        s = self.settings
        return {
            "model": self.base,
            "name": self.name,
            "session": self.digits.session,
            "class": {"before": self.class_before, "after": self.class_after, "n": int(len(self.held_index))},
            "mnist": {"before": self.mnist_before, "after": self.mnist_after, "n": self.mnist_images},
            "changed": self.changed,
            "class_digits": len(self.digits),
            "train_digits": int(len(self.train_index)),
            "held_out": int(len(self.held_index)),
            "steps": s.steps,
            "mix": {
                "batch_size": s.batch_size,
                "class_per_batch": s.class_per_batch,
                "mnist_per_batch": s.batch_size - s.class_per_batch,
            },
            "lr": s.lr,
            "seed": s.seed,
            "seconds": round(self.seconds, 2),
            "stopped": self.stopped,
        }

    def record(self) -> dict:
        """What the checkpoint's .json holds besides what ``checkpoints.save`` adds."""
        train_ids = self.digits.entry_ids[self.train_index]
        held_ids = self.digits.entry_ids[self.held_index]
        return {
            "recipe": self.settings.recipe().to_dict(),
            "recipe_name": KIND,
            "history": self.history,
            "test_accuracy": self.mnist_after,
            "test_loss": self.mnist_loss_after,
            "test_images": self.mnist_images,
            "train_seconds": round(self.seconds, 2),
            "device": self.device,
            "stopped": self.stopped,
            "trained_on": KIND,
            "finetune": {
                **self.figures(),
                "base_sha256": self.base_sha256,
                "settings": dataclasses.asdict(self.settings),
                "train_entries": train_ids.tolist(),
                "held_out_entries": held_ids.tolist(),
                "held_out_by_label": np.bincount(self.digits.labels[self.held_index], minlength=10).tolist(),
            },
        }


def loss_of(info: checkpoints.CheckpointInfo) -> str:
    """The loss the checkpoint was trained with (eq. 9 of the 1998 paper for lenet5_1998's RBF output)."""
    return (info.record.get("recipe") or {}).get("loss", "cross_entropy")


def _mean_loss(predictions) -> float:
    own = predictions.probabilities[np.arange(len(predictions)), predictions.labels]
    return float(-np.log(np.clip(own, 1e-12, None)).mean())


def finetune(
    base: str,
    digits: ClassDigits,
    settings: FinetuneSettings | None = None,
    *,
    folder=None,
    device: torch.device | str | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> FinetuneResult:
    """Fine-tune checkpoint ``base`` on ``digits`` (see the module's docstring); nothing is saved.

    Raises NotEnoughDigits (fewer than 30 digits, or a label with none), JobInputError for a
    setting that cannot work, CheckpointError when ``base`` does not load, TrainingDiverged.
    A ``stop`` part-way still measures what the model became (``stopped`` is then True).
    """
    settings = (settings or FinetuneSettings()).check()
    check_enough(digits)
    device = pick_device(device) if not isinstance(device, torch.device) else device
    started = time.perf_counter()
    with torch_threads(shared_threads()):
        model, info = checkpoints.load(base, folder=folder, device=device)
        train_index, held_index = held_out_split(
            digits.entry_ids, digits.labels, fraction=settings.held_out, seed=settings.seed
        )
        held = digits.subset(held_index)
        before = class_predictions(model, held)
        mnist_before = mnist_predictions(base, folder=folder, limit=settings.mnist_limit).accuracy
        batches = MixedBatches(
            torch.from_numpy(digits.images[train_index]),
            torch.from_numpy(digits.labels[train_index]),
            DeviceData(data.load_train(), device),
            settings,
        )
        entry, stopped = train_pass(
            model, settings.recipe(loss_of(info)), batches, device=device, progress=progress, stop=stop
        )
        model.eval()
        after = class_predictions(model, held)
        mnist_after = predict_test_set(model, limit=settings.mnist_limit)
    changed = [
        {
            "entry": int(held.entry_ids[i]),
            "label": int(held.labels[i]),
            "before": int(before.predicted[i]),
            "after": int(after.predicted[i]),
        }
        for i in np.flatnonzero(before.predicted != after.predicted)
    ]
    history = []
    if entry is not None:
        history = [{**entry, "test_accuracy": mnist_after.accuracy, "test_loss": _mean_loss(mnist_after)}]
        if progress:
            progress({"event": "epoch", **history[0], "epochs": 1})
    return FinetuneResult(
        model.cpu(),
        base,
        info.record["sha256"],
        info.preset,
        settings,
        digits,
        train_index,
        held_index,
        accuracy_of(before),
        accuracy_of(after),
        mnist_before,
        mnist_after.accuracy,
        _mean_loss(mnist_after),
        len(mnist_after),
        changed,
        history,
        time.perf_counter() - started,
        str(device),
        stopped,
        checkpoint_name(base, digits.session),
    )


def save(result: FinetuneResult, *, folder=None) -> checkpoints.CheckpointInfo:
    """Write the fine-tuned model as ``result.name`` (replacing an earlier fine-tune of the same
    model on the same session), hashed, with its record."""
    return checkpoints.save(result.model, result.name, preset=result.preset, record=result.record(), folder=folder)
