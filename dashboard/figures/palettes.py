"""Every colour of the dashboard, in one place: the colour maps in standard and presenter mode
(colour-blind-safe there), how captions name their ends, the few fixed colours of the grids, and
the colour of a value on a scale."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from plotly.colors import get_colorscale, qualitative, unlabel_rgb

from core.i18n import N_, _

INPUT_SCALE = "Blues"
SIGNED_SCALE = "RdBu"  # negative red, positive blue, zero white (with zmid=0)
SERIES = qualitative.D3  # one colour per run in a comparison, per curve in a figure
HIGHLIGHT = "#f28e2b"  # the window
ACCENT = "#2ca02c"  # the cell being written / the winner of a max
PADDING_FILL = "#e6e6e6"
PADDING_TEXT = "#595959"  # 5.6:1 on PADDING_FILL: muted, still readable (WCAG AA asks 4.5:1)

# --- contrast (WCAG 2.1): every text at least 4.5:1 against what is behind it ------------------------


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour given as 0-255 channels."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG 2.1's contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(rgb: tuple[float, float, float]) -> str:
    """Black or white, whichever stands out more on ``rgb``: at least 4.58:1 on any colour (the
    two are equal where the background's luminance is sqrt(1.05 x 0.05) - 0.05 = 0.18)."""
    white = contrast_ratio(rgb, (255, 255, 255))
    black = contrast_ratio(rgb, (0, 0, 0))
    return "#fff" if white >= black else "#000"


# Diverging blue-orange (orange half of ColorBrewer PuOr, blue half of RdBu): the pair that
# stays apart for red-green colour-blind eyes, white at zero.
BLUE_ORANGE = (
    (0.0, "rgb(127,59,8)"),
    (0.1, "rgb(179,88,6)"),
    (0.2, "rgb(224,130,20)"),
    (0.3, "rgb(253,184,99)"),
    (0.4, "rgb(254,224,182)"),
    (0.5, "rgb(247,247,247)"),
    (0.6, "rgb(209,229,240)"),
    (0.7, "rgb(146,197,222)"),
    (0.8, "rgb(67,147,195)"),
    (0.9, "rgb(33,102,172)"),
    (1.0, "rgb(5,48,97)"),
)


@dataclass(frozen=True)
class Palette:
    """A colour map and how a caption names its ends (``low`` for the lowest or most negative
    values, ``high`` for the highest, ``middle`` for zero on a signed map); or, for a discrete
    palette, its ``colors`` and their ``names`` (which are also Streamlit's colour names)."""

    scale: str | tuple  # a plotly scale name or ((position, colour), ...)
    low: str = ""
    high: str = ""
    middle: str | None = None
    colors: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


# Standard: the look the pages were designed with. Presenter: colour-blind-safe (viridis for
# activations, blue-orange for signed values, Okabe-Ito blue/orange for right/wrong), and no
# washed-out greys for activations on a projector. Digits stay grey: that is what they are.
PALETTES: dict[str, dict[str, Palette]] = {
    "standard": {
        "image": Palette("gray", "black", "white"),  # a digit as the network gets it
        "activation": Palette("gray", "black", "white"),  # one feature map, its own range
        "signed": Palette(SIGNED_SCALE, "red", "blue", "white"),  # weights, attributions, sums
        "input": Palette(INPUT_SCALE, "white", "dark blue"),  # small grids of numbers
        "count": Palette("Reds", "white", "dark red"),  # a confusion matrix
        "answer": Palette("", colors=("#2ca02c", "#d62728", "#9ecae9"), names=("green", "red", "blue")),
    },
    "presenter": {
        "image": Palette("gray", "black", "white"),
        "activation": Palette("viridis", "dark purple", "yellow"),
        "signed": Palette(BLUE_ORANGE, "orange", "blue", "white"),
        "input": Palette(INPUT_SCALE, "white", "dark blue"),  # one hue: already safe
        "count": Palette("Reds", "white", "dark red"),
        "answer": Palette("", colors=("#0072b2", "#e69f00", "#c8c8c8"), names=("blue", "orange", "gray")),
    },
}
ANSWER_RIGHT, ANSWER_WRONG, ANSWER_OTHER = 0, 1, 2  # positions in the "answer" palette


def palette(kind: str, presenter: bool = False) -> Palette:
    """The palette for ``kind``: image, activation, signed, input, count, or answer (the right
    answer, a wrong one, the other classes)."""
    return PALETTES["presenter" if presenter else "standard"][kind]


# --- the figures of /dataset and /architecture, in each mode ----------------------------------

TRAIN_COLOR, TEST_COLOR = "#4C78A8", "#F58518"
KIND_COLORS = {
    "input": "#d9d9d9",
    "conv": "#9ecae9",
    "partial conv": "#6baed6",
    "subsampling": "#fdd0a2",
    "max pool": "#fdd0a2",
    "avg pool": "#fdd0a2",
    "linear": "#a1d99b",
    "rbf": "#fc9272",
}


@dataclass(frozen=True)
class FigureColors:
    """Every colour of these figures: the two data sets' bars, the highlight (the one-hot 1, the
    chosen C3 column), the diagram's box fill per layer kind, its arrows and operation text, and
    the connection table's cells (empty, dimmed in the chosen column, connected)."""

    series: tuple[str, str] = (TRAIN_COLOR, TEST_COLOR)
    highlight: str = HIGHLIGHT
    kinds: dict[str, str] = field(default_factory=lambda: dict(KIND_COLORS))
    ink: str = "#1f4e79"
    table: tuple[str, str, str] = ("#f4f4f4", "#fde0c5", "#c6dbef")


STANDARD = FigureColors()
# Okabe-Ito (2008) hues, as light tints for box fills so that the black outlines and labels stay
# readable: sky blue and blue for convolutions, orange for pooling, bluish green for linear
# layers, vermillion for the RBF output; they stay apart for red-green colour-blind eyes.
OKABE_ITO_KINDS = {
    "input": "#d9d9d9",
    "conv": "#a6dbf7",
    "partial conv": "#66aad1",
    "subsampling": "#f5cf7a",
    "max pool": "#f5cf7a",
    "avg pool": "#f5cf7a",
    "linear": "#7fcfb5",
    "rbf": "#eeaa80",
}


def figure_colors(answer: Palette) -> FigureColors:
    """The colours that go with ``answer`` (the "answer" palette of the current mode, from
    ``charts.palette``): the standard ones for the standard palette; otherwise the palette's own
    right/wrong pair (colour-blind-safe blue and orange in presenter mode) for the two data sets
    and the highlight, and Okabe-Ito tints for the diagram."""
    if answer == palette("answer"):
        return STANDARD
    first, second = answer.colors[ANSWER_RIGHT], answer.colors[ANSWER_WRONG]
    return FigureColors(
        series=(first, second),
        highlight=second,
        kinds=dict(OKABE_ITO_KINDS),
        ink="#0b3c5d",
        table=("#f4f4f4", "#fbe6c2", "#c4dff0"),
    )


# --- the colour of a value on a scale ----------------------------------------------------------

# The colours named here (a palette's ``low``/``high`` ends and the answer palette's ``names``,
# which are also Streamlit's colour codes): marked for translation, said with :func:`colour`.
COLOUR_NAMES = (
    N_("black"),
    N_("white"),
    N_("red"),
    N_("blue"),
    N_("dark blue"),
    N_("dark red"),
    N_("green"),
    N_("dark purple"),
    N_("yellow"),
    N_("orange"),
    N_("gray"),
)


def colour(name: str) -> str:
    """A palette's colour name in the session's language ("red" -> 红色)."""
    return _(name)


def as_key(colorscale: str | Sequence) -> str | tuple:
    """A colour scale in a hashable form (a name, or a tuple of (position, colour)), for caches."""
    return colorscale if isinstance(colorscale, str) else tuple((float(p), str(c)) for p, c in colorscale)


def plotly_scale(colorscale: str | Sequence) -> str | list:
    """A colour scale in the form plotly takes (a name, or a list of [position, colour])."""
    return colorscale if isinstance(colorscale, str) else [[float(p), c] for p, c in colorscale]


def _to_rgb(color: str) -> tuple[float, float, float]:
    if color.startswith("rgb"):
        return tuple(unlabel_rgb(color.replace("rgba", "rgb")))[:3]
    return tuple(int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


@functools.cache
def _scale_stops(colorscale: str | tuple) -> tuple[np.ndarray, np.ndarray]:
    stops = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    positions = np.array([float(p) for p, _ in stops])
    colors = np.array([_to_rgb(c) for _position, c in stops], dtype=float)
    return positions, colors


def color_range(values: np.ndarray, zmin: float | None, zmax: float | None, zmid: float | None) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if zmid is not None and zmin is None and zmax is None:
        reach = max(float(np.abs(finite - zmid).max()) if finite.size else 0.0, 1e-9)
        return zmid - reach, zmid + reach
    low = zmin if zmin is not None else (float(finite.min()) if finite.size else 0.0)
    high = zmax if zmax is not None else (float(finite.max()) if finite.size else 1.0)
    return (low, high) if high > low else (low - 1.0, low + 1.0)


def cell_colors(values: np.ndarray, colorscale: str, low: float, high: float) -> np.ndarray:
    """RGB (0-255) of each value on a named plotly colour scale between ``low`` and ``high``."""
    positions, colors = _scale_stops(as_key(colorscale))
    t = np.clip((np.nan_to_num(np.asarray(values, dtype=float), nan=low) - low) / (high - low), 0, 1)
    return np.stack([np.interp(t, positions, colors[:, i]) for i in range(3)], axis=-1)
