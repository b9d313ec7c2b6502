"""Shareable states and presenter mode: open every page with settings in its URL, and the
widgets show them (and the page acts on them); then the same in Chromium with real links.

Expected numbers: output sizes by the formula floor((n + 2p - d(k-1) - 1) / s) + 1 by hand;
receptive fields of lenet5 by hand from its layers (conv 5x5 pad 2, max-pool 2, conv 5x5).
"""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.mnist import load_test
from core.models import checkpoints
from tests.harness import ROOT, open_page, screenshot, wait_idle

PAGES = ROOT / "pages"
APP = str(ROOT / "dashboard" / "app.py")
SHARPEN_LINK = "conv_input=Random+whole+numbers&conv_size=5&conv_kernel=Sharpen&conv_stride=2&conv_padding=1"

needs = {
    name: pytest.mark.skipif(
        not (checkpoints.DEFAULT_DIR / f"{name}.pt").is_file(),
        reason=f"no checkpoints/{name}.pt: run `make checkpoints`",
    )
    for name in ("lenet5", "lenet5_1998", "mlp_128")
}


def opened(page: str, params: dict, **state) -> AppTest:
    """The page script run once, as a browser opening ``/page?params`` would run it."""
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=120)
    at.query_params.update(params)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def drawn_seven() -> np.ndarray:
    """MNIST test digit #0 (a 7), 10x, as the canvas would hand it over."""
    return np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))


# --- every page, through AppTest -------------------------------------------------------------


def test_dataset_opens_with_the_split_count_class_seed_and_index_of_its_url():
    at = opened(
        "dataset",
        {"split": "test", "n": "12", "digit": "3", "shuffle": "true", "seed": "8", "index": "5", "mean_split": "test"},
    )
    assert at.segmented_control(key="split").value == "test"
    assert at.slider(key="n").value == 12
    assert at.selectbox(key="digit").value == 3
    assert at.toggle(key="shuffle").value is True and at.number_input(key="seed").value == 8
    assert at.number_input(key="index").value == 5
    assert at.segmented_control(key="mean_split").value == "test"
    # ...and the page acts on them: 12 test images, every one a 3; test image #5 is a 1 (MNIST).
    grid = next(el for el in at.main.children.values() if type(el).__name__ == "Image")
    labels = [img.caption.split()[0] for img in grid.proto.imgs]
    assert labels == ["3"] * 12
    assert at.metric[0].value == str(int(load_test().labels[5])) == "1"


def test_convolution_opens_the_issues_example():
    at = opened("convolution", dict(part.split("=") for part in SHARPEN_LINK.replace("+", " ").split("&")))
    assert at.selectbox(key="conv_input").value == "Random whole numbers"
    assert at.slider(key="conv_size").value == 5
    assert at.selectbox(key="conv_kernel").value == "Sharpen"
    assert (at.slider(key="conv_stride").value, at.slider(key="conv_padding").value) == (2, 1)
    # floor((5 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 3
    assert "The 5×5 input gives a <b>3×3</b> output" in texts(at.markdown)
    assert any("Step 0 of 9" in m.value for m in at.markdown)


def test_convolution_modes_and_a_bad_value_in_the_url():
    at = opened("convolution", {"conv_mode": "Three channels", "three_stride": "2"})
    assert at.button_group(key="conv_mode").value == "Three channels"
    assert at.slider(key="three_stride").value == 2
    # floor((5 + 0 - 2 - 1) / 2) + 1 = 2
    assert "The 5×5 input gives a <b>2×2</b> output" in texts(at.markdown)
    # A value out of range or not an option is ignored (the default stays), never an error.
    at = opened(
        "convolution",
        {"conv_stride": "9", "conv_kernel": "Nope", "conv_mode": "Pooling", "pool_kernel": "3", "pool_stride": "1"},
    )
    assert at.button_group(key="conv_mode").value == "Pooling"
    assert (at.slider(key="pool_kernel").value, at.slider(key="pool_stride").value) == (3, 1)
    at = opened("convolution", {"conv_stride": "9", "conv_kernel": "Nope"})
    assert at.slider(key="conv_stride").value == 1 and at.selectbox(key="conv_kernel").value == "Vertical edge"


def test_a_random_grid_is_the_same_for_everyone_with_the_same_draw_number():
    link = {"conv_input": "Random whole numbers", "conv_size": "4", "conv_seed": "5"}
    first, second = opened("convolution", link), opened("convolution", link)
    assert first.number_input(key="conv_seed").value == 5
    grids = texts(first.get("html"))
    assert grids == texts(second.get("html"))  # two students, one link, the same numbers
    first.button(key="conv_reroll").click().run()  # "New numbers": the next draw
    assert first.number_input(key="conv_seed").value == 6 and texts(first.get("html")) != grids


