"""The journey, on /draw: the student's digit through the whole network in one figure (every
stage's maps as a column of small pictures, dense layers and the output as columns of cells, lines
for which maps feed which: C3's partial table as the 1998 paper wired it), and any unit opened
beside it to the arithmetic that made it (``core.explain.journey``).

A click on a map (or the fields under the figure) chooses the map; /convolution's step player
(``dashboard.stepping``) walks its window across the map, on the real maps and trained kernels,
with the same predict-then-reveal. The unit is
kept in the link as ``journey_unit=LAYER:MAP:ROW:COL`` (a value the network does not have is
named on the page, and the first convolution's first unit shown).
"""

from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from core.explain import pictures
from core.explain.journey import Stage, UnitError, UnitRef, journey, open_unit
from core.i18n import _
from dashboard.draw import unit_arithmetic
from dashboard.figures import charts, palettes
from dashboard.frame import links
from dashboard.stepping import stepper

PARAM = "journey_unit"
KEYS = ("jr_layer", "jr_map", "jr_row", "jr_col")
_FOLLOWED = "_journey_followed"  # session state: the answer the evidence followed by default
_WALKED = "_journey_walked"  # session state: the map (and drawing) the step player walks
PLAYER = "jr_anim"  # the step player's key (its buttons: jr_anim_play, jr_anim_forward...)
_APPLIED = "_journey_applied"  # session state: the link's unit already put in the fields
FIGURE_PX = 430  # the journey's height: with the fields and the arithmetic's first lines above a projector's fold
COLUMN_PX = 52  # the narrowest a stage's column is drawn
BOX = 0.4  # half a column: a map's picture box, in columns
MOST_LINES = 160
EVIDENCE_TOP = 3  # the maps (or units) of each stage outlined as the most evidence for the followed class  # more connections than this between two columns: only the chosen map's are drawn


def journey_section(model: torch.nn.Module, tensor: torch.Tensor, digit: np.ndarray, predicted: int) -> None:
    """The figure, the class whose evidence it outlines, the unit's fields, and the opened unit's arithmetic."""
    # The network's answer, until the student picks another class: a new drawing's answer replaces the
    # old one's, a class the student chose stays.
    if st.session_state.get("jr_class", st.session_state.get(_FOLLOWED)) == st.session_state.get(_FOLLOWED):
        st.session_state["jr_class"] = predicted
    st.session_state[_FOLLOWED] = predicted
    followed = st.segmented_control(
        _("Why this class? Outline the evidence for"),
        list(range(10)),
        key="jr_class",
        help=_(
            "The maps and units whose activation pushes this class's score up the most: gradient × activation "
            "of its logit (Shrikumar et al. 2016), summed over each map."
        ),
    )
    stages = journey(model, tensor, follow=followed)
    unit = _chosen_unit(stages)
    arithmetic = open_unit(stages, unit)
    st.caption(
        _(
            "Every stage of the network on your digit, left to right. Click a map (or choose a unit below) "
            "to see how one of its numbers was computed. Outlined in orange: each stage's {top} maps or units "
            "with the most evidence for {digit}; in green, the unit opened and the maps it reads."
        ).format(top=EVIDENCE_TOP, digit=followed)
        if followed is not None
        else _(
            "Every stage of the network on your digit, left to right. Click a map (or choose a unit below) "
            "to see how one of its numbers was computed."
        )
    )
    fig = journey_figure(stages, unit, digit)
    # As wide as the column, but never narrower than a readable column per stage: a phone scrolls it sideways.
    st.html(
        f"<style>.st-key-jr_scroll {{ overflow-x: auto; }} .st-key-jr_scroll [data-testid='stPlotlyChart'] "
        f"{{ min-width: {COLUMN_PX * (len(stages) + 2)}px; }}</style>"
    )
    with st.container(key="jr_scroll"):
        charts.plotly_chart(
            fig,
            key="jr_chart",
            width="stretch",
            on_select=_take_click,
            selection_mode="points",
            description=spoken(stages, unit, followed),
        )
    _fields(stages, unit)
    chosen = next(s for s in stages if s.short == unit.layer)
    if chosen.is_map and chosen.output.shape[-1] * chosen.output.shape[-2] > 1:
        _walk(stages, chosen, unit)
    else:
        unit_arithmetic.arithmetic(arithmetic)


