"""What the wall and the class's counts read from the store: entries filtered, the "fooled it"
board, and the summary of what counts.

The wall's filters (the digit meant, the model, only mistakes) are written once (:func:`_filter`),
for the entries shown and for their counts. :class:`WallQueries` is the part of
``core.classroom.store.ClassStore`` that only reads; it works on the store's database
(``self.db``) and its sessions.
"""

from __future__ import annotations

from core.classroom import checks
from core.classroom.db import StoreError
from core.classroom.entry import COUNTED, ENTRY_SELECT, Entry, entry_from_row
from core.classroom.sessions import ClassSessions
from core.i18n import _


class WallQueries(ClassSessions):
    """The reading side of the class database ``self.db``, per session."""

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
            ENTRY_SELECT
            + "WHERE "
            + " AND ".join(where)
            + " ORDER BY e.id DESC"
            + (" LIMIT ?" if limit is not None else "")
        )
        if limit is not None:
            args.append(int(limit))
        with self.db.transaction() as db:
            rows = db.execute(sql, args).fetchall()
        return [entry_from_row(row) for row in rows]

    def entry(self, entry_id: int) -> Entry:
        with self.db.transaction() as db:
            row = db.execute(ENTRY_SELECT + "WHERE e.id = ?", (int(entry_id),)).fetchone()
        if row is None:
            raise StoreError(_("there is no class digit {entry_id}").format(entry_id=entry_id))
        return entry_from_row(row)

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

    def fooled(self, session_id: int | None = None, *, limit: int | None = None) -> list[Entry]:
        """The "fooled it" board: the session's visible digits whose stored answer differs from
        the label, less the ones marked not fair, the network's confidence in its wrong answer
        highest first (equal ones: the earlier first)."""
        board = sorted(
            self.entries(session_id, mistakes_only=True, fair_only=True), key=lambda e: (-e.confidence, e.id)
        )
        return board if limit is None else board[: max(0, int(limit))]

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