def test_architecture_opens_with_the_model_filter_and_c3_map_of_its_url():
    at = opened(
        "architecture",
        {"arch_model": "lenet5", "anatomy_layer": "features.conv2", "anatomy_filter": "3", "c3_map": "15"},
    )
    assert at.selectbox(key="arch_model").value == "lenet5"
    assert at.selectbox(key="anatomy_layer").value == "features.conv2"
    assert at.number_input(key="anatomy_filter").value == 3
    assert at.pills(key="c3_map").value == 15
    # lenet5's conv2 reads 6 channels: filter 3 is 6 kernels of 5x5 (seed 004).
    assert "Filter 3 is 6 kernels of 5x5" in texts(at.markdown)
    # C3 map 15 reads all six S2 maps (Table I of the 1998 paper).
    assert "C3 map **15** reads S2 maps **0, 1, 2, 3, 4, 5**" in texts(at.markdown)


@needs["lenet5_1998"]
def test_draw_opens_with_the_model_methods_and_class_of_its_url():
    at = opened(
        "draw",
        {"draw_model": "lenet5_1998", "draw_methods": ["Saliency", "Occlusion"], "draw_target": "3"},
        draw_image_override=drawn_seven(),
    )
    assert at.selectbox(key="draw_model").value == "lenet5_1998"
    assert at.multiselect(key="draw_methods").value == ["saliency", "occlusion"]
    assert at.selectbox(key="draw_target").value == 3
    assert "class **3**" in texts(at.caption)
    assert "lenet5_1998" in texts(at.caption)  # the prediction says which network answered


@needs["lenet5"]
def test_draw_opens_an_exploration_from_its_url():
    at = opened(
        "draw",
        {"draw_rf": "true", "rf_layer": "pool1", "rf_row": "2", "rf_col": "3"},
        draw_image_override=drawn_seven(),
    )
    assert at.selectbox(key="rf_layer").value == "pool1"
    assert (at.slider(key="rf_row").value, at.slider(key="rf_col").value) == (2, 3)
    # lenet5's pool1 units see 6x6 pixels, 2 apart, the first starting 2 px into the padding:
    # unit (2, 3) sees rows -2 + 2*2 = 2 to 7 and columns -2 + 3*2 = 4 to 9.
    assert "sees a **6×6** square of input pixels, rows 2 to 7 and columns 4 to 9" in texts(at.markdown)


@needs["lenet5"]
@needs["mlp_128"]
def test_training_opens_the_tab_and_checkpoints_of_its_url():
    at = opened("training", {"training_tab": "Compare runs", "cmp_names": ["lenet5", "mlp_128"], "cmp_metric": "loss"})
    assert at.session_state["training_tab"] == "Compare runs"
    assert at.multiselect(key="cmp_names").value == ["lenet5", "mlp_128"]
    assert at.segmented_control(key="cmp_metric").value == "loss"
    at = opened("training", {"training_tab": "Confusion matrix", "cm_model": "mlp_128", "cm_true": "4", "cm_pred": "9"})
    assert at.selectbox(key="cm_model").value == "mlp_128"
    assert (at.selectbox(key="cm_true").value, at.selectbox(key="cm_pred").value) == (4, 9)
    assert "4s misclassified as 9" in texts(at.markdown)


# --- presenter mode ----------------------------------------------------------------------------


def test_presenter_switch_is_read_from_the_url_and_styles_the_app():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["presenter"] = "true"
    at.run()
    assert not at.exception and at.toggle(key="presenter").value is True
    assert any("font-size: 20px" in h.value for h in at.get("html"))
    plain = AppTest.from_file(APP, default_timeout=60).run()
    assert plain.toggle(key="presenter").value is False
    assert not any("font-size: 20px" in h.value for h in plain.get("html"))


@pytest.mark.parametrize(
    "page, state",
    [
        ("dataset", {}),
        ("architecture", {}),
        ("training", {"training_tab": "Compare runs"}),
        ("draw", {"draw_image_override": "seven", "draw_rf": True, "draw_lab": True}),
    ],
)
def test_every_page_runs_in_presenter_mode(page, state):
    if state.get("draw_image_override") == "seven":
        state = {**state, "draw_image_override": drawn_seven()}
    at = opened(page, {}, presenter=True, **state)
    assert not at.error, [e.value for e in at.error]
    # Figures are drawn 1.3 times larger: e.g. the dataset's 28 x 28 pixel grid, cells of at most
    # 34 px and 1 px between them (up to 980 px wide), has cells of up to 44 px: 28 x 45 = 1,260 px.
    if page == "dataset":
        grid = next(h.value for h in at.get("html") if "pixel values" in h.value)
        assert "max-width:1260px" in grid


