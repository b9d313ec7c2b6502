"""/convolution: AppTest of the page script, and a browser test that steps the animation.

Expected numbers come from core.grids.gridmath on the page's default settings (test digit #0's
middle 8x8 as brightness levels 0-9, the vertical-edge kernel, stride 1, no padding, bias 0),
which tests/test_gridmath.py checks against torch.
"""

import re
import time

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import models
from core.data.mnist import load_test
from core.grids import arithmetic, gridmath, presets
from core.models import checkpoints
from tests.harness import ROOT, open_page, screenshot, wait_idle

PAGE = str(ROOT / "pages" / "convolution.py")


def default_result():
    patch = presets.mnist_patch(load_test().images[0].numpy(), 8)
    return gridmath.convolve(patch, presets.KERNELS["Vertical edge"])


def equation(at):
    texts = [m.value for m in at.markdown if "monospace" in m.value]
    assert texts, "no equation block on the page"
    return texts


def last_number(text: str) -> str:
    return re.findall(r"=\s*(-?[\d.]+)", text)[-1]


@pytest.fixture
def app():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_steps_forward_and_back_write_core_numbers(app):
    result = default_result()
    assert any("8×8 input gives a <b>6×6</b> output" in m.value for m in app.markdown)
    for _ in range(3):
        app.button(key="one_forward").click().run()
    assert not app.exception
    assert any("Step 3 of 36" in m.value for m in app.markdown)
    # The third step's sum + bias, as core computes it (output[0, 2]).
    step = result.steps[2]
    assert last_number(equation(app)[-1]) == arithmetic.format_number(step.value)
    app.button(key="one_back").click().run()
    assert any("Step 2 of 36" in m.value for m in app.markdown)


def test_worksheet_download_follows_the_settings(app):
    button = app.download_button(key="one_worksheet")
    assert button.label == "Download as a worksheet" and button.proto.url.endswith(".html")
    before = button.proto.url  # AppTest names the file by its content
    app.button(key="one_forward").click().run()  # a step is not a new exercise
    assert app.download_button(key="one_worksheet").proto.url == before
    app.slider(key="conv_stride").set_value(2).run()
    assert not app.exception
    assert app.download_button(key="one_worksheet").proto.url != before


def test_predict_then_reveal_says_right_or_wrong(app):
    result = default_result()
    first = result.steps[0].value
    app.number_input(key="one_guess_0").set_value(first).run()
    app.button(key="one_check").click().run()
    assert [s.value for s in app.success] == [f"Right: step 1 writes {arithmetic.format_number(first)}."]
    app.number_input(key="one_guess_1").set_value(result.steps[1].value + 3).run()
    app.button(key="one_check").click().run()
    assert len(app.warning) == 1 and "Not quite" in app.warning[0].value
    assert any("Step 2 of 36" in m.value for m in app.markdown)


def test_settings_change_the_shape_and_impossible_ones_say_why(app):
    app.slider(key="conv_padding").set_value(2).run()
    app.slider(key="conv_stride").set_value(3).run()
    # floor((8 + 4 - 2 - 1) / 3) + 1 = 4
    assert any("gives a <b>4×4</b> output" in m.value for m in app.markdown)
    app.selectbox(key="conv_input").set_value("Type your own").run()
    assert not app.exception and len(app.dataframe) == 1  # the editable grid
    app.selectbox(key="conv_input").set_value("Vertical edge").run()
    app.slider(key="conv_size").set_value(3).run()
    app.slider(key="conv_padding").set_value(0).run()
    app.slider(key="conv_dilation").set_value(2).run()
    assert not app.exception
    assert any("larger than the padded input" in e.value for e in app.error)


def test_typed_kernel_and_feature_map_of_a_whole_digit(app):
    app.selectbox(key="conv_kernel").set_value("Type your own").run()
    assert not app.exception
    # A typed 3x3 kernel (the identity to start with) over a 28x28 digit: (28 - 3) + 1 = 26.
    assert any("26×26 feature map" in c.value for c in app.caption)
    app.slider(key="conv_ksize").set_value(5).run()
    assert any("24×24 feature map" in c.value for c in app.caption)


def test_without_a_checkpoint_the_page_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No trained `lenet5` checkpoint" in c.value for c in at.caption)
    assert not [o for o in at.selectbox(key="conv_kernel").options if o.startswith("LeNet")]


