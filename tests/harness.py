"""What the tests share: driving the dashboard in headless Chromium, running one page under
Streamlit's AppTest, a checkpoint folder a server may save in, MNIST's class counts, the skip for
a missing lenet5, drawing on /draw's canvas and sending to the class wall as a student, and
pictures made by hand. Starting a server is ``serve.streamlit_process``'s; fixtures are
conftest.py's; a class written by a script is class_hand.py's."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.models import checkpoints
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


# Class counts of MNIST's 60,000 training and 10,000 test images, digits 0 to 9, as published with
# the data set (LeCun et al.) and as torchvision reports them.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_lenet5 = pytest.mark.skipif(
    not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(),
    reason=f"no trained lenet5 in {checkpoints.DEFAULT_DIR}: run `make checkpoints` (or `python -m core train lenet5`)",
)


# --- /draw in the browser: the canvas, its toolbar, what the page shows -------------------------------

LAPTOP = {"viewport": {"width": 1400, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CANVAS = "canvas.upper-canvas"
PROMPT = "Draw a digit in the black square"
METRIC = "[data-testid='stMetricValue']"
EXCEPTION = "[data-testid='stException']"
UNDO, REDO, RESET = "Undo", "Redo", "Reset canvas & history"  # the toolbar's buttons' aria-labels

# Strokes in canvas pixels (280 x 280). The bar and the slash make a 7 (the bar alone reads as
# a 2 to lenet5); each one alone has enough ink to be read as a digit.
STROKES = {
    "bar": [(60 + 10 * k, 50) for k in range(17)],
    "slash": [(230 - 5 * k, 50 + 11 * k) for k in range(20)],
    "stem": [(140, 45 + 10 * k) for k in range(20)],
    "arc": [(140 + 70 * np.sin(a), 150 - 90 * np.cos(a)) for a in np.linspace(-2.2, 2.2, 25)],
    "hook": [(90 + 8 * k, 200 - 6 * k) for k in range(12)] + [(186, 128 - 9 * k) for k in range(1, 10)],
}

# A 4 in three strokes (canvas pixels): the left stem, the bar, the right stem.
FOUR = [
    [(85, 40 + 8 * k) for k in range(16)],
    [(85 + 9 * k, 165) for k in range(15)],
    [(185, 40 + 11 * k) for k in range(21)],
]


def draw(page, points: list[tuple[float, float]]) -> None:
    """One stroke through canvas-relative points, with small mouse moves as a hand would make."""
    box = page.locator(CANVAS).first.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=3)
    page.mouse.up()


def touch_stroke(page, context, points) -> None:
    """One stroke with a finger through canvas-relative points: CDP touch events, as a phone sends them."""
    box = page.locator(CANVAS).first.bounding_box()
    cdp = context.new_cdp_session(page)
    at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
    for point in at[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def toolbar_button(page, label: str):
    """The canvas toolbar's button with this aria-label (UNDO, REDO, RESET)."""
    return page.locator(f"button.dc-icon-button[aria-label='{label}']").first


def whole(page) -> None:
    """No traceback on the page, and no section that said it could not be shown."""
    assert page.locator(EXCEPTION).count() == 0, "a traceback on the page"
    failed = [t for t in page.locator("[data-testid='stAlertContentError']").all_inner_texts() if "could not be" in t]
    assert not failed, failed


def draw_on(page, context, strokes, *, finger: bool) -> str:
    """Draw the strokes (a finger's touches on a phone, else the mouse); the prediction shown."""
    page.locator(CANVAS).first.scroll_into_view_if_needed()
    for stroke in strokes:
        if finger:
            touch_stroke(page, context, stroke)
        else:
            draw(page, stroke)
    page.wait_for_selector(METRIC, timeout=60_000)
    wait_idle(page)
    whole(page)
    return page.locator(METRIC).first.inner_text().strip()


# --- the class wall in the browser: a server of the class's own, a student sending -------------------

CLASS_TOKEN = "class-wall-test-token"


def class_env(folder: Path) -> dict:
    """A server's environment: its own class database and checkpoint folder, a known token
    (CLASS_TOKEN), and no teacher rights for localhost."""
    ckpt = shipped_checkpoints_in(folder)
    return {
        DB_ENV: str(folder / "class.sqlite"),
        teacher.LOCAL_ENV: "0",
        teacher.TOKEN_ENV: CLASS_TOKEN,
        "CNN_EXPLAINER_CHECKPOINTS": str(ckpt),
    }


def button(page, key: str):
    """The button with widget key ``key`` (its accessible one: Streamlit keeps a hidden copy to
    measure)."""
    return page.locator(f".st-key-{key}").get_by_role("button")


def choose_and_send(page, label: int, *, finger: bool) -> None:
    """Choose the digit meant (the pills "Which digit did you mean?"), wait for the page."""
    pill = page.locator(".st-key-send_label button").filter(has_text=re.compile(rf"^{label}$")).first
    pill.tap() if finger else pill.click()
    wait_idle(page)
    assert button(page, "send_button").is_enabled()


def press_send(page, *, finger: bool) -> None:
    send = button(page, "send_button")
    send.tap() if finger else send.click()


# --- pictures made by hand -----------------------------------------------------------------------------


def black_1bit_png(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A black 1-bit PNG built by hand, so huge sizes cost no memory: 10,000 x 10,000 is ~12 kB.

    ``rows`` < height writes only that many rows: a header that promises more than the data.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte 0, then packed pixels
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(row * (height if rows is None else rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
