"""Pictures as HTML (for ``st.html``), where a browser redraws faster than a plotly chart or one
element beats one image file per tile: grids of numbers, rows of them, labelled tiles of
pictures and of feature maps. The colour of a value: ``dashboard.figures.palettes.cell_colors``."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np

from core.explain.pictures import channel_tiles, describe_maps, png_data_uri
from core.grids.arithmetic import format_number
from core.i18n import _
from dashboard.figures.palettes import (
    ACCENT,
    HIGHLIGHT,
    INPUT_SCALE,
    PADDING_FILL,
    PADDING_TEXT,
    cell_colors,
    color_range,
    text_on,
)


def grid_html(
    values: np.ndarray,
    *,
    highlight: Iterable[tuple[int, int]] | None = None,
    accent: Iterable[tuple[int, int]] | None = None,
    preview: Iterable[tuple[int, int]] | None = None,
    muted: np.ndarray | None = None,
    text: bool = True,
    decimals: int = 2,
    colorscale: str | Sequence = INPUT_SCALE,
    zmid: float | None = None,
    zmin: float | None = None,
    zmax: float | None = None,
    title: str | None = None,
    cell_px: int = 48,
    font_px: int | None = None,
) -> str:
    """The same grid as ``grid_heatmap``, as an HTML table (for ``st.html``).

    A browser redraws a table of coloured cells far faster than a plotly chart, which is what
    an animation needs: several grids redrawn four or more times a second. A screen reader reads
    it as a table named by its ``title``, cell by cell.
    """
    values = np.asarray(values, dtype=float)
    muted = np.zeros(values.shape, dtype=bool) if muted is None else np.asarray(muted, dtype=bool)
    low, high = color_range(np.where(muted, np.nan, values), zmin, zmax, zmid)
    rgb = cell_colors(values, colorscale, low, high)
    outlines = {}
    for cells, style in (
        (preview, f"3px dotted {HIGHLIGHT}"),
        (highlight, f"4px solid {HIGHLIGHT}"),
        (accent, f"4px solid {ACCENT}"),
    ):
        for cell in cells or []:
            outlines[tuple(cell)] = style
    font_px = font_px or max(12, min(24, int(cell_px * 0.42)))
    rows = []
    for r in range(values.shape[0]):
        cells = []
        for c in range(values.shape[1]):
            v = values[r, c]
            if muted[r, c]:
                background, color = PADDING_FILL, PADDING_TEXT
            elif np.isnan(v):
                background, color = "#fafafa", "#000"
            else:
                red, green, blue = rgb[r, c]
                background = f"rgb({red:.0f},{green:.0f},{blue:.0f})"
                color = text_on((red, green, blue))
            outline = f"outline:{outlines[r, c]};outline-offset:-4px;" if (r, c) in outlines else ""
            label = "" if np.isnan(v) or not text else html.escape(format_number(v, decimals))
            cells.append(
                f"<td style='padding:0;border:none;width:{cell_px}px;height:{cell_px}px;min-width:{cell_px}px;"
                f"background:{background};color:{color};{outline}'>{label}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # The table is named by its title (a screen reader says it with the table), so the title
    # itself is not read a second time.
    heading = (
        (
            f"<div aria-hidden='true' style='font-weight:600;font-size:1.05rem;text-align:center;"
            f"margin-bottom:4px'>{html.escape(title)}</div>"
        )
        if title
        else ""
    )
    name = f"role='table' aria-label='{html.escape(title, quote=True)}' " if title else ""
    table = (
        f"<table {name}style='border-collapse:separate;border-spacing:2px;margin:0 auto;table-layout:fixed;"
        f"font-size:{font_px}px;font-variant-numeric:tabular-nums;text-align:center;line-height:1'>"
        + "".join(rows)
        + "</table>"
    )
    return f"<div style='display:inline-block'>{heading}{table}</div>"


def grids_row(*parts: str, gap_px: int = 28, align: str = "flex-start") -> str:
    """HTML pieces (grids, labels) side by side; they wrap onto a new line on a narrow screen."""
    return f"<div style='display:flex;flex-wrap:wrap;gap:{gap_px}px;align-items:{align}'>" + "".join(parts) + "</div>"


def tiles_html(pictures: Sequence[np.ndarray], captions: Sequence[str], alts: Sequence[str], *, tile_px: int) -> str:
    """Small pictures in a wrapping grid, each with its caption under it and a text alternative,
    as one HTML block (for ``st.html``): one element instead of one image file per tile."""
    cells = "".join(
        f'<figure style="margin:0;text-align:center"><img src="{png_data_uri(picture)}" alt="{html.escape(alt)}" '
        f'width="{tile_px}" height="{tile_px}" style="image-rendering:pixelated;display:block">'
        f'<figcaption style="font-size:0.8rem;color:#555">{html.escape(caption)}</figcaption></figure>'
        for picture, caption, alt in zip(pictures, captions, alts)
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:6px 8px">{cells}</div>'


def channels_html(maps, name: str, *, tile_px: int) -> str:
    """A ``C x H x W`` stack of feature maps as numbered tiles (each stretched to its own range;
    ``core.explain.pictures.channel_tiles``), ``name`` saying whose channels they are; each tile's text
    alternative says where it is bright (``core.explain.pictures.describe_maps``)."""
    tiles = channel_tiles(maps, tile_px=tile_px)
    count = len(tiles)
    values = maps.numpy() if hasattr(maps, "numpy") else np.asarray(maps)
    alts = [
        _("{name} channel {channel}: {description}").format(name=name, channel=c, description=description)
        for c, description in enumerate(describe_maps(values))
    ]
    return tiles_html(tiles, [str(c) for c in range(count)], alts, tile_px=tiles[0].shape[0] if tiles else tile_px)


def label_html(text: str, *, size_rem: float = 1.4, bold: bool = True) -> str:
    """A short text (``sum = 6``, ``+``) sized to sit between grids."""
    weight = 700 if bold else 400
    return (
        f"<div style='font-size:{size_rem}rem;font-weight:{weight};white-space:nowrap;"
        f"font-variant-numeric:tabular-nums'>{html.escape(text)}</div>"
    )


def fitted_grid_html(
    values: np.ndarray,
    *,
    decimals: int,
    colorscale: str | Sequence,
    zmin: float,
    zmax: float,
    max_cell_px: int,
    min_cell_px: int,
    label: str,
) -> str:
    """A large grid of numbers (a 28x28 digit) as wide as its column allows, up to ``max_cell_px``
    a cell: square cells whose numbers scale with them, so the grid is exactly as tall as it is
    drawn (no blank band above or below, as a plotly figure of fixed height had). Below
    ``min_cell_px`` a cell it keeps that size and the grid scrolls sideways inside its own box (a
    phone), never past the screen. One picture for a screen reader, named by ``label``."""
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    rgb = cell_colors(values, colorscale, zmin, zmax)
    cells = []
    for r in range(rows):
        for c in range(cols):
            red, green, blue = rgb[r, c]
            cells.append(
                f"<div style='background:rgb({red:.0f},{green:.0f},{blue:.0f});"
                f"color:{text_on((red, green, blue))}'>{html.escape(format_number(values[r, c], decimals))}"
                "</div>"
            )
    gap = 1
    # Container units: 100cqw is the grid's own width, so a cell's number is a share of the cell.
    grid = (
        f"<div role='img' aria-label='{html.escape(label, quote=True)}' style='display:grid;"
        f"grid-template-columns:repeat({cols},1fr);gap:{gap}px;width:max(100%,{cols * (min_cell_px + gap)}px);"
        f"max-width:{cols * (max_cell_px + gap)}px;container-type:inline-size;font-variant-numeric:tabular-nums'>"
        f"<style>.cnnx-fitted>div>div{{aspect-ratio:1;display:flex;align-items:center;justify-content:center;"
        f"font-size:calc(100cqw / {cols} * 0.36);line-height:1;overflow:hidden}}</style>" + "".join(cells) + "</div>"
    )
    # Focusable, so that a keyboard can scroll it where it scrolls.
    return f"<div class='cnnx-fitted' tabindex='0' style='overflow-x:auto;max-width:100%'>{grid}</div>"
