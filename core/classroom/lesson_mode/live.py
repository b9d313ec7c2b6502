"""The lesson being taught: which lesson, which step, led or paused or ended, and where each
student's page is. Kept in the class store (tables ``lesson_live`` and ``lesson_presence``), so
every process of a lecture hall sees the same lesson and a restarted server resumes it at its step.

One lesson at a time per store (the server group): starting one replaces the last. Each change
that should move the class's pages (a start, a step, a resume) raises the lesson's ``revision``; a
student's page follows a revision once (:func:`follow`), then the student may explore. A start or
a resume also raises ``gathered``: exploring began before it is over, everyone follows again.

A student's page says where it is (:meth:`LessonLive.arrived`, :meth:`LessonLive.explore`, a
heartbeat every ``HEARTBEAT_S``), so that the teacher sees how many are on the step
(:meth:`LessonLive.counts`). Only the teacher may change the lesson: the page checks the role
where it acts (``dashboard.lesson``).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass

from core.classroom.lesson_mode.plans import Lesson, LessonError, Step, from_dict
from core.classroom.store import ClassStore
from core.i18n import N_

LEADING, PAUSED, ENDED = "leading", "paused", "ended"
HEARTBEAT_S = 10.0  # a following page says it is still there this often
PRESENT_S = 3 * HEARTBEAT_S  # a page not heard from for this long has left


@dataclass(frozen=True)
class LiveLesson:
    lesson: Lesson
    step: int  # from 0
    state: str  # LEADING, PAUSED or ENDED
    revision: int  # raised by each start, step and resume: what a page follows once
    gathered: int  # the revision of the last start or resume: exploring from before it is over
    changed: float

    @property
    def current(self) -> Step:
        return self.lesson.steps[self.step]

    @property
    def leading(self) -> bool:
        return self.state == LEADING

    @property
    def running(self) -> bool:
        """Led or paused: a lesson the class is in."""
        return self.state in (LEADING, PAUSED)


@dataclass(frozen=True)
class Presence:
    revision: int  # the revision whose step this student's page went to
    exploring: int | None  # the ``gathered`` at which the student chose to explore; None: following
    seen: float

    def explores(self, live: LiveLesson) -> bool:
        return self.exploring is not None and self.exploring == live.gathered


# What a student's page does at a poll (:func:`follow`).
NOTHING = "nothing"  # no lesson, or it has ended
FREE = "free"  # paused: the class may explore
GO = "go"  # to the current step's view (a late joiner, a new step, back to the class)
ON_STEP = "on-step"
EXPLORING = "exploring"
LEFT = "left"  # the student opened another page by themselves: now exploring


def follow(live: LiveLesson | None, presence: Presence | None, page: str) -> str:
    """What a student's page on ``page`` (its path, "" for Home) does now, given the lesson and
    where this student's page last was."""
    if live is None or not live.running:
        return NOTHING
    if not live.leading:
        return FREE
    if presence is not None and presence.explores(live):
        return EXPLORING
    if presence is None or presence.revision != live.revision:
        return GO
    return ON_STEP if page == live.current.page else LEFT


def step_link(link: str, carried: dict[str, str]) -> str:
    """The step's ``link`` with the follower's own ``carried`` settings added (its language,
    presenter mode); the step's settings win."""
    parts = urllib.parse.urlsplit(link)
    settings = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    named = {key for key, _value in settings}
    settings += [(key, value) for key, value in carried.items() if key not in named]
    query = urllib.parse.urlencode(settings)
    return parts.path + ("?" + query if query else "")


