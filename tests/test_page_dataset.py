"""/dataset: the page runs, the grid shows as many images as asked, the controls react."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.harness import open_page, screenshot, wait_idle

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "dataset.py")


def grid_captions(at: AppTest) -> list[str]:
    """Captions of the sample grid: the first st.image element on the page."""
    images = [el for el in at.main.children.values() if type(el).__name__ == "Image"]
    return [img.caption for img in images[0].proto.imgs]


@pytest.fixture(scope="module")
def at():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def test_default_grid_is_the_first_25_training_images(at):
    captions = grid_captions(at)
    assert len(captions) == 25  # the slider's default, the write-ups' 5x5 preview
    # MNIST's first training labels are 5 0 4 1 9 (the dataset file's order).
    assert [c.split()[0] for c in captions[:5]] == ["5", "0", "4", "1", "9"]


def test_grid_shows_the_number_asked_for(at):
    for n in (1, 24, 100):
        at.slider(key="n").set_value(n).run()
        assert not at.exception
        assert len(grid_captions(at)) == n


def test_class_filter_test_split_and_seed(at):
    at.slider(key="n").set_value(12)
    at.segmented_control(key="split").set_value("test")
    at.selectbox(key="digit").set_value(3)
    at.toggle(key="shuffle").set_value(True).run()
    assert not at.exception
    first = grid_captions(at)
    assert len(first) == 12 and all(c.split()[0] == "3" for c in first)
    at.number_input(key="seed").set_value(8).run()
    assert grid_captions(at) != first  # another seed draws other images


def test_one_image_detail_and_one_hot(at):
    at.segmented_control(key="split").set_value("train")
    at.number_input(key="index").set_value(0).run()
    assert not at.exception
    assert at.metric[0].value == "5"  # training image #0 is a 5
    text = " ".join(m.value for m in at.markdown)
    assert "0.1307" in text and "0.3081" in text and "47,040,000" in text
    assert "-0.4242" in text and "2.8215" in text  # black and white after normalisation


@pytest.mark.browser
def test_browser_dataset_page(streamlit_server, browser_page):
    # Streamlit scrolls inside its own container: a tall viewport puts the whole page in the shot.
    browser_page.set_viewport_size({"width": 1400, "height": 4200})
    open_page(browser_page, streamlit_server.url + "/dataset")
    assert browser_page.locator("[data-testid='stException']").count() == 0
    # Images arrive a moment after the script run ends: wait for them rather than count at once.
    browser_page.wait_for_function(
        "document.querySelectorAll(\"[data-testid='stImage'] img\").length >= 25 + 10", timeout=60_000
    )
    screenshot(browser_page, "dataset")
    browser_page.get_by_role("tab", name="After normalisation").click()
    wait_idle(browser_page)
    screenshot(browser_page, "dataset_normalised")
