"""The class store (core.classroom.store): what is kept, what is refused, and faults that lose nothing.

Expected values are the ones put in: a digit sent is the digit read back, byte for byte.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from core.classroom import export
from core.classroom import store as class_store
from core.classroom.db import DB_ENV, AlreadySent, BadEntry, StoreError, StoreUnavailable, TooFast
from core.classroom.store import ClassStore
from tests.class_hand import probabilities_for
from tests.harness import ROOT


def digit(value: int = 200, seed: int = 0) -> np.ndarray:
    """A 28x28 uint8 picture with some ink: a random block, so two digits differ."""
    rng = np.random.default_rng(seed)
    picture = np.zeros((28, 28), dtype=np.uint8)
    picture[6:22, 10:18] = rng.integers(1, value + 1, size=(16, 8))
    return picture


def send(
    store: ClassStore,
    key: str = "browser-a",
    label: int = 4,
    prediction: int = 9,
    *,
    now: float,
    nickname: str | None = None,
    seed: int | None = None,
):
    """One digit sent; a new drawing for each ``now`` unless ``seed`` names the drawing."""
    seed = int(now * 1000) if seed is None else seed
    return store.add(
        student_key=key,
        label=label,
        model="lenet5",
        prediction=prediction,
        probabilities=probabilities_for(prediction),
        image=digit(seed=seed),
        nickname=nickname,
        now=now,
    )


def test_a_digit_sent_is_read_back_as_it_was(store):
    picture = digit(seed=3)
    sent = store.add(
        student_key="k",
        label=4,
        model="lenet5",
        prediction=9,
        probabilities=probabilities_for(9, 0.8),
        image=picture,
        now=1000.0,
    )
    [back] = store.entries()
    assert back.id == sent.id and back.label == 4 and back.prediction == 9 and back.model == "lenet5"
    assert np.array_equal(back.image, picture) and back.image.dtype == np.uint8
    assert back.confidence == pytest.approx(0.8) and not back.right
    assert back.student == "Student 1" and back.sent_at == 1000.0


def test_students_are_numbered_per_session_and_nicknames_kept(store):
    send(store, "a", now=10)
    send(store, "b", now=11, nickname="  Ada  ")
    send(store, "a", now=12)
    assert [e.student for e in store.entries()] == ["Student 1", "Ada", "Student 1"]
    store.new_session("second lesson")
    send(store, "b", now=20)
    assert [e.student for e in store.entries()] == ["Student 1"]  # numbering starts again


def test_summary_counts_as_design_md_says(store):
    send(store, "a", label=4, prediction=4, now=1)
    send(store, "b", label=4, prediction=9, now=2)
    send(store, "c", label=7, prediction=7, now=3)
    summary = store.summary()
    assert summary["entries"] == 3 and summary["students"] == 3
    assert summary["by_label"] == {"0": 0, "1": 0, "2": 0, "3": 0, "4": 2, "5": 0, "6": 0, "7": 1, "8": 0, "9": 0}
    assert summary["right"] == {"lenet5": 2}


def test_filters_and_newest_first(store):
    send(store, "a", label=4, prediction=4, now=1)
    send(store, "b", label=4, prediction=9, now=2)
    send(store, "c", label=7, prediction=1, now=3)
    assert [e.label for e in store.entries()] == [7, 4, 4]
    assert [(e.label, e.prediction) for e in store.entries(mistakes_only=True)] == [(7, 1), (4, 9)]
    assert [e.prediction for e in store.entries(label=4)] == [9, 4]
    assert store.entries(model="lenet5_1998") == []


def test_hiding_takes_an_entry_off_the_wall_and_the_counts(store):
    first = send(store, "a", now=1)
    send(store, "b", now=2)
    before = store.latest()
    store.set_hidden(first.id)
    assert [e.id for e in store.entries()] != [] and first.id not in [e.id for e in store.entries()]
    assert first.id in [e.id for e in store.entries(include_hidden=True)]
    assert store.summary()["entries"] == 1
    assert store.latest() != before  # a poller sees the change


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"label": 10}, "label must be a digit from 0 to 9, got 10"),
        ({"label": -1}, "label must be a digit from 0 to 9"),
        ({"label": None}, "label must be a digit from 0 to 9, got None"),
        ({"label": True}, "label must be a digit from 0 to 9, got True"),
        ({"label": "4"}, "label must be a digit from 0 to 9, got '4'"),
        ({"nickname": "x" * 10_000}, "at most 20 characters (this one has 10,000)"),
        ({"image": np.zeros((28, 28), np.uint8)}, "the picture is empty"),
        ({"image": np.ones((280, 280), np.uint8)}, "28 x 28 picture"),
        ({"probabilities": [0.5] * 10}, "adding up to 1"),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_nothing_stored(store, changes, words):
    entry = dict(
        student_key="k",
        label=4,
        model="lenet5",
        prediction=9,
        probabilities=probabilities_for(9),
        image=digit(),
        now=5.0,
    )
    entry.update(changes)
    with pytest.raises(BadEntry, match=words.replace("(", r"\(").replace(")", r"\)")):
        store.add(**entry)
    assert store.entries(include_hidden=True) == []


def test_nickname_markup_is_kept_as_text_and_control_characters_dropped(store):
    sent = send(store, nickname="<b>\x00Bo\u200bb\x1b</b>", now=1)
    assert sent.student == "<b>Bob</b>"  # the page escapes it; the store keeps plain text


def test_one_digit_a_second_per_browser_session(store):
    send(store, "a", now=100.0)
    with pytest.raises(TooFast, match="one digit a second"):
        send(store, "a", now=100.4)
    send(store, "b", now=100.4)  # another student is not held back
    send(store, "a", now=101.1)
    assert len(store.entries()) == 3


def test_sessions_list_delete_and_the_current_one(store):
    first = store.current_session()
    send(store, "a", now=1)
    second = store.new_session("Tuesday")
    assert store.current_session().id == second.id and store.entries() == []
    listed = store.sessions()
    assert [(s["session"], s["entries"], s["current"]) for s in listed] == [(second.id, 0, True), (first.id, 1, False)]
    store.delete_session(first.id)
    assert [s["session"] for s in store.sessions()] == [second.id]
    with pytest.raises(StoreError, match=f"no class session {first.id}"):
        store.entries(first.id)


def test_export_writes_the_npz_and_csv_of_the_visible_digits(store, tmp_path):
    a = send(store, "a", label=4, prediction=9, now=1, seed=1)
    hidden = send(store, "b", label=1, prediction=1, now=2, seed=2)
    c = send(store, "c", label=7, prediction=7, now=3, seed=3)
    store.set_hidden(hidden.id)
    npz_path, csv_path = export.write_dataset(store, tmp_path / "out" / "class.npz")
    data = np.load(npz_path)
    assert data["images"].shape == (2, 28, 28) and data["images"].dtype == np.uint8
    assert np.array_equal(data["images"][0], a.image) and np.array_equal(data["images"][1], c.image)
    assert data["labels"].tolist() == [4, 7] and data["predictions"].tolist() == [9, 7]
    assert data["models"].tolist() == ["lenet5", "lenet5"] and data["sent_at"].tolist() == [1.0, 3.0]
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("index,entry,student,label,model,prediction,confidence,sent_at")
    assert len(lines) == 3


@pytest.mark.parametrize(
    "nickname, cell",
    [
        ('=HYPERLINK("ev.il")', '\'=HYPERLINK("ev.il")'),  # a spreadsheet would run it
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Ada", "Ada"),
        ("[hi](http://ev.il)", "[hi](http://ev.il)"),  # text as typed
    ],
)
def test_a_nickname_in_the_csv_is_never_a_spreadsheet_formula(store, nickname, cell):
    send(store, "a", now=1, nickname=nickname)
    _npz, text = export.payloads(store)
    [row] = list(csv.reader(io.StringIO(text.decode())))[1:]
    assert row[2] == cell


def test_a_nickname_is_plain_text_in_the_walls_hover_and_printed_wall(store):
    from dashboard.classroom import figures

    sent = send(store, "a", now=1, nickname="<a href=x>hi</a>")
    fig = figures.wall_figure([sent], columns=2, right_color="#000", wrong_color="#f00")
    hover = fig.data[0].hovertext[0]
    assert hover.startswith("&lt;a href=x&gt;hi&lt;/a&gt;: meant 4")  # plotly reads <a href> in a hover: escaped
    printed = export.wall_html(store, nicknames=True)
    assert "&lt;a href=x&gt;hi&lt;/a&gt;" in printed and "<a href" not in printed


def test_it_survives_a_reopen(tmp_path):
    path = tmp_path / "class.sqlite"
    sent = send(ClassStore(path), now=1)
    [back] = ClassStore(path).entries()
    assert back.id == sent.id and np.array_equal(back.image, sent.image)


def test_a_corrupted_file_is_moved_aside_untouched_and_a_new_one_started(tmp_path):
    path = tmp_path / "class.sqlite"
    garbage = b"this is not a database at all" * 100
    path.write_bytes(garbage)
    store = ClassStore(path)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("class.sqlite.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    assert "could not be read" in store.notices[0] and aside[0].name in store.notices[0]
    send(store, now=1)
    assert len(store.entries()) == 1


def test_a_file_deleted_while_the_server_runs_is_restored_from_its_open_copy(store):
    send(store, "a", now=1)
    send(store, "b", now=2)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.path}{suffix}").unlink(missing_ok=True)
    send(store, "c", now=3)
    assert [e.student for e in store.entries()] == ["Student 3", "Student 2", "Student 1"]
    assert "was deleted while the server ran" in store.notices[-1] and "(2 entries)" in store.notices[-1]
    assert len(ClassStore(store.path).entries()) == 3  # on disk, not just in memory


def test_a_newer_schema_is_refused_not_misread(tmp_path):
    path = tmp_path / "class.sqlite"
    ClassStore(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="newer version"):
        ClassStore(path)


@contextmanager
def read_only(folder: Path):
    """The folder and its files made read-only for this process: chmod for an ordinary user; for
    root, whom permissions do not bind, the immutable attribute (chattr +i)."""
    items = [folder, *folder.iterdir()]
    if os.geteuid() != 0:
        for item in items:
            item.chmod(0o555 if item.is_dir() else 0o444)
        try:
            yield
        finally:
            for item in items:
                item.chmod(0o755 if item.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *map(str, items)]).returncode != 0:
        pytest.skip("running as root and chattr +i is not available: cannot make a file read-only here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, items)], check=True)


def test_a_read_only_file_can_be_read_and_a_write_says_so(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "class.sqlite"
    writer = ClassStore(path)
    send(writer, now=1)
    writer.close()
    assert sorted(p.name for p in folder.iterdir()) == ["class.sqlite"]  # the WAL folded back in
    with read_only(folder):
        store = ClassStore(path)
        assert len(store.entries()) == 1
        with pytest.raises(StoreUnavailable, match="read-only: nothing new can be stored"):
            send(store, "b", now=2)
    assert len(ClassStore(path).entries()) == 1  # nothing lost, nothing half-written


WRITER_SCRIPT = """
import sys, numpy as np
from core.classroom.store import ClassStore
store = ClassStore(sys.argv[1])
for i in range(40):
    store.add(student_key=f"{sys.argv[2]}-{i}", label=i % 10, model="lenet5", prediction=i % 10,
              probabilities=[0.1] * 10, image=np.full((28, 28), 9, np.uint8))
