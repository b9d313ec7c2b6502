"""One training run per server group, across processes: a lock, the run's progress and a stop
request in files (``make run REPLICAS=N`` serves one class from N processes; ``serve/``).

The processes that share a checkpoint folder are one group (:class:`RunGroup`): the running job
holds a lock file (``fcntl.flock``, which the kernel lets go if its process dies), rewrites its
snapshot atomically every second and polls for a stop request, all under ``artifacts/jobs/``.
Another process of the group refuses a second run and sees the run as a :class:`RemoteJob`: the
same ``snapshot()``, ``running``, ``stop()`` and ``wait()`` as a job of its own, read from those
files, so the page cannot tell.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from pathlib import Path

from core.files import REPO_ROOT, atomic_write_bytes
from core.i18n import N_, Deferred
from core.training.jobs.state import FAILED, LOST, JobSnapshot

try:
    import fcntl
except ImportError:  # Windows: no flock; each process is then a group of its own
    fcntl = None

# One folder per group (read when a group is first used); CNN_EXPLAINER_JOBS_DIR moves them, as a
# test suite does for the servers it starts.
JOBS_DIR = Path(os.environ.get("CNN_EXPLAINER_JOBS_DIR") or REPO_ROOT / "artifacts" / "jobs")
PUBLISH_SECONDS = 1.0  # how often a running job rewrites its snapshot and looks for a stop request
LOCK_PATIENCE_S = 0.25  # a start waits out another process's look at the lock (microseconds long)
REPLICA_ENV = "CNN_EXPLAINER_REPLICA"  # "2/3", set by serve/ for each process it starts


def _plain(value: object) -> object:
    """What JSON cannot write itself, as plain numbers and lists (numpy scalars and arrays, tensors)."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


PROCESS_OF = N_("server process {replica} of {replicas}")
PROCESS_PID = N_("server process {pid}")


def process_label() -> str:
    """How the other processes of a group name this one: "server process 2 of 3" behind serve/
    (English: it is written into the group's files; :func:`shown_process` says it in a reader's language)."""
    replica = os.environ.get(REPLICA_ENV, "").strip()
    return f"server process {replica.replace('/', ' of ')}" if replica else f"server process {os.getpid()}"


def shown_process(label: str) -> str:
    """A :func:`process_label` as a message (:class:`core.i18n.Deferred`), said in the language of
    the session that shows it (another label as it is)."""
    found = re.fullmatch(r"server process (\d+) of (\d+)", label)
    if found:
        return Deferred(PROCESS_OF, replica=found[1], replicas=found[2])
    found = re.fullmatch(r"server process (\d+)", label)
    return Deferred(PROCESS_PID, pid=found[1]) if found else label


class RunGroup:
    """The server processes that share a checkpoint folder, and the files through which their one
    training run is locked, watched and stopped (in ``JOBS_DIR/<folder>-<hash of its path>/``):

    - ``lock``: held with ``flock`` by the running job, so a second start anywhere is refused;
      the kernel releases it when the job's process ends, however it ends;
    - ``progress.json``: the job's snapshot, rewritten atomically (``core.files``) every second;
    - ``stop.json``: a stop request for one run (by its owner and number), polled by the job.
    """

    def __init__(self, folder: Path | str) -> None:
        folder = Path(folder).resolve()
        self.path = JOBS_DIR / f"{folder.name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:10]}"
        self.lock_path = self.path / "lock"
        self.progress_path = self.path / "progress.json"
        self.stop_path = self.path / "stop.json"
        self._seen: tuple[tuple, dict] | None = None  # (the file's identity, its record): read once per write

    def acquire(self) -> int | None:
        """Take the lock for a run: its file descriptor (closing it releases the lock), or None
        while a run holds it. OSError when the folder cannot be written."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_PATIENCE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                time.sleep(0.01)

    def held(self) -> bool:
        """Whether a run holds the lock now, in any process (this one included)."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # let go at once, by the close below
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def read(self) -> dict | None:
        """The latest run's record, or None (none yet, unreadable); parsed again only after a write."""
        try:
            stat = self.progress_path.stat()
            identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a new file at every write
            seen = self._seen
            if seen is not None and seen[0] == identity:
                return seen[1]
            record = json.loads(self.progress_path.read_bytes())
        except (OSError, ValueError):
            return None
        self._seen = (identity, record)
        return record

    def write(self, record: dict) -> None:
        atomic_write_bytes(self.progress_path, json.dumps(record, default=_plain).encode())

    def request_stop(self, owner: str, run_id: int) -> None:
        atomic_write_bytes(self.stop_path, json.dumps({"owner": owner, "id": run_id, "at": time.time()}).encode())

    def stop_requested(self, owner: str, run_id: int) -> bool:
        try:
            asked = json.loads(self.stop_path.read_bytes())
        except (OSError, ValueError):
            return False
        return asked.get("owner") == owner and asked.get("id") == run_id

    def clear_stop(self) -> None:
        self.stop_path.unlink(missing_ok=True)


class RemoteJob:
    """A run of another process of the group (or another manager), seen through the group's files:
    what a page needs of a :class:`Job`. Its snapshot is the one the job last wrote (at most a
    second old); ``stop()`` asks the job, which stops within a second and a batch."""

    def __init__(self, group: RunGroup, record: dict) -> None:
        self.group, self._record = group, record
        self.owner, self.id = record["owner"], int(record["snapshot"]["id"])
        self.started, self.pid, self.process = float(record["started"]), record.get("pid"), record.get("process")

    def _latest(self) -> tuple[dict, bool]:
        """This run's last record, and whether it is still the group's latest run."""
        record = self.group.read()
        if record is not None and record.get("owner") == self.owner and record["snapshot"].get("id") == self.id:
            self._record = record
            return record, True
        return self._record, False

    def snapshot(self) -> JobSnapshot:
        record, latest = self._latest()
        snap = JobSnapshot.from_dict(record["snapshot"])
        if snap.running and latest and not self.group.held():
            record, latest = self._latest()  # a job writes its end before it lets the lock go
            snap = JobSnapshot.from_dict(record["snapshot"])
        if snap.running and (not latest or not self.group.held()):
            # the process as a message of its own, named in the language of the session that shows it
            return dataclasses.replace(
                snap,
                status=FAILED,
                process=self.process,
                stop_requested=False,
                message=LOST.format(process=self.process, pid=self.pid),
                message_id=LOST,
                message_args={"process": shown_process(self.process or ""), "pid": self.pid},
            )
        if snap.running:
            return dataclasses.replace(
                snap,
                process=self.process,
                elapsed=time.time() - self.started,
                stop_requested=snap.stop_requested or self.group.stop_requested(self.owner, self.id),
            )
        return dataclasses.replace(snap, process=self.process)

    @property
    def running(self) -> bool:
        return self.snapshot().running

    def stop(self) -> None:
        """Ask the run to end after the current batch, from this process."""
        self.group.request_stop(self.owner, self.id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (True) or ``timeout`` seconds passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True
