"""Figures of the /architecture page, plotly and HTML (drawing only: the numbers come from core): the
network as the 1998 paper's Fig. 2, LeNet-5's C3 connection table, its RBF output's bitmaps."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from core.i18n import _
from dashboard.figures.palettes import STANDARD, FigureColors
from dashboard.figures.style import styled

# --- the network diagram (the 1998 paper's Fig. 2 style) ------------------------------------

MAX_STACK = 8  # feature maps drawn per stage; more are implied by the label


def _map_side(size: int) -> float:
    return 24 + 3.2 * size  # 32 -> 126, 28 -> 114, 14 -> 69, 5 -> 40, 1 -> 27


def _bar_height(units: int) -> float:
    return min(220.0, 30 + 9 * units**0.5)  # 10 -> 58, 84 -> 112, 120 -> 129, 784+ -> 220


DIAGRAM_SCALE = 0.6  # the boxes' sizes above are the paper's proportions; drawn at this share of them


def _stage_box(stage, color: str, scale: float) -> tuple[str, float]:
    """The stage's box drawn with CSS (no words: its name and shape are text beside it) and its
    height in pixels: a stack of at most ``MAX_STACK`` squares for feature maps, a bar for units."""
    step = 5.0 * scale
    if stage.is_maps:
        side, depth = _map_side(stage.shape[1]) * scale, min(stage.shape[0], MAX_STACK)
        size = side + step * (depth - 1)
        rects = [(k * step, size - side - k * step, side, side) for k in range(depth - 1, -1, -1)]
        width = height = size
    else:
        width, height = 22 * scale, _bar_height(stage.shape[0]) * scale
        rects = [(0, 0, width, height)]
    body = "".join(
        f'<div style="position:absolute;left:{x:.1f}px;top:{y:.1f}px;width:{w:.1f}px;height:{h:.1f}px;'
        f'background:{color};border:1.2px solid #333;box-sizing:border-box"></div>'
        for x, y, w, h in rects
    )
    return (
        f'<div aria-hidden="true" style="position:relative;width:{width:.0f}px;height:{height:.0f}px;'
        f'margin:0 auto">{body}</div>'
    ), height


def network_html(stages, colors: FigureColors = STANDARD, scale: float = 1.0, label: str = "") -> str:
    """The network drawn like Fig. 2 of the 1998 paper, as HTML (for ``st.html``): for each stage
    its name and shape, its box (stacks of feature maps, bars of units, filled by layer kind:
    ``colors.kinds``) and under it what is applied value by value; between two stages an arrow
    with how the next is computed. Every word is text the page's language gives and the browser
    wraps, and the stages flow onto further lines on a narrow screen, so nothing overlaps or is cut."""
    pictures = [
        _stage_box(stage, colors.kinds.get(stage.kind, colors.kinds.get("input", "#d9d9d9")), DIAGRAM_SCALE * scale)
        for stage in stages
    ]
    room = max(height for _box, height in pictures)  # every box stands on one line, as in the paper
    items = []
    for i, (stage, (box, _height)) in enumerate(zip(stages, pictures)):
        if i:
            items.append(
                f'<li class="cnnx-op" style="display:flex;flex-direction:column;align-items:center;width:5rem;'
                f'padding-top:calc(2.1rem + {room / 2:.0f}px)">'
                f'<span aria-hidden="true" style="font-size:1.6rem;line-height:1;color:{colors.ink}">&#10230;</span>'
                f'<i style="font-size:0.8rem;line-height:1.25;text-align:center;color:{colors.ink};'
                f'overflow-wrap:anywhere">{html.escape(stage.operation)}</i></li>'
            )
        under = ", ".join(stage.after) or stage.note
        items.append(
            f'<li class="cnnx-stage" style="display:flex;flex-direction:column;align-items:center;width:5.6rem">'
            f'<b style="font-size:1rem">{html.escape(stage.name)}</b>'
            f'<span style="font-size:0.9rem;color:#555">{html.escape(stage.caption)}</span>'
            f'<div style="height:{room:.0f}px;display:flex;align-items:flex-end;margin-top:4px">{box}</div>'
            f'<small style="font-size:0.8rem;line-height:1.25;color:#555;text-align:center;margin-top:4px;'
            f'overflow-wrap:anywhere">{html.escape(under)}</small></li>'
        )
    return (
        f'<ol class="cnnx-diagram" aria-label="{html.escape(label, quote=True)}" style="list-style:none;margin:0;'
        'padding:0;display:flex;flex-wrap:wrap;row-gap:1.2rem;column-gap:0.2rem;align-items:flex-start">'
        + "".join(items)
        + "</ol>"
    )


def diagram_text(model: str, stages) -> str:
    """What ``network_html`` shows, in words: the stages in order, each with its shape."""
    return _("Diagram of {model}, stage by stage: {stages}.").format(
        model=model, stages=" → ".join(f"{stage.name} {stage.caption}" for stage in stages)
    )


# --- C3's connection table ----------------------------------------------------------------

CELL_MARKER_PX = 40  # the clickable square over each cell (cells are about 48 px, larger in presenter mode)


def connection_table(
    grid: np.ndarray,
    *,
    selected: int | None = None,
    row_label: str | None = None,
    col_label: str | None = None,
    colors: FigureColors = STANDARD,
) -> go.Figure:
    """The paper's Table I: one row per input map, one column per output map, X where connected.

    The ``selected`` column is outlined and its X cells in ``colors.highlight``: the maps that feed it.
    Invisible markers over the cells make a click on a cell select its column (plotly heatmaps do not
    report clicks): ``st.plotly_chart(..., on_select=..., selection_mode="points")`` gets the point,
    whose ``x`` is the column.
    """
    row_label = _("S2 map") if row_label is None else row_label
    col_label = _("C3 map") if col_label is None else col_label
    grid = np.asarray(grid, dtype=bool)
    rows, cols = grid.shape
    z = grid.astype(float)
    if selected is not None:
        z[:, selected] = np.where(grid[:, selected], 2.0, 0.35)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(cols)),
            y=list(range(rows)),
            text=np.where(grid, "X", ""),
            texttemplate="%{text}",
            textfont=dict(size=22),
            showscale=False,
            xgap=2,
            ygap=2,
            zmin=0,
            zmax=2,
            colorscale=[[0, colors.table[0]], [0.175, colors.table[1]], [0.5, colors.table[2]], [1, colors.highlight]],
            hoverinfo="skip",
        )
    )
    row_of, col_of = np.meshgrid(range(rows), range(cols), indexing="ij")

    def hover(r: int, c: int, reads: bool) -> str:
        names = dict(col=col_label, row=row_label, x=c, y=r)
        said = (_("{col} {x} reads {row} {y}") if reads else _("{col} {x} does not read {row} {y}")).format(**names)
        return said + "<br>" + _("click: show {col} {x}").format(**names)

    fig.add_scatter(
        x=col_of.ravel(),
        y=row_of.ravel(),
        mode="markers",
        showlegend=False,
        marker=dict(size=CELL_MARKER_PX, symbol="square", opacity=0.01, color="black"),
        customdata=[hover(int(r), int(c), bool(grid[r, c])) for r, c in zip(row_of.ravel(), col_of.ravel())],
        hovertemplate="%{customdata}<extra></extra>",
    )
    if selected is not None:
        fig.add_shape(
            type="rect", x0=selected - 0.5, x1=selected + 0.5, y0=-0.5, y1=rows - 0.5, line=dict(color="#333", width=3)
        )
    fig.update_xaxes(
        title=col_label,
        side="top",
        dtick=1,
        fixedrange=True,
        showgrid=False,
        zeroline=False,
        range=[-0.5, cols - 0.5],
        constrain="domain",
    )
    fig.update_yaxes(
        title=row_label,
        range=[rows - 0.5, -0.5],
        dtick=1,
        fixedrange=True,
        showgrid=False,
        zeroline=False,
        scaleanchor="x",
        constrain="domain",
    )
    fig.update_layout(plot_bgcolor="white", clickmode="event+select", dragmode=False)
    return styled(fig, 60 + 52 * rows)


def connection_text(grid: np.ndarray, selected: int) -> str:
    """What ``connection_table`` shows, in words: its size and what the ``selected`` column reads."""
    grid = np.asarray(grid, dtype=bool)
    reads = ", ".join(str(r) for r in np.flatnonzero(grid[:, selected]))
    return _(
        "Table I as a grid: {maps} C3 maps in columns, {inputs} S2 maps in rows, an X where a C3 map reads an "
        "S2 map ({count} in all). C3 map {map} is outlined: it reads S2 maps {reads}."
    ).format(maps=grid.shape[1], inputs=grid.shape[0], count=int(grid.sum()), map=selected, reads=reads)


# --- the RBF bitmaps ---------------------------------------------------------------------------

BITMAP_ZOOM = 10  # a 7x12 bitmap becomes 70x120 pixels (ten fit in a row), each value a sharp block


def bitmap_image(bitmap: np.ndarray) -> np.ndarray:
    """A +1/-1 bitmap as a uint8 picture: +1 black ink, -1 light grey, framed in white so that
    neighbouring bitmaps stay apart."""
    from core.data.views import upscale_nearest

    pixels = np.where(np.asarray(bitmap) > 0, 0, 215).astype(np.uint8)
    return np.pad(upscale_nearest(pixels, BITMAP_ZOOM), BITMAP_ZOOM // 2, constant_values=255)
