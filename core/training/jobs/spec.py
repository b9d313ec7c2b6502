"""A training run's spec: its settings checked before anything starts (:func:`prepare`), or the
``work`` of a run of another kind (a class fine-tune); ``core.training.jobs.runner`` runs it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core import models
from core.device import pick_device
from core.i18n import N_, MessageError
from core.models import checkpoints, design
from core.training import recipes
from core.training.jobs.state import TRAINING
from core.training.train import ProgressFn


class JobInputError(MessageError, ValueError):
    """A setting that cannot start a run; the message says which and what to do, in the language
    of the session that shows it (:class:`core.i18n.MessageError`)."""

    @classmethod
    def refusing(cls, exc: Exception) -> JobInputError:
        """``exc`` (a recipe, a checkpoint, a device that cannot work) as a refusal to start: its
        template and values when it keeps them, so it is said in the reader's language, else its text."""
        return cls(exc.template, exc.values) if isinstance(exc, MessageError) else cls(str(exc))


class NeedsConfirmation(JobInputError):
    """The name is taken by an existing checkpoint: start again with ``overwrite=True``."""


# core.training.jobs.spec.name_taken's answers, and what NeedsConfirmation says for each
SHIPPED, EXISTING = N_("a shipped checkpoint"), N_("an existing checkpoint")
CONFIRM = {
    SHIPPED: N_("'{name}' is a shipped checkpoint: confirm to replace it, or choose another name"),
    EXISTING: N_("'{name}' is an existing checkpoint: confirm to replace it, or choose another name"),
}


def shipped_names() -> set[str]:
    """Names of the checkpoints the project ships (``make checkpoints``): overwriting one needs a confirmation."""
    return {run.name for run in recipes.shipped_runs()}


def name_taken(name: str, folder: Path | str | None = None) -> str | None:
    """ "a shipped checkpoint" / "an existing checkpoint" when ``name`` is in use, else None."""
    folder = checkpoints.folder_or_default(folder)
    if not ((folder / f"{name}.json").exists() or (folder / f"{name}.pt").exists()):
        return None
    return SHIPPED if name in shipped_names() else EXISTING


@dataclass(frozen=True)
class WorkOutcome:
    """How a run of another kind ended (what its ``work`` returns): a stopped one saved nothing
    unless ``saved`` says where; ``result`` is a plain dict for pages (e.g. before/after figures)."""

    stopped: bool
    message: str  # a template marked N_, filled with ``values``
    values: dict = field(default_factory=dict)
    saved: str | None = None
    test_accuracy: float | None = None
    result: dict | None = None


# work(progress, stop, device): reports train.train's progress events (plus {"event": "saving"}),
# ends soon after ``stop`` is set, raises TrainingDiverged or anything else to fail the run.
Work = Callable[[ProgressFn, threading.Event, torch.device], WorkOutcome]


@dataclass(frozen=True)
class JobSpec:
    """Everything a run needs, already checked by :func:`prepare` (or, for a run of another
    kind, by what built its ``work``: ``recipe`` then describes its optimiser and batches)."""

    preset: str
    recipe_name: str
    recipe: recipes.Recipe
    name: str
    folder: Path
    keep_snapshots: bool = False
    test_limit: int | None = None
    device: str | None = None
    kind: str = TRAINING
    work: Work | None = field(default=None, compare=False, repr=False)
    config: dict = field(default_factory=dict)  # the model's configuration overridden: a design's notation
    record: dict = field(default_factory=dict)  # added to the checkpoint's record: a design's nickname, its start


def prepare(
    preset: str,
    recipe_name: str = "fast",
    *,
    name: str,
    overrides: dict | None = None,
    folder: Path | str | None = None,
    overwrite: bool = False,
    keep_snapshots: bool = False,
    test_limit: int | None = None,
    strict: bool = True,
    device: str | None = None,
    config: dict | None = None,
    record: dict | None = None,
) -> JobSpec:
    """Check a run's settings and return its spec; raise JobInputError without starting anything.

    ``strict`` refuses absurd learning rates before starting (the page keeps it on; tests turn
    it off to see a NaN stop a job). A name taken by an existing checkpoint raises
    NeedsConfirmation unless ``overwrite``; the message says when it is a shipped one.

    ``config`` replaces fields of the preset's configuration (a design's ``{"notation": ...}``,
    refused with its sentence when it cannot be built); ``record`` goes into the checkpoint's record
    (a design's ``nickname``, kept as plain text, and the preset it ``started_from``).
    """
    try:
        models.get(preset)
        config = _checked_config(preset, config or {})
        recipe = recipes.prepare(preset, recipe_name, overrides=overrides, strict=strict)
        checkpoints.validate_name(name)
        if device is not None:
            pick_device(device)
    except (recipes.RecipeError, checkpoints.CheckpointError, ValueError) as exc:
        raise JobInputError.refusing(exc) from None
    if test_limit is not None and test_limit < 1:
        raise JobInputError(N_("test_limit must be at least 1, got {value}"), {"value": test_limit})
    folder = checkpoints.folder_or_default(folder)
    taken = name_taken(name, folder)
    if taken and not overwrite:
        raise NeedsConfirmation(CONFIRM[taken], {"name": name})
    return JobSpec(
        preset,
        recipe_name,
        recipe,
        name,
        folder,
        keep_snapshots,
        test_limit,
        device,
        config=config,
        record=_design_record(record or {}),
    )


def _checked_config(preset: str, config: dict) -> dict:
    """``config`` when the preset's configuration has those fields and (a design) its notation can be
    built; ValueError (a DesignError: the layer and the way out) otherwise."""
    fields = {f.name for f in dataclasses.fields(models.get(preset).config)}
    unknown = sorted(set(config) - fields)
    if unknown:
        raise ValueError(f"{preset} has no setting {', '.join(unknown)}; settings: {', '.join(sorted(fields))}")
    if preset == models.DESIGN:
        return {"notation": design.parse(config.get("notation", "")).notation}  # recorded canonical
    return dict(config)


NICKNAME_LENGTH = 40


def _design_record(record: dict) -> dict:
    """The record's extras: a nickname as plain text (no control characters, at most NICKNAME_LENGTH
    characters, dropped when empty), the preset a design started from when it is one."""
    out = {}
    nickname = " ".join("".join(c if c.isprintable() else " " for c in str(record.get("nickname") or "")).split())
    if nickname:
        out["nickname"] = nickname[:NICKNAME_LENGTH]
    if record.get("started_from") in models.names():
        out["started_from"] = record["started_from"]
    return out
