"""/design in Chromium, end to end: the teacher starts from lenet5, gives C1 16 filters and sees
156 become 416, writes an impossible design and reads its sentence, trains a design for one epoch
on 2,000 images from the page, finds it in /draw's picker; a phone opens the design's link and
gets the same table. A server of its own: its checkpoint folder a temporary copy, localhost a
student (the teacher link makes the teacher)."""

from __future__ import annotations

import shutil
import urllib.parse

import pytest

from core.classroom import teacher
from core.models import checkpoints
from core.models.design import checkpoint_name, parse
from tests.harness import open_page, screenshot, start_streamlit, wait_idle

TOKEN = "design-browser-test-token"
LENET5 = "conv6k5p2 bn relu max2 conv16k5 bn relu max2 flat dense120 relu dense84 relu"
TRAINED = "conv8k5 relu max2 dense32 relu"  # 10 s of one core at most: 2,000 images, one epoch


@pytest.fixture(scope="module")
def design_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    for path in checkpoints.DEFAULT_DIR.glob("lenet5.*"):
        shutil.copy(path, folder / path.name)
    jobs = tmp_path_factory.mktemp("jobs")
    server = start_streamlit(
        env={
            "CNN_EXPLAINER_CHECKPOINTS": str(folder),
            "CNN_EXPLAINER_JOBS_DIR": str(jobs),
            teacher.LOCAL_ENV: "0",
            teacher.TOKEN_ENV: TOKEN,
        }
    )
    server.folder = folder
    yield server
    server.stop()


def layer_table(page) -> str:
    """The layer table's text (an HTML table: every row in the page)."""
    table = page.locator("[data-testid='stTable']").first
    table.wait_for(timeout=30_000)
    return table.inner_text()


def write_notation(page, text: str) -> None:
    field = page.get_by_label("The network in one line", exact=True)
    field.fill(text)
    field.press("Enter")
    wait_idle(page)


@pytest.mark.browser
def test_browser_design_edit_refuse_train_find_and_share(design_server, browser):
    laptop = browser.new_context(viewport={"width": 1400, "height": 1100})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = laptop.new_page()
        open_page(page, design_server.url + f"/design?teacher={TOKEN}")
        assert page.locator("[data-testid='stException']").count() == 0
        before = layer_table(page)
        assert "(5x5x1 + 1) x 6 = 156" in before  # C1 of the modern LeNet: (5x5x1 + 1) x 6
        # C1 at 16 filters, in the chosen layer's own field (conv1 is chosen first)
        filters = page.locator(".st-key-design_layer_form").get_by_label("filters", exact=True)
        filters.fill("16")
        filters.press("Enter")
        wait_idle(page)
        page.get_by_text("(5x5x1 + 1) x 16 = 416").wait_for(timeout=30_000)
        after = layer_table(page)
        assert "+260" in after  # 416 - 156, the changed row marked
        assert page.get_by_label("The network in one line", exact=True).input_value() == LENET5.replace(
            "conv6k5p2", "conv16k5p2"
        )
        screenshot(page, "design_c1_16")
        shared = page.url  # the design in the link
        assert "net=" in shared and "conv16k5p2" in urllib.parse.unquote_plus(shared)

        # an impossible design: its sentence, and the page goes on
        write_notation(page, "conv6k5 max2 conv16k5 max2 conv32k5")
        page.get_by_text("conv3: a 5x5 kernel does not fit the 4x4 map: pad by 1 or use a 3x3 kernel").wait_for(
            timeout=30_000
        )
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, "design_refused")

        # train a small design from the page: one epoch on 2,000 images
        write_notation(page, TRAINED)
        images = page.get_by_label("Training images", exact=True)
        images.fill("2000")
        images.press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Train this design").click()
        name = checkpoint_name(parse(TRAINED))
        page.get_by_text(f"saved as '{name}'").first.wait_for(timeout=120_000)
        info = checkpoints.read_info(name, design_server.folder)
        assert info.record["config"] == {"notation": parse(TRAINED).notation}
        assert info.record["recipe"]["limit"] == 2000 and len(info.record["history"]) == 1
        # (5x5x1+1)x8 = 208; 24 -> pool 12: (8x12x12+1)x32 = 36,896; (32+1)x10 = 330
        assert info.record["params"] == 208 + 36896 + 330
        screenshot(page, "design_trained")

        # /draw's picker offers it: a link that names it is taken, not refused
        open_page(page, design_server.url + f"/draw?draw_model={name}")
        about = page.get_by_text(parse(TRAINED).notation).first  # under the picker: what the chosen one is
        about.wait_for(timeout=30_000)
        assert name in about.inner_text()
        assert page.get_by_text("is not a value this page accepts").count() == 0

        # a second browser, a phone, opens the design's link: the same table
        small = phone.new_page()
        open_page(small, shared)
        assert small.locator("[data-testid='stException']").count() == 0
        small.get_by_text("(5x5x1 + 1) x 16 = 416").wait_for(timeout=30_000)
        assert layer_table(small) == after
        screenshot(small, "design_phone_link")
    finally:
        laptop.close()
        phone.close()
