"""core.grids.worksheet: the printable exercise parses and holds the exercise's numbers and the key.

The answer key is checked against ``core.grids.gridmath.convolve`` (itself checked against torch in
tests/test_gridmath.py) and, for one tiny case, against a hand computation.
"""

from html.parser import HTMLParser

import numpy as np
import pytest

from core.grids import arithmetic, gridmath, presets, worksheet
from core.grids.gridmath import GridSettingsError

VOID = {"meta", "br", "hr", "img", "link", "input"}


class Sheet(HTMLParser):
    """Collects the grids (by data-grid / data-channel), settings, work blocks and sections,
    and fails on any end tag that does not close the element open at that point."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack, self.grids, self.settings, self.work, self.sections = [], {}, {}, {}, []
        self.style = ""
        self._grid = self._row = self._cell = self._setting = self._work = None
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed elements: {self.stack}"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table" and "data-grid" in attrs:
            self._grid = (attrs["data-grid"], int(attrs.get("data-channel", 0)))
            self.grids[self._grid] = []
        elif tag == "tr" and self._grid:
            self._row = []
        elif tag == "td":
            self._cell = ""
            self._setting = attrs.get("data-setting")
        elif tag == "section":
            self.sections.append(attrs.get("id"))
        elif tag == "div" and "data-work" in attrs:
            self._work = attrs["data-work"]
            self.work[self._work] = ""

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "td":
            if self._row is not None:
                self._row.append(self._cell.strip())
            if self._setting:
                self.settings[self._setting] = self._cell.strip()
            self._cell = self._setting = None
        elif tag == "tr" and self._row is not None:
            self.grids[self._grid].append(self._row)
            self._row = None
        elif tag == "table":
            self._grid = None
        elif tag == "div":
            self._work = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._work is not None:
            self.work[self._work] += data
        if self.stack and self.stack[-1] == "style":
            self.style += data


def formatted(values) -> list[list[str]]:
    return [[arithmetic.format_number(v) for v in row] for row in np.asarray(values, dtype=float)]


def test_hand_computed_key_of_a_tiny_exercise():
    x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    k = [[1, 0], [0, -1]]
    sheet = Sheet(worksheet.convolution_worksheet(x, k))
    # Every window: top-left minus bottom-right, 1 - 5 = 2 - 6 = 4 - 8 = 5 - 9 = -4.
    assert sheet.grids["output", 0] == [["-4", "-4"], ["-4", "-4"]]
    assert sheet.grids["output-blank", 0] == [["", ""], ["", ""]]
    assert sheet.work["first-step"].splitlines() == ["1×1 + 2×0 + 4×0 + 5×(-1) = -4", "sum -4 + bias 0 = -4"]


@pytest.mark.parametrize(
    "settings",
    [
        dict(stride=1, padding=0, dilation=1, bias=0.0),
        dict(stride=2, padding=1, dilation=1, bias=0.5),
        dict(stride=1, padding=2, dilation=2, bias=-1.0),
    ],
)
def test_sheet_holds_the_exercise_and_the_key_equals_gridmath(settings):
    x = presets.random_integers((6, 6), seed=3)
    k = presets.KERNELS["Sharpen"]
    text = worksheet.convolution_worksheet(x, k, **settings)
    sheet = Sheet(text)
    assert sheet.sections == ["exercise", "answers"]
    assert "break-after: page" in sheet.style and "page-break-after: always" in sheet.style
    assert sheet.grids["input", 0] == formatted(x)
    assert sheet.grids["kernel", 0] == formatted(k)
    assert sheet.settings["stride"] == str(settings["stride"])
    assert sheet.settings["padding"] == str(settings["padding"])
    assert sheet.settings["dilation"] == str(settings["dilation"])
    assert sheet.settings["bias"] == arithmetic.format_number(settings["bias"])
    result = gridmath.convolve(x, k, **settings)
    assert sheet.grids["output", 0] == formatted(result.output)
    out_h, out_w = result.output.shape
    assert len(sheet.grids["output-blank", 0]) == out_h and all(
        row == [""] * out_w for row in sheet.grids["output-blank", 0]
    )
    assert sheet.work["first-step"].splitlines() == arithmetic.describe_step(result, 0)
    assert sheet.work["size"].endswith(f"= {out_h}")
    if settings["padding"]:
        assert sheet.grids["padded", 0] == formatted(result.padded[0])
    else:
        assert ("padded", 0) not in sheet.grids


def test_the_key_uses_the_numbers_as_printed():
    # The box blur is 1/9 in every cell; the sheet prints 0.11, so the key uses 0.11.
    x = presets.vertical_edge(4)
    sheet = Sheet(worksheet.convolution_worksheet(x, presets.KERNELS["Blur (box)"]))
    assert sheet.grids["kernel", 0] == [["0.11"] * 3] * 3
    printed = gridmath.convolve(x, np.full((3, 3), 0.11)).output
    assert sheet.grids["output", 0] == formatted(printed)  # 9 x 6 x 0.11 = 5.94 in the first cell
    assert sheet.grids["output", 0][0][0] == "5.94"


def test_three_channels_get_one_grid_each():
    x, w, bias = presets.multichannel_example()
    sheet = Sheet(worksheet.convolution_worksheet(x, w, bias=bias))
    for c in range(3):
        assert sheet.grids["input", c] == formatted(x[c]) and sheet.grids["kernel", c] == formatted(w[c])
    assert sheet.grids["output", 0] == formatted(gridmath.convolve(x, w, bias=bias).output)


def test_title_is_escaped_and_bad_settings_say_why():
    text = worksheet.convolution_worksheet([[1, 2], [3, 4]], [[1]], title="<script>alert(1)</script>")
    assert "<script>" not in text and "&lt;script&gt;" in text
    with pytest.raises(GridSettingsError, match="larger than the padded input"):
        worksheet.convolution_worksheet([[1, 2], [3, 4]], np.ones((3, 3)))
