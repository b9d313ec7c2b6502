"""The class wall on a projector and a phone, in real Chromium: the wall alone above the fold at
1280x720, nicknames as plain text, whole button labels, and one drawing sent twice as one entry.

One server for the module, with its own class database (``CNN_EXPLAINER_CLASS_DB``) and no teacher
rights for localhost (tests/harness.py's ``class_env``). Digits are put in the store
directly (MNIST test digits through /draw's preprocessing), except where a student draws.
Screenshots are kept in artifacts/screenshots/ (``class_projector_*``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from core.classroom import store as class_store
from core.classroom.db import DB_ENV
from core.classroom.sessions import Session
from core.data import preprocess
from core.data.mnist import load_test
from tests.harness import (
    FOUR,
    LAPTOP,
    PHONE,
    SCREENSHOTS,
    button,
    class_env,
    draw_on,
    needs_lenet5,
    open_page,
    screenshot,
    start_streamlit,
    wait_idle,
    whole,
)

pytestmark = [pytest.mark.browser, needs_lenet5]

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
FOLD_PX = 720
VIEW_TEXT = ".st-key-wall_view_chart text.annotation-text"  # the line under each digit of the view


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class_projector")
    env = class_env(folder)
    running = start_streamlit(env=env)
    yield running, class_store.ClassStore(Path(env[DB_ENV]))
    running.stop()


def fresh_session(
    store: class_store.ClassStore, digits: int, *, nickname: str | None = None, wrong: bool = False
) -> Session:
    """A new current session holding ``digits`` MNIST test digits from as many students, each
    labelled as MNIST labels it; read as 0 when ``wrong`` (so each fools the network)."""
    session = store.new_session()
    test = load_test()
    for i in range(digits):
        digit = preprocess.from_array(test.images[i].numpy()).digit
        label = int(test.labels[i])
        answer = (label + 1) % 10 if wrong else label
        store.add(
            student_key=f"student-{session.id}-{i}",
            label=label,
            model="lenet5",
            prediction=answer,
            probabilities=[0.91 if d == answer else 0.01 for d in range(10)],
            image=digit,
            nickname=nickname,
        )
    return session


def projector_shot(page, name: str) -> None:
    """What the projector shows: the first screen only, not the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_presenter_mode_opens_the_wall_alone_with_the_newest_digits_above_the_fold(server, browser):
    running, store = server
    fresh_session(store, 12)
    context = browser.new_context(**PROJECTOR)
    try:
        page = context.new_page()
        open_page(page, running.url + "/class?presenter=true")
        page.wait_for_selector(VIEW_TEXT, timeout=30_000)
        whole(page)
        projector_shot(page, "class_projector_wall_1280x720")
        counts = page.get_by_text("12 digits from 12 students")
        assert counts.bounding_box()["y"] + counts.bounding_box()["height"] <= FOLD_PX
        lines = page.locator(VIEW_TEXT)
        bottoms = [lines.nth(i).bounding_box() for i in range(lines.count())]
        above = [box for box in bottoms if box["y"] + box["height"] <= FOLD_PX]
        # the view draws the newest rows that fit: every digit it drew is whole on the first screen,
        # at least three of them, each tile wider than a laptop wall's 100 px
        assert len(above) == len(bottoms) >= 3, bottoms
        tile = page.locator(".st-key-wall_view_chart svg.main-svg").first.bounding_box()["width"] / len(
            {round(box["x"]) for box in above}
        )
        assert tile > 200, tile
        heading = page.get_by_role("heading")  # one, for a screen reader only: the class sees digits
        assert heading.count() == 1 and heading.bounding_box()["height"] <= 1, heading.bounding_box()
        assert button(page, "wall_view_full").is_visible()  # the teacher's controls, one button away
    finally:
        context.close()