def spoken(stages: list[Stage], unit: UnitRef, followed: int | None) -> str:
    """The figure in words, for a screen reader: each stage, what each of its maps shows (or its
    largest units), and the maps with the most evidence for the followed class."""
    parts = [
        _("The network's stages on your digit, {count} columns; the chosen unit: {unit}.").format(
            count=len(stages) + 1, unit=unit.text
        )
    ]
    for stage in stages:
        if stage.is_map and stage.output.shape[-1] * stage.output.shape[-2] > 1:
            maps = "; ".join(
                _("map {map} {what}").format(map=i, what=what)
                for i, what in enumerate(pictures.describe_maps(stage.output.numpy()))
            )
            line = f"{stage.short} ({_shape(stage)}): {maps}."
        else:
            values = stage.output.flatten()
            top = torch.argsort(values, descending=True)[:3].tolist()
            largest = ", ".join(f"{i} ({values[i]:.2f})" for i in top)
            line = _("{layer} ({shape}): the largest units {units}.").format(
                layer=stage.short, shape=_shape(stage), units=largest
            )
        if followed is not None and stage.evidence is not None and stage.kind != "output":
            most = ", ".join(str(i) for i in torch.argsort(stage.evidence, descending=True)[:EVIDENCE_TOP].tolist())
            line += " " + _("Most evidence for {digit}: {which}.").format(digit=followed, which=most)
        parts.append(line)
    return " ".join(parts)


def _chosen_unit(stages: list[Stage]) -> UnitRef:
    """The unit the fields hold, put there first from the link (once per value of the link)."""
    asked = st.query_params.get(PARAM)
    default = UnitRef(next(s.short for s in stages if s.kind == "conv"), 0, 0, 0)
    if asked and st.session_state.get(_APPLIED) != asked:
        st.session_state[_APPLIED] = asked
        try:
            unit = UnitRef.parse(asked)
            open_unit(stages, unit)  # a layer and a position this network has
        except UnitError:
            # Said while the page still shows the unit put in its place (the link itself is rewritten).
            links.refuse(PARAM, [asked], default.text, shown=default.text, state_key=_APPLIED)
            unit = default
        _put(unit)
    if KEYS[0] not in st.session_state or st.session_state[KEYS[0]] not in [s.short for s in stages]:
        _put(default)
    unit = UnitRef(*(st.session_state[k] for k in KEYS))
    try:
        open_unit(stages, unit)
    except UnitError:  # a map or position past this layer's: its first unit
        unit = UnitRef(unit.layer, 0, 0, 0)
        _put(unit)
    return unit


def _put(unit: UnitRef) -> None:
    for key, value in zip(KEYS, (unit.layer, unit.map, unit.row, unit.col)):
        st.session_state[key] = value


def _take_click() -> None:
    points = st.session_state.get("jr_chart", {}).get("selection", {}).get("points", [])
    data = points[0].get("customdata") if points else None
    if isinstance(data, (list, tuple)):
        data = data[0]
    if isinstance(data, str) and ":" in data:
        layer, index = data.split(":")
        keep_position = st.session_state.get(KEYS[0]) == layer
        st.session_state[KEYS[0]], st.session_state[KEYS[1]] = layer, int(index)
        if not keep_position:
            st.session_state[KEYS[2]] = st.session_state[KEYS[3]] = 0


def _fields(stages: list[Stage], unit: UnitRef) -> None:
    """The layer and the map (or unit); a map's position is the step player's."""
    chosen = next(s for s in stages if s.short == unit.layer)
    shapes = {s.short: _shape(s) for s in stages}
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.selectbox(
            _("Layer"), list(shapes), key=KEYS[0], format_func=lambda short: f"{short} · {shapes[short]}", width=220
        )
        count = chosen.output.shape[0]
        st.number_input(_("Map") if chosen.is_map else _("Unit"), 0, count - 1, key=KEYS[1], width=110)
    st.query_params[PARAM] = unit.text
    st.session_state[_APPLIED] = unit.text