class LessonLive:
    """The lesson being taught, in the class store ``store``."""

    def __init__(self, store: ClassStore) -> None:
        self.db = store.db

    def now(self) -> LiveLesson | None:
        """The lesson as it stands (None before any was started)."""
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT lesson, step, state, revision, gathered, changed FROM lesson_live WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        lesson, _skipped = from_dict(json.loads(row[0]))
        return LiveLesson(lesson, min(int(row[1]), len(lesson.steps) - 1), *row[2:])

    def start(self, lesson: Lesson, step: int = 0) -> LiveLesson:
        """Start ``lesson`` at ``step`` for the whole class (the lesson as it is now: editing its
        saved copy later does not change the one being taught)."""
        if not 0 <= step < len(lesson.steps):
            raise LessonError(N_("the lesson {name} has no step {number}"), {"name": lesson.name, "number": step + 1})
        with self.db.transaction(write=True) as db:
            last = db.execute("SELECT revision FROM lesson_live WHERE id = 1").fetchone()
            revision = (last[0] if last else 0) + 1
            db.execute(
                "INSERT OR REPLACE INTO lesson_live (id, lesson, step, state, revision, gathered, changed) "
                "VALUES (1, ?, ?, ?, ?, ?, ?)",
                (json.dumps(lesson.to_dict(), ensure_ascii=False), step, LEADING, revision, revision, time.time()),
            )
        return self.now()

    def go(self, step: int) -> LiveLesson:
        """Take the class to ``step`` (from 0; clamped to the lesson's steps). From a pause, the
        teacher leads again and everyone follows."""
        live = self._running()
        step = max(0, min(int(step), len(live.lesson.steps) - 1))
        if step == live.step and live.leading:
            return live
        with self.db.transaction(write=True) as db:
            db.execute(
                "UPDATE lesson_live SET step = ?, state = ?, revision = revision + 1, gathered = CASE WHEN state = ? "
                "THEN gathered ELSE revision + 1 END, changed = ? WHERE id = 1",
                (step, LEADING, LEADING, time.time()),
            )
        return self.now()

    def next(self) -> LiveLesson:
        return self.go(self._running().step + 1)

    def back(self) -> LiveLesson:
        return self.go(self._running().step - 1)

    def pause(self) -> LiveLesson:
        """The class is free to explore until the teacher resumes (or moves to a step)."""
        self._running()
        return self._set_state(PAUSED, move=False)

    def resume(self) -> LiveLesson:
        """The teacher leads again: every page goes back to the current step."""
        if self._running().leading:
            return self.now()
        return self._set_state(LEADING, move=True)

    def end(self) -> LiveLesson:
        self._running()
        return self._set_state(ENDED, move=False)

    def _set_state(self, state: str, *, move: bool) -> LiveLesson:
        raise_by = 1 if move else 0
        with self.db.transaction(write=True) as db:
            db.execute(
                "UPDATE lesson_live SET state = ?, revision = revision + ?, gathered = CASE WHEN ? THEN revision + 1 "
                "ELSE gathered END, changed = ? WHERE id = 1",
                (state, raise_by, move, time.time()),
            )
        return self.now()

    def _running(self) -> LiveLesson:
        live = self.now()
        if live is None or not live.running:
            raise LessonError(N_("no lesson is running: start one first"))
        return live

    # --- where the students' pages are --------------------------------------------------------

    def presence(self, student_key: str) -> Presence | None:
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT revision, exploring, seen FROM lesson_presence WHERE student_key = ?", (student_key,)
            ).fetchone()
        return Presence(*row) if row else None

    def _put(self, student_key: str, revision: int, exploring: int | None, now: float | None) -> Presence:
        seen = time.time() if now is None else now
        with self.db.transaction(write=True) as db:
            db.execute(
                "INSERT OR REPLACE INTO lesson_presence (student_key, revision, exploring, seen) VALUES (?, ?, ?, ?)",
                (student_key, revision, exploring, seen),
            )
        return Presence(revision, exploring, seen)

    def arrived(self, student_key: str, live: LiveLesson, now: float | None = None) -> Presence:
        """This student's page goes to (or is still on) ``live``'s step, following the class."""
        return self._put(student_key, live.revision, None, now)

    def explore(self, student_key: str, live: LiveLesson, now: float | None = None) -> Presence:
        """This student leaves the step to try things, until "back to the class" or the next
        start or resume."""
        return self._put(student_key, live.revision, live.gathered, now)

    def rejoin(self, student_key: str, now: float | None = None) -> Presence:
        """Back to the class: the page goes to the current step at its next poll."""
        return self._put(student_key, -1, None, now)

    def heartbeat(self, student_key: str, presence: Presence, now: float | None = None) -> Presence:
        return self._put(student_key, presence.revision, presence.exploring, now)

    def counts(self, live: LiveLesson, now: float | None = None) -> dict[str, int]:
        """How many students' pages (heard from in the last ``PRESENT_S``) are on the step, are
        exploring, or are still on their way to it."""
        since = (time.time() if now is None else now) - PRESENT_S
        with self.db.transaction() as db:
            rows = db.execute(
                "SELECT revision, exploring, seen FROM lesson_presence WHERE seen >= ?", (since,)
            ).fetchall()
        counts = {ON_STEP: 0, EXPLORING: 0, GO: 0}
        for row in rows:
            presence = Presence(*row)
            if presence.explores(live):
                counts[EXPLORING] += 1
            elif presence.revision == live.revision:
                counts[ON_STEP] += 1
            else:
                counts[GO] += 1
        return counts
