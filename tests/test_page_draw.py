"""/draw: AppTest of the page script with a drawing injected, and a browser test on the real canvas.

The expected prediction is core's own answer (core.preprocess -> core.inference.predict with the
same checkpoint), and for the digits used here also the true label: MNIST test digit #0 is a 7,
a drawn vertical stroke a 1 and a drawn circle a 0. Tests that need a trained network use
``checkpoints/lenet5`` and are skipped, saying so, where it has not been trained yet.
"""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import open_page, screenshot, wait_idle
from core import checkpoints, inference, preprocess
from core.data import load_test

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "draw.py")
PROMPT = "Draw a digit in the black square"
METRIC = "[data-testid='stMetricValue']"

needs_lenet5 = pytest.mark.skipif(
    not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(),
    reason=f"no trained lenet5 in {checkpoints.DEFAULT_DIR}: run `make checkpoints` "
           "(or `python -m core train lenet5`)")


def drawn_seven() -> np.ndarray:
    """MNIST test digit #0 (a 7) blown up 10x to canvas size, 280 x 280 grey."""
    digit = load_test().images[0].numpy()
    return np.kron(digit, np.ones((10, 10), dtype=np.uint8))


def page_with(picture) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["draw_image_override"] = picture
    return at.run()


def test_empty_canvas_shows_a_friendly_prompt():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert any(PROMPT in info.value for info in at.info)
    assert len(at.metric) == 0 and len(at.error) == 0


def test_a_stray_dot_says_too_little_ink():
    dot = np.zeros((280, 280), dtype=np.uint8)
    dot[140:146, 100:106] = 255  # 6 px of 280: under the 10% (28 px) a digit needs
    at = page_with(dot)
    assert not at.exception, at.exception
    assert [w.value.split(":")[0] for w in at.warning] == ["Too little ink"]
    assert len(at.metric) == 0


@pytest.mark.parametrize("payload, words", [
    (b"this is a text file, not a picture", "not an image that can be read"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20_000_001), "above the limit of 20,000,000"),
])
def test_bad_uploads_give_a_clear_error_and_no_traceback(payload, words):
    at = page_with(payload)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("This file cannot be used")
    assert words in at.error[0].value


@needs_lenet5
def test_injected_drawing_shows_the_predicted_digit_and_every_panel():
    picture = drawn_seven()
    at = page_with(picture)
    assert not at.exception, at.exception
    model, _ = checkpoints.load("lenet5")
    expected = inference.predict(model, preprocess.from_array(picture).tensor).prediction
    assert expected == 7  # MNIST's label for test digit #0
    assert [m.value for m in at.metric] == ["7"]
    captions = " ".join(c.value for c in at.caption)
    for step in ("What you drew · 280 × 280", "Longer side 20 px", "Centred in 28 × 28 · 28 × 28"):
        assert step in captions
    stages = " ".join(m.value for m in at.markdown)
    # lenet5's stages (seed 004): conv 6@5x5 pad 2 keeps 28x28; pooling halves it.
    assert "**conv1** · Conv2d · `6@28×28`" in stages and "**pool2** · MaxPool2d · `16@5×5`" in stages
    assert "class **7**" in captions  # the attribution maps explain the predicted class


@needs_lenet5
def test_look_closer_sanity_check_and_another_target():
    at = page_with(drawn_seven())
    at.selectbox(key="draw_stage").set_value(3).run()  # pool1
    at.slider(key="draw_channel").set_value(5).run()
    assert not at.exception, at.exception
    assert any("made the channel that pool1 turned into" in c.value for c in at.caption)
    at.selectbox(key="draw_target").set_value(1).run()
    at.multiselect(key="draw_methods").set_value(["saliency", "deeplift", "occlusion"]).run()
    at.toggle(key="draw_sanity").set_value(True).run()
    assert not at.exception, at.exception
    assert any("class **1**" in c.value for c in at.caption)
    assert any(m.value == "**Random weights (sanity check)**" for m in at.markdown)


