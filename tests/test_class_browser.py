"""The class wall in real Chromium (issue 16): a teacher and students, each a browser context of
its own, on a server of their own.

Every server here has its own class database (``CNN_EXPLAINER_CLASS_DB`` in a temporary folder),
its own checkpoint folder (links to the shipped checkpoints, so a training run saves nowhere
else), a known teacher token, and ``CNN_EXPLAINER_LOCAL_TEACHER=0``: a browser on localhost is a
student until it opens the teacher link, as in a classroom.

What a student sends is compared with what the teacher's wall shows: the digit meant and the
network's answer under each digit (the wall figure's SVG text) and the counts above it. A
crafted request is made with ``benchmarks/wire_student.py``, which speaks the browser's websocket
protocol and can press a button the page shows disabled; the teacher, making the very same
request, is the control that shows the request would have acted.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.load_students import DRAWN_DIGITS, digit_strokes, in_fresh_loop
from benchmarks.wire_student import WireSession
from core.classroom import store as class_store
from core.classroom.db import DB_ENV
from core.classroom.entry import Entry
from core.data import mnist
from core.models import checkpoints, inference
from tests.harness import (
    CANVAS,
    CLASS_TOKEN,
    FOUR,
    LAPTOP,
    METRIC,
    PHONE,
    STROKES,
    StreamlitServer,
    button,
    choose_and_send,
    class_env,
    draw_on,
    needs_lenet5,
    open_page,
    press_send,
    screenshot,
    start_streamlit,
    touch_stroke,
    wait_idle,
    whole,
)

pytestmark = [pytest.mark.browser, needs_lenet5]

COUNTS = ".st-key-wall_counts [data-testid='stMetricValue']"
WALL_TEXT = ".st-key-wall_chart text.annotation-text"
ARRIVAL_BOUND_S = 10.0  # the issue asks for 2 s (the wall polls every second); generous on 2 busy cores


@dataclass
class ClassServer:
    server: StreamlitServer
    env: dict
    db: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class_wall")
    env = class_env(folder)
    server = start_streamlit(env=env)
    yield ClassServer(server, env, Path(env[DB_ENV]))
    server.stop()


def browser_context(browser, profile: dict):
    return browser.new_context(**profile)


def counts(page) -> list[str]:
    return [t.strip() for t in page.locator(COUNTS).all_inner_texts()]


def wall_pairs(page, digits: int, timeout_s: float = 10.0) -> Counter:
    """(meant, said) of every digit on the wall, from the figure's text ("7 → 1 98%"), once it
    holds ``digits`` of them (the counts above it are drawn a moment before the figure)."""
    deadline = time.monotonic() + timeout_s
    while True:
        texts = page.locator(WALL_TEXT).all_text_contents()
        if len(texts) == digits or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    pairs = Counter()
    for text in texts:
        found = re.fullmatch(r"\s*(\d)\s*→\s*(\d)\s+\d+%\s*", text)
        assert found, f"unexpected text under a digit: {text!r}"
        pairs[(int(found[1]), int(found[2]))] += 1
    return pairs


def wait_for_count(page, digits: int, timeout_s: float) -> None:
    """Wait until the wall's "Digits" count reads ``digits``."""
    page.wait_for_function(
        """n => { const v = document.querySelector(".st-key-wall_counts [data-testid='stMetricValue']");
                  return v !== null && v.innerText.trim() === String(n); }""",
        arg=digits,
        timeout=timeout_s * 1000,
    )


def open_wall_as_teacher(page, url: str) -> None:
    open_page(page, url + f"/class?teacher={CLASS_TOKEN}")
    assert "teacher=" not in page.url  # the token left the address bar at once
    page.get_by_text("Class sessions and export").click()
    assert button(page, "wall_new").is_enabled()


# --- a class: three students send, the teacher's wall shows their digits --------------------------

# (profile, strokes, the digit the student says they meant, what lenet5 reads: a bar and a slash
# are a 7 (tests/test_draw_canvas.py), a vertical stroke a 1 (tests/test_page_draw.py))
STUDENTS = [
    ("laptop", [STROKES["bar"], STROKES["slash"]], 7, 7),
    ("laptop", [STROKES["stem"]], 1, 1),
    ("phone", [STROKES["stem"]], 7, 1),  # a one its author calls a seven: a mistake on the wall
]


