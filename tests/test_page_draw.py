"""/draw: AppTest of the page script with a drawing injected, and a browser test on the real canvas.

The expected prediction is core's own answer (core.data.preprocess -> core.models.inference.predict with the
same checkpoint), and for the digits used here also the true label: MNIST test digit #0 is a 7,
a drawn vertical stroke a 1 and a drawn circle a 0. Tests that need a trained network use
``checkpoints/lenet5`` and are skipped, saying so, where it has not been trained yet.
"""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.classroom import store as class_store
from core.classroom.db import DB_ENV
from core.data import preprocess
from core.data.mnist import load_test
from core.explain import perturb
from core.models import checkpoints, inference
from tests.harness import METRIC, PROMPT, draw, needs_lenet5, open_page, run_page, screenshot, wait_idle

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "draw.py")


def drawn_seven() -> np.ndarray:
    """MNIST test digit #0 (a 7) blown up 10x to canvas size, 280 x 280 grey."""
    return drawn_test_digit(0)


def drawn_test_digit(index: int) -> np.ndarray:
    """MNIST test digit ``index`` blown up 10x to canvas size (#0 is a 7, #1 a 2, #2 a 1)."""
    return np.kron(load_test().images[index].numpy(), np.ones((10, 10), dtype=np.uint8))


def assert_whole(at: AppTest) -> None:
    """No traceback, and no section that said it could not be shown (guard.guarded's one line)."""
    assert not at.exception, at.exception
    failed = [e.value for e in at.error if "could not be shown" in e.value]
    assert not failed, failed


def page_with(picture, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["draw_image_override"] = picture
    for key, value in state.items():
        at.session_state[key] = value
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


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"this is a text file, not a picture", "not an image that can be read"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20_000_001), "above the limit of 20,000,000"),
    ],
)
def test_bad_uploads_give_a_clear_error_and_no_traceback(payload, words):
    at = page_with(payload)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("This file cannot be used")
    assert words in at.error[0].value


@needs_lenet5
def test_injected_drawing_shows_the_predicted_digit_and_every_panel():
    picture = drawn_seven()
    at = page_with(picture)
    assert_whole(at)
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
    at.selectbox(key="draw_stage").set_value("pool1").run()
    at.slider(key="draw_channel").set_value(5).run()
    assert not at.exception, at.exception
    assert any("made the channel that pool1 turned into" in c.value for c in at.caption)
    at.selectbox(key="draw_target").set_value(1).run()
    at.multiselect(key="draw_methods").set_value(["saliency", "deeplift", "occlusion"]).run()
    at.toggle(key="draw_sanity").set_value(True).run()
    assert_whole(at)
    assert any("class **1**" in c.value for c in at.caption)
    assert any(m.value == "**Random weights (sanity check)**" for m in at.markdown)


@needs_lenet5
def test_compare_mode_shows_one_prediction_per_model():
    names = [info.name for info in checkpoints.list_checkpoints()]
    at = page_with(drawn_seven())
    at.toggle(key="draw_compare").set_value(True).run()
    assert_whole(at)
    shown = 1 + min(1, len(names) - 1)  # lenet5 and, by default, the first other checkpoint
    assert len(at.metric) == shown
    assert at.metric[0].value == "7"


def test_a_network_without_convolutions_has_no_maps_and_no_grad_cam():
    mlps = [info.name for info in checkpoints.list_checkpoints() if info.preset.startswith("mlp")]
    if not mlps:
        pytest.skip(f"no MLP checkpoint in {checkpoints.DEFAULT_DIR}")
    at = page_with(drawn_seven())
    at.selectbox(key="draw_model").set_value(mlps[0]).run()
    assert_whole(at)
    assert any("no convolutional layers" in info.value for info in at.info)
    assert "grad_cam" not in at.multiselect(key="draw_methods").options


# The teacher's "fool the network" challenge, said where the students draw: one line, in the
# page's language, while the class store's setting (the one /class's switch writes) is on.
CHALLENGE_LINE = {
    "en": "**Fool the network** is on: draw a digit the network reads wrong",
    "zh": "**骗过网络**挑战进行中：画一个网络会认错的数字",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_challenge_is_said_where_the_students_draw(tmp_path, monkeypatch, lang):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "class.sqlite"))  # a class of this test's own
    store = class_store.store()

    def challenge_lines() -> list[str]:
        at = run_page("draw", {"lang": lang})
        assert not at.exception, at.exception
        return [info.value for info in at.info if CHALLENGE_LINE[lang] in info.value]

    assert challenge_lines() == []  # off: the store's default
    store.set_challenge(True)
    assert len(challenge_lines()) == 1
    store.set_challenge(False)
    assert challenge_lines() == []


