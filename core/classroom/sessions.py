"""Class sessions and who is who in them.

A session is one lesson's wall: digits go to the current one, a new one empties the wall, older
ones stay until deleted. A store names a session "Class of <date>" unless the teacher names it
(:func:`shown_name` says the store's names in the reader's language). Students are told apart by
a random key per browser and numbered per session in the order they first send ("Student 12").

:class:`ClassSessions` is the part of ``core.classroom.store.ClassStore`` that reads and writes
the sessions; it works on the store's database (``self.db``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from core.classroom.db import ClassDatabase, StoreError
from core.classroom.entry import COUNTED
from core.i18n import _

DEFAULT_NAME = re.compile(r"Class of (\d{4}-\d\d-\d\d \d\d:\d\d)")  # a session the store named


def shown_name(name: str) -> str:
    """A class session's name as shown: a name the store gave it, in the reader's language; a
    name the teacher gave it, as written."""
    found = DEFAULT_NAME.fullmatch(name)
    return _("Class of {date}").format(date=found.group(1)) if found else name


@dataclass(frozen=True)
class Session:
    id: int
    name: str
    started: float


class ClassSessions:
    """The sessions of the class database ``self.db`` (a :class:`ClassDatabase`)."""

    db: ClassDatabase

    def current_session(self) -> Session:
        """The class session digits go to (the first one is started on first use, by one process
        only: the others, racing it, find it inside their own write transaction)."""
        with self.db.transaction() as db:
            row = _current_session(db)
        if row is not None:
            return Session(*row)
        with self.db.transaction(write=True) as db:
            row = _current_session(db)
            return Session(*row) if row is not None else _start_session(db, None)

    def new_session(self, name: str | None = None) -> Session:
        """Start a new class session: the wall empties; older sessions stay until deleted."""
        with self.db.transaction(write=True) as db:
            return _start_session(db, name)

    def sessions(self) -> list[dict]:
        """Every session, newest first, with its counts."""
        with self.db.transaction() as db:
            current = db.execute("SELECT value FROM settings WHERE key = 'current_session'").fetchone()
            rows = db.execute(
                "SELECT s.id, s.name, s.started, count(e.id), count(DISTINCT e.student_key) FROM sessions s "
                "LEFT JOIN entries e ON e.session_id = s.id AND e."
                + COUNTED.replace(" AND ", " AND e.")
                + " GROUP BY s.id ORDER BY s.id DESC"
            ).fetchall()
        current_id = int(current[0]) if current else None
        return [
            {
                "session": r[0],
                "name": r[1],
                "started": r[2],
                "entries": r[3],
                "students": r[4],
                "current": r[0] == current_id,
            }
            for r in rows
        ]

    def session(self, session_id: int | None = None) -> Session:
        """A session by id (None: the current one); StoreError if there is none such."""
        if session_id is None:
            return self.current_session()
        with self.db.transaction() as db:
            row = db.execute("SELECT id, name, started FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
        if row is None:
            raise StoreError(
                _("there is no class session {session_id}; `python -m core class sessions` lists them").format(
                    session_id=session_id
                )
            )
        return Session(*row)

    def delete_session(self, session_id: int) -> None:
        """Delete a session and its digits; deleting the current one starts a new one."""
        session = self.session(session_id)
        with self.db.transaction(write=True) as db:
            db.execute("DELETE FROM entries WHERE session_id = ?", (session.id,))
            db.execute("DELETE FROM students WHERE session_id = ?", (session.id,))
            db.execute("DELETE FROM sessions WHERE id = ?", (session.id,))
            current = db.execute("SELECT value FROM settings WHERE key = 'current_session'").fetchone()
            was_current = current is not None and int(current[0]) == session.id
            if was_current:
                db.execute("DELETE FROM settings WHERE key = 'current_session'")
        if was_current:
            self.new_session()


def student_number(db, session_id: int, student_key: str) -> int:
    """The sender's number in the session, given on first use, inside the caller's write
    transaction."""
    db.execute(
        "INSERT OR IGNORE INTO students (session_id, key, number) VALUES (?, ?, "
        "(SELECT coalesce(max(number), 0) + 1 FROM students WHERE session_id = ?))",
        (session_id, student_key, session_id),
    )
    return db.execute(
        "SELECT number FROM students WHERE session_id = ? AND key = ?", (session_id, student_key)
    ).fetchone()[0]


def _current_session(db) -> tuple | None:
    return db.execute(
        "SELECT s.id, s.name, s.started FROM sessions s JOIN settings c "
        "ON c.key = 'current_session' AND s.id = CAST(c.value AS INTEGER)"
    ).fetchone()


def _start_session(db, name: str | None) -> Session:
    now = time.time()
    name = name or f"Class of {time.strftime('%Y-%m-%d %H:%M', time.localtime(now))}"
    cursor = db.execute("INSERT INTO sessions (name, started) VALUES (?, ?)", (name[:80], now))
    db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('current_session', ?)", (str(cursor.lastrowid),))
    return Session(cursor.lastrowid, name[:80], now)
