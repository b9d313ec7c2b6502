"""The design challenge in the class store: the teacher opens a challenge with its rules, students
submit designs (the notation of ``core.models.design``), each is trained in turn
(``core.classroom.design_challenge.queue``) and the results are ranked.

Two tables of the class database (``core.classroom.db`` creates them): ``challenges`` (one per
contest: its name, rules as JSON, when it opened and closed, whether its queue is stopped) and ``designs`` (one
per submission: who, the canonical notation, its parameters and multiply-adds, where it is in its
life, and its result). Nothing here trains: :class:`Challenges` is what is stored and read.

What the rules, the entries and the ranking are: ``core.classroom.design_challenge.scoring``.
"""

from __future__ import annotations

import json
import time

from core.classroom import checks
from core.classroom.db import BadEntry, StoreError, TooFast
from core.classroom.design_challenge.scoring import (
    QUEUED,
    REPLACED,
    TRAINING,
    WITHDRAWN,
    Challenge,
    ChallengeError,
    Entry,
    Rules,
    ranked,
)
from core.classroom.store import ClassStore
from core.i18n import N_, _
from core.models import design

MIN_SECONDS_BETWEEN_SUBMITS = 1.0  # per browser session, as the wall's Send
NAME_MAX = 60

_CHALLENGE = "SELECT id, session_id, name, rules, opened, closed, stopped FROM challenges "
_ENTRY = (
    "SELECT id, challenge_id, student_key, nickname, notation, params, macs, submitted, status, accuracy, "
    "seconds, history, checkpoint, message, hidden FROM designs "
)


def _challenge(row) -> Challenge:
    return Challenge(row[0], row[1], row[2], Rules.from_json(row[3]), row[4], row[5], bool(row[6]))


def _entry(row) -> Entry:
    return Entry(*row[:11], json.loads(row[11] or "[]"), row[12], row[13], bool(row[14]))


def _clean_name(text: object) -> str:
    """A challenge's name as stored: control characters dropped, spaces trimmed, at most NAME_MAX characters."""
    return checks.plain_text(text)[:NAME_MAX]


