"""The class's digits: one SQLite database that every page and server process shares.

This module and ``core.classroom.db`` (the file itself: opening it, its faults) are the only ones
that write SQL. ``artifacts/class.sqlite`` by default, ``CNN_EXPLAINER_CLASS_DB`` to put it
elsewhere; WAL mode, so the wall can read while students send and several server processes can
share one file.

What an entry holds (what the Send panel says it sends): the 28x28 preprocessed digit (uint8),
the label the student meant, the model used, its prediction and ten probabilities, the time, a
nickname or nothing. Never the raw canvas, never an IP address: students are told apart by a
random key per browser, numbered per class session ("Student 12", said in the reader's
language). One drawing is one entry: the same 28x28 digit sent again by the same student changes
that entry's label (or is refused as already sent), so re-sending cannot fill the wall or the
board. The teacher can hide an entry, or mark it "not fair" (it does not look like its label: it
leaves the "fool the network" board, the class's measurements and fine-tuning); the challenge's
on/off is a setting.

What counts: :data:`COUNTED`, the one rule every count of the class uses.

Faults are messages, never lost data: see ``core.classroom.db``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.classroom import checks
from core.classroom.checks import SIDE
from core.classroom.db import (  # noqa: F401 (errors)
    DB_ENV,
    AlreadySent,
    BadEntry,
    ClassDatabase,
    StoreError,
    StoreUnavailable,
    TooFast,
    image_digest,
)
from core.files import REPO_ROOT
from core.i18n import N_, _

DEFAULT_PATH = REPO_ROOT / "artifacts" / "class.sqlite"
MIN_SECONDS_BETWEEN_SENDS = 1.0  # per browser session
CHALLENGE_SETTING = "challenge"  # settings row: "on" / "off" ("fool the network")
DEFAULT_NAME = re.compile(r"Class of (\d{4}-\d\d-\d\d \d\d:\d\d)")  # a session the store named
PAPER_NICKNAME = "from paper"  # the sender of digits from paper (core.classroom.paper), shown translated
# What counts, the one rule of every count of the class (the wall's, the sessions', ``class summary``,
# our class vs MNIST, the fine-tune): as SQL on ``entries``, and in words for a page that shows one.
COUNTED = "hidden = 0 AND unfair = 0"
COUNTED_RULE = N_(
    "Counted: each digit on the wall once (a drawing sent again counts once), less the ones the "
    "teacher hid or marked not fair."
)


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


@dataclass(frozen=True, eq=False)  # an array inside: == would be ambiguous
class Entry:
    """One digit sent to the class."""

    id: int
    session_id: int
    nickname: str  # as typed ("" when none was given)
    number: int | None  # the sender's number in the session ("Student 12")
    label: int  # what the student meant
    model: str
    prediction: int  # the network's answer when it was sent
    probabilities: tuple[float, ...]
    image: np.ndarray  # uint8 28 x 28
    sent_at: float
    hidden: bool = False
    unfair: bool = False
    relabelled_from: int | None = None  # set by ``add`` when it changed this drawing's label

    @property
    def student(self) -> str:
        """Who sent it, as shown (plain text: a page shows it without markup): the nickname, else
        "Student 12" in the reader's language."""
        if self.nickname == PAPER_NICKNAME:
            return _("from paper")
        return self.nickname or _("Student {number}").format(number=self.number)

    @property
    def counted(self) -> bool:
        """Whether it counts (:data:`COUNTED`)."""
        return not self.hidden and not self.unfair

    @property
    def right(self) -> bool:
        return self.prediction == self.label

    @property
    def confidence(self) -> float:
        """The probability of the network's answer."""
        return self.probabilities[self.prediction]