def test_presenter_mode_changes_colours_and_folds_secondary_controls():
    plain = opened("convolution", {})
    shown = opened("convolution", {}, presenter=True)
    # The feature map's caption names the signed palette's colours: red-blue, then blue-orange.
    assert "Blue: strong positive response, red: negative." in texts(plain.caption)
    assert "Blue: strong positive response, orange: negative." in texts(shown.caption)
    # Dilation and bias go into closed expanders (still there, so their values and URL stay);
    # the worksheet download is for the teacher's own machine, not the projector.
    assert [e.label for e in shown.expander] == ["Bias", "Dilation"] and not plain.expander
    assert shown.slider(key="conv_dilation").value == 1
    assert len(plain.get("download_button")) == 1 and len(shown.get("download_button")) == 0


def test_presenter_mode_draws_the_dataset_figures_in_colour_blind_safe_colours():
    plain = opened("dataset", {})
    shown = opened("dataset", {}, presenter=True)

    def spec(at, key: str) -> str:
        return next(c.proto.spec for c in at.get("plotly_chart") if key in str(c.proto.id))

    # Training and test bars: Tableau blue/orange as designed, then Okabe-Ito blue #0072b2 and
    # orange #e69f00 (the presenter "answer" palette); the one-hot 1: the highlight orange #f28e2b,
    # then Okabe-Ito orange.
    assert '"#4C78A8"' in spec(plain, "counts") and '"#F58518"' in spec(plain, "counts")
    assert '"#0072b2"' in spec(shown, "counts") and '"#e69f00"' in spec(shown, "counts")
    assert '"#4C78A8"' not in spec(shown, "counts")
    assert '"#f28e2b"' in spec(plain, "one_hot") and '"#e69f00"' in spec(shown, "one_hot")


# --- real links in Chromium ------------------------------------------------------------------


@pytest.mark.browser
def test_browser_a_shared_link_opens_the_convolution_exercise_and_presenter_mode(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 2000})
    open_page(page, f"{streamlit_server.url}/convolution?{SHARPEN_LINK}")
    page.get_by_text("The 5×5 input gives a 3×3 output").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".st-key-conv_input input").input_value() == "Random whole numbers"
    assert page.locator(".st-key-conv_kernel input").input_value() == "Sharpen"
    # A slider's text is its label, its value, then its minimum and maximum.
    assert page.locator(".st-key-conv_size").inner_text().split() == ["Input", "size", "5", "3", "12"]
    assert page.locator(".st-key-conv_stride").inner_text().split() == ["Stride", "2", "1", "3"]
    assert page.locator(".st-key-conv_padding").inner_text().split() == ["Padding", "1", "0", "2"]
    # Switching presenter mode on writes it into the link, beside the exercise's settings.
    page.locator(".st-key-presenter").get_by_text("Presenter mode").click()
    wait_idle(page)
    assert "presenter=true" in page.url and "conv_kernel=Sharpen" in page.url
    page.get_by_role("button", name="Step forward").click()
    wait_idle(page)
    font = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert font == "20px", font
    screenshot(page, "presenter_convolution")
    # Presenter mode belongs to the whole app: it stays on, and in the link, on another page.
    page.locator("[data-testid='stSidebarNav'] a", has_text="Dataset").click()
    wait_idle(page)
    assert "/dataset?presenter=true" in page.url
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"


def draw_a_seven(page) -> None:
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    points = [(60 + 8 * k, 50) for k in range(20)] + [(220 - 5 * k, 50 + 10 * k) for k in range(20)]
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
    page.mouse.up()
    page.mouse.move(5, 5)  # away from the canvas, so its toolbar does not cover the screenshot


@pytest.mark.browser
@needs["lenet5"]
def test_browser_draw_in_presenter_mode_with_both_explorations(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1600, "height": 6500})  # the whole page in the screenshot
    open_page(
        page,
        f"{streamlit_server.url}/draw?presenter=true&draw_rf=true&draw_lab=true&lab_tab=Adversarial+nudge+%28FGSM%29",
    )
    page.wait_for_selector("canvas.upper-canvas", timeout=60_000)
    draw_a_seven(page)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=60_000)
    wait_idle(page)
    page.get_by_text("Gradient check").wait_for(timeout=60_000)
    page.get_by_text("Smallest ε that flips").wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".st-key-presenter input").is_checked()
    page.wait_for_timeout(1500)  # charts draw after the run ends
    screenshot(page, "presenter_draw")
