"""A lecture hall: N Streamlit processes on local ports and HAProxy in front on one port.

``make run REPLICAS=N`` runs ``python -m serve --replicas N --port PORT``. One Streamlit process
is one core's worth of Python (PERFORMANCE.md); a class larger than that needs more processes,
and Streamlit has none of its own, so this starts them, puts HAProxy in front (sticky by a
cookie, websockets passed through, health-checked: ``serve/haproxy.py``), restarts a process
that dies, and on Ctrl-C (or SIGTERM) stops every one of them: no orphan is left.

What must be one across the processes is one: the class store is one SQLite file in WAL mode,
the teacher token is passed to every process (``CNN_EXPLAINER_TEACHER_TOKEN``), the training
run is one per group (a lock file, core.training.jobs.runner), checkpoints are one folder every picker rereads.
Every browser reaches the processes through HAProxy, from the loopback address, so the
loopback rule for the teacher is off (``CNN_EXPLAINER_LOCAL_TEACHER=0``): the teacher uses the
teacher link printed at start.

A child never outlives the supervisor: Ctrl-C in the terminal reaches the whole process group,
SIGINT or SIGTERM to the supervisor alone stops every child it started (SIGKILL after 10 s),
and on Linux a child is also told to end (SIGTERM) if the supervisor itself is killed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from serve import haproxy, streamlit_process

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
STATE_FILE = ARTIFACTS / "hall.json"  # the PIDs, for whoever needs to check them
CONFIG_FILE = ARTIFACTS / "haproxy.cfg"
TOKEN_ENV = "CNN_EXPLAINER_TEACHER_TOKEN"
LOCAL_ENV = "CNN_EXPLAINER_LOCAL_TEACHER"
REPLICA_ENV = "CNN_EXPLAINER_REPLICA"  # "2/3": shown in the sidebar
THREADS_ENV = "CNN_EXPLAINER_THREADS"
HEALTH_TIMEOUT_S = 120.0


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when its parent thread ends


def end_with_parent() -> None:
    """In a child before exec (Linux): SIGTERM when the supervisor ends, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C and the supervisor's own stop() are the only ways out


class HallError(RuntimeError):
    """Something that stops the hall from starting; the message says what to do."""


@dataclass
class Backend:
    index: int
    port: int
    log: Path
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)