def default_path() -> Path:
    """``CNN_EXPLAINER_CLASS_DB``, else ``artifacts/class.sqlite`` (read at call time)."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_PATH)


class ClassStore:
    """The class database at ``path``. Safe to share between threads: every operation opens
    its own connection; one more is kept open to restore the file if it is deleted."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.db = ClassDatabase(Path(path) if path is not None else default_path())

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def notices(self) -> list[str]:
        """What happened to the file (moved aside, restored, read-only), for the wall to say."""
        return self.db.notices

    def close(self) -> None:
        self.db.close()

    # --- sessions -----------------------------------------------------------------------------

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

    # --- entries ------------------------------------------------------------------------------

    def add(
        self,
        *,
        student_key: str,
        label: int,
        model: str,
        prediction: int,
        probabilities,
        image,
        nickname: str | None = None,
        session_id: int | None = None,
        now: float | None = None,
    ) -> Entry:
        """Store one digit; the same drawing (28x28 pixels) from the same ``student_key`` in the
        session changes its entry instead (``relabelled_from`` of the entry returned). Raises
        BadEntry for what cannot be stored, AlreadySent when nothing would change, TooFast when
        the key sent less than a second ago, StoreUnavailable when the file is read-only."""
        digit = checks.checked_digit(
            label=label, model=model, prediction=prediction, probabilities=probabilities, image=image
        )
        nickname = checks.checked_sender(student_key, nickname)
        session = self.session(session_id)
        now = time.time() if now is None else now
        with self.db.transaction(write=True) as db:
            before = db.execute(
                "SELECT id, label, model FROM entries WHERE session_id = ? AND student_key = ? AND "
                "digest = ? ORDER BY hidden, id DESC LIMIT 1",
                (session.id, student_key, image_digest(digit[4])),
            ).fetchone()
            if before is not None and tuple(before[1:]) == digit[:2]:
                raise AlreadySent(
                    _("this drawing is already on the wall as a {label}: draw a new one to send another digit").format(
                        label=before[1]
                    )
                )
            last = db.execute("SELECT max(sent_at) FROM entries WHERE student_key = ?", (student_key,)).fetchone()[0]
            if last is not None and now - last < MIN_SECONDS_BETWEEN_SENDS:
                raise TooFast(_("one digit a second at most: wait a moment and send again"))
            if before is None:
                return _insert(db, session.id, student_key, nickname, digit, now)
            label_, model_, prediction_, probs, _pixels = digit
            db.execute(
                "UPDATE entries SET label = ?, model = ?, prediction = ?, probabilities = ?, nickname = ?, "
                "sent_at = ?, revision = revision + 1 WHERE id = ?",
                (label_, model_, prediction_, probs, nickname, now, before[0]),
            )
            return dataclasses.replace(
                _entry(db.execute(_SELECT + "WHERE e.id = ?", (before[0],)).fetchone()), relabelled_from=int(before[1])
            )

    def add_many(
        self,
        digits: list[dict],
        *,
        student_key: str,
        nickname: str | None = None,
        session_id: int | None = None,
        now: float | None = None,
    ) -> list[Entry]:
        """Store several digits from one sender at once (digits from paper: ``core.classroom.paper``),
        all or none, without the one-a-second limit of :meth:`add`. Each digit is a dict with
        ``label``, ``model``, ``prediction``, ``probabilities`` and ``image``; BadEntry names the
        first one that cannot be stored (counting from 1), and then nothing is stored."""
        checked = []
        for number, digit in enumerate(digits, 1):
            try:
                checked.append(
                    checks.checked_digit(
                        **{key: digit.get(key) for key in ("label", "model", "prediction", "probabilities", "image")}
                    )
                )
            except BadEntry as exc:
                raise BadEntry(_("digit {number}: {exc}").format(number=number, exc=exc)) from None
        nickname = checks.checked_sender(student_key, nickname)
        session = self.session(session_id)
        now = time.time() if now is None else now
        with self.db.transaction(write=True) as db:
            return [_insert(db, session.id, student_key, nickname, digit, now) for digit in checked]

    def entries(
        self,
        session_id: int | None = None,
        *,
        include_hidden: bool = False,
        label: int | None = None,
        model: str | None = None,
        mistakes_only: bool = False,
        since_id: int = 0,
        limit: int | None = None,
        fair_only: bool = False,
    ) -> list[Entry]:
        """The session's digits, newest first, filtered (``fair_only``: without the ones the
        teacher marked "not fair")."""
        session = self.session(session_id)
        where, args = ["e.session_id = ?", "e.id > ?"], [session.id, int(since_id)]
        if not include_hidden:
            where.append("e.hidden = 0")
        if fair_only:
            where.append("e.unfair = 0")
        _filter(where, args, label, model, mistakes_only, table="e.")
        sql = (
            _SELECT + "WHERE " + " AND ".join(where) + " ORDER BY e.id DESC" + (" LIMIT ?" if limit is not None else "")
        )
        if limit is not None:
            args.append(int(limit))
        with self.db.transaction() as db:
            rows = db.execute(sql, args).fetchall()
        return [_entry(row) for row in rows]

    def entry(self, entry_id: int) -> Entry:
        with self.db.transaction() as db:
            row = db.execute(_SELECT + "WHERE e.id = ?", (int(entry_id),)).fetchone()
        if row is None:
            raise StoreError(_("there is no class digit {entry_id}").format(entry_id=entry_id))
        return _entry(row)

    def latest(self, session_id: int | None = None) -> tuple[int, int]:
        """(newest entry id, number of changes) of a session: cheap to poll, and it moves when a
        digit arrives, is hidden, marked not fair or given another label."""
        session = self.session(session_id)
        with self.db.transaction() as db:
            newest, hidden = db.execute(
                "SELECT coalesce(max(id), 0), coalesce(sum(hidden), 0) + "
                "coalesce(sum(unfair), 0) + coalesce(sum(revision), 0) FROM entries "
                "WHERE session_id = ?",
                (session.id,),
            ).fetchone()
        return int(newest), int(hidden)

    def set_hidden(self, entry_id: int, hidden: bool = True) -> None:
        """Hide an entry from the wall (an unfair or rude drawing), or show it again."""
        with self.db.transaction(write=True) as db:
            if db.execute("UPDATE entries SET hidden = ? WHERE id = ?", (int(hidden), int(entry_id))).rowcount == 0:
                raise StoreError(_("there is no class digit {entry_id}").format(entry_id=entry_id))

    # --- the "fool the network" challenge -------------------------------------------------------

    def challenge_on(self) -> bool:
        """Whether the teacher has turned the "fool the network" challenge on (off by default)."""
        with self.db.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (CHALLENGE_SETTING,)).fetchone()
        return row is not None and row[0] == "on"

    def set_challenge(self, on: bool) -> None:
        """Turn the challenge on or off, for every page and server process sharing the file.
        (Teacher-only: the page checks the role.)"""
        with self.db.transaction(write=True) as db:
            db.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (CHALLENGE_SETTING, "on" if on else "off")
            )

    def fooled(self, session_id: int | None = None, *, limit: int | None = None) -> list[Entry]:
        """The "fooled it" board: the session's visible digits whose stored answer differs from
        the label, less the ones marked not fair, the network's confidence in its wrong answer
        highest first (equal ones: the earlier first)."""
        board = sorted(
            self.entries(session_id, mistakes_only=True, fair_only=True), key=lambda e: (-e.confidence, e.id)
        )
        return board if limit is None else board[: max(0, int(limit))]

    def set_unfair(self, entry_id: int, unfair: bool = True) -> None:
        """Mark a digit "not fair" (it does not look like its label): it leaves the fooled board,
        the class's measurements and fine-tuning; ``unfair=False`` takes the mark back.
        (Teacher-only: the page checks the role.)"""
        with self.db.transaction(write=True) as db:
            if db.execute("UPDATE entries SET unfair = ? WHERE id = ?", (int(unfair), int(entry_id))).rowcount == 0:
                raise StoreError(_("there is no class digit {entry_id}").format(entry_id=entry_id))

    def summary(
        self,
        session_id: int | None = None,
        *,
        label: int | None = None,
        model: str | None = None,
        mistakes_only: bool = False,
    ) -> dict:
        """``class summary --json``: what counts (:data:`COUNTED`) of the session, and of it what
        the filters keep (the wall's): entries, students, labels, right answers per model (by the
        answer stored when each was sent); ``not_counted``: the filtered digits on the wall left
        out as not fair."""
        session = self.session(session_id)
        where, args = ["session_id = ?", "hidden = 0"], [session.id]
        _filter(where, args, label, model, mistakes_only)
        shown = " AND ".join(where)
        counted = f"{shown} AND {COUNTED}"
        with self.db.transaction() as db:
            entries, students = db.execute(
                f"SELECT count(*), count(DISTINCT student_key) FROM entries WHERE {counted}", args
            ).fetchone()
            by_label = dict(
                db.execute(f"SELECT label, count(*) FROM entries WHERE {counted} GROUP BY label", args).fetchall()
            )
            right = dict(
                db.execute(
                    f"SELECT model, sum(prediction = label) FROM entries WHERE {counted} GROUP BY model ORDER BY model",
                    args,
                ).fetchall()
            )
            sent = dict(
                db.execute(
                    f"SELECT model, count(*) FROM entries WHERE {counted} GROUP BY model ORDER BY model", args
                ).fetchall()
            )
            not_counted = db.execute(f"SELECT count(*) FROM entries WHERE {shown} AND unfair = 1", args).fetchone()[0]
        return {
            "session": session.id,
            "name": session.name,
            "entries": entries,
            "students": students,
            "by_label": {str(d): int(by_label.get(d, 0)) for d in range(10)},
            "right": {model: int(n) for model, n in right.items()},
            "sent": {model: int(n) for model, n in sent.items()},
            "not_counted": int(not_counted),
        }


