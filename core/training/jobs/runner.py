"""Training jobs for the dashboard: one background run at a time per server group (the run itself,
in its thread, is a :class:`core.training.jobs.job.Job`).

Why a process-wide manager and not session state: Streamlit reruns a page script on every
widget change, every browser tab is its own session and a class shares one machine, so a
run must outlive the script run, the page and the tab that started it. Pages only read
``manager().current().snapshot()`` (a plain copy) and call ``stop()``.

Why a group: ``make run REPLICAS=N`` serves one class from N processes (``serve/``) and the
machine has the cores for one run. The processes that share a checkpoint folder are one group
(:class:`RunGroup`): the running job holds a lock file (``fcntl.flock``, which the kernel lets go
if its process dies), rewrites its snapshot atomically every second and polls for a stop
request, all under ``artifacts/jobs/``. Another process of the group refuses a second run
(``JobBusy``) and its ``manager().current()`` is a :class:`RemoteJob`: the same ``snapshot()``,
``running``, ``stop()`` and ``wait()``, read from those files, so the page cannot tell.

Use: ``spec = prepare("lenet5", "fast", name="my_lenet", overrides={"epochs": 2})`` checks
everything and raises ``JobInputError`` (nothing started); ``manager().start(spec)`` runs it
in a thread and raises ``JobBusy`` while another run is going.

A run of another kind (a class fine-tune, ``core.classroom.finetune_job.prepare``) is a spec whose ``work``
does the run: it shares the one slot per server, the progress everyone sees and the stop.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from core.i18n import N_, MessageError
from core.models import checkpoints
from core.training.jobs.group import RemoteJob, RunGroup, fcntl, shown_process
from core.training.jobs.job import Job
from core.training.jobs.spec import JobSpec
from core.training.jobs.state import RUNNING, SAVING


class JobBusy(MessageError, RuntimeError):
    """Another run is in progress (one per server group); ``job`` is that run: a :class:`Job` of
    this process, a :class:`RemoteJob` of another, or None when its record could not be read.
    Its text is in the language of the session that shows it (:class:`MessageError`)."""

    def __init__(self, job: Job | RemoteJob | None):
        if job is None:
            super().__init__(
                N_("a training run is already in progress in another server process: wait for it to finish or stop it")
            )
        else:
            snap = job.snapshot()
            values = {"name": snap.name, "time": time.strftime("%H:%M:%S", time.localtime(job.started))}
            if snap.process:
                values["process"] = shown_process(snap.process)
                super().__init__(
                    N_(
                        "a training run is already in progress ({name}, started {time}, on {process}): "
                        "wait for it to finish or stop it"
                    ),
                    values,
                )
            else:
                super().__init__(
                    N_(
                        "a training run is already in progress ({name}, started {time}): wait for it to "
                        "finish or stop it"
                    ),
                    values,
                )
        self.job = job


class JobManager:
    """Holds the current (or last) job; starts a new one only when none is running in the group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._next_id = 1
        self.owner = uuid.uuid4().hex  # names this manager's runs in the group's files
        self.created = time.time()
        self._groups: dict[Path, RunGroup] = {}

    def _group(self, folder: Path | str) -> RunGroup | None:
        if fcntl is None:
            return None
        folder = Path(folder).resolve()
        if folder not in self._groups:
            self._groups[folder] = RunGroup(folder)
        return self._groups[folder]

    def start(self, spec: JobSpec) -> Job:
        """Start ``spec`` in a background thread; raise JobBusy if a run is in progress in this
        process or in another process of its group (the same checkpoint folder)."""
        with self._lock:
            if self._job is not None and self._job.running:
                raise JobBusy(self._job)
            group, fd = self._group(spec.folder), None
            if group is not None:
                try:
                    fd = group.acquire()
                except OSError:
                    group = None  # artifacts/ cannot be written: this process is a group of its own
                else:
                    if fd is None:
                        raise JobBusy(self._running_elsewhere(group))
            try:
                last = group.read() if group is not None else None
                number = max(self._next_id, _run_number(last) + 1)  # runs numbered across the group
                job = Job(number, spec, group=group, owner=self.owner, _lock_fd=fd)
                self._next_id = number + 1
                if group is not None:
                    group.clear_stop()
                    job.publish()  # the others see it from the moment it holds the lock
                # daemon: a server shutting down does not wait for a run (writes are atomic anyway)
                job._thread = threading.Thread(target=job._run, name=f"training-job-{job.id}", daemon=True)
                job._thread.start()
            except BaseException:
                if fd is not None:
                    os.close(fd)  # no run holds it: the thread never started
                raise
            self._job = job
            if group is not None:
                threading.Thread(target=job._watch_group, name=f"training-job-{job.id}-group", daemon=True).start()
            return job

    @staticmethod
    def _running_elsewhere(group: RunGroup) -> RemoteJob | None:
        """The run that holds the group's lock (its record may lag the lock by a moment)."""
        record = None
        for _ in range(20):
            record = group.read()
            if record is not None and record.get("snapshot", {}).get("status") in (RUNNING, SAVING):
                break
            time.sleep(0.05)
        try:
            return RemoteJob(group, record) if record is not None else None
        except (KeyError, TypeError, ValueError):
            return None

    def _elsewhere(self) -> RemoteJob | None:
        """The group's latest run when another process (or manager) started it, unless it ended
        before this manager was made (a run of yesterday's server is not shown)."""
        group = self._group(checkpoints.folder_or_default(None))
        record = group.read() if group is not None else None
        if record is None or record.get("owner") == self.owner:
            return None
        try:
            job = RemoteJob(group, record)
        except (KeyError, TypeError, ValueError):
            return None
        snap = job.snapshot()
        return job if snap.running or job.started + snap.elapsed >= self.created else None

    def current(self) -> Job | RemoteJob | None:
        """The running job (of this process, else of another in the group), else the last one that
        ran (None before the first)."""
        with self._lock:
            local = self._job
        if local is not None and local.running:
            return local
        remote = self._elsewhere()
        if remote is None or (local is not None and local.started >= remote.started):
            return local
        return remote

    def stop(self) -> bool:
        """Ask the running job to stop, wherever it runs; False when none is running."""
        job = self.current()
        if job is None or not job.running:
            return False
        job.stop()
        return True


def _run_number(record: dict | None) -> int:
    """The number of the run a group record describes; 0 for none (or a record of another format)."""
    try:
        return int(record["snapshot"]["id"])
    except (KeyError, TypeError, ValueError):
        return 0


_MANAGER = JobManager()


def manager() -> JobManager:
    """The one job manager of this process (the Streamlit server)."""
    return _MANAGER
