"""Plotly figures of the /dataset and /architecture pages (drawing only: the numbers come from core)."""

from __future__ import annotations

import re
import textwrap
import unicodedata

import numpy as np
import plotly.graph_objects as go

from core.dataset_views import SPLIT_LABELS
from core.i18n import _
from dashboard.figure_style import styled
from dashboard.palettes import STANDARD, FigureColors


def class_counts_bar(counts: dict[str, list[int]], colors: FigureColors = STANDARD) -> go.Figure:
    """Grouped bars: images per digit in the training and the test set (``colors.series``)."""
    fig = go.Figure([
        go.Bar(name=f"{_(SPLIT_LABELS.get(split, split))} ({sum(c):,})", x=list(range(10)), y=c,
               text=[f"{v:,}" for v in c], textposition="outside", marker_color=color)
        for (split, c), color in zip(counts.items(), colors.series)])
    fig.update_layout(barmode="group", xaxis=dict(title=_("digit"), dtick=1),
                      yaxis=dict(title=_("images")), legend=dict(orientation="h", y=1.12))
    return styled(fig, 420)


def class_counts_text(counts: dict[str, list[int]]) -> str:
    """What ``class_counts_bar`` shows, in words: the fewest and the most images of a digit, per set."""
    ends = {}
    for split in ("train", "test"):
        c = counts[split]
        low, high = int(np.argmin(c)), int(np.argmax(c))
        ends.update({f"{split}_low": c[low], f"{split}_low_digit": low, f"{split}_high": c[high],
                     f"{split}_high_digit": high})
    return _("Bar chart of how many images show each digit, 0 to 9: the training set has from {train_low:,} "
             "({train_low_digit}) to {train_high:,} ({train_high_digit}) per digit, the test set from {test_low:,} "
             "({test_low_digit}) to {test_high:,} ({test_high_digit}).").format(**ends)


def one_hot_bar(vector: np.ndarray, colors: FigureColors = STANDARD) -> go.Figure:
    """The ten target values as a row of cells, the 1 in ``colors.highlight``."""
    vector = np.asarray(vector)
    fig = go.Figure(go.Heatmap(
        z=vector[None, :], x=list(range(len(vector))), text=[[str(v) for v in vector]],
        texttemplate="%{text}", textfont=dict(size=20), colorscale=[[0, "#f0f0f0"], [1, colors.highlight]],
        zmin=0, zmax=1, showscale=False, xgap=3, ygap=3, hoverinfo="skip"))
    fig.update_xaxes(dtick=1, title=_("position (digit)"), side="bottom")
    fig.update_yaxes(visible=False)
    return styled(fig, 150)


# --- the network diagram (the 1998 paper's Fig. 2 style) ------------------------------------

SLOT = 160          # horizontal room per stage, in diagram units (about pixels)
MAX_STACK = 8       # feature maps drawn per stage; more are implied by the label


def _map_side(size: int) -> float:
    return 24 + 3.2 * size          # 32 -> 126, 28 -> 114, 14 -> 69, 5 -> 40, 1 -> 27


def _bar_height(units: int) -> float:
    return min(220.0, 30 + 9 * units ** 0.5)  # 10 -> 58, 84 -> 112, 120 -> 129, 784+ -> 220


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _columns(text: str) -> int:
    return sum(2 if _wide(ch) else 1 for ch in text)


def _wrap(text: str, width: int = 16) -> str:
    """``text`` in lines of at most ``width`` columns, joined by ``<br>``. Chinese has no spaces
    between words: there a line breaks after a comma or before a bracket, else between any two
    characters (each two columns wide: about as wide as two Latin letters)."""
    if not any(_wide(ch) for ch in text):
        return "<br>".join(textwrap.wrap(text, width)) if text else ""
    lines, line = [], ""
    for phrase in re.split(r"(?<=，)|(?=（)", text):
        if line and _columns(line + phrase) > width:
            lines.append(line)
            line = ""
        for ch in phrase:
            if line and _columns(line + ch) > width and ch not in _CLOSING:
                lines.append(line)
                line = ""
            line += ch
    return "<br>".join(part.strip() for part in lines + [line] if part.strip())


_CLOSING = "，。、：；！？）》」"  # never at the start of a line


