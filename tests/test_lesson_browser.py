"""Lesson mode in Chromium, end to end: a teacher on the projector and three students (one on a
phone, one in Chinese) on a server of their own (tests.harness.class_env). The teacher starts the
default lesson from the sidebar and leads five steps, by click, by a clicker's Page Down and by the
arrow key; each student's page lands on each step's view with its settings (the link's page and
settings, the step's banner, nothing the page refused); one student explores and comes back; a
late joiner lands on the current step; the end frees everyone.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest

from core.classroom.db import DB_ENV
from core.classroom.lesson_mode import live as lesson_live
from core.classroom.lesson_mode.live import LessonLive
from core.classroom.lesson_mode.plans import DEFAULT
from core.classroom.store import ClassStore
from tests.harness import CLASS_TOKEN, LAPTOP, PHONE, button, class_env, open_page, screenshot, start_streamlit

pytestmark = pytest.mark.browser

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
CHINESE = {**LAPTOP, "locale": "zh-CN"}
FOLLOW_S = 20  # "within a few seconds": each poll is a second, a page's load a few on this machine
REFUSED = "not a value this page accepts"


@pytest.fixture(scope="module")
def lesson_server(tmp_path_factory):
    env = class_env(tmp_path_factory.mktemp("lesson_mode"))
    server = start_streamlit(env=env)
    server.env = env
    yield server
    server.stop()


def shows_step(page, number: int, timeout_s: float = FOLLOW_S, *, chinese: bool = False) -> float:
    """Wait until ``page`` shows the default lesson's step ``number`` (from 1): its link's page and
    settings in the URL (a Chinese page writes a choice's label in Chinese there: ``conv_kernel=锐化``;
    a setting equal to the widget's default leaves the URL) and the step's banner drawn; :func:`settled`
    then checks that the page refused none of them. Returns the seconds it took."""
    step = DEFAULT.steps[number - 1]
    wanted = urllib.parse.urlsplit(step.link)
    settings = urllib.parse.parse_qsl(wanted.query)
    start = time.monotonic()
    while True:
        now = urllib.parse.urlsplit(page.url)
        query = urllib.parse.parse_qs(now.query)
        if now.path.rstrip("/") == wanted.path.rstrip("/") and all(
            query.get(k) in ([v], None) or (chinese and query.get(k)) for k, v in settings
        ):
            banner = page.locator(".st-key-lesson_banner, .st-key-lesson_bar")
            if banner.count() and f"{number}" in banner.first.inner_text():
                return time.monotonic() - start
        if time.monotonic() - start >= timeout_s:
            screenshot(page, "lesson_failed")
            print(page.inner_text("body")[:1500])
        assert time.monotonic() - start < timeout_s, f"not on step {number} ({step.link}) but on {page.url}"
        page.wait_for_timeout(200)


def settled(page) -> None:
    """The page's own run has finished and it refused nothing of the step's link."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    assert page.get_by_text(REFUSED).count() == 0, page.url
    assert page.locator("[data-testid='stException']").count() == 0, page.url


def test_browser_the_class_follows_the_teachers_lesson(lesson_server, browser):
    url = lesson_server.url
    store = ClassStore(lesson_server.env[DB_ENV])
    contexts = []
    try:
        projector = browser.new_context(**PROJECTOR)
        contexts.append(projector)
        teacher = projector.new_page()
        open_page(teacher, f"{url}/?teacher={CLASS_TOKEN}&presenter=true")

        students = {}
        for name, options, first in (
            ("laptop", LAPTOP, "/draw"),
            ("phone", PHONE, "/"),
            ("chinese", CHINESE, "/dataset?digit=3"),
        ):
            context = browser.new_context(**options)
            contexts.append(context)
            students[name] = context.new_page()
            open_page(students[name], url + first)
        assert students["phone"].locator(".st-key-lesson_banner").count() == 0  # no lesson yet

        teacher.get_by_text("Lesson mode").first.click()
        button(teacher, "lesson_start").click()
        delays = []
        shows_step(teacher, 1)
        for name, page in students.items():
            delays.append(shows_step(page, 1, chinese=name == "chinese"))
        live = LessonLive(store).now()
        assert live.lesson.name == DEFAULT.name and live.step == 0
        assert "lang=zh" not in students["chinese"].url  # the browser's language, not the link's
        assert "第 1 步" in students["chinese"].locator(".st-key-lesson_banner").inner_text()

        # Steps 2 to 5, by click, by a clicker's Page Down, by the arrow key, by click.
        for number, how in ((2, "click"), (3, "PageDown"), (4, "ArrowRight"), (5, "click")):
            if how == "click":
                button(teacher, "lesson_next").click()
            else:
                teacher.locator("body").press(how)
            shows_step(teacher, number)
            for name, page in students.items():
                if name == "laptop" and number >= 4:
                    continue  # exploring, below
                delays.append(shows_step(page, number, chinese=name == "chinese"))
                settled(page)
            if number == 2:
                assert "presenter=true" in teacher.url  # the projector stays in presenter mode
                screenshot(students["phone"], "lesson_phone_390x844_step2")
            if number == 3:  # the laptop student explores: the next step leaves that page alone
                button(students["laptop"], "lesson_explore").click()
                students["laptop"].locator(".st-key-lesson_banner").get_by_text("You are exploring").wait_for(
                    timeout=10_000
                )
                explored_at = students["laptop"].url
                bar = teacher.locator(".st-key-lesson_bar")
                bar.get_by_text("1 exploring").wait_for(timeout=15_000)
                screenshot(teacher, "lesson_projector_1280x720_bar")
        assert students["laptop"].url == explored_at
        assert "The class is on step 5" in students["laptop"].locator(".st-key-lesson_banner").inner_text()
        button(students["laptop"], "lesson_rejoin").click()
        delays.append(shows_step(students["laptop"], 5))

        late = browser.new_context(**LAPTOP)
        contexts.append(late)
        latecomer = late.new_page()
        latecomer.goto(url + "/training")
        shows_step(latecomer, 5, timeout_s=FOLLOW_S + 20)
        teacher.locator(".st-key-lesson_bar").get_by_text("4 students on this step").wait_for(timeout=30_000)

        button(teacher, "lesson_end").click()
        deadline = time.monotonic() + FOLLOW_S
        while students["phone"].locator(".st-key-lesson_banner").count():
            assert time.monotonic() < deadline, "the lesson's banner stayed after the end"
            students["phone"].wait_for_timeout(300)
        assert LessonLive(store).now().state == lesson_live.ENDED
        print(f"follow delays (s): {sorted(round(d, 1) for d in delays)}")
        assert max(delays) < FOLLOW_S
    finally:
        for context in contexts:
            context.close()
