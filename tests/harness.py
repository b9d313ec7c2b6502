"""What the tests share: driving the dashboard in headless Chromium, running one page under
Streamlit's AppTest, a checkpoint folder a server may save in. Starting a server is
``serve.streamlit_process``'s."""

from __future__ import annotations

import shutil
from pathlib import Path

from serve.streamlit_process import ROOT, StreamlitServer, free_port  # noqa: F401 (the tests' names)
from serve.streamlit_process import start as start_streamlit  # noqa: F401

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
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


def shipped_checkpoints_in(folder: Path) -> Path:
    """``folder/checkpoints``: the shipped checkpoints for a server that may save there (a
    training run, a fine-tune): the weights linked, never copied (a save replaces the link, not
    the shipped file), the records copied."""
    from core.models import checkpoints

    ckpt = folder / "checkpoints"
    ckpt.mkdir()
    for path in checkpoints.DEFAULT_DIR.iterdir():
        if path.suffix == ".pt":
            (ckpt / path.name).symlink_to(path)
        elif path.is_file():
            shutil.copy2(path, ckpt / path.name)
    return ckpt


def run_page(page: str, params: dict | None = None, *, timeout: float = 120, **state):
    """One run of ``pages/<page>.py`` under AppTest, through dashboard/app.py (the navigation,
    the sidebar, the language) as a browser opening ``/page?params`` with ``state`` in its session
    would run it. Returns the AppTest; what must hold of it is the caller's to assert."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=timeout)
    at.query_params.update(params or {})
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"../pages/{page}.py")
    return at.run()


def speak_chinese(monkeypatch) -> None:
    """From here on, core's texts in Chinese, as a Chinese session's run says them (core.i18n asks
    its language source; undone at the test's end)."""
    from core import i18n

    monkeypatch.setattr(i18n, "_language_source", lambda: "zh")
