"""The class database's file: SQLite in WAL mode, opened once per process, kept safe from faults.

``core.classroom.store`` says what is stored; this module says how the file is opened, guarded and
written, and is the only place that holds a connection:

- a corrupted file is moved aside (``class.sqlite.corrupt-<time>``), reported, and a new one
  started: never overwritten;
- a read-only file can still be read (``immutable``); a write says so (:class:`StoreUnavailable`);
- a file deleted while the server runs is restored from the copy the server still holds open;
- two processes on one file wait for each other (busy timeout), they do not fail;
- a newer schema version is refused rather than misread; an older one is upgraded in place
  (``core.classroom.schema``'s upgrades), in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from contextlib import closing, contextmanager
from pathlib import Path

from core.classroom.schema import INDEXES, SCHEMA_VERSION, TABLES, UPGRADES
from core.i18n import N_, Deferred, MessageError

DB_ENV = "CNN_EXPLAINER_CLASS_DB"
BUSY_TIMEOUT_MS = 10_000


class StoreError(MessageError, RuntimeError):
    """Something the class store cannot do; the message is fit for a page, in the language of the
    session that shows it (:class:`core.i18n.MessageError`: a template marked N_ and its values)."""


class StoreUnavailable(StoreError):
    """The database cannot be written (read-only, disk full, locked too long)."""


class BadEntry(StoreError, ValueError):
    """A digit that cannot be stored as it is (a label outside 0-9, an empty picture, ...)."""


class TooFast(StoreError):
    """The same browser session sent again within a second."""


class AlreadySent(StoreError):
    """The same drawing, with the same digit meant, is already on the wall."""


class ClassDatabase:
    """The database file at ``path``. Safe to share between threads: every operation opens its
    own connection (:meth:`transaction`); one more is kept open to restore the file if deleted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notices: list[Deferred] = []  # what happened to the file, for the wall to say in its language
        self.read_only = False
        self._lock = threading.Lock()
        self._keeper: sqlite3.Connection | None = None
        self._open()

    def _connect(self, *, keeper: bool = False) -> sqlite3.Connection:
        if self.read_only:  # "immutable": no -shm or -wal needed, which a read-only folder cannot hold
            target, uri = f"file:{urllib.parse.quote(str(self.path))}?immutable=1", True
        else:
            target, uri = str(self.path), False
        connection = sqlite3.connect(
            target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=not keeper
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _open(self) -> None:
        """Open (or create) the file: a corrupted one is moved aside first; one that cannot be
        written is opened for reading only."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                N_(
                    "the class database's folder {parent} cannot be made ({strerror_or_exc}); set "
                    "{db_env} to a file in a folder this server can write"
                ),
                dict(parent=self.path.parent, strerror_or_exc=exc.strerror or str(exc), db_env=DB_ENV),
            ) from None
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            if _corrupted(exc):
                self._move_aside(exc)
                self._prepare()
            elif self.path.exists():
                self.read_only = True
                self.notices.append(
                    Deferred(
                        N_(
                            "The class database {path} is read-only: the wall shows what is "
                            "stored, and nothing new can be sent until the file can be written "
                            "again."
                        ),
                        path=self.path,
                    )
                )
                try:
                    self._prepare()
                except sqlite3.DatabaseError as again:
                    raise StoreError(
                        N_("the class database {path} can be neither written nor read ({again})"),
                        dict(path=self.path, again=_sqlite_said(again)),
                    ) from None
            else:
                raise StoreError(
                    N_(
                        "the class database {path} cannot be created ({exc}); set {db_env} to a file in a "
                        "folder this server can write"
                    ),
                    dict(path=self.path, exc=_sqlite_said(exc), db_env=DB_ENV),
                ) from None
        self._keeper = self._connect(keeper=True)
        self._keeper.execute("SELECT count(*) FROM entries").fetchone()  # hold the file open

    def _prepare(self) -> None:
        with closing(self._connect()) as db:
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(
                    Deferred(N_("its integrity check failed: {answer}"), answer=check[0] if check else "-")
                )
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "schema_version" in tables:
                found = db.execute("SELECT max(version) FROM schema_version").fetchone()[0]
                if found is not None and found > SCHEMA_VERSION:
                    raise StoreError(
                        N_(
                            "{path} was written by a newer version of this dashboard (schema {found}, "
                            "this one reads {schema_version}): update the code, or set {db_env} to another "
                            "file"
                        ),
                        dict(path=self.path, found=found, schema_version=SCHEMA_VERSION, db_env=DB_ENV),
                    )
                if found == SCHEMA_VERSION:
                    return
                if found is not None and self.read_only:
                    raise StoreError(
                        N_(
                            "{path} was written by an older version of this dashboard (schema {found}) "
                            "and is read-only, so it cannot be upgraded to schema {schema_version}: make "
                            "it writable, or set {db_env} to another file"
                        ),
                        dict(path=self.path, found=found, schema_version=SCHEMA_VERSION, db_env=DB_ENV),
                    )
            if self.read_only:
                raise sqlite3.DatabaseError(Deferred(N_("not a class database (no schema version)")))
            if tables - {"schema_version"} and "entries" not in tables:
                raise sqlite3.DatabaseError(Deferred(N_("not a class database (no entries table)")))
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in TABLES.split(";"):
                    if statement.strip():
                        db.execute(statement)
                # Read again inside the transaction: another process may have upgraded the file meanwhile.
                found = db.execute("SELECT max(version) FROM schema_version").fetchone()[0]
                for version in range(found or SCHEMA_VERSION, SCHEMA_VERSION):
                    UPGRADES[version](db)
                for statement in INDEXES.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _move_aside(self, reason: Exception) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{aside}{suffix}"))
        self.notices.append(
            Deferred(
                N_(
                    "The class database {name} could not be read ({reason}); it was moved "
                    "aside as {aside}, untouched, and a new one started."
                ),
                name=self.path.name,
                reason=_sqlite_said(reason),
                aside=aside.name,
            )
        )

    def _restore_if_deleted(self) -> None:
        """The file was deleted while this server held it open: write the open copy back."""
        if self.path.exists() or self._keeper is None:
            return
        with self._lock:
            if self.path.exists():
                return
            with closing(sqlite3.connect(self.path)) as fresh:
                self._keeper.backup(fresh)
            count = self._keeper.execute("SELECT count(*) FROM entries").fetchone()[0]
            self._keeper.close()
            self._keeper = self._connect(keeper=True)
            self.notices.append(
                Deferred(
                    N_(
                        "The class database {name} was deleted while the server ran; it was "
                        "restored from the server's open copy ({count} entries)."
                    ),
                    name=self.path.name,
                    count=count,
                )
            )

    @contextmanager
    def transaction(self, *, write: bool = False):
        """One connection for one operation; a write is one transaction."""
        if write and self.read_only:
            raise StoreUnavailable(READ_ONLY, dict(path=self.path))
        self._restore_if_deleted()
        try:
            with closing(self._connect()) as db:
                if write:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        yield db
                        db.execute("COMMIT")
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                else:
                    yield db
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "readonly" in text or "read-only" in text or "unable to open" in text:
                raise StoreUnavailable(READ_ONLY, dict(path=self.path)) from None
            if "locked" in text or "busy" in text:
                raise StoreUnavailable(N_("the class database is busy: try again in a moment")) from None
            if "disk" in text or "full" in text:
                raise StoreUnavailable(N_("the class database cannot be written: {text}"), dict(text=text)) from None
            raise StoreError(N_("the class database failed: {text}"), dict(text=text)) from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                N_(
                    "the class database {path} cannot be read ({exc}); restart the server to move it "
                    "aside and start a new one"
                ),
                dict(path=self.path, exc=_sqlite_said(exc)),
            ) from None

    def close(self) -> None:
        """Let go of the file (the last connection to close folds the WAL back into it)."""
        with self._lock:
            if self._keeper is not None:
                self._keeper.close()
                self._keeper = None


# SQLite's words for a file that is not one of its databases, or a damaged one, said to a reader.
_SQLITE_SAYS = {
    "file is not a database": N_("the file is not a database"),
    "database disk image is malformed": N_("the file is damaged (malformed)"),
}
READ_ONLY = N_(
    "the class database {path} is read-only: nothing new can be stored "
    "(drawing still works; the teacher can fix the file's permissions)"
)


def _sqlite_said(exc: Exception) -> str:
    """Why SQLite refused the file, as a reader is told it: this module's own reason (a
    :class:`Deferred`), SQLite's words for a bad file in the reader's language, else SQLite's own."""
    said = exc.args[0] if exc.args and isinstance(exc.args[0], Deferred) else str(exc)
    return Deferred(_SQLITE_SAYS[said]) if said in _SQLITE_SAYS else said


def _corrupted(exc: Exception) -> bool:
    """Whether SQLite's error says the file's contents are bad (rather than out of reach)."""
    text = str(exc).lower()
    return any(words in text for words in ("not a database", "malformed", "integrity check", "not a class database"))
