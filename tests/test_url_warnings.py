"""A link with a value a page cannot use says so in one line, naming the value and what is shown
instead (issue 14.3); a link whose values are all fine says nothing.

Run through ``dashboard/app.py`` (the check lives there, around every page), as a browser opening
``/page?params`` would run it.
"""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from harness import open_page, run_page
from core import checkpoints
from core.data import load_test

needs_lenet5 = pytest.mark.skipif(not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(),
                                  reason="no checkpoints/lenet5.pt: run `make checkpoints`")


def opened(page: str, params: dict, **state) -> AppTest:
    at = run_page(page, params, **state)
    assert not at.exception, at.exception
    return at


def link_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("This link's")]


def drawn_seven() -> np.ndarray:
    return np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))


@pytest.mark.parametrize("page, params, expected", [
    ("dataset", {"split": "test", "n": "999"}, ["**n=999** is not a value this page accepts: showing **25**"]),
    ("dataset", {"digit": "x"}, ["**digit=x** is not a value this page accepts: showing **all**"]),
    ("convolution", {"conv_kernel": "Sharpen", "conv_stride": "9"},
     ["**conv_stride=9** is not a value this page accepts: showing **1**"]),
    ("convolution", {"conv_mode": "Four channels"},
     ["**conv_mode=Four channels** is not a value this page accepts: showing **One channel**"]),
    ("architecture", {"arch_model": "nonexistent"},
     ["**arch_model=nonexistent** is not a value this page accepts: showing **lenet5_1998**"]),
    ("architecture", {"arch_model": "lenet5", "anatomy_filter": "99"},
     ["**anatomy_filter=99** is not a value this page accepts: showing **0**"]),
    ("training", {"training_tab": "Nope"},
     ["**training_tab=Nope** is not a value this page accepts: showing **Train a model**"]),
    ("home", {"presenter": "maybe"}, ["**presenter=maybe** is not a value this page accepts: showing **off**"]),
])
def test_a_value_the_page_cannot_use_is_named_with_what_is_shown_instead(page, params, expected):
    at = opened(page, params)
    found = link_warnings(at)
    assert len(found) == len(expected), found
    for sentence, words in zip(found, expected):
        assert words in sentence


@needs_lenet5
def test_draw_names_an_unknown_model_and_an_unknown_method():
    at = opened("draw", {"draw_model": "nonexistent"}, draw_image_override=drawn_seven())
    assert any("**draw_model=nonexistent**" in w and "showing **lenet5**" in w for w in link_warnings(at))
    at = opened("draw", {"draw_methods": ["Saliency", "Telepathy"]}, draw_image_override=drawn_seven())
    found = link_warnings(at)
    assert len(found) == 1 and "**draw_methods=Saliency, Telepathy**" in found[0]
    assert "showing **Saliency**" in found[0]  # the one method that exists is kept


@pytest.mark.parametrize("page, params", [
    ("dataset", {"split": "test", "n": "12", "digit": "3", "shuffle": "true", "seed": "8"}),
    ("dataset", {"n": "25", "split": "train"}),  # the defaults, spelled out: Streamlit drops them silently
    ("convolution", {"conv_input": "Random whole numbers", "conv_size": "5", "conv_kernel": "Sharpen",
                     "conv_stride": "2", "conv_padding": "1"}),
    ("architecture", {"arch_model": "lenet5_1998", "c3_map": "15"}),
    ("training", {"training_tab": "Train a model"}),
    ("home", {"presenter": "false"}),
])
def test_a_link_whose_values_are_all_fine_says_nothing(page, params):
    assert link_warnings(opened(page, params)) == []


@needs_lenet5
def test_draw_default_methods_spelled_out_in_the_link_say_nothing():
    params = {"draw_model": "lenet5", "draw_methods": ["Saliency", "Integrated Gradients", "Grad-CAM"]}
    assert link_warnings(opened("draw", params, draw_image_override=drawn_seven())) == []


def test_the_warning_goes_once_the_student_picks_a_value():
    at = opened("architecture", {"arch_model": "nonexistent"})
    assert len(link_warnings(at)) == 1
    at.selectbox(key="arch_model").select("lenet5").run()
    assert not at.exception
    assert link_warnings(at) == []


@pytest.mark.browser
def test_browser_a_mistyped_link_is_named_on_the_page(streamlit_server, browser_page):
    open_page(browser_page, streamlit_server.url + "/architecture?arch_model=nonexistent")
    alert = browser_page.locator("[data-testid='stAlertContentWarning']").first
    assert "arch_model=nonexistent" in alert.inner_text()
    assert "lenet5_1998" in alert.inner_text()
    assert browser_page.locator("[data-testid='stException']").count() == 0
