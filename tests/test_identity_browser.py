"""One browser, one role, one student, in real Chromium: what a browser keeps in its cookies
(dashboard/frame/roles.py, core/classroom/teacher.py) across a reload, a new tab, Clear and another page.

One server for the module, started as a classroom's is (``CNN_EXPLAINER_LOCAL_TEACHER=0``: a
browser on localhost is a student until it opens the teacher link), with its own class database
and a known token. Each browser context is one browser: its cookies are its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.classroom import store as class_store
from core.classroom import teacher
from core.classroom.db import DB_ENV
from tests.harness import (
    CLASS_TOKEN,
    LAPTOP,
    PROMPT,
    STROKES,
    button,
    choose_and_send,
    class_env,
    draw_on,
    needs_lenet5,
    open_page,
    press_send,
    screenshot,
    start_streamlit,
    wait_idle,
    whole,
)

pytestmark = pytest.mark.browser

NICKNAME = ".st-key-send_nickname input"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identity")
    env = class_env(folder)
    server = start_streamlit(env=env)
    server.db = Path(env[DB_ENV])
    yield server
    server.stop()


@pytest.fixture
def this_token(monkeypatch):
    """The server's token in this process too, to check the cookie as the server does."""
    monkeypatch.setenv(teacher.TOKEN_ENV, CLASS_TOKEN)
    teacher.token.cache_clear()
    yield
    teacher.token.cache_clear()


def role_cookies(context) -> list[str]:
    return [c["value"] for c in context.cookies() if c["name"] == teacher.COOKIE]


def test_the_teacher_keeps_the_role_through_a_reload_and_a_new_tab_until_leaving_it(server, browser, this_token):
    context = browser.new_context(**LAPTOP)
    stranger = browser.new_context(**LAPTOP)
    try:
        page = context.new_page()
        open_page(page, server.url + f"/training?teacher={CLASS_TOKEN}")
        assert "teacher=" not in page.url and button(page, "tr_start").is_enabled()
        [kept] = role_cookies(context)
        assert teacher.role_cookie_valid(kept)  # signed with the server's token...
        assert all(CLASS_TOKEN not in c["value"] for c in context.cookies())  # ...which no cookie holds
        [cookie] = [c for c in context.cookies() if c["name"] == teacher.COOKIE]
        assert (cookie["path"], cookie["sameSite"]) == ("/", "Strict")
        assert 0 < cookie["expires"] - time.time() <= teacher.COOKIE_MAX_AGE_S

        page.reload()  # F5 in front of the class: a new session, the same browser
        wait_idle(page)
        assert button(page, "tr_start").is_enabled()
        tab = context.new_page()  # a new tab, without the token
        open_page(tab, server.url + "/class")
        tab.get_by_text("Class sessions and export").click()
        assert button(tab, "wall_new").is_enabled()
        screenshot(tab, "teacher_role_kept_in_a_new_tab")

        button(tab, "leave_teacher").click()
        wait_idle(tab)
        tab.get_by_text("You left the teacher's role").wait_for(timeout=10_000)
        assert button(tab, "wall_new").is_disabled() and button(tab, "leave_teacher").count() == 0
        assert role_cookies(context) == []  # the browser forgot it too:
        tab.reload()
        wait_idle(tab)
        tab.get_by_text("Class sessions and export").click()
        assert button(tab, "wall_new").is_disabled()
        assert (
            tab.get_by_text(
                "Only the teacher can start, delete or export a class session: the teacher opens the teacher link"
            ).count()
            == 1
        )  # the rule of this server: no loopback teacher
        whole(tab)
        screenshot(tab, "teacher_role_left")

        # Another browser is a student; with a made-up role cookie, still a student, told why.
        other = stranger.new_page()
        open_page(other, server.url + "/training")
        assert button(other, "tr_start").is_disabled() and button(other, "leave_teacher").count() == 0
        stranger.add_cookies([{"name": teacher.COOKIE, "value": f"{int(time.time())}.{'0' * 64}", "url": server.url}])
        other.reload()
        wait_idle(other)
        other.get_by_text("open the teacher link printed in the server's terminal again").wait_for(timeout=10_000)
        assert button(other, "tr_start").is_disabled()
        assert role_cookies(stranger) == []  # dropped: the line is said once
        whole(other)
    finally:
        context.close()
        stranger.close()


def clear(page) -> None:
    page.locator(".st-key-draw_clear button").click()
    page.get_by_text(PROMPT).wait_for(timeout=60_000)
    wait_idle(page)


@needs_lenet5
def test_a_student_keeps_the_nickname_and_is_one_student_through_clear_another_page_and_a_reload(server, browser):
    store = class_store.ClassStore(server.db)  # the server's own file, as another process shares it
    seven = [STROKES["bar"], STROKES["slash"]]  # lenet5 reads a 7 (tests/test_draw_canvas.py), a stem a 1
    context = browser.new_context(**LAPTOP)
    try:
        page = context.new_page()
        open_page(page, server.url + "/draw")
        assert draw_on(page, context, [STROKES["stem"]], finger=False) == "1"
        page.locator(NICKNAME).fill("Ada")
        choose_and_send(page, 1, finger=False)
        press_send(page, finger=False)
        page.get_by_text("Sent as Ada: your 1").wait_for(timeout=10_000)

        # Clear takes the send panel (and Streamlit the box's value) away until the next drawing; so
        # does another page. Both, then a drawing: the box has the name again.
        clear(page)
        page.get_by_role("link", name="Class wall").click()
        wait_idle(page)
        page.get_by_role("link", name="Draw a digit").click()
        wait_idle(page)
        assert draw_on(page, context, seven, finger=False) == "7"
        assert page.locator(NICKNAME).input_value() == "Ada"

        page.reload()  # a new session of the same browser
        wait_idle(page)
        assert draw_on(page, context, seven, finger=False) == "7"
        assert page.locator(NICKNAME).input_value() == "Ada"
        choose_and_send(page, 7, finger=False)
        press_send(page, finger=False)
        page.get_by_text("Sent as Ada: your 7").wait_for(timeout=10_000)
        whole(page)
        screenshot(page, "student_nickname_after_reload")

        # Two digits from one browser over two sessions: one student in the class store.
        summary = store.summary()
        assert (summary["entries"], summary["students"]) == (2, 1), summary
        assert [entry.student for entry in store.entries()] == ["Ada", "Ada"]
    finally:
        context.close()
