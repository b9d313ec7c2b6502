"""/draw in Chromium: the canvas's own toolbar (undo, redo, reset) and the app's Clear, in any
order, never break the page, and the toolbar covers none of the page's controls (issue 14).

The canvas is streamlit-drawable-canvas 0.13, a Streamlit v2 component: it is not in an iframe
but in an open shadow root, which Playwright's CSS locators enter by themselves. Its toolbar
(frontend/build/index-*.js) is a ``.dc-toolbar-card`` of ``button.dc-icon-button`` named by
``aria-label``: "Update the app with this drawing", "Undo", "Redo", "Edit", then (in edit mode)
"Bring forward", "Send backward", "Delete selected", and "Reset canvas & history". It always
shows, right above the square's top right corner (dashboard/draw/inputs.py's TOOLBAR_CSS; the
package shows it only while a mouse is on the square, and lays it over the square while it is
hidden: tests/test_draw_square.py checks that every point of the square draws); undo and redo are
disabled when there is nothing to undo or redo. Its history, mirrored by :class:`Canvas`: a
stroke is pushed, undo and redo move through the strokes, reset empties the canvas and the
history; the app's Clear gives a new, empty canvas (a new key).

Checked after every action: no traceback and no section that "could not be shown"; an empty
canvas shows the prompt, a drawing one prediction, and the attribution maps explain that
prediction; the same drawing always gets the same prediction.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import pytest

from tests.harness import (
    EXCEPTION,
    METRIC,
    PROMPT,
    REDO,
    RESET,
    SCREENSHOTS,
    STROKES,
    UNDO,
    draw,
    needs_lenet5,
    open_page,
    screenshot,
    toolbar_button,
    touch_stroke,
    wait_idle,
)

pytestmark = [pytest.mark.browser, needs_lenet5]

ERROR = "[data-testid='stAlertContentError']"


@dataclass
class Canvas:
    """What the canvas holds, as its history works: the strokes now, and the undo and redo stacks."""

    strokes: tuple[str, ...] = ()
    undo_stack: list[tuple[str, ...]] = field(default_factory=list)
    redo_stack: list[tuple[str, ...]] = field(default_factory=list)

    def draw(self, stroke: str) -> None:
        self.undo_stack.append(self.strokes)
        self.strokes, self.redo_stack = (*self.strokes, stroke), []

    def undo(self) -> None:
        self.redo_stack.append(self.strokes)
        self.strokes = self.undo_stack.pop()

    def redo(self) -> None:
        self.undo_stack.append(self.strokes)
        self.strokes = self.redo_stack.pop()

    def empty(self) -> None:  # the toolbar's reset, or the app's Clear (a new canvas)
        self.strokes, self.undo_stack, self.redo_stack = (), [], []


def act(page, canvas: Canvas, action: str) -> None:
    """Do one action in the browser and in the mirror, then wait for the app's run to finish."""
    if action in STROKES:
        draw(page, STROKES[action])
        canvas.draw(action)
    elif action == "clear":
        page.locator(".st-key-draw_clear button").click()
        canvas.empty()
    else:
        button = toolbar_button(page, {"undo": UNDO, "redo": REDO, "reset": RESET}[action])
        page.locator("canvas.upper-canvas").first.hover()  # as a hand would: the pen on the square
        button.click()
        {"undo": canvas.undo, "redo": canvas.redo, "reset": canvas.empty}[action]()
    wait_idle(page)


def check(page, canvas: Canvas, seen: dict[tuple[str, ...], str], step: str) -> None:
    """The page is whole and shows what the canvas holds; see the module's docstring."""
    assert page.locator(EXCEPTION).count() == 0, f"{step}: a traceback on the page"
    failed = [e for e in page.locator(ERROR).all_inner_texts() if "could not be shown" in e]
    assert not failed, f"{step}: {failed}"
    # The mirror's history is the canvas's: the toolbar enables exactly what the mirror can do.
    assert toolbar_button(page, UNDO).is_enabled() == bool(canvas.undo_stack), step
    assert toolbar_button(page, REDO).is_enabled() == bool(canvas.redo_stack), step
    if not canvas.strokes:
        page.get_by_text(PROMPT).wait_for(timeout=30_000)
        assert page.locator(METRIC).count() == 0, f"{step}: a prediction for an empty canvas"
        return
    page.wait_for_selector(METRIC, timeout=60_000)
    assert page.locator(METRIC).count() == 1, step
    prediction = page.locator(METRIC).first.inner_text().strip()
    caption = page.get_by_text("Each map explains the score").first.inner_text()
    assert re.search(rf"class {prediction} \(the predicted class\)", caption), f"{step}: {caption[:80]}"
    assert page.locator(".st-key-draw_target input").input_value() == "Predicted", step
    assert seen.setdefault(canvas.strokes, prediction) == prediction, (
        f"{step}: {canvas.strokes} was a {seen[canvas.strokes]}, now a {prediction}"
    )