"""


def test_two_server_processes_write_the_same_file_and_nothing_is_lost(tmp_path):
    path = tmp_path / "class.sqlite"
    ClassStore(path)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(path), name],
            cwd=ROOT,
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(120) == 0, writer.stderr.read()
    assert ClassStore(path).summary()["entries"] == 80


def test_the_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "elsewhere.sqlite"))
    assert class_store.default_path() == tmp_path / "elsewhere.sqlite"
    assert class_store.store().path == (tmp_path / "elsewhere.sqlite").resolve()


# --- one drawing, one entry ----------------------------------------------------------------------


def test_the_same_drawing_sent_again_changes_its_label_and_counts_once(store):
    first = send(store, "a", label=8, prediction=3, now=1, seed=5)
    before = store.latest()
    again = send(store, "a", label=0, prediction=3, now=3, seed=5)  # the same 28x28 digit, another label
    assert (again.id, again.label, again.relabelled_from) == (first.id, 0, 8)
    assert store.latest() != before  # a poller sees the new label
    with pytest.raises(TooFast):  # relabelling is no way round the one-a-second limit
        send(store, "a", label=6, prediction=3, now=3.5, seed=5)
    with pytest.raises(AlreadySent, match="already on the wall as a 0"):
        send(store, "a", label=0, prediction=3, now=9, seed=5)
    send(store, "b", label=6, prediction=3, now=10, seed=5)  # another student's identical digit is theirs
    # two drawings: the first student's once (with its last label), the second student's
    assert [(e.number, e.label) for e in store.entries()] == [(2, 6), (1, 0)]
    assert len(store.fooled()) == 2 and store.summary()["entries"] == 2


SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT NOT NULL, started REAL NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE students (session_id INTEGER NOT NULL, key TEXT NOT NULL, number INTEGER NOT NULL,
                       PRIMARY KEY (session_id, key));
CREATE TABLE entries (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, student_key TEXT NOT NULL,
    nickname TEXT NOT NULL DEFAULT '', label INTEGER NOT NULL, model TEXT NOT NULL, prediction INTEGER NOT NULL,
    probabilities BLOB NOT NULL, image BLOB NOT NULL, sent_at REAL NOT NULL, hidden INTEGER NOT NULL DEFAULT 0,
    unfair INTEGER NOT NULL DEFAULT 0);
INSERT INTO schema_version VALUES (1);
INSERT INTO sessions VALUES (1, 'Class of 2026-01-05 09:00', 1.0);
INSERT INTO settings VALUES ('current_session', '1');
INSERT INTO students VALUES (1, 'a', 1), (1, 'b', 2);
"""


