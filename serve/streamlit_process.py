"""One Streamlit server process of the dashboard: its command line, a free port, whether it answers.

The lecture hall (``serve/hall.py``) runs several behind HAProxy; the browser tests and the load
rig start one with :func:`start` and stop it with ``StreamlitServer.stop``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(port: int) -> list[str]:
    """``streamlit run dashboard/app.py`` headless on 127.0.0.1:``port``, without usage statistics
    or a file watcher (a lecture's server never reloads its code)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def launch(port: int, env: dict[str, str], log: Path, **popen) -> subprocess.Popen:
    """Start the server on ``port`` with the environment ``env``; its output is appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, **popen)


def healthy(port: int) -> bool:
    """Whether the server on ``port`` answers its health check."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class StreamlitServer:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(port: int | None = None, env: dict | None = None, timeout: float = 60.0) -> StreamlitServer:
    """One server (on a free port unless told), with ``env`` on top of this process's environment;
    returns once it answers. Its output: ``artifacts/streamlit-<port>.log``, new each time."""
    port = port or free_port()
    log = ROOT / "artifacts" / f"streamlit-{port}.log"
    log.unlink(missing_ok=True)
    process = launch(port, {**os.environ, **(env or {})}, log)
    deadline = time.monotonic() + timeout
    while not healthy(port):
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"streamlit did not answer on port {port} within {timeout:.0f} s")
        time.sleep(0.3)
    return StreamlitServer(f"http://127.0.0.1:{port}", process, log)
