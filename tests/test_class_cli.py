"""``python -m core class ...`` as a user runs it (a subprocess, on a store of its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.class_store import DB_ENV, ClassStore

ROOT = Path(__file__).resolve().parent.parent


def core(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, DB_ENV: str(db)})


def filled(tmp_path: Path) -> ClassStore:
    store = ClassStore(tmp_path / "class.sqlite")
    for i, (label, answer) in enumerate([(4, 9), (4, 4), (7, 7)]):
        picture = np.zeros((28, 28), np.uint8)
        picture[5:20, 10 + i] = 255
        probs = [0.91 if d == answer else 0.01 for d in range(10)]
        store.add(student_key=f"k{i}", label=label, model="lenet5", prediction=answer, probabilities=probs,
                  image=picture, now=100.0 + i)
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