def _walk(stages: list[Stage], chosen: Stage, unit: UnitRef) -> None:
    """/convolution's step player over every position of the chosen map, left to right and top to
    bottom, on the real map and the trained kernels: each step opens that unit, which the link
    follows; it starts at the unit the link or the click asked for."""
    _maps, rows, cols = chosen.output.shape
    plane = chosen.output[unit.map]
    sig = f"{chosen.short}:{unit.map}:{hashlib.sha1(plane.numpy().tobytes()).hexdigest()}"
    state = stepper.playback(PLAYER, sig, rows * cols)
    if st.session_state.get(_WALKED) != sig:  # a new map, or a new drawing: start where asked
        st.session_state[_WALKED] = sig
        state.pos = unit.row * cols + unit.col + 1
    targets = [f"{chosen.short}[{unit.map}][{r}, {c}]" for r in range(rows) for c in range(cols)]

    def draw(pos: int, playing: bool) -> list[str]:
        if pos == 0:
            st.caption(_("Step or Play: each step computes one number of the map, row by row."))
            return [_("{target} = ?").format(target=targets[0])]
        row, col = divmod(pos - 1, cols)
        shown = open_unit(stages, UnitRef(chosen.short, unit.map, row, col))
        st.session_state[KEYS[2]], st.session_state[KEYS[3]] = row, col
        st.query_params[PARAM] = st.session_state[_APPLIED] = shown.unit.text
        return unit_arithmetic.frame(shown, targets[pos - 1])

    stepper.animate(
        PLAYER,
        sig,
        plane.flatten().tolist(),
        targets,
        draw,
        decimals=unit_arithmetic.DECIMALS,
        equation_key="jr_equation",
    )


def _shape(stage: Stage) -> str:
    if stage.is_map:
        channels, height, width = stage.output.shape
        return f"{channels}@{height}×{width}"
    return str(stage.output.numel())


# --- the figure --------------------------------------------------------------------------------


def journey_figure(stages: list[Stage], unit: UnitRef, digit: np.ndarray) -> go.Figure:
    """One column per stage (the digit first), maps as pictures, vectors as cells, the chosen map
    outlined and the maps feeding it joined to it."""
    columns = [("input", _("your digit"), None)] + [(s.short, _shape(s), s) for s in stages]
    fig = go.Figure()
    # Pictures, outlines and labels are gathered and set at once: plotly's add_* re-validates every
    # item added before, which made a journey of ~100 pictures take over a second to build.
    items: dict[str, list[dict]] = {"images": [], "shapes": [], "annotations": []}
    centres: dict[str, list[tuple[float, float, float, float]]] = {}  # short -> per map (x, y, half box x, y)
    for index, (short, shape, stage) in enumerate(columns):
        x = index + 0.5
        if stage is None:
            centres[short] = [(x, 0.5, BOX, 0.3)]
            items["images"].append(_picture(pictures.to_grey(digit), x, 0.5, BOX, 0.3))
        elif stage.is_map and stage.output.shape[-1] * stage.output.shape[-2] > 1:
            centres[short] = _maps(fig, items, stage, x)
        else:
            centres[short] = _cells(fig, stage, x)
        items["annotations"].append(
            {"x": x, "y": 1.08, "text": f"<b>{short}</b><br>{shape}", "showarrow": False, "font": {"size": 11}}
        )
    _wiring(fig, stages, centres, unit)
    for stage in stages:
        if stage.evidence is not None and stage.kind != "output":
            top = torch.argsort(stage.evidence, descending=True)[:EVIDENCE_TOP].tolist()
            for i in top:
                x, y, half_x, half_y = centres[stage.short][i]
                items["shapes"].append(_outline(x, y, half_x, half_y, palettes.HIGHLIGHT, 2))
    chosen = centres[unit.layer][unit.map]
    items["shapes"].append(_outline(*chosen, palettes.ACCENT, 3))
    fig.update_layout(
        **items,
        height=FIGURE_PX,  # charts.plotly_chart enlarges it in presenter mode
        margin={"l": 4, "r": 4, "t": 40, "b": 4},
        showlegend=False,
        plot_bgcolor="white",
        xaxis={"visible": False, "range": [0, len(columns) + 0.6], "fixedrange": True},  # room for the classes' labels
        yaxis={"visible": False, "range": [-0.02, 1.14], "fixedrange": True},
        dragmode=False,
    )
    return fig


