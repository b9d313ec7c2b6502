"""A link with a value a page cannot use says so in one line, naming the value and what is shown
instead (issue 14.3); a link whose values are all fine says nothing.

Run through ``dashboard/app.py`` (the check lives there, around every page), as a browser opening
``/page?params`` would run it.
"""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.mnist import load_test
from tests.harness import needs_lenet5, open_page, run_page, wait_idle


def opened(page: str, params: dict, **state) -> AppTest:
    at = run_page(page, params, **state)
    assert not at.exception, at.exception
    return at


def link_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("This link's")]


def drawn_seven() -> np.ndarray:
    return np.kron(load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))


@pytest.mark.parametrize(
    "page, params, expected",
    [
        ("dataset", {"split": "test", "n": "999"}, ["**n=999** is not a value this page accepts: showing **25**"]),
        ("dataset", {"digit": "x"}, ["**digit=x** is not a value this page accepts: showing **all**"]),
        (
            "convolution",
            {"conv_kernel": "Sharpen", "conv_stride": "9"},
            ["**conv_stride=9** is not a value this page accepts: showing **1**"],
        ),
        (
            "convolution",
            {"conv_mode": "Four channels"},
            ["**conv_mode=Four channels** is not a value this page accepts: showing **One channel**"],
        ),
        (
            "architecture",
            {"arch_model": "nonexistent"},
            ["**arch_model=nonexistent** is not a value this page accepts: showing **lenet5_1998**"],
        ),
        (
            "architecture",
            {"arch_model": "lenet5", "anatomy_filter": "99"},
            ["**anatomy_filter=99** is not a value this page accepts: showing **0**"],
        ),
        (
            "design",
            {"start": "lenet5_1998"},
            ["**start=lenet5_1998** is not a value this page accepts: showing **lenet5**"],
        ),
        (
            "training",
            {"training_tab": "Nope"},
            ["**training_tab=Nope** is not a value this page accepts: showing **Train a model**"],
        ),
        ("home", {"presenter": "maybe"}, ["**presenter=maybe** is not a value this page accepts: showing **off**"]),
    ],
)
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


@needs_lenet5
def test_a_value_with_control_characters_is_shown_escaped_and_the_sentence_stays_whole():
    # %00%0a: a NUL and a newline. Shown as typed they broke the bold (a raw "**" on the page).
    found = link_warnings(opened("draw", {"draw_model": "\x00\n"}, draw_image_override=drawn_seven()))
    assert len(found) == 1, found
    assert '**draw_model="\\\\x00\\\\n"** is not a value' in found[0], found[0]  # markdown: \\ shows one \
    assert "\x00" not in found[0] and "\n" not in found[0]
    assert found[0].count("**") == 4  # two bold spans: the setting and what is shown


@pytest.mark.parametrize(
    "value, markdown",
    [
        ("**", "\\*\\*"),
        ("[hi](http://ev.il)", "\\[hi\\](http:\u2060//ev.il)"),
        ("$x$", "\\$x\\$"),
        (":material/home:", ":\u2060material/home:\u2060"),
        ("lenet5_1998", "lenet5_1998"),
        ("_x_", "\\_x\\_"),
        ("www.ev.il", "www\u2060.ev.il"),
        ("a@b.c", "a\u2060@b.c"),
        (" a", '" a"'),
        ("a\u200bb", '"a\\\\u200bb"'),
    ],
)
def test_a_links_value_is_escaped_for_markdown(value, markdown):
    from dashboard.frame.links import markdown_text, visible

    assert markdown_text(visible(value)) == markdown


def test_an_unknown_language_is_named_and_the_page_stays_english():
    # No widget holds ?lang: dashboard.frame.language refuses it through links.refuse.
    at = opened("home", {"lang": "fr"})
    found = link_warnings(at)
    assert len(found) == 1 and "**lang=fr**" in found[0] and "showing **English**" in found[0], found
    for language in ("zh", "en"):
        assert [w.value for w in opened("home", {"lang": language}).warning if "lang=" in w.value] == []


@pytest.mark.parametrize(
    "page, params",
    [
        ("dataset", {"split": "test", "n": "12", "digit": "3", "shuffle": "true", "seed": "8"}),
        ("dataset", {"n": "25", "split": "train"}),  # the defaults, spelled out: Streamlit drops them silently
        (
            "convolution",
            {
                "conv_input": "Random whole numbers",
                "conv_size": "5",
                "conv_kernel": "Sharpen",
                "conv_stride": "2",
                "conv_padding": "1",
            },
        ),
        ("architecture", {"arch_model": "lenet5_1998", "c3_map": "15"}),
        ("training", {"training_tab": "Train a model"}),
        ("home", {"presenter": "false"}),
    ],
)
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
def test_browser_every_unusable_value_of_a_draw_link_is_named(streamlit_server, browser_page):
    # The methods' picker is drawn once there is a digit: draw_methods=Bogus is checked then (the
    # browser keeps it in the URL while the picker shows the defaults, so only the picker tells).
    open_page(browser_page, streamlit_server.url + "/draw?draw_methods=Bogus&lang=fr&draw_model=%00%0a")
    model = 'draw_model="\\x00\\n"'  # the NUL and the newline as escapes, in quotes

    def named() -> dict[str, str]:
        alerts = [a.inner_text() for a in browser_page.locator("[data-testid='stAlertContentWarning']").all()]
        return {key: text for text in alerts for key in ("draw_methods=Bogus", "lang=fr", model) if key in text}

    assert sorted(named()) == sorted(["lang=fr", model])
    browser_page.get_by_role("button", name="Try a test digit").click()
    wait_idle(browser_page)
    found = named()
    assert sorted(found) == sorted(["draw_methods=Bogus", "lang=fr", model]), found
    assert "showing Saliency, Integrated Gradients, Grad-CAM instead" in found["draw_methods=Bogus"]
    assert "showing English instead" in found["lang=fr"]
    assert "**" not in found[model] and "showing lenet5 instead" in found[model]  # the markdown held


@pytest.mark.browser
def test_browser_a_mistyped_link_is_named_on_the_page(streamlit_server, browser_page):
    open_page(browser_page, streamlit_server.url + "/architecture?arch_model=nonexistent")
    alert = browser_page.locator("[data-testid='stAlertContentWarning']").first
    assert "arch_model=nonexistent" in alert.inner_text()
    assert "lenet5_1998" in alert.inner_text()
    assert browser_page.locator("[data-testid='stException']").count() == 0
