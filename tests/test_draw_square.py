"""/draw in Chromium: every point of the drawing square takes the pen, a finger's or a mouse's.

The canvas's toolbar (streamlit-drawable-canvas 0.13) used to lie, invisible, over the top 30 px
of the square's right half (141 x 46 px from 1rem above its top right corner): a phone lost a
stroke that started there (a finger's "5" does), and a mouse lost one pressed within 0.2 s of
entering the square there. dashboard/draw/inputs.py's TOOLBAR_CSS puts it right above the square.

Ink is read from the canvas itself, fabric's lower canvas, where every finished stroke is drawn
(white on black): each stroke starts at a point of a grid over the square and goes 8 px to the
right, and the pixel where it started must be lit. The pen is 20 px wide and the grid's points
are at least 14 px apart downwards and 30 px sideways, so no stroke lights another's start: a
stroke the toolbar took leaves its start black.
"""

from __future__ import annotations

import pytest

from tests.harness import EXCEPTION, PROMPT, REDO, UNDO, needs_lenet5, open_page, screenshot, toolbar_button, wait_idle

pytestmark = [pytest.mark.browser, needs_lenet5]

SIDE = 280  # the square, in canvas pixels (dashboard.draw.inputs.CANVAS_PX)
# Where strokes start, as fractions of the side: the whole square, denser where the toolbar was
# (y under 0.11, x over 0.5). A stroke from 0.96 of 280 ends inside the square.
COLUMNS = (0.01, 0.3, 0.55, 0.7, 0.85, 0.96)
TOP_BAND = (0.01, 0.06, 0.11)
ROWS = TOP_BAND + (0.5, 0.97)

# Whether the pixel at each point is lit, once all are as wanted or after 5 s: fabric draws a
# finished stroke on the lower canvas a frame or more later (later still while the page is busy).
LIT = """(c, [points, want]) => new Promise(done => {
    const g = c.getContext("2d"), t0 = performance.now();
    const look = () => {
        const lit = points.map(([x, y]) => g.getImageData(x, y, 1, 1).data[0] > 127);
        if (lit.includes(!want) && performance.now() - t0 < 5000) return requestAnimationFrame(look);
        done(lit);
    };
    look();
})"""


def lit(page, points: list[tuple[float, float]], want: bool = True) -> list[bool]:
    """Whether the canvas is lit at each point (canvas px), once all are ``want`` or after 5 s."""
    square = page.locator("canvas.dc-canvas.lower-canvas").first
    return square.evaluate(LIT, [[[round(x), round(y)] for x, y in points], want])


def lost_strokes(page, starts, stroke) -> list[tuple[float, float]]:
    """The starts (fractions of the side) whose stroke, drawn by ``stroke(points)``, left no ink."""
    points = [(fx * SIDE, fy * SIDE) for fx, fy in starts]
    assert lit(page, points, want=False) == [False] * len(points), "the square is not empty to begin with"
    for x, y in points:
        stroke([(x, y), (x + 4, y), (x + 8, y)])
    return [start for start, inked in zip(starts, lit(page, points)) if not inked]


def reached_the_app(page) -> None:
    """The drawing reached the app: its run is over, and it shows no prompt and no traceback."""
    wait_idle(page)
    assert page.get_by_text(PROMPT).count() == 0 and page.locator(EXCEPTION).count() == 0


def test_a_finger_draws_from_every_point_of_the_square(streamlit_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        open_page(page, streamlit_server.url + "/draw")
        square = page.locator("canvas.upper-canvas").first
        square.scroll_into_view_if_needed()
        assert square.bounding_box()["width"] == SIDE  # canvas pixels are CSS pixels here
        toolbar = page.locator(".dc-toolbar").first  # in sight with no hover, as a finger never hovers
        assert toolbar.evaluate("t => getComputedStyle(t).opacity") == "1"
        box, cdp = square.bounding_box(), context.new_cdp_session(page)

        def finger(points) -> None:  # CDP touch events, as a phone sends them
            at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at[:1]})
            for point in at[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

        starts = [(x, y) for y in ROWS for x in COLUMNS]
        assert lost_strokes(page, starts, finger) == []
        reached_the_app(page)
        screenshot(page, "draw_square_phone_every_point")
        # A finger uses the toolbar: the last stroke undone, its start is black again.
        toolbar_button(page, UNDO).tap()
        last = starts[-1][0] * SIDE, starts[-1][1] * SIDE
        page.wait_for_function("b => !b.disabled", arg=toolbar_button(page, REDO).element_handle(), timeout=5_000)
        assert lit(page, [last], want=False) == [False]
    finally:
        context.close()


def test_a_mouse_pressed_as_it_enters_the_square_draws(streamlit_server, browser_page):
    """The pen comes from beside the square, jumps to a point of it and goes down at once."""
    page = browser_page
    open_page(page, streamlit_server.url + "/draw")
    square = page.locator("canvas.upper-canvas").first
    square.scroll_into_view_if_needed()

    box = square.bounding_box()
    x0, y0 = box["x"], box["y"]

    def enter_and_draw(points) -> None:
        page.mouse.move(x0 - 12, y0 + points[0][1])  # off the canvas: nothing of it hovered
        page.mouse.move(x0 + points[0][0], y0 + points[0][1])
        page.mouse.down()  # no wait: the toolbar used to move away only 0.1 s after the pointer came
        for x, y in points[1:]:
            page.mouse.move(x0 + x, y0 + y)
        page.mouse.up()

    starts = [(x, y) for y in TOP_BAND for x in COLUMNS[1:]] + [(0.01, 0.5)]
    assert lost_strokes(page, starts, enter_and_draw) == []
    reached_the_app(page)
    screenshot(page, "draw_square_mouse_top_band")