def test_trained_lenet_kernels_are_offered(monkeypatch, tmp_path):
    torch.manual_seed(0)
    model = models.build("lenet5")
    checkpoints.save(model, "lenet5", preset="lenet5", record={"history": [], "test_accuracy": 0.5}, folder=tmp_path)
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    kernels = [o for o in at.selectbox(key="conv_kernel").options if o.startswith("LeNet")]
    assert len(kernels) == 6  # C1 of LeNet-5 has 6 feature maps (seed 004)
    at.selectbox(key="conv_kernel").set_value("LeNet-5 C1 kernel 2").run()
    at.button(key="one_forward").click().run()
    assert not at.exception
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    weights, bias = conv.weight[1, 0].detach().double().numpy(), float(conv.bias[1].detach())
    assert at.number_input(key="conv_bias_LeNet-5 C1 kernel 2").value == pytest.approx(bias, abs=1e-4)
    patch = presets.mnist_patch(load_test().images[0].numpy(), 8)
    expected = gridmath.convolve(patch, weights, bias=round(bias, 4)).steps[0].value
    assert last_number(equation(at)[-1]) == arithmetic.format_number(expected)


def test_three_channels_and_pooling_modes(app):
    app.button_group(key="conv_mode").set_value("Three channels").run()
    assert not app.exception
    app.button(key="three_forward").click().run()
    x, w, bias = presets.multichannel_example()
    first = gridmath.convolve(x, w, bias=bias).steps[0]
    # Hand check of the example's output[0, 0], channel by channel, then summed with the bias.
    hand = [float((x[c, :3, :3] * w[c]).sum()) for c in range(3)]
    channels = " + ".join(f"({v:g})" if v < 0 else f"{v:g}" for v in hand)  # (-2) + 1 + 4
    assert f"{channels} = {arithmetic.format_number(sum(hand))}" in equation(app)[-1]
    assert (
        last_number(equation(app)[-1])
        == arithmetic.format_number(sum(hand) + bias)
        == arithmetic.format_number(first.value)
    )

    app.button_group(key="conv_mode").set_value("Pooling").run()
    assert not app.exception
    app.button(key="pool_forward").click().run()
    texts = " ".join(equation(app))
    # The 4x4 example's top-left block 1, 3, 4, 2: max 4, mean 2.5, 10 x 0.5 + 0.25 = 5.25.
    assert "max(1, 3, 4, 2) = 4" in texts and "= 2.5" in texts and "= 5.25" in texts


def test_three_channel_output_size_comes_from_the_arrays(monkeypatch):
    # Another example than the page's 3x5x5 input and 3x3x3 filter: a 3x7x7 input and a 3x2x2
    # filter give floor((7 - 1(2 - 1) - 1) / 1) + 1 = 6, a 6x6 output of 36 steps.
    x = np.arange(3 * 7 * 7, dtype=float).reshape(3, 7, 7) % 5
    w = np.array([[[1.0, 0], [0, -1]], [[0, 1], [1, 0]], [[-1, 0], [0, 1]]])
    monkeypatch.setattr(presets, "multichannel_example", lambda: (x, w, 0.5))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button_group(key="conv_mode").set_value("Three channels").run()
    assert not at.exception
    assert any("The 7×7 input gives a <b>6×6</b> output" in m.value for m in at.markdown)
    at.button(key="three_forward").click().run()
    assert any("Step 1 of 36" in m.value for m in at.markdown)
    expected = gridmath.convolve(x, w, bias=0.5).steps[0].value
    assert expected == float((x[:, :2, :2] * w).sum()) + 0.5  # by hand: the top-left 2x2 windows
    assert last_number(equation(at)[-1]) == arithmetic.format_number(expected)


def take_draw(app, key: str, seed: int) -> None:
    """Draw number ``seed`` of mode ``key``: the first by picking random numbers, the next ones
    with "New numbers"; then one step."""
    if seed == 1:
        app.radio(key=f"{key}_source").set_value("Random whole numbers").run()
    else:
        app.button(key=f"{key}_reroll").click().run()
    app.button(key=f"{key}_forward").click().run()
    assert not app.exception


def test_new_numbers_in_three_channels_and_pooling(app):
    # Draw n of three channels: inputs 0-3 drawn with seed n, weights -1..1 with seed n + 1000.
    app.button_group(key="conv_mode").set_value("Three channels").run()
    _, _, bias = presets.multichannel_example()
    for seed in (1, 2):
        take_draw(app, "three", seed)
        x = presets.random_integers((3, 5, 5), seed, 0, 3)
        w = presets.random_integers((3, 3, 3), seed + 1000, -1, 1)
        value = gridmath.convolve(x, w, bias=bias).steps[0].value
        assert last_number(equation(app)[-1]) == arithmetic.format_number(value)
    # Pooling: draw n is a 4x4 grid of 0-9 drawn with seed n; the first 2x2 window's largest.
    app.button_group(key="conv_mode").set_value("Pooling").run()
    for seed in (1, 2):
        take_draw(app, "pool", seed)
        largest = presets.random_integers((4, 4), seed)[:2, :2].max()
        assert "Max pooling: max(" in equation(app)[0] and f") = {largest:g}" in equation(app)[0]
    # Their draw numbers are not in the URL (only the one-channel input's is, as conv_seed).
    assert not [n for n in app.number_input if n.key in ("three_seed", "pool_seed")]