class Hall:
    """The supervisor: owns every child process it starts."""

    def __init__(
        self,
        replicas: int,
        port: int,
        *,
        bind: str = "*",
        threads: int | None = None,
        env: dict[str, str] | None = None,
        artifacts: Path = ARTIFACTS,
    ) -> None:
        if replicas < 1:
            raise HallError(f"REPLICAS must be at least 1, got {replicas}")
        self.haproxy_bin = shutil.which("haproxy")
        if self.haproxy_bin is None:
            raise HallError(
                "HAProxy is not installed: `sudo apt-get install -y haproxy` (as root, "
                "`make run REPLICAS=N` installs it), or run one process with `make run`"
            )
        self.replicas, self.port, self.bind = replicas, port, bind
        # hall.json (the PIDs), haproxy.cfg and the logs; artifacts/ unless told (a test's own folder)
        self.artifacts = Path(artifacts)
        self.state_file, self.config_file = self.artifacts / STATE_FILE.name, self.artifacts / CONFIG_FILE.name
        self.proxy_log = self.artifacts / "hall-haproxy.log"
        cores = os.cpu_count() or 1
        self.env = {**os.environ, **(env or {})}
        self.env.setdefault(TOKEN_ENV, secrets.token_urlsafe(16))
        self.env[LOCAL_ENV] = "0"
        # One core per process: torch's threads split between them, not each taking all cores.
        self.env.setdefault(THREADS_ENV, str(threads or max(1, cores // replicas)))
        # Ports free now, none of them HAProxy's own: a port the system hands out as free is one
        # nobody has bound yet, and that may be the one HAProxy is about to bind.
        ports: list[int] = []
        while len(ports) < replicas:
            candidate = streamlit_process.free_port()
            if candidate != port and candidate not in ports:
                ports.append(candidate)
        self.backends = [Backend(i, p, self.artifacts / f"hall-server-{i}.log") for i, p in enumerate(ports, start=1)]
        self.proxy: subprocess.Popen | None = None
        self.stopping = False

    @property
    def token(self) -> str:
        return self.env[TOKEN_ENV]

    def _start_backend(self, backend: Backend) -> None:
        env = {**self.env, REPLICA_ENV: f"{backend.index}/{self.replicas}"}
        backend.process = streamlit_process.launch(backend.port, env, backend.log, preexec_fn=end_with_parent)

    def _write_state(self) -> None:
        state = {
            "supervisor": os.getpid(),
            "port": self.port,
            "haproxy": self.proxy.pid if self.proxy else None,
            "servers": [
                {
                    "index": b.index,
                    "port": b.port,
                    "pid": b.process.pid if b.process else None,
                    "restarts": len(b.restarts),
                }
                for b in self.backends
            ],
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.state_file)

    def start(self) -> None:
        for backend in self.backends:
            self._start_backend(backend)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        for backend in self.backends:
            while not streamlit_process.healthy(backend.port):
                if backend.process.poll() is not None:
                    raise HallError(f"server {backend.index} exited at start; see {backend.log}")
                if time.monotonic() > deadline:
                    raise HallError(
                        f"server {backend.index} did not answer within {HEALTH_TIMEOUT_S:.0f} s; see {backend.log}"
                    )
                time.sleep(0.3)
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(haproxy.config([b.port for b in self.backends], port=self.port, bind=self.bind))
        check = subprocess.run(
            [self.haproxy_bin, "-c", "-q", "-f", str(self.config_file)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise HallError(f"HAProxy refused {self.config_file}: {check.stderr.strip() or check.stdout.strip()}")
        with open(self.proxy_log, "ab") as log:
            self.proxy = subprocess.Popen(
                [self.haproxy_bin, "-db", "-f", str(self.config_file)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=end_with_parent,
            )
        time.sleep(0.5)
        if self.proxy.poll() is not None:
            raise HallError(f"HAProxy exited at start (port {self.port} busy?); see {self.proxy_log}")
        self._write_state()

    def watch_once(self) -> None:
        """Restart a server process that died (HAProxy's health check has taken it out meanwhile)."""
        for backend in self.backends:
            if backend.process is not None and backend.process.poll() is not None and not self.stopping:
                recent = [t for t in backend.restarts if time.monotonic() - t < 60]
                if len(recent) >= 5:
                    continue  # crashing at start: leave it out of rotation rather than spin
                print(
                    f"server {backend.index} (pid {backend.process.pid}) exited with "
                    f"{backend.process.returncode}: restarting it",
                    flush=True,
                )
                backend.restarts.append(time.monotonic())
                self._start_backend(backend)
                self._write_state()
        if self.proxy is not None and self.proxy.poll() is not None and not self.stopping:
            raise HallError(f"HAProxy exited ({self.proxy.returncode}); see {self.proxy_log}")

    def stop(self) -> None:
        """SIGTERM to every child, then SIGKILL to any still there after 10 s."""
        self.stopping = True
        children = [p for p in [self.proxy, *(b.process for b in self.backends)] if p is not None]
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)
        self.state_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serve", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit processes (default 2)")
    parser.add_argument("--port", type=int, default=8501, help="the port HAProxy listens on (default 8501)")
    parser.add_argument("--bind", default="*", help="HAProxy's address (default: every interface)")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ARTIFACTS,
        help="where hall.json (the PIDs), haproxy.cfg and the logs go (default artifacts/)",
    )
    parser.add_argument("--print-config", action="store_true", help="print the HAProxy configuration and exit")
    args = parser.parse_args(argv)
    if args.print_config:
        print(haproxy.config([args.port + i for i in range(1, args.replicas + 1)], port=args.port, bind=args.bind))
        return 0
    try:
        hall = Hall(args.replicas, args.port, bind=args.bind, artifacts=args.artifacts)
    except HallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # SIGINT too: a shell without job control starts a background command with SIGINT ignored,
    # and Python then leaves it so; the terminal closing (SIGHUP) stops the hall as well.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        hall.start()
        host = "localhost" if args.bind in ("*", "0.0.0.0") else args.bind
        print(
            f"\n  {args.replicas} Streamlit processes behind HAProxy: http://{host}:{args.port}\n"
            f"  Teacher link: http://{host}:{args.port}/?teacher={hall.token}\n"
            f"  Ctrl-C stops them all.\n",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            hall.watch_once()
    except KeyboardInterrupt:
        print("stopping...", flush=True)
        return 0
    except HallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C must not cut the stop short
            signal.signal(signum, signal.SIG_IGN)
        hall.stop()


if __name__ == "__main__":
    sys.exit(main())