def test_three_students_send_and_the_teachers_wall_shows_each_digit_within_seconds(class_server, browser):
    teacher_context = browser_context(browser, LAPTOP)
    contexts = [teacher_context]
    try:
        wall = teacher_context.new_page()
        open_wall_as_teacher(wall, class_server.url)
        button(wall, "wall_new").click()  # a new class session: the wall starts empty
        wait_idle(wall)
        wall.get_by_text("No digits yet").wait_for(timeout=10_000)
        assert counts(wall) == ["0", "0", "-"]

        delays = []
        for number, (profile, strokes, meant, said) in enumerate(STUDENTS, start=1):
            phone = profile == "phone"
            context = browser_context(browser, PHONE if phone else LAPTOP)
            contexts.append(context)
            page = context.new_page()
            open_page(page, class_server.url + "/draw")
            assert draw_on(page, context, strokes, finger=phone) == str(said)
            choose_and_send(page, meant, finger=phone)
            start = time.monotonic()
            press_send(page, finger=phone)
            wait_for_count(wall, number, ARRIVAL_BOUND_S)
            delays.append(time.monotonic() - start)
            page.get_by_text(f"Sent as Student {number}: your {meant}, the network said {said}.").wait_for(
                timeout=10_000
            )
        print(f"\nsent -> on the teacher's wall: {', '.join(f'{d:.2f} s' for d in delays)}")
        assert all(delay <= ARRIVAL_BOUND_S for delay in delays), delays

        assert wall_pairs(wall, 3) == Counter((meant, said) for _, _, meant, said in STUDENTS)
        assert counts(wall) == ["3", "3", "2 of 3"]  # the phone's one, meant as a seven, read wrong

        # The teacher clicks the newest digit (the first tile): it is shown large, with its sender.
        tile = wall.locator(".st-key-wall_chart .layer-above image").first.bounding_box()
        wall.mouse.click(tile["x"] + tile["width"] / 2, tile["y"] + tile["height"] / 2)
        panel = wall.locator(".st-key-wall_selected_panel")
        panel.wait_for(timeout=10_000)
        wait_idle(wall)
        assert "Student 3 meant 7; lenet5 said 1" in panel.inner_text()
        whole(wall)
        screenshot(wall, "class_wall_teacher_three_students")
    finally:
        for context in contexts:
            context.close()


# --- a phone --------------------------------------------------------------------------------------


def picture_under(page, url: str, caption: str) -> np.ndarray:
    """The grey picture shown above ``caption`` on /draw, as the browser received it."""
    column = page.locator("[data-testid='stColumn']").filter(has_text=caption).last
    source = column.locator("img").first.get_attribute("src")
    body = page.request.get(source if source.startswith("http") else url + source).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("L"))


SQUARE_TILES = """() => {
    const digit = document.querySelector(".st-key-wall_chart .layer-above image");
    if (digit === null) return false;
    const box = digit.getBoundingClientRect();
    return Math.abs(box.width - box.height) <= 1;
}"""