def test_a_numbered_draw_starts_at_its_first_number_and_counts_up():
    # The variant of the training gallery: draw 0 first, its own label, no box in the URL.
    def script():
        import streamlit as st

        from dashboard.convolution.numbered_draw import numbered_draw

        st.markdown(f"draw {numbered_draw('gal_seed', button_key='gal_new', label='Ten other images', first=0)}")

    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["draw 0"] and not at.number_input
    assert at.button(key="gal_new").label == "Ten other images"
    at.button(key="gal_new").click().run()
    at.button(key="gal_new").click().run()
    assert [m.value for m in at.markdown] == ["draw 2"]


def test_leaving_a_mode_pauses_its_player(app):
    app.button(key="one_play").click().run()
    assert app.session_state["anim_one"].playing
    app.button_group(key="conv_mode").set_value("Pooling").run()
    assert not app.exception and not app.session_state["anim_one"].playing


@pytest.mark.browser
def test_browser_steps_three_times_and_shows_the_sum(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 2000})  # the whole page in the screenshot
    open_page(page, streamlit_server.url + "/convolution")
    assert page.locator("[data-testid='stException']").count() == 0
    forward = page.get_by_role("button", name="Step forward")
    for _ in range(3):
        forward.click()
        wait_idle(page)
    assert "Step 3 of 36" in page.locator(".st-key-one_progress").inner_text()
    written = page.locator(".st-key-conv_sum").inner_text()
    assert last_number(written) == arithmetic.format_number(default_result().steps[2].value), written
    screenshot(page, "convolution")

    # Play: at least 4 steps per second, counted from the page's own step counter.
    page.get_by_role("button", name="Play").click()
    deadline = time.monotonic() + 15
    while _step_shown(page) < 5 and time.monotonic() < deadline:  # ticking has begun
        page.wait_for_timeout(100)
    started, t0 = _step_shown(page), time.monotonic()
    page.wait_for_timeout(3000)
    steps_per_s = (_step_shown(page) - started) / (time.monotonic() - t0)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    print(f"animation: {steps_per_s:.1f} steps per second")
    assert steps_per_s >= 3.5, steps_per_s

    # The other two modes draw without an error, and their screenshots are there to look at.
    for mode, key in (("Three channels", "three"), ("Pooling", "pool")):
        page.locator(".st-key-conv_mode").get_by_text(mode, exact=True).click()
        wait_idle(page)
        for _ in range(2):
            page.locator(f".st-key-{key}_forward button").click()
            wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, f"convolution_{key}")


def _step_shown(page) -> int:
    return int(re.search(r"Step (\d+) of", page.locator(".st-key-one_progress").inner_text()).group(1))


def test_grid_helpers_write_numbers_mark_padding_and_outline_the_window():
    from dashboard.figures.grids import grid_heatmap
    from dashboard.figures.html_pictures import grid_html
    from dashboard.figures.palettes import PADDING_FILL

    values = np.array([[0.0, 1.5], [-2.0, np.nan]])
    muted = np.array([[True, False], [False, False]])
    html = grid_html(values, muted=muted, highlight=[(0, 1)], accent=[(1, 0)], title="Input")
    # 4 cells: the padding cell grey, 1.5 and -2 written, the NaN cell (not written yet) blank.
    assert html.count("<td") == 4 and html.count(PADDING_FILL) == 1
    assert ">1.5</td>" in html and ">-2</td>" in html and "></td>" in html
    assert html.count("outline:") == 2 and ">Input</div>" in html
    fig = grid_heatmap(values, muted=muted, highlight=[(0, 1)], title="Input")
    kinds = [trace.type for trace in fig.data]
    assert kinds == ["heatmap", "heatmap", "scatter"]  # values, padding, window outline
    assert list(fig.data[0].text.ravel()) == ["0", "1.5", "-2", ""]


def css_length(expr: str, *, row_px: float, window_px: float, rem_px: float) -> float:
    """A length of ``stepper.cell_style`` worked out as the browser does, for a row ``row_px``
    wide (100cqw), a window ``window_px`` high (100vh) and ``rem_px`` type."""
    units = {"cqw": row_px / 100, "vh": window_px / 100, "rem": rem_px, "px": 1.0}
    python = re.sub(r"(\d+(?:\.\d+)?)(cqw|vh|rem|px)", lambda m: f"({float(m[1]) * units[m[2]]})", expr)
    return eval(python, {"clamp": lambda low, value, high: max(low, min(value, high)), "min": min})