def test_a_schema_1_file_is_upgraded_in_place_and_a_drawing_sent_three_times_is_one_entry(tmp_path):
    path = tmp_path / "class.sqlite"
    probs = np.asarray(probabilities_for(3), dtype=np.float32).tobytes()
    with sqlite3.connect(path) as db:  # a file as the dashboard wrote it before drawings were told apart
        db.executescript(SCHEMA_1)
        rows = [("a", 8, 5), ("a", 0, 5), ("a", 6, 5), ("b", 8, 5), ("a", 2, 6)]  # (student, label, drawing)
        db.executemany(
            "INSERT INTO entries (session_id, student_key, label, model, prediction, probabilities, "
            "image, sent_at) VALUES (1, ?, ?, 'lenet5', 3, ?, ?, ?)",
            [(key, label, probs, digit(seed=seed).tobytes(), 10.0 + i) for i, (key, label, seed) in enumerate(rows)],
        )
    store = ClassStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(5,)]  # upgraded through 2, 3 and 4
    # "a"'s drawing 5 three times: its newest (labelled 6) stays, the two older are hidden, not deleted
    assert [(e.number, e.label) for e in store.entries()] == [(1, 2), (2, 8), (1, 6)]
    assert len(store.entries(include_hidden=True)) == 5
    relabelled = store.add(
        student_key="a",
        label=9,
        model="lenet5",
        prediction=3,
        probabilities=probabilities_for(3),
        image=digit(seed=5),
        now=100,
    )
    assert (relabelled.id, relabelled.relabelled_from) == (3, 6)  # the upgraded entry is the drawing's entry
    assert ClassStore(path).summary()["entries"] == 3  # opened again: nothing upgraded twice


# --- what counts ------------------------------------------------------------------------------


def test_every_count_follows_the_one_rule_and_the_walls_filters(store):
    from core.classroom import lessons

    send(store, "a", label=4, prediction=9, now=1)
    unfair = send(store, "b", label=4, prediction=4, now=2)
    send(store, "c", label=7, prediction=7, now=3)
    hidden = send(store, "d", label=7, prediction=1, now=4)
    store.set_unfair(unfair.id)
    store.set_hidden(hidden.id)
    # 4 sent, 1 hidden, 1 not fair: 2 count, everywhere
    assert store.summary()["entries"] == 2 and store.summary()["students"] == 2
    assert store.sessions()[0]["entries"] == 2
    assert len(lessons.class_digits(store)) == 2
    assert sum(store.summary()["sent"].values()) == 2 and store.summary()["not_counted"] == 1
    # the wall's filters: digit meant 4 keeps a (counted) and b (not fair)
    assert store.summary(label=4)["entries"] == 1 and store.summary(label=4)["not_counted"] == 1
    assert store.summary(mistakes_only=True)["entries"] == 1 and store.summary(label=7)["right"] == {"lenet5": 1}
