"""Every checkpoint's size against its accuracy: parameters on a log axis, test accuracy up, the
current design's checkpoint (once trained) and the preset it started from marked, with a sentence
that says the same for a screen reader."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from core.i18n import _
from core.models import checkpoints
from core.models.design import Design, checkpoint_name
from core.training import names as model_names
from dashboard.figures import charts, palettes, style

OTHERS = "#9aa0a6"  # the checkpoints neither marked: grey, behind the two that are


def points() -> list[tuple[checkpoints.CheckpointInfo, str, int, float]]:
    """(checkpoint, its label, parameters, test accuracy) of every checkpoint that has both."""
    found = []
    for info in checkpoints.list_checkpoints():
        params, accuracy = checkpoints.parameter_count(info), info.test_accuracy
        if params and isinstance(accuracy, (int, float)):
            found.append((info, model_names.name_of(info).label, params, float(accuracy)))
    return found


def figure(design: Design, start_name: str | None) -> tuple[go.Figure, str]:
    """The scatter and its description."""
    mine = checkpoint_name(design)
    groups = {"others": [], "start": [], "design": []}
    for info, label, params, accuracy in points():
        group = "design" if info.name == mine else "start" if start_name and info.preset == start_name else "others"
        groups[group].append((label, params, accuracy))
    fig = go.Figure()
    colours = palettes.figure_colors(charts.palette("answer"))  # colour-blind-safe in presenter mode
    start_colour, design_colour = colours.series[0], colours.highlight
    shown = (
        ("others", _("other checkpoints"), OTHERS, "circle", 9),
        ("start", _("{start}, where the design started").format(start=start_name), start_colour, "diamond", 13),
        ("design", _("this design"), design_colour, "star", 18),
    )
    for group, name, colour, symbol, size in shown:
        if groups[group]:
            labels, xs, ys = zip(*groups[group])
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[100 * y for y in ys],
                    mode="markers",
                    name=name,
                    text=[html.escape(label) for label in labels],  # plotly reads tags: a nickname stays text
                    marker=dict(color=colour, symbol=symbol, size=size, line=dict(width=1, color="#333")),
                    hovertemplate="%{text}<br>%{x:,} " + _("parameters") + "<br>%{y:.2f}%<extra></extra>",
                )
            )
    if not groups["design"]:
        fig.add_vline(x=design.params, line_dash="dash", line_color=design_colour)
    fig.update_layout(
        xaxis=dict(type="log", title=_("parameters (log scale)")), yaxis=dict(title=_("test accuracy (%)"))
    )
    style.styled(fig, 400, legend=style.LEGEND_BELOW)
    return fig, describe(design, groups)


def describe(design: Design, groups: dict) -> str:
    count = sum(len(group) for group in groups.values())
    said = _("{count} checkpoints by their parameters (log scale) and test accuracy.").format(count=count)
    if groups["design"]:
        _label, params, accuracy = groups["design"][0]
        said += " " + _("This design: {params:,} parameters, {accuracy:.2%}.").format(params=params, accuracy=accuracy)
    else:
        said += " " + _("This design is not trained yet: the dashed line is its {params:,} parameters.").format(
            params=design.params
        )
    for label, params, accuracy in groups["start"][:3]:
        said += " " + _("{label}: {params:,} parameters, {accuracy:.2%}.").format(
            label=label, params=params, accuracy=accuracy
        )
    return said


def section(design: Design, start_name: str | None) -> None:
    fig, description = figure(design, start_name)
    charts.plotly_chart(fig, key="design_compare", description=description)