def test_a_phone_draws_a_four_in_quick_strokes_and_sends_it_from_one_screen(class_server, browser):
    context = browser_context(browser, PHONE)
    try:
        page = context.new_page()
        open_page(page, class_server.url + "/draw")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator(CANVAS).first.scroll_into_view_if_needed()
        # Three strokes with no pause: the app reruns after each one while the next is drawn.
        for stroke in FOUR:
            touch_stroke(page, context, stroke)
        page.wait_for_selector(METRIC, timeout=60_000)
        wait_idle(page)
        whole(page)
        assert page.locator(METRIC).first.inner_text().strip() == "4"

        # The network got ink from every stroke: "What you drew" is the 280 x 280 canvas shown in a
        # 142 px square (core.explain.pictures.framed: a 1 px outline around the canvas halved).
        drawn = picture_under(page, class_server.url, "What you drew")
        assert drawn.shape == (142, 142)
        for number, stroke in enumerate(FOUR):
            inked = [drawn[1 + round(y / 2), 1 + round(x / 2)] > 128 for x, y in stroke]
            assert all(inked), f"stroke {number} is missing from what the network read"

        # One screen below the canvas's top: the Send panel, whose first line is the answer.
        page.locator(CANVAS).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        canvas = page.locator(CANVAS).first.bounding_box()
        send = button(page, "send_button").bounding_box()
        below = send["y"] + send["height"] - canvas["y"]
        print(f"\nphone: the Send button ends {below:.0f} px below the canvas's top")
        assert below <= 844
        assert "lenet5 reads it as 4" in page.locator(".st-key-send_panel").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # with every panel drawn
        screenshot(page, "class_draw_phone_send_panel")

        choose_and_send(page, 4, finger=True)
        press_send(page, finger=True)
        page.get_by_text("your 4, the network said 4").wait_for(timeout=10_000)

        # The wall on the same phone: no wider than the screen, the digits square and readable.
        open_page(page, class_server.url + "/class")
        page.locator(WALL_TEXT).first.wait_for(timeout=10_000)
        page.wait_for_function(SQUARE_TILES, timeout=10_000)  # redrawn once the browser said its width
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        figure = page.locator(".st-key-wall_chart .main-svg").first.bounding_box()
        assert figure["x"] >= 0 and figure["x"] + figure["width"] <= 390
        digit = page.locator(".st-key-wall_chart .layer-above image").first.bounding_box()
        assert abs(digit["width"] - digit["height"]) <= 1 and digit["width"] >= 60, digit
        size = float(page.locator(WALL_TEXT).first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
        assert size >= 11
        whole(page)
        screenshot(page, "class_wall_phone")
    finally:
        context.close()


# --- the rights: checked on the server, whatever the request -------------------------------------


def real_entry(store: class_store.ClassStore, index: int, label: int) -> Entry:
    """MNIST test digit ``index`` sent with lenet5's own answer, as the Send panel would."""
    digit = mnist.load_test().images[index].numpy()
    model, _ = checkpoints.load("lenet5")
    result = inference.predict(model, mnist.normalize(torch.as_tensor(digit)[None]))
    return store.add(
        student_key=f"test-{index}",
        label=label,
        model="lenet5",
        prediction=result.prediction,
        probabilities=result.probabilities,
        image=digit,
    )


def progress(run) -> str:
    """The training run's progress line (or its end) as a page run showed it."""
    lines = [t for t in run.texts if t.startswith(("Epoch", "Loading the data", "Saving", "Stopped:", "Saved:"))]
    return lines[0] if lines else ""


def test_a_student_cannot_stop_training_or_hide_a_digit_even_by_a_crafted_request(class_server):
    store = class_store.ClassStore(class_server.db)  # the server's own file, shared as two processes do
    entry = real_entry(store, 0, label=7)  # MNIST test digit #0 is a 7

    async def lesson() -> dict:
        seen = {}
        boss = await WireSession.open(class_server.url, "training", query=f"teacher={CLASS_TOKEN}")
        student = None
        try:
            await boss.set_values(
                {
                    "tr_epochs": {"double_value": 2},
                    "tr_limit": {"double_value": 30_000},
                    "tr_name": {"string_value": "class_rights_run"},
                }
            )
            seen["started"] = progress(await boss.press("tr_start"))
            student = await WireSession.open(class_server.url, "training")
            seen["student_sees_stop_disabled"] = (await student.rerun([])).disabled.get("tr_stop")
            crafted = await student.press("tr_stop")  # the disabled Stop, pressed all the same
            seen["student_after_stop"] = progress(crafted)
            seen["student_told"] = crafted.shows("Only the teacher can stop the server's training run")
            await asyncio.sleep(1.5)
            seen["run_after_student"] = progress(await boss.rerun([]))
            seen["teacher_stop"] = progress(await boss.press("tr_stop"))  # the control: the same request
            for _ in range(60):
                seen["run_after_teacher"] = progress(await boss.rerun([]))
                if seen["run_after_teacher"].startswith("Stopped:"):
                    break
                await asyncio.sleep(1)
            await student.close()

            student = await WireSession.open(class_server.url, "class")
            chosen = await student.select_points("wall_chart", [entry.id])
            seen["student_panel"] = chosen.shows("meant **7**") and chosen.disabled.get("wall_hide")
            hidden = await student.press("wall_hide")
            seen["student_hide_errors"] = hidden.errors
            seen["hidden_after_student"] = store.entry(entry.id).hidden
            boss_wall = await WireSession.open(class_server.url, "class", query=f"teacher={CLASS_TOKEN}")
            await boss_wall.select_points("wall_chart", [entry.id])
            await boss_wall.press("wall_hide")
            seen["hidden_after_teacher"] = store.entry(entry.id).hidden
            await boss_wall.close()
        finally:
            await boss.close()
            if student is not None:
                await student.close()
        return seen

    try:
        seen = in_fresh_loop(lesson())
    finally:
        store.close()
    assert seen["started"].startswith(("Loading the data", "Epoch 1/2")), seen
    assert seen["student_sees_stop_disabled"] is True, seen
    assert seen["student_told"], seen
    assert "stopping" not in seen["student_after_stop"], seen
    assert seen["run_after_student"].startswith(("Loading the data", "Epoch")), seen
    assert "stopping" not in seen["run_after_student"], seen  # the student's Stop did nothing
    assert "(stopping after this batch)" in seen["teacher_stop"] or seen["teacher_stop"].startswith("Stopped:"), seen
    assert seen["run_after_teacher"].startswith("Stopped:"), seen  # the teacher's same request stops it
    assert seen["student_panel"], seen
    assert seen["student_hide_errors"] == [] and seen["hidden_after_student"] is False, seen
    assert seen["hidden_after_teacher"] is True, seen


# --- a wrong token ----------------------------------------------------------------------------------


def test_a_wrong_teacher_token_is_a_plain_message_and_no_rights(class_server, browser):
    context = browser_context(browser, LAPTOP)
    try:
        page = context.new_page()
        open_page(page, class_server.url + "/class?teacher=a-guess")
        assert "teacher=" not in page.url
        page.get_by_text("This teacher link's token is not this server's").wait_for(timeout=10_000)
        page.get_by_text("Class sessions and export").click()
        assert button(page, "wall_new").is_disabled()
        assert page.get_by_text("Only the teacher can start, delete or export a class session").count() == 1
        whole(page)

        open_page(page, class_server.url + f"/training?teacher={CLASS_TOKEN}")  # the right one, in a new session
        assert "teacher=" not in page.url
        assert button(page, "tr_start").is_enabled()
        page.get_by_role("link", name="Class wall").click()  # within the session: still the teacher
        wait_idle(page)
        assert page.url.endswith("/class") and "teacher=" not in page.url
        page.get_by_text("Class sessions and export").click()
        assert button(page, "wall_new").is_enabled()
        whole(page)
    finally:
        context.close()


# --- a server killed in the middle of a class ------------------------------------------------------


async def send_from_the_wire(url: str, drawings: list[tuple[int, int]], first_student: int) -> None:
    """Students without a browser: each draws ``digit_strokes(k)`` and sends it as ``meant``."""
    for number, (k, meant) in enumerate(drawings, start=first_student):
        student = await WireSession.open(url, "draw")
        try:
            drawn = await student.draw(digit_strokes(k))
            done = await student.send_to_class(meant)
            assert not drawn.errors and not done.errors, (drawn.errors, done.errors)
            expected = f"Sent as Student {number}: your {meant}, the network said {DRAWN_DIGITS[k % 3]}."
            assert done.shows(expected), done.texts
        finally:
            await student.close()


def test_every_digit_sent_before_the_server_is_killed_is_on_the_wall_after_a_restart(browser, tmp_path):
    env = class_env(tmp_path)
    server = start_streamlit(env=env)
    port = int(server.url.rsplit(":", 1)[1])
    context = browser_context(browser, LAPTOP)
    try:
        projector = context.new_page()  # the wall stays open through the crash, as on a projector
        open_page(projector, server.url + "/class")
        # digit_strokes(k) draws a one, a zero, a seven (DRAWN_DIGITS, as lenet5 reads them); the
        # students mean what they drew.
        in_fresh_loop(send_from_the_wire(server.url, [(0, 1), (1, 0), (2, 7)], first_student=1))
        wait_for_count(projector, 3, ARRIVAL_BOUND_S)
        # The figure drawn before the kill: a browser still fetching the chart's script when the
        # server dies keeps that failed import (a page the class would reload).
        assert wall_pairs(projector, 3, timeout_s=45) == Counter([(1, 1), (0, 0), (7, 7)])

        server.process.kill()  # SIGKILL: no clean shutdown, the WAL never folded back into the file
        server.process.wait(10)
        server = start_streamlit(port=port, env=env)
        # A student sends once more (a one, which they call a four). The wall that was open
        # reconnects by itself: it shows that digit, and every one sent before the kill.
        in_fresh_loop(send_from_the_wire(server.url, [(3, 4)], first_student=4))
        wait_for_count(projector, 4, 60)
        # The figure follows the counts; a reconnected page on a busy machine can take a while.
        shown = wall_pairs(projector, 4, timeout_s=45)
        if shown != Counter([(1, 1), (0, 0), (7, 7), (4, 1)]):
            screenshot(projector, "class_wall_after_restart_failed")
        assert shown == Counter([(1, 1), (0, 0), (7, 7), (4, 1)])
        assert counts(projector) == ["4", "4", "3 of 4"]
        whole(projector)
    finally:
        context.close()
        server.stop()


# --- issue 17: the class fools the network, then teaches it their hand ----------------------------

FOOLED_TEXT = ".st-key-fool_chart text.annotation-text"


def test_the_class_fools_the_network_and_then_the_network_learns_their_hand(class_server, browser):
    from tests.class_hand import fill_store, scripted_class

    store = class_store.ClassStore(class_server.db)  # the server's own file, as another process shares it
    session = store.new_session("our hand").id
    images, labels = scripted_class(per_label=4, seed=1)
    fill_store(store, images, labels, session_id=session)  # 40 digits in the script's hand, all read right
    teacher_context, student_context = browser_context(browser, LAPTOP), browser_context(browser, LAPTOP)
    try:
        wall = teacher_context.new_page()
        open_page(wall, class_server.url + f"/class?teacher={CLASS_TOKEN}")
        wall.locator(".st-key-fool_on label").click()  # the teacher turns the challenge on
        wall.get_by_text("Nobody has fooled the network yet").wait_for(timeout=10_000)
        assert store.challenge_on()

        # A student draws a one and says it is a seven: the network is fooled, 1 for a 7.
        student = student_context.new_page()
        open_page(student, class_server.url + "/draw")
        assert draw_on(student, student_context, [STROKES["stem"]], finger=False) == "1"
        choose_and_send(student, 7, finger=False)
        press_send(student, finger=False)
        student.get_by_text("your 7, the network said 1").wait_for(timeout=10_000)
        [fooled] = store.fooled(session)
        wall.locator(FOOLED_TEXT).filter(has_text=re.compile(r"7\s*→\s*1")).wait_for(timeout=ARRIVAL_BOUND_S * 1000)

        async def crafted_not_fair():
            """A student opens the fooled digit and presses the disabled "Not fair" all the same."""
            wire = await WireSession.open(class_server.url, "class")
            try:
                opened = await wire.select_points("fool_chart", [fooled.id])
                return opened.disabled.get("fool_unfair"), await wire.press("fool_unfair")
            finally:
                await wire.close()

        disabled, pressed = in_fresh_loop(crafted_not_fair())
        assert disabled is True and pressed.shows("Only the teacher can mark a digit not fair"), pressed.texts
        assert not store.entry(fooled.id).unfair

        # The teacher opens it (its saliency and feature maps) and marks it not fair: it leaves the board.
        tile = wall.locator(".st-key-fool_chart .layer-above image").first.bounding_box()
        wall.mouse.click(tile["x"] + tile["width"] / 2, tile["y"] + tile["height"] / 2)
        wall.locator(".st-key-fool_panel").wait_for(timeout=20_000)
        wait_idle(wall)
        assert "Saliency" in wall.locator(".st-key-fool_panel").inner_text()
        button(wall, "fool_unfair").click()
        wall.get_by_text("Marked not fair: it has left the board.").wait_for(timeout=20_000)
        wall.get_by_text("Nobody has fooled the network yet").wait_for(timeout=10_000)
        assert store.entry(fooled.id).unfair and store.fooled(session) == []
        whole(wall)

        # The network learns the class's hand: a short fine-tune started from the page.
        wall.get_by_role("tab", name="Learning our handwriting").click()
        wait_idle(wall)
        steps = wall.locator(".st-key-ft_steps input")
        steps.fill("15")
        steps.press("Enter")
        wait_idle(wall)
        button(wall, "ft_start").click()
        name = f"class_lenet5_{session}"
        wall.get_by_text(f"Before and after: {name}").wait_for(timeout=180_000)
        record = checkpoints.read_info(name, class_server.env["CNN_EXPLAINER_CHECKPOINTS"]).record["finetune"]
        assert (record["steps"], record["class_digits"], record["held_out"]) == (15, 40, 10)  # the unfair one left out
        whole(wall)
        screenshot(wall, "class_finetune_teacher")

        # Its checkpoint is in every picker: /draw's, for the student.
        open_page(student, class_server.url + "/draw")
        student.locator(".st-key-draw_model_shown input").click()  # the picker shown (draw_model holds the link's)
        student.keyboard.type(name)
        student.get_by_role("option", name=name).wait_for(timeout=10_000)
    finally:
        store.set_challenge(False)
        store.close()
        teacher_context.close()
        student_context.close()