def network_diagram(stages, colors: FigureColors = STANDARD) -> go.Figure:
    """Boxes for each stage (stacks of feature maps, bars of units), names and shapes above,
    the operation that makes each stage written under the arrow leading to it; boxes filled
    by layer kind (``colors.kinds``)."""
    shapes, notes, spans = [], [], []
    base, step, tallest = 0.0, 5.0, 0.0  # boxes sit on ``base``; text goes above and below
    for i, st in enumerate(stages):
        cx = i * SLOT + SLOT / 2
        color = colors.kinds.get(st.kind, colors.kinds.get("input", "#d9d9d9"))
        if st.is_maps:
            side = _map_side(st.shape[1])
            depth = min(st.shape[0], MAX_STACK)
            x0 = cx - (side + step * (depth - 1)) / 2
            for k in range(depth - 1, -1, -1):  # back to front
                shapes.append(dict(type="rect", x0=x0 + k * step, x1=x0 + k * step + side,
                                   y0=base + k * step, y1=base + k * step + side,
                                   fillcolor=color, line=dict(color="#333", width=1.2)))
            top, span = base + side + step * (depth - 1), (x0, x0 + side + step * (depth - 1))
        else:
            top, span = base + _bar_height(st.shape[0]), (cx - 11, cx + 11)
            shapes.append(dict(type="rect", x0=span[0], x1=span[1], y0=base, y1=top,
                               fillcolor=color, line=dict(color="#333", width=1.2)))
        spans.append(span)
        tallest = max(tallest, top)
        notes.append(dict(x=cx, y=top + 8, text=f"<b>{st.name}</b><br>{st.caption}", showarrow=False,
                          yanchor="bottom", font=dict(size=17)))
        under = ", ".join(st.after) or st.note
        if under:
            notes.append(dict(x=cx, y=base - 10, text=_wrap(under, 18), showarrow=False,
                              yanchor="top", font=dict(size=14, color="#555")))
        if i:  # the arrow from the previous box to this one, and what it does
            start, end = spans[i - 1][1] + 6, span[0] - 6
            notes.append(dict(x=end, y=base + 12, ax=start, ay=base + 12, xref="x", yref="y",
                              axref="x", ayref="y", text="", showarrow=True, arrowhead=2,
                              arrowsize=1.2, arrowwidth=2, arrowcolor=colors.ink))
            notes.append(dict(x=cx - SLOT / 2, y=base - 62, text=f"<i>{_wrap(st.operation)}</i>",
                              showarrow=False, yanchor="top", font=dict(size=15, color=colors.ink)))
    fig = go.Figure()
    fig.update_layout(shapes=shapes, annotations=notes, plot_bgcolor="white", showlegend=False,
                      height=int(tallest + 70 + 150), margin=dict(l=5, r=5, t=5, b=5))
    fig.update_xaxes(visible=False, range=[0, SLOT * len(stages)], fixedrange=True)
    fig.update_yaxes(visible=False, range=[base - 150, tallest + 70], fixedrange=True)
    return fig


def diagram_text(model: str, stages) -> str:
    """What ``network_diagram`` shows, in words: the stages in order, each with its shape."""
    return _("Diagram of {model}, stage by stage: {stages}.").format(
        model=model, stages=" → ".join(f"{stage.name} {stage.caption}" for stage in stages))


# --- C3's connection table ----------------------------------------------------------------

CELL_MARKER_PX = 40  # the clickable square over each cell (cells are about 48 px, larger in presenter mode)


def connection_table(grid: np.ndarray, *, selected: int | None = None,
                     row_label: str | None = None, col_label: str | None = None,
                     colors: FigureColors = STANDARD) -> go.Figure:
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
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(cols)), y=list(range(rows)), text=np.where(grid, "X", ""),
        texttemplate="%{text}", textfont=dict(size=22), showscale=False, xgap=2, ygap=2, zmin=0, zmax=2,
        colorscale=[[0, colors.table[0]], [0.175, colors.table[1]], [0.5, colors.table[2]],
                    [1, colors.highlight]],
        hoverinfo="skip"))
    row_of, col_of = np.meshgrid(range(rows), range(cols), indexing="ij")

    def hover(r: int, c: int, reads: bool) -> str:
        names = dict(col=col_label, row=row_label, x=c, y=r)
        said = (_("{col} {x} reads {row} {y}") if reads else _("{col} {x} does not read {row} {y}")).format(**names)
        return said + "<br>" + _("click: show {col} {x}").format(**names)

    fig.add_scatter(
        x=col_of.ravel(), y=row_of.ravel(), mode="markers", showlegend=False,
        marker=dict(size=CELL_MARKER_PX, symbol="square", opacity=0.01, color="black"),
        customdata=[hover(int(r), int(c), bool(grid[r, c])) for r, c in zip(row_of.ravel(), col_of.ravel())],
        hovertemplate="%{customdata}<extra></extra>")
    if selected is not None:
        fig.add_shape(type="rect", x0=selected - 0.5, x1=selected + 0.5, y0=-0.5, y1=rows - 0.5,
                      line=dict(color="#333", width=3))
    fig.update_xaxes(title=col_label, side="top", dtick=1, fixedrange=True, showgrid=False,
                     zeroline=False, range=[-0.5, cols - 0.5], constrain="domain")
    fig.update_yaxes(title=row_label, range=[rows - 0.5, -0.5], dtick=1, fixedrange=True,
                     showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    fig.update_layout(plot_bgcolor="white", clickmode="event+select", dragmode=False)
    return styled(fig, 60 + 52 * rows)


def connection_text(grid: np.ndarray, selected: int) -> str:
    """What ``connection_table`` shows, in words: its size and what the ``selected`` column reads."""
    grid = np.asarray(grid, dtype=bool)
    reads = ", ".join(str(r) for r in np.flatnonzero(grid[:, selected]))
    return _("Table I as a grid: {maps} C3 maps in columns, {inputs} S2 maps in rows, an X where a C3 map reads an "
             "S2 map ({count} in all). C3 map {map} is outlined: it reads S2 maps {reads}.").format(
        maps=grid.shape[1], inputs=grid.shape[0], count=int(grid.sum()), map=selected, reads=reads)


# --- the RBF bitmaps ---------------------------------------------------------------------------

BITMAP_ZOOM = 10  # a 7x12 bitmap becomes 70x120 pixels (ten fit in a row), each value a sharp block


def bitmap_image(bitmap: np.ndarray) -> np.ndarray:
    """A +1/-1 bitmap as a uint8 picture: +1 black ink, -1 light grey, framed in white so that
    neighbouring bitmaps stay apart."""
    from core.dataset_views import upscale_nearest
    pixels = np.where(np.asarray(bitmap) > 0, 0, 215).astype(np.uint8)
    return np.pad(upscale_nearest(pixels, BITMAP_ZOOM), BITMAP_ZOOM // 2, constant_values=255)