def test_cells_fit_the_width_and_height_a_projector_leaves():
    from dashboard.stepping import stepper

    # /convolution's default one-channel player: an 8x8 input, a 3x3 kernel and products, a 6x6
    # output, 28 px apart; presenter mode's 20 px type leaves 880 px at 1280x720 (sidebar open).
    titles = ["Input", "Kernel", "Window × kernel", "Output"]
    parts = [stepper.GridPart(n, stepper.title_rem(t)) for n, t in zip((8, 3, 3, 6), titles)]
    style = stepper.cell_style(parts, 8, gap_px=28, rest_rem=stepper.player_rest_rem(1, 3), largest=72)
    cell = css_length(re.search(r"--cell:([^;]+)", style)[1], row_px=880, window_px=720, rem_px=20)
    # By hand: "Window × kernel" (15 x 0.55 rem = 165 px) is wider than its 3 cells, so the other
    # 8 + 3 + 6 = 17 columns share 880 - 3 x 28 - 8 spare - 3 x 2 edges - 165 = 617 px:
    # 617 / 17 - 2 = 34.29 px (the browser measured 34.28 px at 1280x720).
    assert cell == pytest.approx(617 / 17 - 2)

    def row_width(side: float) -> float:
        return sum(max(p.columns * (side + 2) + p.extra_px, p.title_rem * 20) for p in parts) + 3 * 28

    assert row_width(cell) == pytest.approx(880 - 8)  # it fits, 8 px to spare...
    assert row_width(cell + 0.5) > 880 - 8  # ...and no larger cell would
    # Height: 8 rows of cells and the rest of the player (buttons, title, equation, guess) fit 720 px.
    assert stepper.player_rest_rem(1, 3) * 20 + 8 * (cell + 2) <= 720
    # A narrower window: the height decides (720 px less the rest, over 8 rows), never below 24 px.
    short = css_length(re.search(r"--cell:([^;]+)", style)[1], row_px=880, window_px=600, rem_px=20)
    assert short == pytest.approx((600 - stepper.player_rest_rem(1, 3) * 20) / 8 - 2)
    tiny = css_length(re.search(r"--cell:([^;]+)", style)[1], row_px=300, window_px=600, rem_px=20)
    assert tiny == stepper.SMALLEST_CELL_PX
    # On a phone the widest grid (the 8-column input) may take the whole 358 px row alone.
    phone = css_length(re.search(r"--cell-narrow:([^;]+)", style)[1], row_px=358, window_px=844, rem_px=16)
    assert phone == pytest.approx((358 - 2 - 8) / 8 - 2)


# --- accessibility (issue 21): named grids, a step said aloud, the focus handed on ----------------


def announced(at) -> list[str]:
    """What the page hands to the screen reader's live region (accessibility.announce), in order."""
    return [
        re.search(r'data-announced="([^"]*)"', h.value).group(1) for h in at.get("html") if "data-announced" in h.value
    ]


def test_a_check_without_a_guess_asks_for_one_and_each_step_is_announced(app):
    result = default_result()
    app.button(key="one_check").click().run()  # nothing typed: no verdict, no step taken
    assert [i.value for i in app.info] == ["Type your prediction for step 1 first, then check it."]
    assert any("Step 0 of 36" in m.value for m in app.markdown) and announced(app) == []
    app.button(key="one_forward").click().run()
    first = arithmetic.format_number(result.steps[0].value)
    assert announced(app) == [f"Step 1 of 36: output[0, 0] = {first}."]
    app.number_input(key="one_guess_1").set_value(result.steps[1].value).run()
    app.button(key="one_check").click().run()
    assert announced(app) == [f"Right: step 2 writes {arithmetic.format_number(result.steps[1].value)}."]
    # The guess of step 2 is gone from the page: the focus is handed to the guess of step 3.
    assert any(".st-key-one_guess_2 input" in h.value for h in app.get("html"))
    app.button(key="one_reset").click().run()  # Reset disables itself: the focus goes to Step forward
    assert any(".st-key-one_forward button" in h.value for h in app.get("html"))


def test_each_grid_is_a_table_named_by_its_title(app):
    grids = " ".join(h.value for h in app.get("html"))
    for title in ("Input", "Kernel", "Window × kernel", "Output"):
        assert f"role='table' aria-label='{title}'" in grids  # a screen reader says the name...
    assert grids.count("<div aria-hidden='true'") >= 4  # ...not the visible title a second time
