"""The class's digits: one SQLite database that every page and server process shares.

The class store (this module: what is written; ``core.classroom.sessions``: sessions and who is
who; ``core.classroom.queries``: what the wall reads; ``core.classroom.entry``: what an entry
holds; ``core.classroom.design_challenge.submissions``: the design challenges;
``core.classroom.lesson_mode``: the lessons and the one being taught), ``core.classroom.db`` (the
file itself: opening it, its faults) and ``core.classroom.schema`` (its tables) are the only
modules that write SQL. ``artifacts/class.sqlite`` by default, ``CNN_EXPLAINER_CLASS_DB`` to put it
elsewhere; WAL mode, so the wall can read while students send and several server processes can
share one file.

One drawing is one entry: the same 28x28 digit sent again by the same student changes that
entry's label (or is refused as already sent), so re-sending cannot fill the wall or the board.
The teacher can hide an entry, or mark it "not fair" (it does not look like its label: it leaves
the "fool the network" board, the class's measurements and fine-tuning); the challenge's on/off
is a setting.

Faults are messages, never lost data: see ``core.classroom.db``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

from core.classroom import checks
from core.classroom.db import DB_ENV, AlreadySent, BadEntry, ClassDatabase, StoreError, TooFast
from core.classroom.entry import ENTRY_SELECT, Entry, entry_from_row
from core.classroom.queries import WallQueries
from core.classroom.schema import image_digest
from core.classroom.sessions import student_number
from core.files import REPO_ROOT
from core.i18n import _

DEFAULT_PATH = REPO_ROOT / "artifacts" / "class.sqlite"
MIN_SECONDS_BETWEEN_SENDS = 1.0  # per browser session
CHALLENGE_SETTING = "challenge"  # settings row: "on" / "off" ("fool the network")


def default_path() -> Path:
    """``CNN_EXPLAINER_CLASS_DB``, else ``artifacts/class.sqlite`` (read at call time)."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_PATH)


class ClassStore(WallQueries):
    """The class database at ``path``. Safe to share between threads: every operation opens
    its own connection; one more is kept open to restore the file if it is deleted. Sessions
    and what the wall reads come from its bases (``core.classroom.queries``)."""

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
                entry_from_row(db.execute(ENTRY_SELECT + "WHERE e.id = ?", (before[0],)).fetchone()),
                relabelled_from=int(before[1]),
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

    def set_hidden(self, entry_id: int, hidden: bool = True) -> None:
        """Hide an entry from the wall (an unfair or rude drawing), or show it again."""
        with self.db.transaction(write=True) as db:
            if db.execute("UPDATE entries SET hidden = ? WHERE id = ?", (int(hidden), int(entry_id))).rowcount == 0:
                raise StoreError(_("there is no class digit {entry_id}").format(entry_id=entry_id))

    def set_unfair(self, entry_id: int, unfair: bool = True) -> None:
        """Mark a digit "not fair" (it does not look like its label): it leaves the fooled board,
        the class's measurements and fine-tuning; ``unfair=False`` takes the mark back.
        (Teacher-only: the page checks the role.)"""
        with self.db.transaction(write=True) as db:
            if db.execute("UPDATE entries SET unfair = ? WHERE id = ?", (int(unfair), int(entry_id))).rowcount == 0:
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


def _insert(db, session_id: int, student_key: str, nickname: str, digit: tuple, now: float) -> Entry:
    """Insert one checked digit inside the caller's write transaction (the sender numbered on
    first use in the session)."""
    label, model, prediction, probs, pixels = digit
    number = student_number(db, session_id, student_key)
    cursor = db.execute(
        "INSERT INTO entries (session_id, student_key, nickname, label, model, prediction, probabilities, "
        "image, sent_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, student_key, nickname, label, model, prediction, probs, pixels, now, image_digest(pixels)),
    )
    return entry_from_row(
        (cursor.lastrowid, session_id, nickname, number, label, model, prediction, probs, pixels, now, False, False)
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
