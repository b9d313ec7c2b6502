"""What a design challenge is: its rules (the same budget for every entry, the caps), its entries
and how they are scored and ranked, the Pareto front the leaderboard draws and the results as CSV.
Plain values: ``core.classroom.design_challenge.submissions`` stores them, ``core.classroom.design_challenge.queue``
trains the entries.

An entry's life: ``queued`` -> ``training`` -> ``done`` (scored), ``timed out`` (stopped at the
time limit, scored on what it reached), ``diverged`` (its loss became NaN: no score) or
``failed``; ``replaced`` (the same student submitted again under the same nickname) and
``withdrawn`` (the challenge closed before its turn) are never trained. The score is the accuracy
on the first ``test_images`` of MNIST's test set; ties go to fewer parameters, then to the earlier
submission.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass

from core.classroom.db import StoreError
from core.i18n import N_, _
from core.models import design

QUEUED, TRAINING, DONE, TIMED_OUT, DIVERGED, FAILED = "queued", "training", "done", "timed out", "diverged", "failed"
REPLACED, WITHDRAWN = "replaced", "withdrawn"
SCORED = (DONE, TIMED_OUT)
STATUS_WORDS = {
    QUEUED: N_("queued"),
    TRAINING: N_("training"),
    DONE: N_("done"),
    TIMED_OUT: N_("stopped at the time limit"),
    DIVERGED: N_("diverged"),
    FAILED: N_("failed"),
    REPLACED: N_("replaced"),
    WITHDRAWN: N_("withdrawn"),
}


class ChallengeError(StoreError, ValueError):
    """A challenge or a submission that cannot be: the message says why and what to do."""


@dataclass(frozen=True)
class Rules:
    """The same budget for every entry, and the caps a design must keep."""

    cap_params: int = 10_000
    cap_macs: int | None = None  # multiply-adds per image
    images: int = 12_000  # training images (a seeded subset): a LeNet-size entry trains in seconds
    epochs: int = 2
    seconds: float = 60.0  # per entry: stopped there and scored on what it reached
    test_images: int = 2_000  # the first ones of MNIST's test set: the score
    seed: int = 0

    def check(self) -> Rules:
        """These rules, or ChallengeError naming the first that cannot be."""
        limits = (
            ("cap_params", N_("the cap on parameters"), 100, design.MAX_PARAMS),
            ("cap_macs", N_("the cap on multiply-adds"), 1_000, design.MAX_MACS),
            ("images", N_("the training images"), 100, 60_000),
            ("epochs", N_("the epochs"), 1, 5),
            ("seconds", N_("the seconds per entry"), 5, 600),
            ("test_images", N_("the test images"), 100, 10_000),
            ("seed", N_("the seed"), 0, 2**31 - 1),
        )
        for field, said, low, high in limits:
            value = getattr(self, field)
            if value is None and field == "cap_macs":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ChallengeError(
                    N_("{what} must be from {low:,} to {high:,}, not {value}"),
                    {"what": _(said), "low": low, "high": high, "value": value},
                )
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Rules:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


@dataclass(frozen=True)
class Challenge:
    id: int
    session_id: int
    name: str
    rules: Rules
    opened: float
    closed: float | None
    stopped: bool

    @property
    def is_open(self) -> bool:
        return self.closed is None


@dataclass(frozen=True)
class Entry:
    """One submission and, once trained, its result."""

    id: int
    challenge_id: int
    student_key: str
    nickname: str
    notation: str
    params: int
    macs: int
    submitted: float
    status: str
    accuracy: float | None
    seconds: float | None
    history: list
    checkpoint: str | None
    message: str
    hidden: bool
    rank: int | None = None  # among the scored, shown entries

    @property
    def scored(self) -> bool:
        return self.status in SCORED and self.accuracy is not None

    def to_dict(self) -> dict:
        """As ``class challenge results --json`` prints it."""
        return {
            "id": self.id,
            "nickname": self.nickname,
            "notation": self.notation,
            "params": self.params,
            "macs": self.macs,
            "accuracy": self.accuracy,
            "seconds": self.seconds,
            "status": self.status,
            "rank": self.rank,
            "hidden": self.hidden,
            "checkpoint": self.checkpoint,
        }


def ranked(entries: list[Entry]) -> list[Entry]:
    """Every entry, the scored and shown ones first by rank (accuracy, then fewer parameters, then
    the earlier submission), then the rest in the order they were submitted."""
    scored = sorted(
        (e for e in entries if e.scored and not e.hidden), key=lambda e: (-e.accuracy, e.params, e.submitted, e.id)
    )
    rest = [e for e in entries if not (e.scored and not e.hidden)]
    return [dataclasses.replace(e, rank=k) for k, e in enumerate(scored, 1)] + sorted(rest, key=lambda e: e.id)


def pareto_front(entries: list[Entry]) -> list[Entry]:
    """The ranked entries no other beats on both counts (as accurate with fewer parameters, or more
    accurate with as few), fewest parameters first: the line the leaderboard draws."""
    front, best = [], -1.0
    for e in sorted((e for e in entries if e.rank is not None), key=lambda e: (e.params, -e.accuracy)):
        if e.accuracy > best:
            front.append(e)
            best = e.accuracy
    return front


CSV_COLUMNS = (
    "rank",
    "nickname",
    "notation",
    "params",
    "macs",
    "accuracy",
    "seconds",
    "status",
    "hidden",
    "checkpoint",
)


def results_csv(entries: list[Entry]) -> str:
    """The entries as CSV, ranked, with their notations (a nickname is plain text: quoted by the CSV
    writer, and a leading ``= + - @`` is quoted away so a spreadsheet never runs it as a formula)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        row = e.to_dict()
        nickname = row["nickname"]
        row["nickname"] = "'" + nickname if nickname[:1] in ("=", "+", "-", "@") else nickname
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
