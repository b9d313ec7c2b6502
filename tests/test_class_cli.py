"""``python -m core class ...`` as a user runs it (a subprocess, on a store of its own)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.classroom.db import DB_ENV
from core.classroom.store import ClassStore
from tests.harness import ROOT, needs_lenet5


def core(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, DB_ENV: str(db)},
    )


def filled(tmp_path: Path) -> ClassStore:
    store = ClassStore(tmp_path / "class.sqlite")
    for i, (label, answer) in enumerate([(4, 9), (4, 4), (7, 7)]):
        picture = np.zeros((28, 28), np.uint8)
        picture[5:20, 10 + i] = 255
        probs = [0.91 if d == answer else 0.01 for d in range(10)]
        store.add(
            student_key=f"k{i}",
            label=label,
            model="lenet5",
            prediction=answer,
            probabilities=probs,
            image=picture,
            now=100.0 + i,
        )
    return store


def test_summary_json_is_design_mds_shape(tmp_path):
    store = filled(tmp_path)
    result = core(store.path, "class", "summary", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"session", "entries", "students", "by_label", "right"}
    assert (summary["entries"], summary["students"], summary["right"]) == (3, 3, {"lenet5": 2})
    assert summary["by_label"]["4"] == 2 and summary["by_label"]["7"] == 1 and len(summary["by_label"]) == 10


def test_sessions_and_export_of_an_older_session(tmp_path):
    store = filled(tmp_path)
    first = store.current_session().id
    store.new_session("next lesson")
    listed = json.loads(core(store.path, "class", "sessions", "--json").stdout)
    assert [(s["session"], s["entries"], s["current"]) for s in listed] == [(first + 1, 0, True), (first, 3, False)]
    result = core(store.path, "class", "export", str(tmp_path / "old.npz"), "--session", str(first))
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "old.npz")["labels"].tolist() == [4, 4, 7]
    assert (tmp_path / "old.csv").read_text().count("\n") == 4


def test_an_unknown_session_is_one_line_and_exit_2(tmp_path):
    store = filled(tmp_path)
    result = core(store.path, "class", "summary", "--session", "99")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: there is no class session 99; `python -m core class sessions` lists them"


# --- issue 17: add, finetune, export's MNIST layout ------------------------------------------------


def lenet5_folder(tmp_path: Path) -> Path:
    """A checkpoint folder with a copy of the shipped lenet5: what the CLI writes goes there."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for suffix in (".pt", ".json"):
        shutil.copy(ROOT / "checkpoints" / f"lenet5{suffix}", folder / f"lenet5{suffix}")
    return folder


@needs_lenet5
def test_add_json_reports_what_was_added_and_what_was_refused_and_why(tmp_path):
    from tests.class_hand import render_digit

    picture = tmp_path / "seven.png"
    Image.fromarray(255 - np.kron(render_digit(7, np.random.default_rng(0)), np.ones((6, 6), np.uint8))).save(picture)
    (tmp_path / "notes.txt").write_text("not a picture")
    Image.new("L", (100, 100), 255).save(tmp_path / "empty.png")
    db = tmp_path / "class.sqlite"
    files = [str(picture), str(tmp_path / "notes.txt"), str(tmp_path / "empty.png")]
    result = core(db, "class", "add", "--label", "7", *files, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(a["source"], a["label"], a["cell"]) for a in report["added"]] == [(str(picture), 7, None)]
    assert 0 <= report["added"][0]["prediction"] <= 9 and report["model"] == "lenet5"
    assert [(r["source"], r["reason"].split(":")[0]) for r in report["refused"]] == [
        (files[1], "not an image that can be read (PNG, JPEG, GIF, BMP, ...)"),
        (files[2], "the picture is empty"),
    ]
    assert ClassStore(db).summary()["entries"] == 1
    refused = core(db, "class", "add", "--label", "7", files[1], "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["added"] == []  # nothing added: exit 1
    wrong = core(db, "class", "add", "--labels", "12", str(picture))
    assert (
        wrong.returncode == 2
        and wrong.stderr.strip() == "error: 2 labels for 1 picture(s): give one per picture, in order"
    )


@needs_lenet5
@pytest.mark.fullset  # MNIST's 10,000 test images before and after the fine-tune
def test_finetune_json_prints_before_and_after_under_keys_that_say_which(tmp_path, capsys):
    from tests.class_hand import fill_store, scripted_class

    store = ClassStore(tmp_path / "class.sqlite")
    images, labels = scripted_class(per_label=30, seed=0)
    fill_store(store, images, labels)
    folder = lenet5_folder(tmp_path)
    started = time.perf_counter()
    result = core(store.path, "class", "finetune", "lenet5", "--folder", str(folder), "--json")
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    with capsys.disabled():
        print(
            f"\n[`python -m core class finetune lenet5 --json` on 300 digits: {seconds:.1f} s in all, "
            f"{figures['seconds']} s in the fine-tune]"
        )
    assert set(figures["class"]) == {"before", "after", "n"} and set(figures["mnist"]) == {"before", "after", "n"}
    assert figures["class"]["n"] == 60 and figures["mnist"]["n"] == 10_000
    assert figures["class"]["after"] > figures["class"]["before"]
    assert figures["mnist"]["before"] - figures["mnist"]["after"] < 0.01
    name = f"class_lenet5_{store.current_session().id}"
    assert figures["saved"] == str(folder / f"{name}.pt") and (folder / f"{name}.json").is_file()
    # The fine-tuned checkpoint is a checkpoint like any other: `evaluate --data` on the class's
    # exported test digits (the same held-out digits) gives its "class after" figure.
    assert core(store.path, "class", "export", str(tmp_path / "home" / "ours.npz")).returncode == 0
    evaluated = core(
        store.path, "evaluate", str(folder / f"{name}.pt"), "--data", str(tmp_path / "home" / "ours"), "--json"
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(figures["class"]["after"])
    assert json.loads(evaluated.stdout)["n"] == 60


def test_finetune_on_too_few_digits_is_one_line(tmp_path):
    store = filled(tmp_path)
    result = core(store.path, "class", "finetune", "lenet5", "--folder", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: fine-tuning needs at least 30 of the class's digits and session 1 has 3: send 27 more first"
    )
