"""The class database's tables, by version: what ``core.classroom.db`` creates in a new file, and
how it upgrades a file an older version wrote (one function per version, run in order inside the
opening transaction). A drawing's digest, which tells one drawing from another, is the schema's too.
"""

from __future__ import annotations

import hashlib
import sqlite3

SCHEMA_VERSION = 5

TABLES = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    number INTEGER NOT NULL,
    PRIMARY KEY (session_id, key)
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    student_key TEXT NOT NULL,
    nickname TEXT NOT NULL DEFAULT '',
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    model TEXT NOT NULL,
    prediction INTEGER NOT NULL CHECK (prediction BETWEEN 0 AND 9),
    probabilities BLOB NOT NULL,
    image BLOB NOT NULL,
    sent_at REAL NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    unfair INTEGER NOT NULL DEFAULT 0,
    digest TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS challenges (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    rules TEXT NOT NULL,
    opened REAL NOT NULL,
    closed REAL,
    stopped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS designs (
    id INTEGER PRIMARY KEY,
    challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,
    student_key TEXT NOT NULL,
    nickname TEXT NOT NULL,
    notation TEXT NOT NULL,
    params INTEGER NOT NULL,
    macs INTEGER NOT NULL,
    submitted REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    claimed REAL,
    accuracy REAL,
    seconds REAL,
    history TEXT NOT NULL DEFAULT '[]',
    checkpoint TEXT,
    message TEXT NOT NULL DEFAULT '',
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS lesson_plans (
    name TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    steps TEXT NOT NULL,
    saved REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lesson_live (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    lesson TEXT NOT NULL,
    step INTEGER NOT NULL,
    state TEXT NOT NULL,
    revision INTEGER NOT NULL,
    gathered INTEGER NOT NULL,
    changed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lesson_presence (
    student_key TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    exploring INTEGER,
    seen REAL NOT NULL
);
"""
# After the tables (and the upgrades of an older file): the indexes may name upgraded columns.
INDEXES = """
CREATE INDEX IF NOT EXISTS entries_by_session ON entries (session_id, id);
CREATE INDEX IF NOT EXISTS entries_by_student ON entries (student_key, sent_at);
CREATE INDEX IF NOT EXISTS entries_by_drawing ON entries (session_id, student_key, digest);
CREATE INDEX IF NOT EXISTS designs_by_challenge ON designs (challenge_id, status, id);
"""


def image_digest(pixels: bytes) -> str:
    """What tells one drawing from another: the SHA-256 of its 28x28 pixels (the same digit sent
    again by the same student is the same entry)."""
    return hashlib.sha256(bytes(pixels)).hexdigest()


def _upgrade_1_to_2(db: sqlite3.Connection) -> None:
    """Schema 2: one entry per drawing. Every entry gets its drawing's digest and a revision (how
    often its label was changed since); of a drawing sent more than once by the same student
    before, the newest copy stays on the wall and the older ones are hidden (kept, not deleted)."""
    db.execute("ALTER TABLE entries ADD COLUMN digest TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE entries ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    rows = db.execute("SELECT id, image FROM entries").fetchall()
    db.executemany("UPDATE entries SET digest = ? WHERE id = ?", [(image_digest(image), i) for i, image in rows])
    db.execute(
        "UPDATE entries SET hidden = 1 WHERE hidden = 0 AND EXISTS (SELECT 1 FROM entries newer WHERE "
        "newer.session_id = entries.session_id AND newer.student_key = entries.student_key AND "
        "newer.digest = entries.digest AND newer.hidden = 0 AND newer.id > entries.id)"
    )


def _upgrade_2_to_3(db: sqlite3.Connection) -> None:
    """Schema 3: the design challenges (``challenges``, ``designs``: ``core.classroom.design_challenge.submissions``),
    new tables that the schema's statements have just made; the digits are as they were."""


def _upgrade_3_to_4(db: sqlite3.Connection) -> None:
    """Schema 4: the lessons a teacher saved (``lesson_plans``: ``core.classroom.lesson_mode.plans``), a new
    table that the schema's statements have just made."""


def _upgrade_4_to_5(db: sqlite3.Connection) -> None:
    """Schema 5: the lesson being taught and where each student's page is in it (``lesson_live``,
    ``lesson_presence``: ``core.classroom.lesson_mode.live``), new tables that the schema's
    statements have just made."""


UPGRADES = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
    3: _upgrade_3_to_4,
    4: _upgrade_4_to_5,
}  # from version N to N + 1, inside the opening transaction