@needs_lenet5
def test_compare_mode_shows_one_prediction_per_model():
    names = [info.name for info in checkpoints.list_checkpoints()]
    at = page_with(drawn_seven())
    at.toggle(key="draw_compare").set_value(True).run()
    assert not at.exception, at.exception
    shown = 1 + min(1, len(names) - 1)  # lenet5 and, by default, the first other checkpoint
    assert len(at.metric) == shown
    assert at.metric[0].value == "7"


def test_a_network_without_convolutions_has_no_maps_and_no_grad_cam():
    mlps = [info.name for info in checkpoints.list_checkpoints() if info.preset.startswith("mlp")]
    if not mlps:
        pytest.skip(f"no MLP checkpoint in {checkpoints.DEFAULT_DIR}")
    at = page_with(drawn_seven())
    at.selectbox(key="draw_model").set_value(mlps[0]).run()
    assert not at.exception, at.exception
    assert any("no convolutional layers" in info.value for info in at.info)
    assert "grad_cam" not in at.multiselect(key="draw_methods").options


# --- the real canvas in Chromium ------------------------------------------------------------

def draw(page, points: list[tuple[float, float]]) -> None:
    """One stroke through canvas-relative points, with small mouse moves as a hand would make."""
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=3)
    page.mouse.up()


def prediction_after_drawing(page, points) -> str:
    draw(page, points)
    page.wait_for_selector(METRIC, timeout=60_000)
    wait_idle(page)
    return page.locator(METRIC).first.inner_text().strip()


def clear(page) -> None:
    page.locator(".st-key-draw_clear button").click()
    page.get_by_text(PROMPT).wait_for(timeout=60_000)
    wait_idle(page)


@pytest.mark.browser
@needs_lenet5
def test_browser_draw_a_one_and_a_zero_then_clear(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 3400})  # the whole page in the screenshots
    open_page(page, streamlit_server.url + "/draw")
    page.wait_for_selector("canvas.upper-canvas", timeout=60_000)
    assert page.get_by_text(PROMPT).count() == 1
    screenshot(page, "draw_empty")

    one = [(140, 45 + 10 * k) for k in range(20)]  # a vertical stroke, 190 px of 280
    assert prediction_after_drawing(page, one) == "1"
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw_one")

    clear(page)
    assert page.locator(METRIC).count() == 0

    angles = np.linspace(0, 2 * np.pi, 41)
    zero = [(140 + 65 * np.sin(a), 140 - 95 * np.cos(a)) for a in angles]  # an upright oval
    assert prediction_after_drawing(page, zero) == "0"
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw_zero")

    clear(page)
    assert page.locator(METRIC).count() == 0
    screenshot(page, "draw_cleared")


def png_bytes(grey: np.ndarray) -> bytes:
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.browser
@needs_lenet5
def test_browser_upload_bad_then_good_picture_compare_and_sanity(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 3400})
    open_page(page, streamlit_server.url + "/draw")
    page.get_by_text("Upload a picture", exact=True).click()
    wait_idle(page)
    chooser = page.locator("input[type='file']")
    chooser.set_input_files(files=[{"name": "notes.png", "mimeType": "image/png",
                                    "buffer": b"a text file that only claims to be a PNG"}])
    page.get_by_text("This file cannot be used").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw_upload_error")

    # MNIST test digit #0 (a 7), dark ink on white paper as a photo or scan would be.
    chooser.set_input_files(files=[{"name": "seven.png", "mimeType": "image/png",
                                    "buffer": png_bytes(255 - drawn_seven())}])
    page.wait_for_selector(METRIC, timeout=60_000)
    wait_idle(page)
    assert page.locator(METRIC).first.inner_text().strip() == "7"

    page.get_by_text("Compare models side by side").click()
    wait_idle(page)
    page.get_by_text("Sanity check", exact=True).click()
    wait_idle(page)
    page.get_by_text("Random weights (sanity check)").wait_for(timeout=60_000)
    others = len(checkpoints.list_checkpoints()) > 1
    assert page.locator(METRIC).count() == (2 if others else 1)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw_upload_compare_sanity")
