"""The journey on /draw: AppTest for the link, the fields, the steps and the output's softmax (each
number the page writes is the model's, as core.explain.journey computes it); Chromium for the
projector: the whole journey above the fold, a click on a conv2 map, two steps, the output, and the
link reopening the same unit in a second browser."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.data import preprocess
from core.data.mnist import load_test
from core.explain.journey import journey, open_unit
from core.grids.arithmetic import format_number
from core.models import checkpoints
from tests.harness import LAPTOP, STROKES, draw, open_page, run_page, screenshot, wait_idle

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}


def drawn_seven() -> np.ndarray:
    """MNIST test digit #0 (a 7) blown up 10x to the canvas's 280 x 280, as a drawing arrives."""
    return np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))


def journey_page(unit: str | None = None, model: str = "lenet5_1998") -> AppTest:
    """/draw through app.py (which names a link's refused value) with the seven drawn, the journey open
    (a browser opens it from the link; AppTest's expander keeps its state in the session)."""
    params = {"draw_model": model, **({"journey_unit": unit} if unit else {})}
    at = run_page("draw", params, draw_image_override=drawn_seven(), draw_journey=True)
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]
    return at


def model_value(unit: str, model: str = "lenet5_1998") -> float:
    """The unit's value as the model computes it on the same drawing (core.explain.journey)."""
    net, _info = checkpoints.load(model)
    pre = preprocess.from_array(drawn_seven())
    return open_unit(journey(net, pre.tensor), unit).value


def said(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_a_link_opens_its_unit_and_the_page_writes_the_models_number():
    at = journey_page("conv2:3:4:4")
    value = format_number(model_value("conv2:3:4:4"), 3)
    assert f"**conv2:3:4:4**: the model computed **{value}**" in said(at)
    assert f"<b>= {value}</b>" in said(at)  # the step player's equation: the sum plus the bias, the same number
    assert "conv2[3][4, 4] = Σ window × kernel over maps 3, 4, 5, + bias" in said(at)  # C3 map 3: Table I
    assert at.query_params["journey_unit"] == "conv2:3:4:4"
    assert len([h for h in at.html if "input map" in h.proto.body]) == 1  # the patches and kernels, drawn once
    spoken = next(h.proto.body for h in at.html if "stages on your digit" in h.proto.body)  # a screen reader's
    assert "conv1 (6@28×28): map 0 " in spoken and "output (10): the largest units 7 " in spoken
    assert spoken.count("Most evidence for 7") == 12  # every stage but the output (the answer is followed)


def test_the_step_player_walks_the_window_and_the_output_shows_the_softmax():
    at = journey_page("conv1:0:0:26")  # lenet5_1998's C1: 28 x 28, so the next steps wrap to row 1
    assert "Step 27 of 784" in said(at)  # the player starts at the linked unit
    at.button(key="jr_anim_forward").click().run()
    at.button(key="jr_anim_forward").click().run()
    assert at.query_params["journey_unit"] == "conv1:0:1:0"  # two steps on, wrapped to the next row
    value = format_number(model_value("conv1:0:1:0"), 3)
    assert f"**conv1:0:1:0**: the model computed **{value}**" in said(at)
    assert f"= {value}" in said(at)  # the player's equation ends on the same number
    at.button(key="jr_anim_reset").click().run()
    assert "Step 0 of 784" in said(at) and "conv1[0][0, 0] = ?" in said(at)
    at.selectbox(key="jr_layer").set_value("output").run()
    at.number_input(key="jr_map").set_value(7).run()
    net, _info = checkpoints.load("lenet5_1998")
    logits = net(preprocess.from_array(drawn_seven()).tensor)[0].detach()
    table = at.dataframe[-1].value
    shown = [float(p.rstrip("%")) / 100 for p in table.iloc[:, -1]]
    assert shown == pytest.approx(torch.softmax(logits.double(), 0).tolist(), abs=5e-5)  # as printed, 2 decimals of %
    assert "**Softmax**" in said(at)


def test_a_unit_the_network_does_not_have_is_named_and_the_first_unit_shown():
    at = journey_page("conv9:0:0:0")
    assert any("journey_unit=conv9:0:0:0" in w.value.replace("\u2060", "") for w in at.warning)
    assert "**conv1:0:0:0**" in said(at)


@pytest.mark.browser
def test_browser_the_journey_on_a_projector_and_a_link_to_a_unit(streamlit_server, browser):
    context = browser.new_context(**PROJECTOR)
    other = browser.new_context(**LAPTOP)
    try:
        page = context.new_page()
        open_page(page, f"{streamlit_server.url}/draw?presenter=true&draw_model=lenet5_1998&draw_journey=true")
        for stroke in ("bar", "slash"):
            draw(page, STROKES[stroke])
            wait_idle(page)
        chart = page.locator(".st-key-jr_chart")
        chart.locator(".js-plotly-plot").wait_for(timeout=60_000)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box["height"] <= 720, box  # the whole journey at once on the projector
        # conv2 is the fifth column of maps (conv1, act1, pool1, act2, conv2): its map 3.
        conv2 = chart.locator("g.trace.scatter").nth(4).locator("path.point").nth(3)
        conv2.click(force=True)
        page.get_by_text("conv2:3:0:0").first.wait_for(timeout=30_000)
        for _ in range(2):  # /convolution's step player, on the real map
            page.locator(".st-key-jr_anim_forward").get_by_role("button").click()
            wait_idle(page)
        page.get_by_text("conv2:3:0:2").first.wait_for(timeout=30_000)
        # C3 map 3 reads S2 maps 3, 4 and 5 (Table I): a patch and a kernel for each
        assert [page.get_by_text(f"input map {m}", exact=True).count() for m in (3, 4, 5)] == [1, 1, 1]
        assert page.get_by_text("kernel", exact=True).count() == 3
        assert "journey_unit=conv2%3A3%3A0%3A2" in page.url or "journey_unit=conv2:3:0:2" in page.url
        screenshot(page, "journey_projector_1280x720")
        link = page.url

        again = other.new_page()  # the link, in another browser: the same unit, after the same drawing
        open_page(again, link)
        for stroke in ("bar", "slash"):
            draw(again, STROKES[stroke])
            wait_idle(again)
        again.get_by_text("conv2:3:0:2").first.wait_for(timeout=60_000)

        page.locator(".st-key-jr_layer").click()
        page.get_by_role("option", name=re.compile(r"^output")).click()
        wait_idle(page)
        page.get_by_text("Softmax").first.wait_for(timeout=30_000)
    finally:
        context.close()
        other.close()
