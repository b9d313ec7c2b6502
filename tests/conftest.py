"""Shared fixtures: a running Streamlit server and a headless Chromium page.

Browser tests: ``def test_x(streamlit_server, browser_page): open_page(browser_page,
streamlit_server.url + "/draw")``. Screenshots go to ``artifacts/screenshots/``.
Helpers the tests import (``open_page``, ``screenshot``, ``start_streamlit``...) live in
``tests/harness.py``; this file holds only fixtures and the run's environment.
"""

from __future__ import annotations

import os
import tempfile

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
def in_chinese(monkeypatch):
    """The test's texts in Chinese (harness.speak_chinese from its start)."""
    speak_chinese(monkeypatch)
