"""Figures of the class wall: the class's digits as one clickable grid; the class beside MNIST per
digit; a fine-tune's before and after.

Drawing only: the entries come from ``core.classroom.store``, the figures from ``core.classroom.lessons``
and ``core.classroom.finetune``. A nickname is plain text in a hover too (plotly reads ``<a href>`` and
``<b>`` there: escaped). One plotly figure rather than a grid
of widgets: it is one element to send each time the wall polls, its text is rendered by the
browser (any language), and a click on a digit is a plotly selection (the entry's id rides in
``customdata``), as the confusion matrix on /training does.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

# Imported here, through the import system, before any figure is built: plotly checks its arrays
# against pandas' types with whatever sys.modules holds, and on a fresh server another session's
# page may be halfway through importing pandas ("partially initialized module 'pandas' has no
# attribute 'Series'": seen on the wall while /draw ran for the first time).
import pandas  # noqa: F401
import plotly.graph_objects as go

from core.classroom.entry import Entry
from core.classroom.lessons import DigitAccuracy
from core.data.views import upscale_nearest
from core.explain.pictures import png_data_uri
from core.i18n import _
from dashboard.figures.style import LEGEND_BELOW, styled

TILE_ZOOM = 3  # 28 px -> 84 px before the browser scales it: pixels stay crisp squares
DIGIT = 0.74  # the digit's side, as a share of its tile (the rest: the line under it, the gaps)
LABEL_SHARE = 0.15  # the line under a digit: its font size, as a share of the tile's side
MIN_TILE_PX = 80  # under this the line under a digit no longer fits its tile
MARGIN_PX = 5  # the figure's margin on every side


def grid_shape(width_px: int, tile_px: int) -> tuple[int, int]:
    """(columns, tile side in px) for a wall ``width_px`` wide whose tiles are about ``tile_px``:
    as many columns as fit (at least two), and the tiles widened a little to fill the row, so
    the figure is never wider than its place (Streamlit would squeeze it out of square) on a
    phone or on a projector alike."""
    inner = width_px - 2 * MARGIN_PX
    columns = max(2, round(inner / tile_px))
    while columns > 2 and inner / columns < MIN_TILE_PX:
        columns -= 1
    return columns, int(inner // columns)


def tile_uri(image: np.ndarray) -> str:
    """A 28x28 uint8 digit as a PNG data URI, enlarged by whole pixels."""
    return png_data_uri(upscale_nearest(np.asarray(image, dtype=np.uint8), TILE_ZOOM))


def wall_figure(
    entries: Sequence[Entry],
    *,
    columns: int,
    right_color: str,
    wrong_color: str,
    tile_px: int = 100,
    selected: int | None = None,
) -> go.Figure:
    """The entries left to right, top to bottom, newest first: each digit with "meant → said,
    how sure" under it; a wrong answer framed and written in ``wrong_color``. A click selects an
    entry (its id is the point's customdata).

    Every tile is a ``tile_px`` square, the figure ``columns * tile_px`` wide plus its margins: pick
    both with :func:`grid_shape` so it fits its place. The digit and the text scale with the tile."""
    count = len(entries)
    rows = max(1, math.ceil(count / columns))
    images, annotations, shapes = [], [], []
    xs, ys, ids, hover = [], [], [], []
    margin = (1 - DIGIT) / 2  # the digit centred across its tile
    frame = max(2, round(tile_px / 30))
    for index, entry in enumerate(entries):
        col, row = index % columns, index // columns
        color = right_color if entry.right else wrong_color
        images.append(
            dict(
                source=tile_uri(entry.image),
                xref="x",
                yref="y",
                x=col + margin,
                y=row + 0.04,
                sizex=DIGIT,
                sizey=DIGIT,
                xanchor="left",
                yanchor="top",
                sizing="contain",
                layer="above",
            )
        )
        annotations.append(
            dict(
                x=col + 0.5,
                y=row + 0.04 + DIGIT + 0.11,
                xref="x",
                yref="y",
                showarrow=False,
                text=f"<b>{entry.label}</b> → <b>{entry.prediction}</b> {entry.confidence:.0%}",
                font=dict(size=max(11, round(tile_px * LABEL_SHARE)), color=color),
            )
        )
        if not entry.right:
            shapes.append(
                dict(
                    type="rect",
                    xref="x",
                    yref="y",
                    x0=col + margin - 0.03,
                    x1=col + 1 - margin + 0.03,
                    y0=row + 0.01,
                    y1=row + 0.07 + DIGIT,
                    line=dict(color=wrong_color, width=frame),
                )
            )
        if entry.id == selected:
            shapes.append(
                dict(
                    type="rect",
                    xref="x",
                    yref="y",
                    x0=col + 0.02,
                    x1=col + 0.98,
                    y0=row - 0.01,
                    y1=row + 0.99,
                    line=dict(color="#444444", width=frame, dash="dot"),
                )
            )
        xs.append(col + 0.5)
        ys.append(row + 0.4)
        ids.append(entry.id)
        hover.append(
            (
                _("{student}: meant {label}, {model} said {prediction} ({confidence:.0%} sure, right)")
                if entry.right
                else _("{student}: meant {label}, {model} said {prediction} ({confidence:.0%} sure, wrong)")
            ).format(
                student=html.escape(entry.student),
                label=entry.label,
                model=entry.model,
                prediction=entry.prediction,
                confidence=entry.confidence,
            )
        )
    points = go.Scatter(
        x=xs,
        y=ys,
        customdata=ids,
        mode="markers",
        hovertext=hover,
        hoverinfo="text",
        marker=dict(size=tile_px * DIGIT, symbol="square", color="black", opacity=0.01),
        showlegend=False,
    )
    axis = dict(visible=False, fixedrange=True)
    return go.Figure(
        data=[points],
        layout=dict(
            images=images,
            annotations=annotations,
            shapes=shapes,
            height=rows * tile_px + 2 * MARGIN_PX,
            width=columns * tile_px + 2 * MARGIN_PX,
            margin=dict(l=MARGIN_PX, r=MARGIN_PX, t=MARGIN_PX, b=MARGIN_PX),
            plot_bgcolor="white",
            paper_bgcolor="rgba(0,0,0,0)",
            clickmode="event+select",
            dragmode=False,
            xaxis={**axis, "range": [0, columns]},
            yaxis={**axis, "range": [rows, 0]},
        ),
    )


def per_digit_figure(rows: Sequence[DigitAccuracy], colors: tuple[str, str]) -> go.Figure:
    """Accuracy per digit: the class's bars (``colors[0]``, each share written on it) beside MNIST's
    test set (``colors[1]``); a digit the class has not sent has no bar and says so."""
    digits = [row.digit for row in rows]
    fig = go.Figure()
    series = (
        (_("our class"), [r.class_accuracy for r in rows], [r.class_n for r in rows], colors[0]),
        (_("MNIST test set"), [r.mnist_accuracy for r in rows], [r.mnist_n for r in rows], colors[1]),
    )
    for number, (name, values, counts, color) in enumerate(series):
        hover = [
            _("{series}, digit {digit}: {accuracy:.1%} of {n} read right").format(series=name, digit=d, accuracy=v, n=n)
            if v is not None
            else _("{series}, digit {digit}: none sent").format(series=name, digit=d)
            for d, v, n in zip(digits, values, counts)
        ]
        fig.add_bar(
            x=digits,
            y=values,
            name=name,
            marker_color=color,
            hovertext=hover,
            hoverinfo="text",
            # the class's shares written on its bars; MNIST's, all near 100%, would only crowd them
            text=[f"{v:.0%}" if v is not None and number == 0 else "" for v in values],
            textposition="outside",
            cliponaxis=False,
        )
    missing = [row.digit for row in rows if row.class_accuracy is None]
    for digit in missing:
        fig.add_annotation(
            x=digit,
            y=0,
            yanchor="bottom",
            text=_("none sent"),
            showarrow=False,
            textangle=-90,
            xshift=-10,
            font=dict(color="#666666"),
        )
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title=_("digit"), tickvals=digits, fixedrange=True)
    fig.update_yaxes(title=_("read right"), range=[0, 1.12], tickformat=".0%", fixedrange=True)
    return styled(fig, 380, top=20, legend={**LEGEND_BELOW, "y": -0.25})


def before_after_figure(figures: dict, colors: tuple[str, str]) -> go.Figure:
    """A fine-tune's accuracy before (``colors[0]``) and after (``colors[1]``), on the held-out class
    digits and on MNIST's test set (``core.classroom.finetune.FinetuneResult.figures``)."""
    places = [
        _("held-out class digits ({n})").format(n=figures["class"]["n"]),
        _("MNIST test set ({n:,})").format(n=figures["mnist"]["n"]),
    ]
    fig = go.Figure()
    for when, name, color in (("before", _("before"), colors[0]), ("after", _("after"), colors[1])):
        values = [figures["class"][when], figures["mnist"][when]]
        hover = [
            _("{series}, {place}: {accuracy:.2%} read right").format(series=name, place=p, accuracy=v)
            for p, v in zip(places, values)
        ]
        fig.add_bar(
            x=places,
            y=values,
            name=name,
            marker_color=color,
            text=[f"{v:.1%}" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertext=hover,
            hoverinfo="text",
        )
    fig.update_layout(barmode="group", bargap=0.3)
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(title=_("read right"), range=[0, 1.12], tickformat=".0%", fixedrange=True)
    return styled(fig, 340, top=20, legend={**LEGEND_BELOW, "y": -0.2})