# --- widgets that outlive what they were made for (issue 14) -------------------------------


def explained(at: AppTest) -> str:
    """The attribution caption's class and why, e.g. "7** (the predicted class)"."""
    caption = next(c.value for c in at.caption if c.value.startswith("Each map explains"))
    return caption.split("class **", 1)[1].split(":", 1)[0]


@needs_lenet5
def test_the_class_explained_follows_the_prediction_unless_the_student_chose_one():
    # lenet5 predicts MNIST's labels for test digits #0 (7) and #1 (2): see core.models.inference.
    at = page_with(drawn_test_digit(0))
    assert at.selectbox(key="draw_target").value == "predicted"
    assert at.selectbox(key="draw_target").options[:2] == ["Predicted", "0"]
    assert explained(at) == "7** (the predicted class)"
    at.session_state["draw_image_override"] = drawn_test_digit(1)
    at.run()
    assert [m.value for m in at.metric] == ["2"] and explained(at) == "2** (the predicted class)"
    at.selectbox(key="draw_target").set_value(3).run()
    at.session_state["draw_image_override"] = drawn_test_digit(0)
    at.run()
    assert_whole(at)
    assert [m.value for m in at.metric] == ["7"] and explained(at) == "3** (the class you chose)"
    at.selectbox(key="draw_target").set_value("predicted").run()
    assert explained(at) == "7** (the predicted class)"
    assert at.selectbox(key="draw_target").options == ["Predicted", *map(str, range(10))]


@needs_lenet5
@pytest.mark.parametrize("stale", ["2 (predicted)", "7 (predicted)", "Predicted", "3", 10, -1, None])
def test_a_value_that_is_no_class_never_reaches_the_maps(stale):
    """What the browser held before issue 14's fix ("2 (predicted)": a label that named the
    prediction, sent back after the prediction changed) or anything else that is not one of the
    choices: the maps explain the prediction, the widget shows a choice, no section fails."""
    at = page_with(drawn_seven(), draw_target=stale)
    assert_whole(at)
    assert explained(at) == "7** (the predicted class)"
    target = at.selectbox(key="draw_target")
    assert target.value in ("predicted", None)
    assert target.value is None or target.options[target.index] == "Predicted"


def assert_widgets_hold_their_options(at: AppTest) -> None:
    """Every select widget's value is one of its current options, every slider in its range."""
    for box in at.selectbox:
        assert box.value is None or box.index is not None, box.key  # .index raises when it is not
    for multi in at.multiselect:
        assert all(label in multi.options for label in multi.values), (multi.key, multi.values)
    for slider in at.slider:
        assert slider.min <= slider.value <= slider.max, (slider.key, slider.value)


@needs_lenet5
def test_no_widget_keeps_a_value_that_is_no_longer_among_its_options():
    names = {info.name for info in checkpoints.list_checkpoints()}
    walk = [name for name in ("lenet5_1998", "keras_cnn_small", "mlp_128", "lenet5") if name in names]
    if len(walk) < 3:
        pytest.skip(f"needs lenet5_1998, keras_cnn_small and mlp_128 in {checkpoints.DEFAULT_DIR}")
    at = page_with(drawn_seven())
    at.selectbox(key="draw_stage").set_value("pool2").run()  # 16 channels
    at.slider(key="draw_channel").set_value(15)
    at.selectbox(key="draw_target").set_value(3)
    at.multiselect(key="draw_methods").set_value(["grad_cam", "deeplift"])
    at.toggle(key="draw_compare").set_value(True).run()
    at.multiselect(key="draw_others").set_value(["lenet5_1998"]).run()
    assert_whole(at)
    assert_widgets_hold_their_options(at)
    for name in walk:  # stages, channels, methods and the other models change under the widgets
        at.selectbox(key="draw_model").set_value(name).run()
        assert_whole(at)
        assert_widgets_hold_their_options(at)
        assert name not in at.multiselect(key="draw_others").value
        if name == "mlp_128":
            assert at.multiselect(key="draw_methods").value == ["deeplift"]  # no Grad-CAM without a conv
    assert at.selectbox(key="draw_target").value == 3  # a class stays chosen through all of it


