"""Training jobs for the dashboard: one background run at a time per server process.

Why a process-wide manager and not session state: Streamlit reruns a page script on every
widget change, every browser tab is its own session and a class shares one machine, so a
run must outlive the script run, the page and the tab that started it. Pages only read
``manager().current().snapshot()`` (a plain copy) and call ``stop()``.

Use: ``spec = prepare("lenet5", "fast", name="my_lenet", overrides={"epochs": 2})`` checks
everything and raises ``JobInputError`` (nothing started); ``manager().start(spec)`` runs it
in a thread and raises ``JobBusy`` while another run is going.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core import checkpoints, models, recipes
from core.device import pick_device, shared_threads
from core.train import TrainingDiverged, epoch_position, train

# Live curve: one point per progress event (every train.SYNC_EVERY batches); past this many,
# every other point is dropped so a 50-epoch run stays cheap to copy and draw every second.
MAX_CURVE_POINTS = 2000
RUNNING, SAVING, FINISHED, STOPPED, FAILED = "running", "saving", "finished", "stopped", "failed"


class JobInputError(ValueError):
    """A setting that cannot start a run; the message says which and what to do."""


class NeedsConfirmation(JobInputError):
    """The name is taken by an existing checkpoint: start again with ``overwrite=True``."""


class JobBusy(RuntimeError):
    """Another run is in progress (one per server); ``job`` is that run."""

    def __init__(self, job: "Job"):
        super().__init__(f"a training run is already in progress ({job.spec.name}, started "
                         f"{time.strftime('%H:%M:%S', time.localtime(job.started))}): wait for it "
                         "to finish or stop it")
        self.job = job


def shipped_names() -> set[str]:
    """Names of the checkpoints the project ships (``make checkpoints``): overwriting one needs a confirmation."""
    return {run.name for run in recipes.shipped_runs()}


def training_threads(cpu_count: int | None = None) -> int:
    """CPU threads for a training job: half the cores (at least one), the other half serving the
    students' pages (which get the same share, ``core.device.shared_threads``)."""
    return shared_threads(cpu_count)


def name_taken(name: str, folder: Path | str | None = None) -> str | None:
    """"a shipped checkpoint" / "an existing checkpoint" when ``name`` is in use, else None."""
    folder = checkpoints.folder_or_default(folder)
    if not ((folder / f"{name}.json").exists() or (folder / f"{name}.pt").exists()):
        return None
    return "a shipped checkpoint" if name in shipped_names() else "an existing checkpoint"


@dataclass(frozen=True)
class JobSpec:
    """Everything a run needs, already checked by :func:`prepare`."""

    preset: str
    recipe_name: str
    recipe: recipes.Recipe
    name: str
    folder: Path
    keep_snapshots: bool = False
    test_limit: int | None = None
    device: str | None = None


def prepare(preset: str, recipe_name: str = "fast", *, name: str, overrides: dict | None = None,
            folder: Path | str | None = None, overwrite: bool = False, keep_snapshots: bool = False,
            test_limit: int | None = None, strict: bool = True, device: str | None = None) -> JobSpec:
    """Check a run's settings and return its spec; raise JobInputError without starting anything.

    ``strict`` refuses absurd learning rates before starting (the page keeps it on; tests turn
    it off to see a NaN stop a job). A name taken by an existing checkpoint raises
    NeedsConfirmation unless ``overwrite``; the message says when it is a shipped one.
    """
    try:
        models.get(preset)
        base = recipes.get_recipe(preset, recipe_name)
        recipe = base.with_overrides(strict=strict, **(overrides or {}))
        available = 50_000 if recipe.select_by_validation else 60_000
        recipe = recipes.validate(recipe, available, strict=strict)
        checkpoints.validate_name(name)
        if device is not None:
            pick_device(device)
    except (recipes.RecipeError, checkpoints.CheckpointError, ValueError) as exc:
        raise JobInputError(str(exc)) from None
    if test_limit is not None and test_limit < 1:
        raise JobInputError(f"test_limit must be at least 1, got {test_limit}")
    folder = checkpoints.folder_or_default(folder)
    taken = name_taken(name, folder)
    if taken and not overwrite:
        raise NeedsConfirmation(f"{name!r} is {taken}: confirm to replace it, or choose another name")
    return JobSpec(preset, recipe_name, recipe, name, folder, keep_snapshots, test_limit, device)


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
    curve: list[tuple[float, float, float]]   # (epochs done, as a fraction; train loss; train accuracy)
    history: list[dict]                        # one dict per epoch (a stopped one too), as in the record
    elapsed: float
    stop_requested: bool
    saved: str | None = None
    test_accuracy: float | None = None

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, SAVING)

    @property
    def fraction(self) -> float:
        """How much of the run is done, 0..1 (by batches)."""
        if self.status == FINISHED:
            return 1.0
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, ((self.epoch - 1) + self.step / self.steps) / self.epochs)


