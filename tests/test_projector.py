"""On a projector: 1280x720, presenter mode (?presenter=true), the sidebar open (issue 14).

At that size presenter mode's 20 px type leaves a main column 880 px wide. On /convolution the
Output grid wrapped below the Input grid and "Check and reveal" was cut to "Check a...": each
mode's step player must show its grids side by side, every button's text whole, and the buttons,
grids, equation and next guess on one screen, with the verdict of a guess beside the equation.
On /draw the FGSM result showed a flipped answer as good news (green) under a caption calling a
visible nudge one "a person hardly notices".
"""

import re

import pytest

from harness import open_page, screenshot, wait_idle
from core import checkpoints
from dashboard import palettes

PROJECTOR = {"width": 1280, "height": 720}
# mode, its URL value, the player's key, the equation's key, the input grid's and an output grid's title
MODES = [
    ("One channel", "one", "conv_sum", "Input", "Output"),
    ("Three channels", "three", "three_sum", "Input channel 1", "Output (one channel)"),
    ("Pooling", "pool", "pool_sum", "Input", "1998 subsampling"),
]


@pytest.fixture
def projector_page(browser):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    yield page
    context.close()


def grid_box(page, title: str) -> dict:
    """The bounding box of the grid (an HTML table) under the title ``title``."""
    table = page.locator("div:has(> div:text-is(%r)) > table" % title)
    assert table.count() == 1, title
    return table.bounding_box()


def cut_buttons(page) -> list[str]:
    """The text of every button (or anything in it) that is wider than its box: cut off, with or
    without an ellipsis."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid=stMain] button')]
        .filter(b => b.offsetParent !== null)
        .filter(b => [b, ...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)
                     || /(…|\\.\\.\\.)$/.test(b.innerText.trim()))
        .map(b => b.innerText.trim())""")


@pytest.mark.browser
@pytest.mark.parametrize("mode,key,equation,first,last", MODES, ids=[m[1] for m in MODES])
def test_step_player_fits_a_projector(streamlit_server, projector_page, mode, key, equation, first, last):
    page = projector_page
    open_page(page, f"{streamlit_server.url}/convolution?presenter=true&conv_mode={mode.replace(' ', '+')}")
    assert page.locator("[data-testid='stException']").count() == 0
    page.locator(f".st-key-{key}_forward button").click()
    wait_idle(page)
    # A wrong guess for step 2 (no step of these examples writes 1000): the verdict is shown too.
    page.get_by_role("spinbutton", name=re.compile("^Predict")).fill("1000")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Check and reveal").click()
    wait_idle(page)
    assert "Step 2 of" in page.locator(f".st-key-{key}_progress").inner_text()
    verdict = page.locator("[data-testid='stAlertContainer']").filter(has_text="Not quite")
    assert verdict.count() == 1
    page.evaluate(f"document.querySelector('.st-key-{key}_play').scrollIntoView({{block: 'start'}})")
    page.wait_for_timeout(500)
    screenshot(page, f"projector_convolution_{key}")

    # The grids side by side: the output grid right of the input grid, their tops level.
    left, right = grid_box(page, first), grid_box(page, last)
    assert right["x"] >= left["x"] + left["width"], (left, right)
    assert abs(right["y"] - left["y"]) < 2, (left, right)
    main = page.locator("[data-testid='stMainBlockContainer']").bounding_box()
    assert right["x"] + right["width"] <= main["x"] + main["width"], (right, main)

    # Every button's text whole, "Check and reveal" and the five step buttons included.
    assert page.get_by_role("button", name="Check and reveal").is_visible()
    assert cut_buttons(page) == []

    # One screen (Streamlit's header is see-through): from the buttons to the next guess, with
    # the equation and the verdict between them.
    top = page.locator(f".st-key-{key}_play").bounding_box()["y"]
    bottoms = {name: box["y"] + box["height"] for name, box in (
        ("input grid", left),
        ("equation", page.locator(f".st-key-{equation}").bounding_box()),
        ("verdict", verdict.bounding_box()),
        ("next guess", page.get_by_role("spinbutton", name=re.compile("^Predict")).bounding_box()),
        ("check button", page.get_by_role("button", name="Check and reveal").bounding_box()))}
    assert max(bottoms.values()) - top <= PROJECTOR["height"], (top, bottoms)
    # The grids are not squeezed to nothing: cells of 24 px at least (12 px numbers).
    assert left["height"] >= 24 * 4


def seven_png() -> bytes:
    """MNIST test digit #0 (a 7) blown up 10x, dark ink on white paper, as a PNG."""
    import io

    import numpy as np
    from PIL import Image

    from core.data import load_test
    grey = np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(255 - grey).save(buffer, format="PNG")
    return buffer.getvalue()


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


@pytest.mark.browser
@pytest.mark.skipif(not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(),
                    reason="no trained lenet5: run `make checkpoints`")
def test_fgsm_flip_is_bad_news_and_epsilon_is_said_in_grey_levels(streamlit_server, projector_page):
    page = projector_page
    open_page(page, f"{streamlit_server.url}/draw?presenter=true&draw_lab=true"
                    "&lab_tab=Adversarial+nudge+(FGSM)&fgsm_eps=0.2")
    page.get_by_text("Upload a picture", exact=True).click()
    wait_idle(page)
    page.locator("input[type='file']").set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": seven_png()}])
    page.get_by_text("Smallest ε that flips").wait_for(timeout=120_000)
    wait_idle(page)
    lab = page.locator("[data-testid='stExpander']").filter(has_text="Perturbation lab")
    # At epsilon 0.2 lenet5 no longer reads the 7 as a 7 (its smallest flipping epsilon is below 0.2).
    delta = lab.locator("[data-testid='stMetricDelta']")
    assert delta.inner_text().strip() == "was 7"
    # In the "wrong" colour of presenter mode (Streamlit's orange; its grey is 104, 98, 85 and its
    # green has more green than red), with no arrow: a flip is not a rise.
    red, green, blue = rgb(delta.evaluate("e => getComputedStyle(e).color"))
    assert red - green > 50 and red - blue > 100, (red, green, blue)
    assert delta.locator("[data-testid^='stMetricDeltaIcon']").count() == 0
    flipped_to = int(lab.locator("[data-testid='stMetricValue']").inner_text())
    assert flipped_to != 7
    page.wait_for_function("document.querySelector('.st-key-lab_fgsm_probs .js-plotly-plot')?.data")
    bars = page.evaluate("document.querySelector('.st-key-lab_fgsm_probs .js-plotly-plot').data[0].marker.color")
    wrong = palettes.palette("answer", presenter=True).colors[palettes.ANSWER_WRONG]
    assert bars[flipped_to] == wrong and bars.count(wrong) == 1
    # What epsilon means, in grey levels: 0.2 x 255 = 51, and honestly: that is visible.
    caption = lab.get_by_text("FGSM (Goodfellow").inner_text()
    assert "ε × 255 = 51 of 255 grey levels" in caption and "plainly visible" in caption
    assert "hardly notice" not in caption
    delta.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    screenshot(page, "projector_fgsm")
