"""/architecture's last section: LeNet-5 of 1998 beside the modern LeNet, the paper's error rate
beside ours, C3's connection table (Table I; ``c3_map`` in the URL) and the output layer's bitmaps."""

from __future__ import annotations

import streamlit as st

from core import models
from core.architecture import layers
from core.architecture import views as av
from core.i18n import _
from core.models import checkpoints
from core.training import recipes, runs
from dashboard.architecture import figures as figs
from dashboard.figures import charts
from dashboard.frame import guard, shared_models
from dashboard.frame.links import BOUND

DEFAULT_C3_MAP = 6  # the first map that reads four S2 maps


def c3_clicked() -> None:
    """A click on C3's connection table chooses the map of the cell's column (through the pills' key)."""
    points = st.session_state.c3_table.selection.get("points") or []
    if points:
        st.session_state.c3_map = int(points[0]["x"])


# Cached per language: the comparison's sentences are in the language of the session that made them.
@st.cache_data(show_spinner=False)
def cached_comparison(language: str) -> list[av.Difference]:
    return av.lenet_comparison()


def against_the_paper() -> None:
    """The test error the paper reports for LeNet-5 beside each checkpoint of ours, lower is better."""
    reported = recipes.REPORTED[av.PAPER]
    ours = [info for info in checkpoints.best_first(av.PAPER) if info.test_accuracy is not None][:3]
    st.subheader(_("Its test error: the paper's and ours"))
    paper_error = 1 - reported["test_accuracy"]
    cells = st.columns(1 + len(ours))
    cells[0].metric(
        _("{source}, {epochs} passes").format(
            source=recipes.source_name(reported["source"]), epochs=reported["epochs"]
        ),
        f"{paper_error:.2%}",
        help=_("Section III-C of the paper, without distortions; 0.8% with the training set distorted at random."),
    )
    for cell, info in zip(cells[1:], ours):
        error = 1 - info.test_accuracy
        cell.metric(
            _("{name}, {epochs} epochs").format(name=info.name, epochs=info.epochs),
            f"{error:.2%}",
            delta=_("{points:+.2f} points").format(points=100 * (error - paper_error)),
            delta_color="inverse",
            help=_(info.record.get("recipe", {}).get("note") or "") or None,
        )
    for info in ours:
        if runs.is_reproduction(info.record):
            st.markdown(
                _("**{name}** (the paper's recipe): {note}").format(
                    name=info.name, note=runs.reproduction_note(info.record)
                )
            )
    st.caption(
        _(
            "Same network in every run: partial C3, trainable subsampling, scaled tanh, the RBF output on "
            "its fixed bitmaps; only the training differs. The change in each box is against the paper's "
            "figure: below zero, fewer mistakes."
        )
    )


def section(language: str, colors: dict, paper_rows: list[layers.LayerRow]) -> None:
    """``paper_rows``: LeNet-5's per-layer table (C3's row gives its maps' size)."""
    st.header(_("LeNet-5 of 1998 and the modern LeNet"))
    comparison = cached_comparison(language)
    st.table(
        [{"": d.aspect, "LeNet-5 (1998)": d.paper, _("modern LeNet"): d.modern} for d in comparison], hide_index=True
    )
    st.markdown(
        "\n".join("- " + _("**{aspect}**: {sentence}").format(aspect=d.aspect, sentence=d.sentence) for d in comparison)
    )

    with guard.guarded(_("The paper's error rate and ours")):
        against_the_paper()

    st.subheader(_("C3's connection table (Table I of the paper)"))
    with guard.guarded(_("C3's connection table")):
        paper_model = shared_models.fresh_model(av.PAPER)  # only its wiring is shown
        c3 = av.partial_conv(paper_model)
        c3_row = next(r for r in paper_rows if r.kind == "partial conv")
        # Two ways to choose a map, kept in step: the pills, or a click on the table (which sets the
        # pills' value, so the choice is in the URL as c3_map either way).
        chosen = st.pills(_("C3 map"), list(range(c3.out_channels)), default=DEFAULT_C3_MAP, key="c3_map", bind=BOUND)
        chosen = DEFAULT_C3_MAP if chosen is None else chosen
        grid = av.connection_grid(c3)
        charts.plotly_chart(
            figs.connection_table(grid, selected=chosen, colors=colors),
            key="c3_table",
            on_select=c3_clicked,
            selection_mode="points",
            description=figs.connection_text(grid, chosen),
        )
        st.caption(_("Click a cell of the table, or a number above it, to see what that C3 map reads."))
        arith = av.map_arithmetic(c3, chosen, c3_row.output_shape[1:])
        st.markdown(
            _("C3 map **{map}** reads S2 maps **{inputs}**: {formula} parameters; {wiring} connections.").format(
                map=chosen,
                inputs=", ".join(map(str, arith.inputs)),
                formula=arith.formula,
                wiring=arith.connections_formula,
            )
            + "  \n"
            + _(
                "All 16 maps: {total} parameters. The paper leaves connections out to keep their number in check and to "
                "break the symmetry: maps that read different inputs are pushed to learn different features."
            ).format(total=av.partial_conv_total(c3))
        )

    st.subheader(_("The output layer's bitmaps"))
    bitmaps = models.rbf_bitmaps().numpy()
    st.image(
        [figs.bitmap_image(b) for b in bitmaps],
        caption=[str(d) for d in range(len(bitmaps))],
        alt=[
            _(
                "the output bitmap of the digit {digit}: a {height} × {width} picture of a {digit}, black on grey"
            ).format(digit=d, height=bitmaps.shape[1], width=bitmaps.shape[2])
            for d in range(len(bitmaps))
        ],
        width=8 * figs.BITMAP_ZOOM,
        output_format="PNG",
    )
    st.caption(
        _(
            "Each output unit of LeNet-5 holds a fixed {height}x{width} picture of its digit, {size} values of +1 "
            "(black) or -1 (grey), never trained; its output is the squared distance between F6's 84 values and "
            "this picture, so F6 learns to draw the digit."
        ).format(height=bitmaps.shape[1], width=bitmaps.shape[2], size=bitmaps[0].size)
    )
