"""Contrast (issue 21, WCAG 2.1 AA): every text at least 4.5:1 against what is behind it, in
both modes. The formula is WCAG 2.1's (relative luminance, (L1 + 0.05) / (L2 + 0.05)); the
reference values are the ones WebAIM's checker gives.
"""

import re
import tomllib

import numpy as np
import pytest

from dashboard.figures import html_pictures, palettes
from dashboard.figures.palettes import contrast_ratio, text_on
from dashboard.frame import accessibility
from tests.harness import ROOT

WHITE, SIDEBAR = (255, 255, 255), (0xF0, 0xF2, 0xF6)  # Streamlit's light theme: page and sidebar


def rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("rgb"):
        return tuple(int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def test_the_formula_gives_the_reference_values():
    assert contrast_ratio((0, 0, 0), WHITE) == pytest.approx(21.0)
    assert contrast_ratio(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast_ratio(rgb("#767676"), WHITE) == pytest.approx(4.54, abs=0.01)  # the lightest AA grey
    assert contrast_ratio(rgb("#777777"), WHITE) == pytest.approx(4.48, abs=0.01)  # one step too light


def test_black_or_white_text_stands_out_on_any_colour():
    # The worst case is the luminance where both are equal, sqrt(1.05 x 0.05) - 0.05: 4.58:1.
    greys = [(v, v, v) for v in range(256)]
    rng = np.random.default_rng(0)
    colours = greys + [tuple(c) for c in rng.integers(0, 256, size=(2000, 3))]
    worst = min(contrast_ratio(c, rgb(text_on(c))) for c in colours)
    assert worst >= 4.58 - 1e-3 and worst == pytest.approx(4.58, abs=0.02)


@pytest.mark.parametrize("presenter", [False, True])
@pytest.mark.parametrize("kind", ["input", "signed"])
def test_every_number_in_a_grid_is_readable(kind, presenter):
    """The convolution grids (html_pictures.grid_html) in the colours of each mode: every written cell,
    padding cells too, at least 4.5:1."""
    values = np.linspace(-9, 9, 64).reshape(8, 8)
    muted = np.zeros((8, 8), dtype=bool)
    muted[0] = True
    html = html_pictures.grid_html(
        values, muted=muted, colorscale=palettes.palette(kind, presenter).scale, zmid=0 if kind == "signed" else None
    )
    cells = re.findall(r"background:([^;]+);color:([^;]+);", html)
    assert len(cells) == 64
    ratios = [contrast_ratio(rgb(background), rgb(colour)) for background, colour in cells]
    assert min(ratios) >= 4.5, min(ratios)


def test_the_fixed_colours_of_the_dashboard():
    assert contrast_ratio(rgb(palettes.PADDING_TEXT), rgb(palettes.PADDING_FILL)) >= 4.5  # 5.6
    for background in (WHITE, SIDEBAR):  # captions, on the page and in the sidebar
        assert contrast_ratio(rgb(accessibility.CAPTION_TEXT), background) >= 4.5
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert contrast_ratio(rgb(theme["textColor"]), WHITE) >= 4.5
    assert contrast_ratio(rgb(theme["primaryColor"]), WHITE) >= 4.5  # links, selected pills, the focus ring
    assert accessibility.FOCUS_RING == theme["primaryColor"]
    # Inline code: Streamlit draws it on #fcfcfb; on the sidebar's darker grey it still keeps 4.5:1.
    assert contrast_ratio(rgb(theme["codeTextColor"]), SIDEBAR) >= 4.5