_SELECT = (
    "SELECT e.id, e.session_id, e.nickname, s.number, e.label, e.model, e.prediction, e.probabilities, "
    "e.image, e.sent_at, e.hidden, e.unfair FROM entries e LEFT JOIN students s "
    "ON s.session_id = e.session_id AND s.key = e.student_key "
)


def _filter(
    where: list[str], args: list, label: int | None, model: str | None, mistakes_only: bool, table: str = ""
) -> None:
    """The wall's filters (the digit meant, the model, only mistakes) added to a WHERE clause on
    ``entries`` (``table``: its alias with a dot, where the query has one)."""
    if label is not None:
        where.append(f"{table}label = ?")
        args.append(checks.check_label(label))
    if model is not None:
        where.append(f"{table}model = ?")
        args.append(model)
    if mistakes_only:
        where.append(f"{table}prediction != {table}label")


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


def _insert(db, session_id: int, student_key: str, nickname: str, digit: tuple, now: float) -> Entry:
    """Insert one checked digit inside the caller's write transaction (the sender numbered on
    first use in the session)."""
    label, model, prediction, probs, pixels = digit
    db.execute(
        "INSERT OR IGNORE INTO students (session_id, key, number) VALUES (?, ?, "
        "(SELECT coalesce(max(number), 0) + 1 FROM students WHERE session_id = ?))",
        (session_id, student_key, session_id),
    )
    number = db.execute(
        "SELECT number FROM students WHERE session_id = ? AND key = ?", (session_id, student_key)
    ).fetchone()[0]
    cursor = db.execute(
        "INSERT INTO entries (session_id, student_key, nickname, label, model, prediction, probabilities, "
        "image, sent_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, student_key, nickname, label, model, prediction, probs, pixels, now, image_digest(pixels)),
    )
    return Entry(
        cursor.lastrowid,
        session_id,
        nickname,
        number,
        label,
        model,
        prediction,
        tuple(float(p) for p in np.frombuffer(probs, dtype=np.float32)),
        np.frombuffer(pixels, dtype=np.uint8).reshape(SIDE, SIDE),
        now,
    )


def _entry(row: tuple) -> Entry:
    (entry_id, session_id, nickname, number, label, model, prediction, probs, image, sent_at, hidden, unfair) = row
    return Entry(
        entry_id,
        session_id,
        nickname,
        number,
        label,
        model,
        prediction,
        tuple(float(p) for p in np.frombuffer(probs, dtype=np.float32)),
        np.frombuffer(image, dtype=np.uint8).reshape(SIDE, SIDE).copy(),
        sent_at,
        bool(hidden),
        bool(unfair),
    )


_stores: dict[Path, ClassStore] = {}
_stores_lock = threading.Lock()


def store(path: Path | str | None = None) -> ClassStore:
    """The process's store for ``path`` (default: ``CNN_EXPLAINER_CLASS_DB`` or
    ``artifacts/class.sqlite``), opened once."""
    key = (Path(path) if path is not None else default_path()).resolve()
    with _stores_lock:
        if key not in _stores:
            _stores[key] = ClassStore(key)
        return _stores[key]
