"""A training run's state as every session and every server process of a group sees it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.i18n import N_, Deferred, _

RUNNING, SAVING, FINISHED, STOPPED, FAILED = "running", "saving", "finished", "stopped", "failed"
TRAINING = "training"  # the kind of a run of core.training.train (a class fine-tune is another)


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state at one moment, safe to read from any thread."""

    id: int
    name: str
    preset: str
    recipe_name: str
    recipe: dict
    status: str
    message: str
    epoch: int
    epochs: int
    step: int
    steps: int
    loss: float | None
    accuracy: float | None
    images_per_second: float | None
    curve: list[tuple[float, float, float]]  # (epochs done, as a fraction; train loss, train accuracy over
    # the batches since the point before)
    history: list[dict]  # one dict per epoch (a stopped one too), as in the record
    elapsed: float
    stop_requested: bool
    saved: str | None = None
    test_accuracy: float | None = None
    message_id: str = ""  # the message's template (core.i18n): shown in each reader's language
    message_args: dict = dataclasses.field(default_factory=dict)
    process: str | None = None  # which server process runs it, when it is another one's (RemoteJob)
    kind: str = TRAINING
    result: dict | None = None  # a run of another kind: what it measured (see WorkOutcome)

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, SAVING)

    @classmethod
    def from_dict(cls, values: dict) -> JobSnapshot:
        """The snapshot ``dataclasses.asdict`` made (as JSON keeps it: the curve's tuples as lists)."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        return cls(**{**values, "curve": [tuple(point) for point in values.get("curve", [])]})

    @property
    def fraction(self) -> float:
        """How much of the run is done, 0..1 (by batches)."""
        if self.status == FINISHED:
            return 1.0
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, ((self.epoch - 1) + self.step / self.steps) / self.epochs)


# The end of a run whose process ended before it could write how (core.training.jobs.group.RemoteJob).
LOST = N_(
    "the run ended with its {process} (pid {pid}) before it could report how: the checkpoint list shows what was saved"
)


def shown_message(snap: JobSnapshot) -> str:
    """A run's message in the reader's language: it was written in the job's thread, where no
    session (and so no language) is, as a template and its values."""
    return _(Deferred(snap.message_id, **snap.message_args)) if snap.message_id else snap.message