@needs_lenet5
def test_checkpoints_that_go_away_leave_no_widget_holding_them(tmp_path, monkeypatch):
    import shutil

    shipped = checkpoints.DEFAULT_DIR
    present = [name for name in ("lenet5", "mlp_128", "cnn_avgpool") if (shipped / f"{name}.pt").is_file()]
    if len(present) < 3:
        pytest.skip(f"needs lenet5, mlp_128 and cnn_avgpool in {shipped}")
    for name in present:
        for suffix in (".pt", ".json"):
            shutil.copy2(shipped / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    at = page_with(drawn_seven())
    at.selectbox(key="draw_model").set_value("mlp_128")
    at.toggle(key="draw_compare").set_value(True).run()
    at.multiselect(key="draw_others").set_value(["cnn_avgpool", "lenet5"]).run()
    assert len(at.metric) == 3
    for name in ("cnn_avgpool", "mlp_128"):  # deleted, e.g. retrained under another name
        (tmp_path / f"{name}.pt").unlink()
        (tmp_path / f"{name}.json").unlink()
    at.run()
    assert_whole(at)
    assert_widgets_hold_their_options(at)
    assert at.selectbox(key="draw_model").value == "lenet5"  # the picker's default, still there
    assert at.multiselect(key="draw_others").options == [] and at.multiselect(key="draw_others").value == []
    assert [m.value for m in at.metric] == ["7"]


@needs_lenet5
def test_a_section_that_fails_says_so_in_one_line_and_the_rest_is_shown(monkeypatch):
    from core.explain import attributions

    def broken(*args, **kwargs):
        raise RuntimeError("the attribution broke\nand its second line")

    monkeypatch.setattr(attributions, "attribute_many", broken)
    at = page_with(drawn_seven())
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Which pixels mattered could not be shown: the attribution broke"]
    assert [m.value for m in at.metric] == ["7"]  # the prediction above, the explorations below
    assert [h.value for h in at.subheader][-2:] == ["Which pixels mattered", "Explore"]


# --- the explorations: receptive field and perturbation lab -----------------------------------


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@needs_lenet5
def test_receptive_field_of_a_unit_and_of_a_class():
    at = page_with(drawn_seven(), draw_rf=True)
    assert not at.exception, at.exception
    # lenet5 by hand: conv1 5x5 pad 2 -> field 5, jump 1, first pixel -2; pool1 2/2 -> 6, jump 2;
    # conv2 5x5 -> 6 + 4*2 = 14. Its default unit (5, 5) starts at -2 + 5*2 = 8: rows 8 to 21.
    assert at.selectbox(key="rf_layer").value == "conv2"
    assert "sees a **14×14** square of input pixels, rows 8 to 21 and columns 8 to 21." in markdown_text(at)
    assert [s.value.split(",")[0] for s in at.success] == ["Gradient check: its gradient reaches 196 input pixels"]
    assert "exactly the box" in at.success[0].value
    # A corner unit of conv1 sees rows and columns -2 to 2: 3x3 of its 5x5 are inside the picture.
    at.selectbox(key="rf_layer").set_value("conv1").run()
    at.slider(key="rf_row").set_value(0)
    at.slider(key="rf_col").set_value(0).run()
    assert "sees a **5×5** square of input pixels, rows -2 to 2 and columns -2 to 2 (3×3 of them" in markdown_text(at)
    assert "reaches 9 input pixels, exactly the box" in at.success[0].value
    # A class reads all 5x5 units of pool2 (16 wide, 4 apart): 16 + 4*4 = 32, the whole digit.
    at.selectbox(key="rf_layer").set_value("output class").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="rf_class").value == 7  # the predicted class
    assert "**output class 7** sees a **32×32** square" in markdown_text(at)
    assert "reaches 784 input pixels, exactly the box" in at.success[0].value


