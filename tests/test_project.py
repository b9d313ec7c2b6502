"""The project's own rules, checked on the tree as it is: core never pulls in the interface, the
sources point at nothing a reader cannot open, and no module, page or folder outgrows its size.

The tree is what git knows (tracked files, and new ones it does not ignore), so a build output or a
virtual environment is never read, and a file being written is checked as soon as it exists.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import tiers_of
from tests.harness import ROOT, run_page

# Each of these starts a fresh interpreter (seconds of importing torch) yet belongs to the edit-test
# loop: a wrong import or an oversized module is what an edit breaks.
pytestmark = pytest.mark.fast

INTERFACE = ("streamlit", "plotly", "dashboard", "pages")
PAGE_LINES = 250  # pages/*.py stay thin: they read their widgets, call core, draw with dashboard
MODULE_LINES = 400
SIZED = ("core", "dashboard", "serve", "benchmarks")
FOLDER_MODULES = 15  # a folder with more holds several things: give them sub-packages

# What a reader of the repository cannot open: a design note that is not in it, the files shared
# between sessions, an issue tracker's numbers ("issue 19", "issue #19", "issues 3", "(#19)", "PR #4").
OUTSIDE = re.compile(r"DESIGN\.md|\bshared/|\bissues?\s*#?\d+|\(#\d+\)|\bPR\s*#\d+", re.IGNORECASE)

# Imports every module of core, noting the first one after which each interface module is loaded.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
import core
INTERFACE = {interface!r}
loaded, brought = [], {{}}
for info in pkgutil.walk_packages(core.__path__, "core."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue  # the command line runs on import
    importlib.import_module(info.name)
    loaded.append(info.name)
    for name in sys.modules:
        top = name.split(".")[0]
        if top in INTERFACE and top not in brought:
            brought[top] = info.name
print(json.dumps({{"loaded": loaded, "brought": brought}}))
"""


def tree() -> list[Path]:
    """Every file of the working tree that git tracks or would track, relative to the root."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()})


def lines(path: Path) -> int:
    """``wc -l``'s count: newline characters."""
    return (ROOT / path).read_bytes().count(b"\n")


def test_core_imports_nothing_of_the_interface():
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL.format(interface=INTERFACE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    # Every module of core was imported: at least its 40-odd modules, the packages among them.
    assert len(found["loaded"]) >= 40 and "core.classroom.store" in found["loaded"], found["loaded"]
    assert found["brought"] == {}, ", ".join(f"{top} (loaded by {module})" for top, module in found["brought"].items())


def test_no_file_outside_tests_points_at_what_the_repository_does_not_hold():
    offenders = []
    for path in tree():
        if path.parts[0] == "tests":
            continue
        raw = (ROOT / path).read_bytes()
        if b"\0" in raw:
            continue  # a binary: checkpoint weights, a compiled catalogue, a picture
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for found in OUTSIDE.finditer(line):
                offenders.append(f"{path}:{number}: {found.group(0)!r} in {line.strip()[:100]}")
    assert not offenders, "\n" + "\n".join(offenders)


def test_the_pattern_finds_what_it_is_meant_to_and_nothing_else():
    meant = ["see DESIGN.md", "shared/seeds", "issue 19", "Issue #19", "issues 3 and 4", "fixed (#19)", "PR #4"]
    fine = ["issued = str(now)", "the shared model", "digit #0 (a 7)", "colour (#1f77b4)", "an issue with it"]
    assert [bool(OUTSIDE.search(text)) for text in meant] == [True] * len(meant)
    assert [bool(OUTSIDE.search(text)) for text in fine] == [False] * len(fine)


def test_no_page_module_or_folder_outgrows_its_size():
    python = [path for path in tree() if path.suffix == ".py"]
    too_long = [
        f"{path}: {lines(path)} lines (at most {PAGE_LINES})"
        for path in python
        if path.parts[0] == "pages" and lines(path) > PAGE_LINES
    ] + [
        f"{path}: {lines(path)} lines (at most {MODULE_LINES})"
        for path in python
        if path.parts[0] in SIZED and lines(path) > MODULE_LINES
    ]
    per_folder = Counter(path.parent for path in python if path.parts[0] != "tests")
    crowded = [
        f"{folder}/: {count} modules (at most {FOLDER_MODULES})"
        for folder, count in sorted(per_folder.items())
        if count > FOLDER_MODULES
    ]
    assert not too_long + crowded, "\n" + "\n".join(too_long + crowded)


def test_no_test_module_imports_another():
    # What tests share is in tests/harness.py (helpers), tests/class_hand.py and tests/conftest.py
    # (fixtures); a test module importing another runs that one's module-level code and ties them.
    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level:  # from .test_x import y, from . import test_x
                names += [f"tests.{node.module}"] if node.module else [f"tests.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names += [node.module or ""]
            offenders += [
                f"tests/{path.name}:{node.lineno}: {name}" for name in names if name.startswith("tests.test_")
            ]
    assert not offenders, "\n" + "\n".join(offenders)


def test_the_sizes_are_counted_as_wc_counts_them(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "three.py").write_text("a = 1\nb = 2\nc = 3\n")
    (tmp_path / "no_last_newline.py").write_text("a = 1\nb = 2")
    assert (lines(Path("three.py")), lines(Path("no_last_newline.py"))) == (3, 1)  # `wc -l` says 3 and 1


# --- the tiers conftest.py gives each test (make test-fast runs the fast ones) ------------------------


class _Item:
    """What conftest's tiers_of reads of a collected test."""

    def __init__(self, function, fixtures=(), marks=()):
        self.function, self.fixturenames = function, list(fixtures)
        self._fixtureinfo = types.SimpleNamespace(name2fixturedefs={})
        self.marks = [getattr(pytest.mark, name).mark for name in marks]

    def iter_markers(self):
        return iter(self.marks)

    def get_closest_marker(self, name):
        return next((mark for mark in self.marks if mark.name == name), None)


def _opens_a_page():
    return run_page("home")  # never called: what matters is that the code names it


def _through_a_helper():
    return _opens_a_page()


def _starts_python():
    return subprocess.run([sys.executable, "-c", "pass"])


def _plain():
    return sum(range(3))


def test_a_tests_tier_is_read_from_its_fixtures_its_helpers_and_its_marks():
    assert tiers_of(_Item(_plain)) == set()
    assert tiers_of(_Item(_plain, fixtures=["tmp_path", "browser_page", "browser"])) == {"browser"}
    assert tiers_of(_Item(_plain, fixtures=["streamlit_server"])) == {"server"}
    assert tiers_of(_Item(_through_a_helper)) == {"apptest"}  # two calls deep, within tests/
    assert tiers_of(_Item(_starts_python)) == {"subprocess"}
    assert tiers_of(_Item(_plain, marks=["fullset"])) == {"fullset"}
    assert tiers_of(_Item(_starts_python, marks=["fast"])) == set()  # a check kept in the loop on purpose