def open_draw(page, url: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 2600})
    open_page(page, url + "/draw")
    page.wait_for_selector("canvas.upper-canvas", timeout=60_000)


def test_undo_redo_reset_and_clear_in_mixed_order(streamlit_server, browser_page):
    page = browser_page
    open_draw(page, streamlit_server.url)
    canvas, seen = Canvas(), {}
    check(page, canvas, seen, "opened")
    # Issue 14: a 7 in two strokes, then undo: the maps failed on the label "2 (predicted)".
    steps = [
        "bar",
        "slash",
        "undo",
        "redo",
        "undo",
        "undo",
        "redo",
        "slash",
        "reset",
        "stem",
        "clear",
        "arc",
        "stem",
        "undo",
        "clear",
        "bar",
        "slash",
    ]
    for number, action in enumerate(steps):
        act(page, canvas, action)
        check(page, canvas, seen, f"step {number}: {action}")
    assert seen[("bar", "slash")] == "7"
    screenshot(page, "draw_canvas_after_mixed_actions")


def test_random_sequences_of_canvas_actions(streamlit_server, browser_page):
    """12 actions drawn with a fixed seed from those the canvas allows at each point."""
    page = browser_page
    open_draw(page, streamlit_server.url)
    rng = random.Random(12)
    canvas, seen, done = Canvas(), {}, []
    for number in range(12):
        allowed = list(STROKES) + ["clear", "reset"]
        allowed += ["undo"] * 2 if canvas.undo_stack else []  # twice as likely: undo is the risky one
        allowed += ["redo"] * 2 if canvas.redo_stack else []
        action = rng.choice(allowed)
        done.append(action)
        act(page, canvas, action)
        check(page, canvas, seen, f"step {number} of {done}")
    assert {"undo", "redo", "reset", "clear"} <= set(done)  # the seed exercises all of them


# --- the toolbar and the page's controls ---------------------------------------------------

OVERLAPS = """card => {
    const box = card.getBoundingClientRect();
    const canvasHost = card.getRootNode().host;
    const hits = [];
    for (const el of document.querySelectorAll("[data-testid='stElementContainer']")) {
        if (el.contains(canvasHost) || el.querySelector("[data-testid='stSpace']")) continue;
        const other = el.getBoundingClientRect();
        const width = Math.min(box.right, other.right) - Math.max(box.left, other.left);
        const height = Math.min(box.bottom, other.bottom) - Math.max(box.top, other.top);
        if (width > 0 && height > 0) hits.push((el.className.match(/st-key-\\S+/) || [el.innerText.slice(0, 40)])[0]);
    }
    return hits;
}"""


def toolbar_overlaps(page) -> list[str]:
    """The page's elements that the canvas's toolbar covers (their whole boxes), with the pointer on
    the square as while drawing."""
    page.locator("canvas.upper-canvas").first.hover()
    card = page.locator(".dc-toolbar-card").first
    page.wait_for_function(
        "el => getComputedStyle(el.parentElement).opacity === '1'", arg=card.element_handle(), timeout=5_000
    )
    page.wait_for_timeout(400)  # any transition over
    return card.evaluate(OVERLAPS)


@pytest.mark.parametrize("screen", ["laptop", "projector", "phone"])
def test_the_toolbar_covers_none_of_the_controls(streamlit_server, browser, screen):
    sizes = {"laptop": (1400, 1000), "projector": (1280, 720), "phone": (390, 844)}
    width, height = sizes[screen]
    phone = screen == "phone"
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    try:
        page = context.new_page()
        open_page(page, streamlit_server.url + "/draw" + ("?presenter=true" if screen == "projector" else ""))
        page.locator("canvas.upper-canvas").first.scroll_into_view_if_needed()
        for name in ("bar", "slash"):
            if phone:
                touch_stroke(page, context, STROKES[name])
            else:
                draw(page, STROKES[name])
            wait_idle(page)
        assert page.locator(METRIC).first.inner_text().strip() == "7"
        assert toolbar_overlaps(page) == []
        page.locator(".st-key-draw_clear").scroll_into_view_if_needed()
        page.locator("canvas.upper-canvas").first.hover()
        page.wait_for_timeout(400)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the viewport, with the toolbar showing
        page.screenshot(path=str(SCREENSHOTS / f"draw_toolbar_{screen}.png"))
    finally:
        context.close()