@needs_lenet5
def test_perturbation_lab_answers_as_core_does():
    picture = drawn_seven()
    digit = preprocess.from_array(picture).digit
    model, _ = checkpoints.load("lenet5")
    at = page_with(picture, draw_lab=True)
    assert not at.exception, at.exception

    def metrics() -> list[str]:
        return [m.value for m in at.metric]  # the page's prediction, then the lab's

    # Whatever the weights, the page answers as core.explain.perturb does (the reference here); the 7 is
    # MNIST's label for test digit #0, which any good checkpoint reads right.
    assert metrics() == ["7", str(perturb.occlude(model, digit, 11, 11, 6).prediction)]
    at.slider(key="occ_size").set_value(14)
    at.slider(key="occ_row").set_value(6)
    at.slider(key="occ_col").set_value(6).run()
    assert metrics() == ["7", str(perturb.occlude(model, digit, 6, 6, 14).prediction)]

    at.session_state["lab_tab"] = "Adversarial nudge (FGSM)"
    at.run()
    search = perturb.smallest_flip(model, digit, max_epsilon=0.3)
    assert f"Smallest ε that flips the prediction: **{search.epsilon:.3f}**" in markdown_text(at)
    assert metrics() == ["7", str(perturb.fgsm(model, digit, 0.05).outcome.prediction)]  # epsilon 0.05 by default
    at.button(key="fgsm_to_flip").click().run()
    epsilon = at.slider(key="fgsm_eps").value
    assert search.epsilon <= epsilon < search.epsilon + 0.005  # rounded up to the slider's step
    flipped = perturb.fgsm(model, digit, epsilon).outcome.prediction
    assert flipped != 7 and metrics() == ["7", str(flipped)]

    at.session_state["lab_tab"] = "Shift, rotate, thicken"
    at.run()
    at.slider(key="tf_dx").set_value(4)
    at.slider(key="tf_angle").set_value(45).run()
    moved = perturb.outcome(model, perturb.rotated(perturb.shifted(digit, 4, 0), 45)).prediction
    assert not at.exception, at.exception
    assert metrics() == ["7", str(moved)]
    # The table: core.explain.perturb.transformations' default 4 shifts, 4 rotations, thicken and thin.
    assert len(at.dataframe[0].value) == 10


# --- the real canvas in Chromium ------------------------------------------------------------


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
    chooser.set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"a text file that only claims to be a PNG"}]
    )
    page.get_by_text("This file cannot be used").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw_upload_error")

    # MNIST test digit #0 (a 7), dark ink on white paper as a photo or scan would be.
    chooser.set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": png_bytes(255 - drawn_seven())}]
    )
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


# --- accessibility (issue 21): a test digit for who cannot draw, every picture said in words ------


@needs_lenet5
def test_try_a_test_digit_puts_an_mnist_digit_through_the_drawings_preprocessing():
    from core.explain.pictures import describe_map

    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.button(key="draw_try_test").click().run()
    assert_whole(at)
    index = at.session_state["draw_test_digit"]
    test = load_test()
    label = int(test.labels[index])
    # The same steps as a drawing: the digit blown up to the canvas's 280 px, then core.data.preprocess.
    pre = preprocess.from_array(drawn_test_digit(index))
    model, _ = checkpoints.load("lenet5")
    expected = inference.predict(model, pre.tensor)
    assert [m.value for m in at.metric] == [str(expected.prediction)]
    alts = [img.alt for element in at.get("image") for img in element.proto.imgs]
    assert alts[0] == f"MNIST test digit #{index}, a handwritten {label}"
    assert f"Centred in 28 × 28: your digit at 28 × 28 pixels, {describe_map(pre.digit)}" in alts
    sure = expected.probabilities[expected.prediction]
    said = [h.value for h in at.get("html") if "data-announced" in h.value]
    assert len(said) == 1 and f"Prediction: {expected.prediction}, {sure:.0%} sure" in said[0]
    # MNIST's handwriting is not the class's: nothing to send.
    assert not [b for b in at.button if b.key == "send_button"]
    assert any("A test digit is not sent to the class" in c.value for c in at.caption)
    at.button(key="draw_clear").click().run()  # back to an empty canvas
    assert "draw_test_digit" not in at.session_state and any(PROMPT in i.value for i in at.info)


@pytest.mark.parametrize(
    "notation",
    [
        "conv8k3d2 bn relu max2 conv8k3psame relu avg2s1 drop0.25 dense32 tanh",  # dilation, same padding, stride 1
        "dense64 sigmoid drop0.1 dense32 stanh",  # no convolution: no feature maps, no Grad-CAM
    ],
)
def test_a_network_designed_here_is_drawn_with_every_panel(tmp_path, monkeypatch, notation):
    from core import models
    from core.models.design import checkpoint_name, parse

    name = checkpoint_name(parse(notation))
    model = models.build(models.DESIGN, notation=notation)
    checkpoints.save(model, name, preset=models.DESIGN, record={"test_accuracy": 0.1}, folder=tmp_path)
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    at = page_with(drawn_seven(), draw_model=name)
    assert at.selectbox(key="draw_model").value == name
    assert_whole(at)
    at.multiselect(key="draw_methods").set_value(at.multiselect(key="draw_methods").options).run()
    assert_whole(at)
