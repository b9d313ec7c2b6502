"""Shared fixtures (a running Streamlit server, a headless Chromium page, core speaking Chinese),
the run's environment, and the tiers every collected test is marked with.

Browser tests: ``def test_x(streamlit_server, browser_page): open_page(browser_page,
streamlit_server.url + "/draw")``. Screenshots go to ``artifacts/screenshots/``.
Helpers the tests import (``open_page``, ``screenshot``, ``start_streamlit``, ``needs_lenet5``...)
live in ``tests/harness.py``.

Tiers (``pytest -m fast`` is ``make test-fast``): ``browser``, ``server``, ``apptest``, ``fullset``,
``subprocess``, each read from what a test uses (see ``tiers_of``); a test in none of them is ``fast``.
"""

from __future__ import annotations

import os
import tempfile
import types

import pytest
import torch

from tests.harness import CHROMIUM_FLAGS, chromium_path, speak_chinese, start_streamlit

# The class store of the whole run (and of every server it starts): a file of its own, never the
# repository's artifacts/class.sqlite.
os.environ["CNN_EXPLAINER_CLASS_DB"] = os.path.join(tempfile.mkdtemp(prefix="class-db-"), "class.sqlite")
# ...and its training runs' lock and progress files (core.training.jobs.runner), never the repository's artifacts/jobs.
os.environ["CNN_EXPLAINER_JOBS_DIR"] = tempfile.mkdtemp(prefix="jobs-")

# The suite shares 2 cores with a Streamlit server and Chromium: with torch's default of one
# thread per core, its threads spin against theirs and tiny ops get ~100x slower.
torch.set_num_threads(1)


# --- tiers: `make test-fast` runs the tests that need none of these (pytest -m fast) ---------------
# A tier is seen in the fixtures a test uses, in the names its code (and the tests' own helpers it
# calls, followed into tests/*.py) refers to, or in an explicit mark where neither shows it.
TIERS = {
    "browser": ({"browser", "browser_page"}, {"sync_playwright", "chromium_path"}),
    "server": ({"streamlit_server"}, {"start_streamlit", "StreamlitServer"}),
    "apptest": (set(), {"run_page", "AppTest"}),
    "fullset": (set(), set()),  # whole-set work hides in core's calls: marked explicitly
    "subprocess": (set(), {"subprocess", "Popen"}),
}


def _names(code: types.CodeType) -> set[str]:
    """The global and attribute names a code object refers to, its nested functions' included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _reached(function, seen: set) -> set[str]:
    """The names ``function`` refers to, and those of every function or class of tests/ it names."""
    code = getattr(function, "__code__", None)
    if code is None or code in seen:
        return set()
    seen.add(code)
    names = _names(code)
    for name in list(names):
        found = function.__globals__.get(name)
        if not getattr(found, "__module__", "").startswith("tests"):
            continue
        if isinstance(found, type):
            for member in vars(found).values():
                names |= _reached(getattr(member, "fget", member), seen)
        else:
            names |= _reached(found, seen)
    return names


def tiers_of(item) -> set[str]:
    """The tiers a collected test belongs to (empty: it is fast). An explicit ``fast`` mark keeps a
    test in the loop whatever it uses (a check worth its seconds there)."""
    if item.get_closest_marker("fast"):
        return set()
    tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
    functions = [getattr(item, "function", None)]
    for definitions in item._fixtureinfo.name2fixturedefs.values():  # pytest's own are read by name only
        functions += [d.func for d in definitions if getattr(d.func, "__module__", "").startswith("tests")]
    seen: set = set()
    names = set().union(*(_reached(function, seen) for function in functions if function is not None))
    for tier, (fixtures, referred) in TIERS.items():
        if fixtures & set(item.fixturenames) or referred & names:
            tiers.add(tier)
    return tiers


def pytest_collection_modifyitems(config, items):
    for item in items:
        tiers = tiers_of(item)
        for tier in sorted(tiers):
            item.add_marker(tier)
        if not tiers:
            item.add_marker("fast")


@pytest.fixture(scope="session")
def streamlit_server():
    server = start_streamlit()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    chromium = chromium_path()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def store(tmp_path):
    """A class store of the test's own: an empty SQLite file in its temporary folder."""
    from core.classroom.store import ClassStore

    return ClassStore(tmp_path / "class.sqlite")


@pytest.fixture
def in_chinese(monkeypatch):
    """The test's texts in Chinese (harness.speak_chinese from its start)."""
    speak_chinese(monkeypatch)
