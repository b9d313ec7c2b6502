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

from core.models import checkpoints
from dashboard.figures import palettes
from tests.harness import open_page, screenshot, wait_idle

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
    table = page.locator(f"div:has(> div:text-is({title!r})) > table")
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
    bottoms = {
        name: box["y"] + box["height"]
        for name, box in (
            ("input grid", left),
            ("equation", page.locator(f".st-key-{equation}").bounding_box()),
            ("verdict", verdict.bounding_box()),
            ("next guess", page.get_by_role("spinbutton", name=re.compile("^Predict")).bounding_box()),
            ("check button", page.get_by_role("button", name="Check and reveal").bounding_box()),
        )
    }
    assert max(bottoms.values()) - top <= PROJECTOR["height"], (top, bottoms)
    # The grids are not squeezed to nothing: cells of 24 px at least (12 px numbers).
    assert left["height"] >= 24 * 4


def seven_png() -> bytes:
    """MNIST test digit #0 (a 7) blown up 10x, dark ink on white paper, as a PNG."""
    import io

    import numpy as np
    from PIL import Image

    from core.data.mnist import load_test

    grey = np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(255 - grey).save(buffer, format="PNG")
    return buffer.getvalue()


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


@pytest.mark.browser
@pytest.mark.skipif(
    not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(), reason="no trained lenet5: run `make checkpoints`"
)
def test_fgsm_flip_is_bad_news_and_epsilon_is_said_in_grey_levels(streamlit_server, projector_page):
    page = projector_page
    open_page(
        page, f"{streamlit_server.url}/draw?presenter=true&draw_lab=true&lab_tab=Adversarial+nudge+(FGSM)&fgsm_eps=0.2"
    )
    page.get_by_text("Upload a picture", exact=True).click()
    wait_idle(page)
    page.locator("input[type='file']").set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": seven_png()}]
    )
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


# --- /architecture and /dataset on a projector and on a phone ---------------------------------------
# At 1280x720 in presenter mode the stage diagram's italic labels overlapped, the totals were cut
# ("340,…"), the C3 kernels' grids were cut on the right; on a phone the diagram was cut on the left;
# /dataset's pixel grid had blank bands above and below it.

SIZES = {
    "projector": ({"viewport": PROJECTOR}, "presenter=true"),
    "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}, ""),
}

# Each box of ``selector``: its text, left and right edges, top and bottom (in the page, scroll included).
BOXES = """(selector) => [...document.querySelectorAll(selector)].map(e => { const r = e.getBoundingClientRect();
    const top = r.top + document.querySelector('[data-testid=stMain]').scrollTop;
    return {text: e.innerText.trim().slice(0, 40), left: r.left, right: r.right, top, bottom: top + r.height,
            cut: e.scrollWidth > e.clientWidth + 1}; })"""


def outside(boxes: list[dict], width: int) -> list[str]:
    """The boxes that reach past the screen's left or right edge."""
    return [b["text"] for b in boxes if b["left"] < 0 or b["right"] > width]


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (by more than a pixel each way)."""
    return [
        (a["text"], b["text"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1
    ]


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser):
    options, query = SIZES[request.param]
    context = browser.new_context(**options)
    page = context.new_page()
    yield request.param, page, query, options["viewport"]["width"]
    context.close()


@pytest.mark.browser
def test_architecture_fits_a_projector_and_a_phone(streamlit_server, sized_page):
    size, page, query, width = sized_page
    open_page(page, f"{streamlit_server.url}/architecture?{query}")
    page.locator(".cnnx-diagram").wait_for(timeout=30_000)
    page.locator("[role=table][aria-label='channel 0']").wait_for(timeout=30_000)
    page.locator(".st-key-arch_totals [data-testid='stMetricValue']").nth(3).wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    # The diagram: LeNet-5's 8 stages and 7 operations, every one whole on the screen, none over another.
    parts = page.evaluate(BOXES, ".cnnx-diagram > li")
    assert len(parts) == 8 + 7
    assert outside(parts, width) == [] and overlapping(parts) == []
    # Each word under an arrow inside its own part: the part is not drawn over by its text.
    labels = page.evaluate(BOXES, ".cnnx-diagram > li > i, .cnnx-diagram > li > small")
    assert len(labels) == 7 + 8 and outside(labels, width) == [] and overlapping(labels) == []
    # The totals: LeNet-5's 60,000 parameters, 840 fixed values, 340,908 connections, 332,824 multiply-adds
    # (core.architecture.layers, the paper's figures), each number whole.
    totals = page.evaluate(BOXES, ".st-key-arch_totals [data-testid='stMetricValue']")
    assert [t["text"] for t in totals] == ["60,000", "840", "340,908", "332,824"]
    assert [t["text"] for t in totals if t["cut"]] == [] and outside(totals, width) == []
    # C3's filter 0 reads S2 maps 0, 1, 2 (Table I): three 5x5 grids, each whole on the screen.
    grids = page.evaluate(BOXES, "[role=table][aria-label^='channel ']")
    assert len(grids) == 3 and outside(grids, width) == [] and overlapping(grids) == []
    page.locator(".cnnx-diagram").scroll_into_view_if_needed()
    screenshot(page, f"architecture_diagram_{size}")
    page.locator("[role=table][aria-label='channel 0']").scroll_into_view_if_needed()
    screenshot(page, f"architecture_kernels_{size}")


@pytest.mark.browser
def test_dataset_pixel_grid_has_no_blank_bands(streamlit_server, sized_page):
    size, page, query, width = sized_page
    open_page(page, f"{streamlit_server.url}/dataset?{query}")
    pixels = page.locator('[role=img][aria-label^="The image\'s 28 × 28 pixel values"]')
    grid = pixels.first  # the raw values' tab, shown first
    grid.wait_for(timeout=30_000)
    grid.scroll_into_view_if_needed()
    assert page.locator("[data-testid='stException']").count() == 0
    box = grid.bounding_box()
    # As tall as wide (28 x 28 square cells), and the element that holds it no taller: no band of blank.
    holder = page.locator("[data-testid='stHtml']").filter(has=pixels).first.bounding_box()
    assert abs(box["height"] - box["width"]) <= 2, box
    assert holder["height"] <= box["height"] + 20, (holder, box)  # at most a scroll bar's height more
    # Whole on a projector; on a phone the grid scrolls sideways inside its own box, which stays on screen.
    assert holder["x"] >= 0 and holder["x"] + holder["width"] <= width, holder
    if size == "projector":
        assert box["x"] + box["width"] <= width
    screenshot(page, f"dataset_pixels_{size}")