class Challenges:
    """The design challenges of ``store``'s database (its file, its faults, its sessions)."""

    def __init__(self, store: ClassStore) -> None:
        self.store = store
        self.db = store.db

    # --- the teacher's ----------------------------------------------------------------------------

    def open(self, name: str, rules: Rules | None = None, *, session_id: int | None = None) -> Challenge:
        """Open a challenge in the session (the current one unless named); refused while another is open there."""
        rules = (rules or Rules()).check()
        name = _clean_name(name) or _("Design challenge")
        session = self.store.session(session_id)
        with self.db.transaction(write=True) as db:
            if db.execute("SELECT 1 FROM challenges WHERE session_id = ? AND closed IS NULL", (session.id,)).fetchone():
                raise ChallengeError(N_("a challenge is already open in this session: close it first"))
            cursor = db.execute(
                "INSERT INTO challenges (session_id, name, rules, opened) VALUES (?, ?, ?, ?)",
                (session.id, name, rules.to_json(), time.time()),
            )
            return _challenge(db.execute(_CHALLENGE + "WHERE id = ?", (cursor.lastrowid,)).fetchone())

    def close(self, challenge_id: int) -> Challenge:
        """No more submissions; the entries still queued are withdrawn (what was trained stays ranked)."""
        with self.db.transaction(write=True) as db:
            db.execute("UPDATE challenges SET closed = ? WHERE id = ? AND closed IS NULL", (time.time(), challenge_id))
            db.execute(
                "UPDATE designs SET status = ? WHERE challenge_id = ? AND status = ?", (WITHDRAWN, challenge_id, QUEUED)
            )
        return self.challenge(challenge_id)

    def set_stopped(self, challenge_id: int, stopped: bool) -> Challenge:
        """Stop the queue (the entry training now goes back to the queue's head) or let it go on."""
        with self.db.transaction(write=True) as db:
            db.execute("UPDATE challenges SET stopped = ? WHERE id = ?", (int(stopped), challenge_id))
        return self.challenge(challenge_id)

    def set_hidden(self, entry_id: int, hidden: bool = True) -> None:
        with self.db.transaction(write=True) as db:
            db.execute("UPDATE designs SET hidden = ? WHERE id = ?", (int(hidden), entry_id))

    # --- what everyone reads ----------------------------------------------------------------------

    def challenge(self, challenge_id: int) -> Challenge:
        with self.db.transaction() as db:
            row = db.execute(_CHALLENGE + "WHERE id = ?", (challenge_id,)).fetchone()
        if row is None:
            raise ChallengeError(N_("there is no challenge {number}"), {"number": challenge_id})
        return _challenge(row)

    def challenges(self, session_id: int | None = None) -> list[Challenge]:
        """The session's challenges (the current session unless named), the latest first."""
        session = self.store.session(session_id)
        with self.db.transaction() as db:
            rows = db.execute(_CHALLENGE + "WHERE session_id = ? ORDER BY id DESC", (session.id,)).fetchall()
        return [_challenge(row) for row in rows]

    def current(self, session_id: int | None = None) -> Challenge | None:
        """The session's open challenge, else its latest (a closed one stays readable), else None."""
        found = self.challenges(session_id)
        return next((c for c in found if c.is_open), found[0] if found else None)

    def entries(self, challenge_id: int) -> list[Entry]:
        """Every entry of the challenge, ranked (:func:`ranked`)."""
        with self.db.transaction() as db:
            rows = db.execute(_ENTRY + "WHERE challenge_id = ? ORDER BY id", (challenge_id,)).fetchall()
        return ranked([_entry(row) for row in rows])

    def entry(self, entry_id: int) -> Entry:
        with self.db.transaction() as db:
            row = db.execute(_ENTRY + "WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise ChallengeError(N_("there is no entry {number}"), {"number": entry_id})
        return _entry(row)

    def queue(self, challenge_id: int) -> list[Entry]:
        """The entries waiting, in the order they will train (the one training first)."""
        return [e for e in self.entries(challenge_id) if e.status in (TRAINING, QUEUED)]

    def place(self, entry_id: int) -> int | None:
        """1 for the entry training or next, 2 after it...; None when it is not waiting."""
        entry = self.entry(entry_id)
        ids = [e.id for e in self.queue(entry.challenge_id)]
        return ids.index(entry_id) + 1 if entry_id in ids else None

    # --- a student's ------------------------------------------------------------------------------

    def submit(
        self, challenge_id: int, *, student_key: str, nickname: str, notation: str, now: float | None = None
    ) -> Entry:
        """Queue a design. Refused at once, with the reason, when the challenge is closed, the design
        cannot be built or breaks a cap, the nickname is missing or another student's, or the same
        browser session submitted less than a second ago. The same student under the same nickname
        replaces their entry: a queued one in place (its turn kept), a trained one by a new entry."""
        nickname = checks.clean_nickname(nickname)
        if not nickname:
            raise BadEntry(_("choose a nickname first: the leaderboard shows it"))
        if not isinstance(student_key, str) or not student_key:
            raise BadEntry(_("a design needs the sender's session key"))
        challenge = self.challenge(challenge_id)
        if not challenge.is_open:
            raise ChallengeError(N_("the challenge {name} is closed: no more designs"), {"name": challenge.name})
        chosen = design.parse(notation)  # DesignError: the layer and the way out
        rules = challenge.rules
        if chosen.params > rules.cap_params:
            raise ChallengeError(
                N_("this design has {params:,} parameters, over the challenge's cap of {cap:,}: make it smaller"),
                {"params": chosen.params, "cap": rules.cap_params},
            )
        if rules.cap_macs is not None and chosen.macs > rules.cap_macs:
            raise ChallengeError(
                N_(
                    "this design does {macs:,} multiply-adds per image, over the challenge's cap of {cap:,}: pool "
                    "earlier or use fewer filters"
                ),
                {"macs": chosen.macs, "cap": rules.cap_macs},
            )
        now = time.time() if now is None else now
        with self.db.transaction(write=True) as db:
            last = db.execute("SELECT max(submitted) FROM designs WHERE student_key = ?", (student_key,)).fetchone()[0]
            if last is not None and now - last < MIN_SECONDS_BETWEEN_SUBMITS:
                raise TooFast(_("one design a second at most: wait a moment and submit again"))
            holders = db.execute(
                "SELECT id, student_key, status FROM designs WHERE challenge_id = ? AND lower(nickname) = lower(?) "
                "AND status != ? ORDER BY id",
                (challenge_id, nickname, REPLACED),
            ).fetchall()
            if any(key != student_key for _id, key, _status in holders):
                raise ChallengeError(
                    N_("the nickname {nickname} is another student's in this challenge: choose another"),
                    {"nickname": nickname},
                )
            values = (chosen.notation, chosen.params, chosen.macs)
            queued = next((i for i, _key, status in holders if status == QUEUED), None)
            if queued is not None:
                db.execute(
                    "UPDATE designs SET notation = ?, params = ?, macs = ?, nickname = ?, submitted = ? WHERE id = ?",
                    (*values, nickname, now, queued),
                )
                entry_id = queued
            else:
                db.execute(
                    "UPDATE designs SET status = ? WHERE challenge_id = ? AND student_key = ? AND "
                    "lower(nickname) = lower(?) AND status != ?",
                    (REPLACED, challenge_id, student_key, nickname, TRAINING),
                )
                entry_id = db.execute(
                    "INSERT INTO designs (challenge_id, student_key, nickname, notation, params, macs, submitted) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (challenge_id, student_key, nickname, *values, now),
                ).lastrowid
        return self.entry(entry_id)

    # --- the queue's ------------------------------------------------------------------------------

    def claim_next(self, challenge_id: int) -> Entry | None:
        """The next queued entry, marked training (one claim wins, across processes), or None."""
        with self.db.transaction(write=True) as db:
            row = db.execute(
                "SELECT d.id FROM designs d JOIN challenges c ON c.id = d.challenge_id WHERE d.challenge_id = ? "
                "AND d.status = ? AND c.closed IS NULL AND c.stopped = 0 ORDER BY d.id LIMIT 1",
                (challenge_id, QUEUED),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE designs SET status = ?, claimed = ? WHERE id = ?", (TRAINING, time.time(), row[0]))
        return self.entry(row[0])

    def finish(
        self,
        entry_id: int,
        status: str,
        *,
        accuracy: float | None = None,
        seconds: float | None = None,
        history: list | None = None,
        checkpoint: str | None = None,
        message: str = "",
    ) -> Entry:
        """Store how an entry's training ended (``status`` one of done, timed out, diverged, failed,
        or queued again for an entry whose run was stopped)."""
        with self.db.transaction(write=True) as db:
            db.execute(
                "UPDATE designs SET status = ?, accuracy = ?, seconds = ?, history = ?, checkpoint = ?, message = ? "
                "WHERE id = ? AND status = ?",
                (status, accuracy, seconds, json.dumps(history or []), checkpoint, message, entry_id, TRAINING),
            )
        return self.entry(entry_id)

    def requeue_interrupted(self, challenge_id: int, older_than: float = 0.0) -> int:
        """Entries left ``training`` by a run that is no more (a server killed mid-run) back to the
        queue, at their old place; the number put back. The caller knows no run of its group holds
        the slot; ``older_than`` seconds spares a claim that is about to start its run."""
        with self.db.transaction(write=True) as db:
            cursor = db.execute(
                "UPDATE designs SET status = ? WHERE challenge_id = ? AND status = ? AND claimed < ?",
                (QUEUED, challenge_id, TRAINING, time.time() - older_than),
            )
            return cursor.rowcount

    def open_challenges(self) -> list[Challenge]:
        """Every open challenge of every session, with entries waiting (what the queue looks at)."""
        try:
            with self.db.transaction() as db:
                rows = db.execute(
                    _CHALLENGE + "WHERE closed IS NULL AND EXISTS (SELECT 1 FROM designs d WHERE "
                    "d.challenge_id = challenges.id AND d.status IN (?, ?)) ORDER BY id",
                    (QUEUED, TRAINING),
                ).fetchall()
        except StoreError:
            return []
        return [_challenge(row) for row in rows]