def _picture(grey: np.ndarray, x: float, y: float, half_x: float, half_y: float) -> dict:
    """A picture centred at (x, y), as large as fits its box with its own proportions."""
    return {
        "source": pictures.png_data_uri(grey),
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "xanchor": "center",
        "yanchor": "middle",
        "sizex": 2 * half_x,
        "sizey": 2 * half_y,
        "sizing": "contain",
        "layer": "below",
    }


def _outline(x: float, y: float, half_x: float, half_y: float, color: str, width: int) -> dict:
    return {
        "type": "rect",
        "x0": x - half_x,
        "x1": x + half_x,
        "y0": y - half_y,
        "y1": y + half_y,
        "line": {"color": color, "width": width},
    }


def _maps(fig: go.Figure, items: dict, stage: Stage, x: float) -> list[tuple[float, float, float, float]]:
    """A column of small pictures, one per map, each stretched to its own range; a click target on each."""
    count = stage.output.shape[0]
    pitch = 1.0 / count
    half_y = pitch * 0.45
    ys = [1 - pitch * (i + 0.5) for i in range(count)]
    for i, y in enumerate(ys):
        items["images"].append(_picture(pictures.to_grey(stage.output[i].numpy()), x, y, BOX, half_y))
    fig.add_trace(
        go.Scatter(
            x=[x] * count,
            y=ys,
            mode="markers",
            marker={"size": 14, "opacity": 0.01, "color": "black"},
            customdata=[f"{stage.short}:{i}" for i in range(count)],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    return [(x, y, BOX, half_y) for y in ys]


def _cells(fig: go.Figure, stage: Stage, x: float) -> list[tuple[float, float, float]]:
    """A vector (a dense layer, the output, LeNet-5's C5) as a column of cells coloured by value;
    the output's cells carry their class and probability."""
    values = stage.output.flatten().numpy()
    count = values.size
    pitch = 1.0 / count
    ys = [1 - pitch * (i + 0.5) for i in range(count)]
    output = stage.kind == "output"
    text = None
    if output:
        probabilities = torch.softmax(torch.from_numpy(values).double(), 0).numpy()
        text = [f"{i}  {p:.0%}" for i, p in enumerate(probabilities)]
    fig.add_trace(
        go.Scatter(
            x=[x] * count,
            y=ys,
            mode="markers+text" if output else "markers",
            text=text,
            textposition="middle right",
            marker={
                "symbol": "square",
                "size": max(3, min(14, 380 / count)),
                "color": values,
                "colorscale": charts.palette("activation").scale,
            },
            customdata=[f"{stage.short}:{i}" for i in range(count)],
            hovertemplate=f"{stage.short} %{{customdata}}: %{{marker.color:.3f}}<extra></extra>",
        )
    )
    return [(x, y, 0.12, pitch * 0.45) for y in ys]


def _wiring(fig: go.Figure, stages: list[Stage], centres: dict, unit: UnitRef) -> None:
    """Lines from each conv map back to the maps it reads in the column before it: all of them when
    there are few enough to follow (C3's partial table always), else only the chosen map's."""
    order = ["input"] + [s.short for s in stages]
    xs, ys, chosen_xs, chosen_ys = [], [], [], []
    for stage in stages:
        if stage.kind != "conv":
            continue
        before = order[order.index(stage.short) - 1]
        sources, targets = centres[before], centres[stage.short]
        pairs = [(o, i) for o, reads in enumerate(stage.feeds) for i in reads if i < len(sources)]
        partial = any(len(reads) < len(sources) for reads in stage.feeds)
        for out_map, in_map in pairs:
            (x0, y0, h0, _h), (x1, y1, h1, _h) = sources[in_map], targets[out_map]
            segment = [x0 + h0, x1 - h1, None], [y0, y1, None]
            if stage.short == unit.layer and out_map == unit.map:
                chosen_xs += segment[0]
                chosen_ys += segment[1]
            elif partial or len(pairs) <= MOST_LINES:
                xs += segment[0]
                ys += segment[1]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#c9c9c9", "width": 0.7}, hoverinfo="skip"))
    fig.add_trace(
        go.Scatter(
            x=chosen_xs, y=chosen_ys, mode="lines", line={"color": palettes.ACCENT, "width": 2}, hoverinfo="skip"
        )
    )
