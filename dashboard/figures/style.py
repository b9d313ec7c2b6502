"""The one style of the pages' plotly figures: one font size, big enough for a projector at the
back of a room, and tight margins. Colours are in dashboard.figures.palettes.

Only the layout's font is set: axes, legends and subplot titles take their size from it, and
``charts.enlarged`` grows it (and so all of them) in presenter mode.
"""

from __future__ import annotations

import plotly.graph_objects as go

from core.i18n import N_

FONT_SIZE = 16
FONT = dict(size=FONT_SIZE)
LEGEND_BELOW = dict(orientation="h", y=-0.2)  # a horizontal legend under the x axis


def styled(fig: go.Figure, height: int, *, top: int = 30, legend: dict | None = None) -> go.Figure:
    """``fig`` (changed in place) at a fixed ``height``, with the figures' font, margins of 10 px
    (``top`` px above, for a title or subplot titles) and, when given, the ``legend``'s placement."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=top, b=10), font=FONT)
    if legend is not None:
        fig.update_layout(legend=legend)
    return fig


# How the lesson pages' captions name the ends of a colour map (``dashboard.figures.palettes``: the low,
# high and middle names of the image and signed maps), marked here for the catalogue: a caption
# shows ``_(palette.low)``.
COLOUR_NAMES = (N_("black"), N_("white"), N_("red"), N_("blue"), N_("orange"))