@dataclass
class Job:
    """One run in its own thread; every field is guarded by ``_lock``."""

    id: int
    spec: JobSpec
    started: float = field(default_factory=time.time)
    status: str = RUNNING
    message: str = ""
    last: dict = field(default_factory=dict)
    curve: list[tuple[float, float, float]] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    saved: str | None = None
    test_accuracy: float | None = None
    ended: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def _on_progress(self, event: dict) -> None:
        with self._lock:
            if event["event"] == "batch":
                self.last = dict(event)
                self.curve.append(((event["epoch"] - 1) + event["step"] / event["steps"],
                                   event["loss"], event["accuracy"]))
                if len(self.curve) > MAX_CURVE_POINTS:
                    self.curve = self.curve[::2]
            else:
                entry = {k: v for k, v in event.items() if k not in ("event", "epochs")}
                self.history.append(entry)
                # A stop part-way: the train curve ends where the epoch ended (its last report
                # may be up to SYNC_EVERY batches earlier), at the test point's position.
                end = epoch_position(entry)
                if not self.curve or self.curve[-1][0] < end:
                    self.curve.append((end, entry["train_loss"], entry["train_accuracy"]))

    def _finish(self, status: str, message: str, saved: str | None = None,
                test_accuracy: float | None = None) -> None:
        with self._lock:
            self.status, self.message, self.saved = status, message, saved
            self.test_accuracy, self.ended = test_accuracy, time.time()

    def _run(self) -> None:
        spec = self.spec
        previous_threads = torch.get_num_threads()
        try:
            device = pick_device(spec.device)
            if device.type == "cpu":
                # Threads started meanwhile (page reruns) inherit this count: torch keeps it
                # process-wide for new threads. Restored when the job ends.
                torch.set_num_threads(training_threads())
            result = train(spec.preset, spec.recipe, device=device, progress=self._on_progress,
                           stop=self._stop, keep_snapshots=spec.keep_snapshots, test_limit=spec.test_limit)
            if not result.history:
                self._finish(STOPPED, "stopped before the first batch finished: nothing was saved")
                return
            with self._lock:
                self.status = SAVING
            record = result.record(spec.recipe_name)
            record["trained_on"] = "training page"
            info = checkpoints.save(result.model, spec.name, preset=spec.preset, record=record,
                                    folder=spec.folder, snapshots=result.snapshots or None)
            epochs = len(result.history)
            how = (f"stopped during epoch {epochs}" if result.stopped else f"finished {epochs} epoch(s)")
            self._finish(STOPPED if result.stopped else FINISHED,
                         f"{how}; test accuracy {result.test_accuracy:.2%}; saved as {spec.name!r}",
                         str(info.pt_path), result.test_accuracy)
        except TrainingDiverged as exc:
            self._finish(FAILED, f"training diverged: {exc}; the previous checkpoint {spec.name!r} "
                                 "(if any) is unchanged")
        except Exception as exc:  # a job thread must always end in a state the page can show
            self._finish(FAILED, f"the run failed: {type(exc).__name__}: {exc}")
        finally:
            torch.set_num_threads(previous_threads)  # before anyone waiting is told the run ended
            self._done.set()

    def snapshot(self) -> JobSnapshot:
        """A consistent copy of the job's state."""
        with self._lock:
            last = self.last
            end = self.ended if self.ended is not None else time.time()
            return JobSnapshot(
                id=self.id, name=self.spec.name, preset=self.spec.preset,
                recipe_name=self.spec.recipe_name, recipe=self.spec.recipe.to_dict(),
                status=self.status, message=self.message,
                epoch=last.get("epoch", len(self.history) + 1 if self.status == RUNNING else len(self.history)),
                epochs=self.spec.recipe.epochs, step=last.get("step", 0), steps=last.get("steps", 0),
                loss=last.get("loss"), accuracy=last.get("accuracy"),
                images_per_second=last.get("images_per_second"), curve=list(self.curve),
                history=[dict(h) for h in self.history], elapsed=end - self.started,
                stop_requested=self._stop.is_set(), saved=self.saved, test_accuracy=self.test_accuracy)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def stop(self) -> None:
        """Ask the run to end after the current batch (what it learned so far is saved)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (True) or ``timeout`` seconds passed (False)."""
        return self._done.wait(timeout)


class JobManager:
    """Holds the current (or last) job; starts a new one only when none is running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._next_id = 1

    def start(self, spec: JobSpec) -> Job:
        """Start ``spec`` in a background thread; raise JobBusy if a run is in progress."""
        with self._lock:
            if self._job is not None and self._job.running:
                raise JobBusy(self._job)
            job = Job(self._next_id, spec)
            self._next_id += 1
            # daemon: a server shutting down does not wait for a run (writes are atomic anyway)
            job._thread = threading.Thread(target=job._run, name=f"training-job-{job.id}", daemon=True)
            self._job = job
            job._thread.start()
            return job

    def current(self) -> Job | None:
        """The running job, else the last one that ran (None before the first)."""
        with self._lock:
            return self._job

    def stop(self) -> bool:
        """Ask the running job to stop; False when none is running."""
        job = self.current()
        if job is None or not job.running:
            return False
        job.stop()
        return True


_MANAGER = JobManager()


def manager() -> JobManager:
    """The one job manager of this process (the Streamlit server)."""
    return _MANAGER
