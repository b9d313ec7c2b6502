"""One training run in its own thread (:class:`Job`): it runs the spec (``core.training.train`` or
the spec's ``work``), keeps the progress and the live curve, saves the checkpoint, ends with a
message every reader sees in their language, and, in a group of server processes, writes its
snapshot for the others and polls for their stop (``core.training.jobs.group``).
``core.training.jobs.runner`` decides when one may start.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field

import torch

from core.device import pick_device, shared_threads, use_threads
from core.i18n import N_, MessageError
from core.models import checkpoints
from core.training.jobs.group import PUBLISH_SECONDS, RunGroup, process_label
from core.training.jobs.spec import JobSpec
from core.training.jobs.state import FAILED, FINISHED, RUNNING, SAVING, STOPPED, JobSnapshot
from core.training.train import TrainingDiverged, epoch_position, train

# Live curve: one point per progress event (every train.SYNC_EVERY batches), the mean over the
# batches since the one before (not over the epoch so far, which restarts every epoch); past this many,
# every other point is dropped so a 50-epoch run stays cheap to copy and draw every second.
MAX_CURVE_POINTS = 2000
# How a run whose loss became NaN or infinite ends (core.training.train.TrainingDiverged's values, and the name)
DIVERGED = N_(
    "training diverged: the loss became {loss} in epoch {epoch} (step {step}) with learning rate {lr:g}: "
    "lower the learning rate. Nothing was saved: the previous checkpoint '{name}' (if any) is unchanged"
)


@dataclass
class Job:
    """One run in its own thread; every field is guarded by ``_lock``."""

    id: int
    spec: JobSpec
    started: float = field(default_factory=time.time)
    status: str = RUNNING
    message: str = ""
    message_id: str = ""
    message_args: dict = field(default_factory=dict)
    last: dict = field(default_factory=dict)
    curve: list[tuple[float, float, float]] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    saved: str | None = None
    test_accuracy: float | None = None
    result: dict | None = None  # a run of another kind: what it measured (WorkOutcome.result)
    ended: float | None = None
    group: RunGroup | None = field(default=None, repr=False)  # None: seen by this process only
    owner: str = ""  # the manager that started it (JobManager.owner), as the group's files name it
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock_fd: int | None = field(default=None, repr=False)  # the group's lock, held while running
    _publish_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _published: tuple | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)  # the final record is written: nothing after it
    _sums: tuple = field(default=(0, 0.0, 0.0, 0), repr=False)  # (epoch, loss sum, right answers, images) so far

    def _since_last(self, epoch: int, loss: float, accuracy: float, images: int) -> tuple[float, float] | None:
        """The mean loss and accuracy over the images since the last report, from the epoch's
        means so far (what the training loop reports); None when no image was added."""
        last_epoch, loss_sum, right, seen = self._sums if self._sums[0] == epoch else (epoch, 0.0, 0.0, 0)
        added = images - seen
        if added <= 0:
            return None
        self._sums = (epoch, loss * images, accuracy * images, images)
        return (loss * images - loss_sum) / added, (accuracy * images - right) / added

    def _on_progress(self, event: dict) -> None:
        with self._lock:
            if event["event"] == "saving":
                self.status = SAVING
            elif event["event"] == "batch":
                self.last = dict(event)
                images = event.get("images", event["step"] * self.spec.recipe.batch_size)
                point = self._since_last(event["epoch"], event["loss"], event["accuracy"], images)
                if point is not None:
                    self.curve.append(((event["epoch"] - 1) + event["step"] / event["steps"], *point))
                if len(self.curve) > MAX_CURVE_POINTS:
                    self.curve = self.curve[::2]
            else:
                entry = {k: v for k, v in event.items() if k not in ("event", "epochs")}
                self.history.append(entry)
                # A stop part-way: the train curve ends where the epoch ended (its last report
                # may be up to SYNC_EVERY batches earlier), at the test point's position.
                end = epoch_position(entry)
                point = self._since_last(
                    entry["epoch"], entry["train_loss"], entry["train_accuracy"], entry.get("images", 0)
                )
                if point is not None and (not self.curve or self.curve[-1][0] < end):
                    self.curve.append((end, *point))

    def _finish(
        self,
        status: str,
        template: str,
        values: dict | None = None,
        saved: str | None = None,
        test_accuracy: float | None = None,
        result: dict | None = None,
    ) -> None:
        """End the run with a message: ``template`` (marked N_) and its ``values``, kept apart so
        that every reader sees it in their language (job_state.shown_message)."""
        values = values or {}
        with self._lock:
            self.status, self.message, self.saved = status, template.format(**values), saved
            self.message_id, self.message_args = template, values
            self.test_accuracy, self.result, self.ended = test_accuracy, result, time.time()

    def _run_work(self, device: torch.device) -> None:
        outcome = self.spec.work(self._on_progress, self._stop, device)
        self._finish(
            STOPPED if outcome.stopped else FINISHED,
            outcome.message,
            outcome.values,
            outcome.saved,
            outcome.test_accuracy,
            outcome.result,
        )

    def _run(self) -> None:
        spec = self.spec
        previous_threads = torch.get_num_threads()
        try:
            device = pick_device(spec.device)
            if device.type == "cpu":
                # The job's thread took the last count set anywhere (perhaps a page's one thread for a
                # digit): it sets its own share, the rest left to the pages (core.device's policy).
                use_threads(shared_threads())
            if spec.work is not None:
                self._run_work(device)
                return
            result = train(
                spec.preset,
                spec.recipe,
                device=device,
                progress=self._on_progress,
                stop=self._stop,
                keep_snapshots=spec.keep_snapshots,
                test_limit=spec.test_limit,
                config=spec.config,
            )
            if not result.history:
                self._finish(STOPPED, N_("stopped before the first batch finished: nothing was saved"))
                return
            with self._lock:
                self.status = SAVING
            record = {**result.record(spec.recipe_name), **spec.record}
            record["trained_on"] = "training page"
            info = checkpoints.save(
                result.model,
                spec.name,
                preset=spec.preset,
                record=record,
                folder=spec.folder,
                snapshots=result.snapshots or None,
            )
            values = {"epochs": len(result.history), "accuracy": result.test_accuracy, "name": spec.name}
            self._finish(
                STOPPED if result.stopped else FINISHED,
                N_("stopped during epoch {epochs}; test accuracy {accuracy:.2%}; saved as '{name}'")
                if result.stopped
                else N_("finished {epochs} epoch(s); test accuracy {accuracy:.2%}; saved as '{name}'"),
                values,
                str(info.pt_path),
                result.test_accuracy,
            )
        except TrainingDiverged as exc:
            self._finish(FAILED, DIVERGED, {**exc.values, "name": spec.name})
        except MessageError as exc:  # kept as its template: each reader sees it in their language
            self._finish(FAILED, exc.template, exc.values)
        except Exception as exc:  # a job thread must always end in a state the page can show
            self._finish(
                FAILED, N_("the run failed: {kind}: {reason}"), {"kind": type(exc).__name__, "reason": str(exc)}
            )
        finally:
            use_threads(previous_threads)  # the count threads started later take, put back before anyone is told
            try:
                self._leave_group()  # the end written for the others, then the lock let go
            finally:
                self._done.set()

    def publish(self, final: bool = False) -> None:
        """Write the snapshot for the group's other processes, when it changed (always when
        ``final``); after the final one, nothing more: the next run may own the file by then."""
        if self.group is None:
            return
        with self._publish_lock:
            if self._closed:
                return
            snap = self.snapshot()
            mark = (snap.status, snap.epoch, snap.step, len(snap.history), snap.stop_requested)
            if final or mark != self._published:
                record = {
                    "owner": self.owner,
                    "pid": os.getpid(),
                    "process": process_label(),
                    "started": self.started,
                    "snapshot": dataclasses.asdict(snap),
                }
                try:
                    self.group.write(record)
                    self._published = mark
                except (OSError, TypeError, ValueError):
                    pass  # the others keep the last record they read; the run itself goes on
            self._closed = final

    def _watch_group(self) -> None:
        """The job's second thread: publish every second; a stop asked from another process stops it."""
        while not self._done.wait(PUBLISH_SECONDS):
            if self.group.stop_requested(self.owner, self.id):
                self._stop.set()
            self.publish()

    def _leave_group(self) -> None:
        if self.group is None:
            return
        try:
            self.publish(final=True)
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    def snapshot(self) -> JobSnapshot:
        """A consistent copy of the job's state."""
        with self._lock:
            last = self.last
            end = self.ended if self.ended is not None else time.time()
            return JobSnapshot(
                id=self.id,
                name=self.spec.name,
                preset=self.spec.preset,
                recipe_name=self.spec.recipe_name,
                recipe=self.spec.recipe.to_dict(),
                status=self.status,
                message=self.message,
                message_id=self.message_id,
                message_args=dict(self.message_args),
                epoch=last.get("epoch", len(self.history) + 1 if self.status == RUNNING else len(self.history)),
                epochs=self.spec.recipe.epochs,
                step=last.get("step", 0),
                steps=last.get("steps", 0),
                loss=last.get("loss"),
                accuracy=last.get("accuracy"),
                images_per_second=last.get("images_per_second"),
                curve=list(self.curve),
                history=[dict(h) for h in self.history],
                elapsed=end - self.started,
                stop_requested=self._stop.is_set(),
                saved=self.saved,
                test_accuracy=self.test_accuracy,
                kind=self.spec.kind,
                result=dict(self.result) if self.result is not None else None,
            )

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def stop(self) -> None:
        """Ask the run to end after the current batch (what it learned so far is saved)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (True) or ``timeout`` seconds passed (False)."""
        return self._done.wait(timeout)
