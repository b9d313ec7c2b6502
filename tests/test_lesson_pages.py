"""Lesson mode's controls in AppTest: the teacher starts a lesson from the sidebar and leads it
from the bar; a student's page shows the step, explores and goes back to the class; a press of
the teacher's controls once the role is gone changes nothing; "add this view as a step" and the
lessons tab build and save a lesson. Every test has a class store of its own."""

from __future__ import annotations

import pytest

from core.classroom import store as class_store
from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.classroom.lesson_mode.live import LessonLive
from core.classroom.lesson_mode.plans import DEFAULT, LessonPlans
from tests.harness import run_page


@pytest.fixture
def store(tmp_path, monkeypatch) -> class_store.ClassStore:
    monkeypatch.setenv(DB_ENV, str(tmp_path / "class.sqlite"))
    return class_store.store()


@pytest.fixture
def as_student(monkeypatch):
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")


def whole(at):
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]
    return at


def markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def going_to(at) -> list[str]:
    """The links the page was sent to load (the follower's navigation element)."""
    return [
        h.proto.body.split('data-lesson-go="')[1].split('"')[0] for h in at.html if "data-lesson-go" in h.proto.body
    ]


def test_the_teacher_starts_the_default_lesson_and_leads_it_from_the_bar(store):
    at = whole(run_page("home", _teacher=True))
    assert "lesson_next" not in [b.key for b in at.button]  # no bar before a lesson
    whole(at.button(key="lesson_start").click().run())
    live = LessonLive(store).now()
    assert live.lesson.name == DEFAULT.name and live.step == 0
    assert going_to(at) == ["/dataset?digit=7"]  # the teacher's own page goes to the first step
    assert "Step 1 of 9: What the network is given" in markdown(at)
    whole(at.button(key="lesson_next").click().run())
    assert LessonLive(store).now().step == 1
    assert going_to(at) == ["/convolution?conv_kernel=Sharpen"]
    whole(at.button(key="lesson_pause").click().run())
    assert LessonLive(store).now().state == "paused"
    whole(at.button(key="lesson_resume").click().run())
    whole(at.button(key="lesson_back").click().run())
    assert LessonLive(store).now().step == 0
    whole(at.button(key="lesson_end").click().run())
    assert LessonLive(store).now().state == "ended"
    assert "lesson_next" not in [b.key for b in at.button]  # the bar is gone


def test_a_students_page_goes_to_the_step_shows_it_explores_and_comes_back(store, as_student):
    lessons = LessonLive(store)
    lessons.start(DEFAULT)
    at = whole(run_page("draw"))
    assert going_to(at) == ["/dataset?digit=7"]  # a late joiner, sent to the step
    at = whole(run_page("dataset", {"digit": "7"}, _student_key=at.session_state["_student_key"]))
    assert going_to(at) == []  # already there
    assert "Step 1 of 9" in markdown(at)
    assert "28x28 grey images and their labels." in " ".join(c.value for c in at.caption)
    key = at.session_state["_student_key"]
    assert lessons.presence(key).revision == lessons.now().revision
    whole(at.button(key="lesson_explore").click().run())
    assert lessons.presence(key).explores(lessons.now())
    assert "You are exploring" in markdown(at)
    lessons.next()
    assert going_to(whole(at.run())) == []  # a new step leaves the explorer where it is
    whole(at.button(key="lesson_rejoin").click().run())
    assert going_to(at) == ["/convolution?conv_kernel=Sharpen"]


def test_a_student_who_opens_another_page_is_exploring(store, as_student):
    lessons = LessonLive(store)
    lessons.start(DEFAULT)
    at = whole(run_page("dataset", {"digit": "7"}))
    key = at.session_state["_student_key"]
    at = whole(run_page("training", _student_key=key))
    assert lessons.presence(key).explores(lessons.now()) and going_to(at) == []
    assert "You are exploring. The class is on step 1" in markdown(at)


def test_a_press_of_the_teachers_controls_after_the_role_is_gone_changes_nothing(store, as_student):
    lessons = LessonLive(store)
    lessons.start(DEFAULT)
    for key in ("lesson_next", "lesson_pause", "lesson_end"):
        at = whole(run_page("home", _teacher=True))
        at.session_state["_teacher"] = False
        whole(at.button(key=key).click().run())
        assert any("Only the teacher can lead the lesson" in w.value for w in at.warning), key
        now = lessons.now()
        assert (now.step, now.state, now.revision) == (0, "leading", 1), key
    at = whole(run_page("home", _teacher=True))
    at.session_state["_teacher"] = False
    whole(at.button(key="lesson_add").click().run())
    assert LessonPlans(store).draft() == []


def test_a_view_added_as_a_step_and_saved_from_the_lessons_tab(store):
    at = whole(run_page("dataset", {"digit": "4", "presenter": "true"}, _teacher=True))
    whole(at.button(key="lesson_add").click().run())
    at = whole(run_page("architecture", {"c3_map": "3"}, _teacher=True))
    whole(at.button(key="lesson_add").click().run())
    plans = LessonPlans(store)
    assert [(s.title, s.link) for s in plans.draft()] == [
        ("Dataset", "/dataset?digit=4"),  # the page's title; the reader's presenter mode left out
        ("Architecture", "/architecture?c3_map=3"),
    ]
    at = whole(run_page("class", {"class_tab": "lessons"}, _teacher=True))
    at.text_input(key="lesson_name").input("fours")
    at.text_input(key="lesson_title").input("Fours")
    whole(at.button(key="lesson_save").click().run())
    saved = plans.lesson("fours")
    assert saved.title == "Fours" and [s.link for s in saved.steps] == ["/dataset?digit=4", "/architecture?c3_map=3"]
    assert any("Saved the lesson fours (2 steps)" in s.value for s in at.success)
    at.text_input(key="lesson_name").input("default")
    whole(at.button(key="lesson_save").click().run())
    assert any("built-in lesson's name" in w.value for w in at.warning)


def test_a_student_sees_the_lessons_tab_but_not_its_controls(store, as_student):
    at = whole(run_page("class", {"class_tab": "lessons"}))
    for key in ("lesson_save", "lesson_keep", "lesson_copy", "lesson_delete", "lesson_import"):
        assert at.button(key=key).disabled, key
    assert "lesson_start" not in [b.key for b in at.button]
    assert any("Only the teacher can build and start lessons" in c.value for c in at.caption)
