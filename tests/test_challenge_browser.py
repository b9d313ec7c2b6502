"""The design challenge in Chromium, end to end: a teacher opens a challenge with small rules on
/class, three students (one on a phone, tapping) each submit a design from /design, the server's
queue trains all three in turn, and the leaderboard shows each with its hand-counted parameters
and an accuracy equal to its checkpoint's, measured anew on the same first test images.

A server of its own (tests.harness.class_env: its class database, its checkpoint folder, localhost
a student, the teacher link) and its own group of runs (``CNN_EXPLAINER_JOBS_DIR``), so no other
server's run holds the training slot.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest

from core.classroom.db import DB_ENV
from core.classroom.design_challenge.scoring import DONE
from core.classroom.design_challenge.submissions import Challenges
from core.classroom.store import ClassStore
from core.data import mnist
from core.data.batches import DeviceData
from core.models import checkpoints
from core.models.design import parse
from core.models.inference import evaluate
from tests.harness import CLASS_TOKEN, LAPTOP, PHONE, button, class_env, open_page, screenshot, start_streamlit, whole

pytestmark = pytest.mark.browser

RULES = {"dc_images": 1000, "dc_epochs": 1, "dc_test_images": 500}  # each entry trains in a second or two
# (nickname, notation, parameters counted by hand, does the student tap on a phone)
STUDENTS = [
    ("Ada", "dense12 relu", (784 + 1) * 12 + (12 + 1) * 10, False),  # 9,550
    ("Bo", "conv4k5 relu max2 conv8k5 relu max2 dense16 relu", 104 + 808 + (128 + 1) * 16 + 170, False),  # 3,146
    ("<i>Cy</i>", "conv2k3 relu max2 dense10 relu", (9 + 1) * 2 + (13 * 13 * 2 + 1) * 10 + (10 + 1) * 10, True),
]  # Cy's 3,520: a 26x26 map pooled to 13x13, two channels; the phone's nickname has markup, shown as typed
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}


@pytest.fixture(scope="module")
def challenge_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design_challenge")
    env = {**class_env(folder), "CNN_EXPLAINER_JOBS_DIR": str(folder / "jobs")}
    server = start_streamlit(env=env)
    server.env = env
    yield server
    server.stop()


def accuracy_of(name: str, folder: str, test_images: int) -> float:
    """The checkpoint's accuracy on the first ``test_images`` of MNIST's test set, measured anew."""
    model, _info = checkpoints.load(name, folder=folder)
    test = mnist.load_test()
    subset = mnist.MnistSplit(test.images[:test_images], test.labels[:test_images])
    return evaluate(model, DeviceData(subset, "cpu"))[0]


def press(page, key: str, *, finger: bool = False) -> None:
    target = button(page, key)
    target.tap() if finger else target.click()


def submit_from_design(context, url: str, nickname: str, notation: str, finger: bool):
    page = context.new_page()
    open_page(page, f"{url}/design?net={urllib.parse.quote_plus(notation)}")
    panel = page.locator(".st-key-dc_submit_panel")
    panel.wait_for(timeout=30_000)
    field = page.locator(".st-key-dc_nickname input")
    field.tap() if finger else field.click()
    field.fill(nickname)
    field.press("Enter")
    page.wait_for_timeout(300)
    press(page, "dc_submit", finger=finger)
    panel.get_by_text("in the queue", exact=False).or_(panel.get_by_text("training now", exact=False)).or_(
        panel.get_by_text("rank", exact=False)
    ).first.wait_for(timeout=30_000)
    whole(page)
    return page


def test_browser_a_teacher_and_three_students_run_a_design_challenge(challenge_server, browser):
    url, env = challenge_server.url, challenge_server.env
    store = ClassStore(env[DB_ENV])
    contexts = []
    try:
        teacher = browser.new_context(**LAPTOP)
        contexts.append(teacher)
        page = teacher.new_page()
        open_page(page, f"{url}/class?class_tab=designs&teacher={CLASS_TOKEN}")
        page.locator(".st-key-dc_name input").fill("Smallest network")
        for key, value in RULES.items():
            page.locator(f".st-key-{key} input").fill(str(value))
        press(page, "dc_open")
        page.get_by_text("At most 10,000 parameters", exact=False).first.wait_for(timeout=30_000)
        [challenge] = Challenges(store).challenges()
        assert (challenge.rules.images, challenge.rules.epochs, challenge.rules.test_images) == (1000, 1, 500)

        students = []
        for nickname, notation, _params, finger in STUDENTS:
            context = browser.new_context(**(PHONE if finger else LAPTOP))
            contexts.append(context)
            students.append(submit_from_design(context, url, nickname, notation, finger))
        screenshot(students[-1], "design_challenge_phone_390x844_submitted")

        challenges = Challenges(store)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            entries = challenges.entries(challenge.id)
            if len(entries) == 3 and all(e.status == DONE for e in entries):
                break
            time.sleep(0.5)
        entries = {e.nickname: e for e in challenges.entries(challenge.id)}
        assert sorted(entries) == sorted(s[0] for s in STUDENTS)
        table = page.locator(".st-key-dc_board_table")
        for nickname, notation, params, _finger in STUDENTS:
            entry = entries[nickname]
            assert entry.status == DONE and entry.params == params == parse(notation).params
            measured = accuracy_of(entry.checkpoint, env["CNN_EXPLAINER_CHECKPOINTS"], 500)
            assert entry.accuracy == pytest.approx(measured, abs=1e-9)
            # the live board, polled every 2 s (no reload): wait for the row with its result
            row = table.locator("tr").filter(has_text=nickname).filter(has_text=f"{measured:.2%}")
            row.wait_for(timeout=20_000)
            assert f"{params:,}" in row.inner_text()
        assert table.get_by_text("<i>Cy</i>", exact=True).count() == 1  # the markup shown as typed
        whole(page)
        screenshot(page, "design_challenge_teacher_1400x1000")
        point = page.locator(".st-key-dc_board_chart path.point").first
        point.scroll_into_view_if_needed()
        at = point.bounding_box()  # plotly's drag layer takes the events: click where the point is
        page.mouse.click(at["x"] + at["width"] / 2, at["y"] + at["height"] / 2)  # a point opens its design
        detail = page.locator(".st-key-dc_entry_panel")
        detail.wait_for(timeout=20_000)
        detail.locator("[data-testid='stTable']").first.wait_for(timeout=20_000)  # its layer table
        whole(page)
        detail.scroll_into_view_if_needed()
        screenshot(page, "design_challenge_entry_1400x1000")

        phone = students[-1]  # the phone's student reads their result and rank, live
        cy = entries["<i>Cy</i>"]
        phone.get_by_text(f"rank {cy.rank} of 3", exact=False).wait_for(timeout=20_000)
        screenshot(phone, "design_challenge_phone_390x844_ranked")
        open_page(phone, f"{url}/class?class_tab=designs")
        phone.locator(".st-key-dc_board_table").wait_for(timeout=20_000)
        whole(phone)
        screenshot(phone, "design_challenge_phone_390x844_class")

        projector = browser.new_context(**PROJECTOR)
        contexts.append(projector)
        wall = projector.new_page()
        open_page(wall, f"{url}/class?view=wall&presenter=true")
        board = wall.locator(".st-key-dc_wall_board_table")
        board.wait_for(timeout=20_000)
        wall.locator(".st-key-dc_wall_board_chart .main-svg").first.wait_for(timeout=20_000)
        chart, table = wall.locator(".st-key-dc_wall_board_chart").bounding_box(), board.bounding_box()
        assert chart["y"] + chart["height"] <= 720 and table["y"] + table["height"] <= 720  # above the fold
        whole(wall)
        screenshot(wall, "design_challenge_projector_1280x720")
        open_page(wall, f"{url}/class?class_tab=designs&lang=zh")
        whole(wall)
        screenshot(wall, "design_challenge_class_zh")
        open_page(students[0], f"{url}/design?net=dense12+relu&lang=zh")
        students[0].locator(".st-key-dc_submit_panel").scroll_into_view_if_needed()
        screenshot(students[0], "design_challenge_design_zh")
    finally:
        for context in contexts:
            context.close()
