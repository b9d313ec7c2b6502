"""The lesson being taught, in the class store: its step, its revisions (what a student's page
follows once), pause and resume, what a student's page does at a poll (``follow``), how many are on
the step, and that a second process and a restarted server see the same lesson."""

from __future__ import annotations

import pytest

from core.classroom.lesson_mode import live as lesson_live
from core.classroom.lesson_mode.live import (
    ENDED,
    EXPLORING,
    FREE,
    GO,
    LEFT,
    NOTHING,
    ON_STEP,
    PAUSED,
    LessonLive,
    Presence,
    follow,
    step_link,
)
from core.classroom.lesson_mode.plans import DEFAULT, LessonError, LessonPlans, Step
from core.classroom.store import ClassStore


@pytest.fixture
def lessons(store) -> LessonLive:
    return LessonLive(store)


def test_a_started_lesson_leads_from_its_first_step_and_each_move_raises_the_revision(lessons):
    assert lessons.now() is None
    live = lessons.start(DEFAULT)
    assert (live.step, live.revision, live.gathered, live.state) == (0, 1, 1, lesson_live.LEADING)
    assert live.current.link == "/dataset?digit=7"
    assert [lessons.next().step for _ in range(3)] == [1, 2, 3]
    assert lessons.now().revision == 4  # a start and three steps
    assert lessons.now().gathered == 1  # moving on does not end anyone's exploring
    assert lessons.back().step == 2
    assert lessons.go(99).step == len(DEFAULT.steps) - 1  # clamped to the lesson's last step
    assert lessons.go(-5).step == 0
    revision = lessons.now().revision
    assert lessons.go(0).revision == revision  # already there: nothing moves


def test_pause_frees_the_class_and_resume_or_a_step_gathers_everyone(lessons):
    lessons.start(DEFAULT)
    lessons.next()
    paused = lessons.pause()
    assert (paused.state, paused.revision, paused.gathered) == (PAUSED, 2, 1)  # no page moves on a pause
    resumed = lessons.resume()
    assert (resumed.state, resumed.step, resumed.revision, resumed.gathered) == (lesson_live.LEADING, 1, 3, 3)
    lessons.pause()
    moved = lessons.next()  # Next from a pause: the teacher leads again, everyone follows
    assert (moved.state, moved.step, moved.revision, moved.gathered) == (lesson_live.LEADING, 2, 4, 4)
    ended = lessons.end()
    assert ended.state == ENDED and not ended.running
    with pytest.raises(LessonError, match="no lesson is running"):
        lessons.next()
    again = lessons.start(DEFAULT)  # a new start goes on counting: an old page's revision never matches
    assert (again.step, again.revision) == (0, 5)


def test_what_a_students_page_does_at_a_poll(lessons):
    assert follow(None, None, "draw") == NOTHING
    live = lessons.start(DEFAULT)  # step 1: /dataset
    assert follow(live, None, "draw") == GO  # a late joiner, wherever it is
    here = Presence(live.revision, None, 0.0)
    assert follow(live, here, "dataset") == ON_STEP
    assert follow(live, here, "draw") == LEFT  # opened another page by itself
    assert follow(live, Presence(live.revision - 1, None, 0.0), "dataset") == GO  # the class moved on
    exploring = Presence(live.revision, live.gathered, 0.0)
    moved = lessons.next()
    assert follow(moved, exploring, "draw") == EXPLORING  # a new step leaves an explorer alone
    assert follow(moved, Presence(-1, None, 0.0), "draw") == GO  # "back to the class"
    assert follow(lessons.pause(), here, "draw") == FREE
    resumed = lessons.resume()
    assert follow(resumed, exploring, "draw") == GO  # a resume gathers the explorers too
    assert follow(lessons.end(), here, "draw") == NOTHING


def test_the_teacher_sees_how_many_pages_are_on_the_step_exploring_or_on_their_way(lessons):
    live = lessons.start(DEFAULT)
    now = 1000.0
    for key in ("a", "b", "c"):
        lessons.arrived(key, live, now=now)
    lessons.explore("d", live, now=now)
    lessons.arrived("gone", live, now=now - lesson_live.PRESENT_S - 1)  # not heard from: left
    assert lessons.counts(live, now=now) == {ON_STEP: 3, EXPLORING: 1, GO: 0}
    moved = lessons.next()
    lessons.arrived("a", moved, now=now)
    assert lessons.counts(moved, now=now) == {ON_STEP: 1, EXPLORING: 1, GO: 2}  # b and c still loading it
    assert lessons.presence("d") == Presence(live.revision, live.gathered, now)
    assert lessons.rejoin("d", now=now).revision == -1


def test_a_second_process_and_a_restarted_server_see_the_same_lesson_at_its_step(tmp_path):
    path = tmp_path / "class.sqlite"
    first = ClassStore(path)
    LessonLive(first).start(DEFAULT)
    LessonLive(first).next()
    other = LessonLive(ClassStore(path))  # another process of the lecture hall, on the same file
    assert other.now().step == 1
    other.next()
    first.close()
    restarted = LessonLive(ClassStore(path)).now()
    assert (restarted.step, restarted.revision, restarted.current.title) == (2, 3, DEFAULT.steps[2].title)


def test_the_lesson_being_taught_is_the_one_started_not_its_later_edits(store, lessons):
    plans = LessonPlans(store)
    mine = plans.lesson("default")
    lessons.start(mine.__class__("mine", "Mine", mine.steps[:2]))
    plans.save(mine.__class__("mine", "Mine", mine.steps[:1]))  # edited while taught
    assert len(lessons.now().lesson.steps) == 2


def test_a_step_link_keeps_the_readers_language_and_presenter_mode_the_steps_settings_win():
    assert step_link("/dataset?digit=7", {"lang": "zh"}) == "/dataset?digit=7&lang=zh"
    assert step_link("/training", {"presenter": "true"}) == "/training?presenter=true"
    assert step_link("/dataset?digit=7", {"digit": "3"}) == "/dataset?digit=7"


def test_a_view_added_as_a_step_drops_the_readers_own_settings_and_refuses_the_token(store):
    plans = LessonPlans(store)
    assert plans.draft() == []
    steps = plans.add_to_draft(Step("Seven", "/dataset?digit=7&presenter=true&lang=zh"))
    assert steps == [Step("Seven", "/dataset?digit=7")]
    with pytest.raises(ValueError, match="teacher's token"):
        plans.add_to_draft(Step("Mine", "/draw?teacher=secret"))
    plans.add_to_draft(Step("Wall", "/class?view=wall"))
    assert [s.link for s in LessonPlans(store).draft()] == ["/dataset?digit=7", "/class?view=wall"]
