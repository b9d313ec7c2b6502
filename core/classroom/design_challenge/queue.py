"""The design challenge's queue: each entry trained in turn as the server's one background run.

An entry is a run of its own kind (``challenge``) in ``core.training.jobs``: it waits while the
teacher's run (or a fine-tune) trains, never runs beside another (the group's lock holds across
a lecture hall's processes), shows its progress to everyone and stops with the run's Stop. Its
budget is the challenge's rules: the design recipe with the rules' seed, images and epochs, a time
limit (stopped there and scored on what it reached), scored on the first ``test_images`` of the
test set. The result, its curve and its checkpoint (``challenge<C>_<E>``, a ``design`` that every
model picker offers) go to the class store.

Who starts the next entry: :func:`run_next` (the command line's ``class challenge run`` loops on
it), and in a server the :class:`QueueDriver` thread that :func:`ensure_driver` starts once per
process: every few seconds, when the group's slot is free, it puts back an entry that a killed
server left training and starts the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import torch

from core import models
from core.classroom.design_challenge.scoring import DIVERGED, DONE, FAILED, QUEUED, TIMED_OUT, Challenge, Entry
from core.classroom.design_challenge.submissions import Challenges
from core.classroom.store import ClassStore
from core.i18n import N_
from core.models import checkpoints
from core.training import recipes
from core.training.jobs import runner
from core.training.jobs.job import Job
from core.training.jobs.spec import JobSpec, WorkOutcome
from core.training.train import ProgressFn, TrainingDiverged, train

_LOG = logging.getLogger(__name__)
KIND = "challenge"
POLL_SECONDS = 2.0
STALE_CLAIM_SECONDS = 10.0  # a claim this old with no run in the group: its server was killed (a live one
# starts its run within milliseconds of claiming)


def checkpoint_name(entry: Entry) -> str:
    return f"challenge{entry.challenge_id}_{entry.id}"


def entry_spec(challenges: Challenges, challenge: Challenge, entry: Entry, folder: Path | str | None = None) -> JobSpec:
    """The run that trains ``entry`` under ``challenge``'s rules and stores how it ended."""
    rules = challenge.rules
    recipe = recipes.prepare(
        models.DESIGN, "fast", overrides={"epochs": rules.epochs, "limit": rules.images, "seed": rules.seed}
    )
    folder = checkpoints.folder_or_default(folder)
    name = checkpoint_name(entry)

    def work(progress: ProgressFn, stop: threading.Event, device: torch.device) -> WorkOutcome:
        local, done, timed_out = threading.Event(), threading.Event(), threading.Event()
        deadline = time.monotonic() + rules.seconds

        def watch() -> None:  # the run's Stop, the teacher's stopping of the queue, the time limit
            while not done.wait(0.1):
                if time.monotonic() > deadline:
                    timed_out.set()
                if stop.is_set() or timed_out.is_set():
                    local.set()
                    return

        threading.Thread(target=watch, name=f"challenge-entry-{entry.id}-watch", daemon=True).start()
        try:
            result = train(
                models.DESIGN,
                recipe,
                device=device,
                progress=progress,
                stop=local,
                test_limit=rules.test_images,
                config={"notation": entry.notation},
            )
        except TrainingDiverged as exc:
            challenges.finish(entry.id, DIVERGED, message=str(exc))
            raise
        except Exception as exc:
            challenges.finish(entry.id, FAILED, message=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            done.set()
        values = {"nickname": entry.nickname}
        if not result.history and timed_out.is_set():  # not one batch in its time: nothing to score
            challenges.finish(entry.id, TIMED_OUT, seconds=round(result.seconds, 2))
            return WorkOutcome(False, N_("{nickname}'s design: not one batch within the time limit"), values)
        if not result.history or (local.is_set() and not timed_out.is_set()):  # stopped: back to its place
            challenges.finish(entry.id, QUEUED)
            challenges.set_stopped(challenge.id, True)
            return WorkOutcome(True, N_("{nickname}'s design: stopped, back in the queue; the queue waits"), values)
        progress({"event": "saving"})
        record = {
            **result.record("fast"),
            "nickname": entry.nickname,
            "challenge": {"id": challenge.id, "name": challenge.name, "entry": entry.id},
            "test_images": rules.test_images,
            "trained_on": KIND,
        }
        saved = checkpoints.save(result.model, name, preset=models.DESIGN, record=record, folder=folder)
        status = TIMED_OUT if timed_out.is_set() else DONE
        challenges.finish(
            entry.id,
            status,
            accuracy=result.test_accuracy,
            seconds=round(result.seconds, 2),
            history=result.history,
            checkpoint=name,
        )
        values["accuracy"] = result.test_accuracy
        return WorkOutcome(
            False,
            N_("{nickname}'s design: {accuracy:.2%} at the time limit")
            if status == TIMED_OUT
            else N_("{nickname}'s design: {accuracy:.2%}"),
            values,
            str(saved.pt_path),
            result.test_accuracy,
        )

    return JobSpec(models.DESIGN, KIND, recipe, name, folder, test_limit=rules.test_images, kind=KIND, work=work)


def run_next(store: ClassStore, manager: runner.JobManager, folder: Path | str | None = None) -> Job | None:
    """Start the next entry of an open challenge when the group's slot is free; the started run,
    else None (nothing waiting, the queue stopped, or the slot taken). An entry that a killed
    server left ``training`` goes back to its place first."""
    running = manager.current()
    if running is not None and running.running:
        return None
    challenges = Challenges(store)
    for challenge in challenges.open_challenges():
        if challenge.stopped:
            continue
        challenges.requeue_interrupted(challenge.id, older_than=STALE_CLAIM_SECONDS)
        entry = challenges.claim_next(challenge.id)
        if entry is None:
            continue
        try:
            return manager.start(entry_spec(challenges, challenge, entry, folder))
        except runner.JobBusy:
            challenges.finish(entry.id, QUEUED)  # another process took the slot a moment before
            return None
        except Exception as exc:
            challenges.finish(entry.id, FAILED, message=f"{type(exc).__name__}: {exc}")
            raise
    return None


def run_all(store: ClassStore, manager: runner.JobManager | None = None, folder=None, timeout: float = 3600) -> int:
    """Train every waiting entry of the open challenges in this process, one after the other
    (waiting for a run of the group to finish first); the number trained. For scripts and tests."""
    manager = manager or runner.manager()
    trained, deadline = 0, time.monotonic() + timeout
    challenges = Challenges(store)
    current = manager.current()
    if current is None or not current.running:  # no run in the group: what is left training was killed
        for challenge in challenges.open_challenges():
            challenges.requeue_interrupted(challenge.id)
    while time.monotonic() < deadline:
        job = run_next(store, manager, folder)
        if job is not None:
            job.wait(max(0.0, deadline - time.monotonic()))
            trained += 1
            continue
        current = manager.current()
        if current is None or not current.running:
            if not any(not c.stopped for c in challenges.open_challenges()):
                return trained
        time.sleep(0.2)
    return trained


class QueueDriver:
    """A daemon thread that keeps a server's challenge queue moving (:func:`run_next` every few seconds)."""

    def __init__(self, store_path: Path, folder: Path | None = None) -> None:
        self.store_path, self.folder = store_path, folder
        self.thread = threading.Thread(target=self._loop, name="challenge-queue", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        store = None
        while True:
            try:
                store = store or ClassStore(self.store_path)
                run_next(store, runner.manager(), self.folder)
            except Exception:  # a fault of the file or of one entry never stops the queue for good
                _LOG.exception("the challenge queue of %s", self.store_path)
                store = None
            time.sleep(POLL_SECONDS)


_DRIVERS: dict[Path, QueueDriver] = {}
_DRIVERS_LOCK = threading.Lock()


def ensure_driver(store: ClassStore) -> QueueDriver:
    """The queue's thread of this process for ``store``'s file, started on the first call."""
    path = Path(store.path).resolve()
    with _DRIVERS_LOCK:
        if path not in _DRIVERS:
            _DRIVERS[path] = QueueDriver(path)
        return _DRIVERS[path]
