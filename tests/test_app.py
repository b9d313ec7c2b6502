"""The app shell: it runs, and the navigation lists its nine pages (README's table)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.harness import open_page, screenshot

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGE_PATHS = ["home", "dataset", "convolution", "architecture", "design", "draw", "training", "class", "models"]


def test_app_runs_without_exception():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("Compute" in c.value for c in at.sidebar.caption)


@pytest.mark.browser
def test_browser_shows_navigation(streamlit_server, browser_page):
    open_page(browser_page, streamlit_server.url)
    assert browser_page.locator("[data-testid='stException']").count() == 0
    links = browser_page.locator("[data-testid='stSidebarNav'] a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for path in PAGE_PATHS[1:]:
        assert any(h.rstrip("/").endswith("/" + path) for h in hrefs), (path, hrefs)
    assert len(hrefs) == len(PAGE_PATHS) == 9
    screenshot(browser_page, "home")