def open_first_digit(page) -> None:
    """Click the wall's newest digit until its panel opens (the wall is redrawn every second: a
    tile found a moment ago may be gone when the mouse gets there)."""
    for _attempt in range(5):
        try:
            page.locator(".st-key-wall_chart").scroll_into_view_if_needed(timeout=5_000)
            tile = page.locator(".st-key-wall_chart .layer-above image").first.bounding_box(timeout=5_000)
            if tile is None:  # redrawn between finding the tile and measuring it: find it again
                page.wait_for_timeout(300)
                continue
            page.mouse.click(tile["x"] + tile["width"] / 2, tile["y"] + tile["height"] / 2)
            page.wait_for_selector(".st-key-wall_selected_panel", timeout=5_000)
            return
        except PlaywrightError:
            page.wait_for_timeout(300)
    raise AssertionError("the newest digit's panel did not open")


def test_a_web_address_as_a_nickname_stays_plain_text_on_the_projector(server, browser):
    running, store = server
    nickname = "[hi](http://ev.il)"
    fresh_session(store, 2, nickname=nickname, wrong=True)
    store.set_challenge(True)
    context = browser.new_context(**PROJECTOR)
    try:
        page = context.new_page()
        open_page(page, running.url + "/class?presenter=true&view=full")
        page.wait_for_selector(".st-key-fool_chart", timeout=30_000)
        open_first_digit(page)
        wait_idle(page)
        whole(page)
        screenshot(page, "class_projector_nickname_plain_text")
        assert page.locator("a[href*='ev.il']").count() == 0  # no link anywhere: board, panel, hover
        panel = page.locator(".st-key-wall_selected_panel").inner_text()
        board = page.locator("p").filter(has_text="Most convincing so far").inner_text()
        assert nickname in panel.replace("\u2060", "") and nickname in board.replace("\u2060", "")
    finally:
        store.set_challenge(False)
        context.close()


@pytest.mark.parametrize(
    "name, profile, link",
    [
        ("1280x720_presenter", PROJECTOR, "/class?class_tab=home&presenter=true"),
        ("390x844_phone", PHONE, "/class?class_tab=home"),
    ],
)
def test_the_take_home_and_session_buttons_show_their_whole_labels(server, browser, name, profile, link):
    running, store = server
    fresh_session(store, 3)
    context = browser.new_context(**profile)
    try:
        page = context.new_page()
        open_page(page, running.url + link)
        labels = page.locator(".st-key-home_downloads button p")
        labels.first.wait_for(timeout=30_000)
        whole(page)
        screenshot(page, f"class_projector_take_home_{name}")
        widths = labels.evaluate_all("ps => ps.map(p => [p.innerText, p.scrollWidth, p.clientWidth])")
        assert [text for text, *_ in widths] == [
            "Dataset (.npz)",
            "Dataset (.csv)",
            "MNIST's IDX files (.zip)",
            "Printable wall (.html)",
        ]
        cut = [text for text, scroll, client in widths if scroll > client + 1]
        assert not cut, widths  # an ellipsis shows when a label is wider than its button
        page.get_by_text("Class sessions and export").click()  # the sessions' buttons, as a student sees them
        button(page, "wall_new").wait_for(timeout=30_000)
        widths = page.locator(".st-key-wall_session_actions button p").evaluate_all(
            "ps => ps.filter(p => p.checkVisibility()).map(p => [p.innerText, p.scrollWidth, p.clientWidth])"
        )
        assert [text for text, *_ in widths] == ["New class session", "Delete this session", "Export"]
        assert not [text for text, scroll, client in widths if scroll > client + 1], widths
        screenshot(page, f"class_projector_sessions_{name}")
    finally:
        context.close()


def test_one_drawing_sent_with_another_label_is_one_entry_whose_label_changes(server, browser):
    running, store = server
    session = store.new_session()
    context = browser.new_context(**LAPTOP)
    try:
        page = context.new_page()
        open_page(page, running.url + "/draw")
        draw_on(page, context, FOUR, finger=False)
        for label in (4, 9):
            page.locator(".st-key-send_label button").filter(has_text=str(label)).first.click()
            wait_idle(page)
            page.wait_for_timeout(1100)  # past the one-a-second limit: only the drawing's rule is left
            button(page, "send_button").click()
            wait_idle(page)
        whole(page)
        screenshot(page, "class_projector_relabelled")
        assert (
            "Changed: Student 1's drawing is one entry on the wall, now meant as 9 (it was 4)"
            in page.locator(".st-key-send_panel").inner_text()
        )
        assert [e.label for e in store.entries(session.id)] == [9]
    finally:
        context.close()
