"""Drive the dashboard in headless Chromium: what the browser tests (and the load rig,
``benchmarks/classroom_load.py``) share. Starting a server is ``serve.streamlit_process``'s."""

from __future__ import annotations

import shutil
from pathlib import Path

from serve.streamlit_process import ROOT, StreamlitServer, free_port  # noqa: F401 (the tests' names)
from serve.streamlit_process import start as start_streamlit  # noqa: F401

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
FINISHED = "[data-testid='stApp'][data-test-script-state='notRunning']"


def chromium_path() -> str | None:
    """Debian's Chromium (``playwright install`` cannot download browsers here)."""
    return shutil.which("chromium")


def open_page(page, url: str, timeout_ms: int = 60_000) -> None:
    """Navigate and wait until the app's script run has finished."""
    page.goto(url)
    wait_idle(page, timeout_ms)


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait for the current script run to finish (a run may start a moment after an action)."""
    page.wait_for_timeout(300)
    page.wait_for_selector(FINISHED, timeout=timeout_ms)
    page.wait_for_timeout(200)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
