"""The /training page's "Compare runs" tab: the curves of the chosen checkpoints, and every
checkpoint in a table, group by group, beside the figure its source reports."""

from __future__ import annotations

import unicodedata

import streamlit as st

from core.i18n import N_, _
from core.models import checkpoints
from core.training import recipes, runs
from dashboard.figures import charts
from dashboard.frame import presenter
from dashboard.frame.links import BOUND
from dashboard.training import figures as figs

METRICS = {"accuracy": N_("accuracy"), "loss": N_("loss")}  # the curve's codes are their English labels


def compare_tab() -> None:
    infos = checkpoints.list_checkpoints()
    if not infos:
        st.info(_("No checkpoints yet: train one in the first tab, or run `make checkpoints`."))
        return
    records = {i.name: i.record for i in infos}
    groups = runs.group_checkpoints(infos)
    names = list(records)
    if "cmp_names" in st.session_state:  # a checkpoint may have been deleted since
        st.session_state.cmp_names = [n for n in st.session_state.cmp_names if n in names]
    else:
        preferred = [n for n in ("cnn_avgpool_seed", "cnn_avgpool_bn_seed") if n in names]
        st.session_state.cmp_names = preferred or names[:2]
    c1, c2, c3 = st.columns([5, 2, 2], vertical_alignment="bottom")
    chosen = c1.multiselect(_("Checkpoints"), names, key="cmp_names", persist_state="page", bind=BOUND)
    metric = c2.segmented_control(
        _("Curve"),
        list(METRICS),
        default="accuracy",
        required=True,
        format_func={code: _(label) for code, label in METRICS.items()}.get,
        key="cmp_metric",
        persist_state="page",
        bind=BOUND,
    )
    show_train = c3.toggle(
        _("Train curves"),
        value=True,
        key="cmp_train",
        help=_("dashed; a train curve far above the test curve is overfitting"),
        persist_state="page",
    )
    if chosen:
        shown = {n: records[n] for n in chosen}
        charts.plotly_chart(
            figs.compare_figure(shown, metric, show_train), key="cmp_chart", description=figs.curves_text(shown, metric)
        )
        for name in chosen:  # a reproduction far from its source's figure says why, beside the figure
            if runs.is_reproduction(records[name]):
                st.caption(
                    _("**{name}** (reproduction): {note}").format(name=name, note=runs.reproduction_note(records[name]))
                )
    variants_section(records)
    st.markdown(_("**Every checkpoint**, beside the figure its source reports where there is one"))
    runs_table(groups)


def variants_section(records: dict[str, dict]) -> None:
    """Seed 000's printed recipe beside its one-change variants: which change reaches its figure."""
    shown = [preset for preset in recipes.VARIANT_PRESETS if runs.variant_study(preset, records)[2]]
    if not shown:
        return
    st.subheader(_("Seed 000's figures: the printed recipe, one change at a time"))
    preset = st.segmented_control(_("Model"), shown, default=shown[0], required=True, key="var_preset", bind=BOUND)
    printed_name, reported, results = runs.variant_study(preset, records)
    printed = (_("{name} (as printed)").format(name=printed_name), records[printed_name]) if printed_name else None
    variants = [(r.label, records[r.checkpoint]) for r in results]
    charts.plotly_chart(
        figs.variants_figure(printed, variants, reported),
        key="var_chart",
        description=_("{first} {second}").format(
            first=figs.curves_text(dict(([printed] if printed else []) + variants), "accuracy"),
            second=figs.reported_text(reported),
        ),
    )
    if printed_name:
        st.caption(runs.why_printed_barely_moves(records[printed_name]))
    # Streamlit's own Material icons: an emoji needs a font the machine may not have; the sentence says it in words
    st.markdown("\n".join(f"- {REACHES if r.reaches else FALLS_SHORT} {r.sentence}" for r in results))
    st.markdown(f"**{runs.variant_verdict(reported, results)}**")


REACHES, FALLS_SHORT = ":green[:material/check_circle:]", ":red[:material/cancel:]"


def column_px(width: int, header: str = "") -> int:
    """A table column's width: wider in presenter mode, whose type is larger; and, for a header in
    Chinese (each character a full em wide, where a Latin letter is about half), wide enough for it."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in header)
    if wide:
        width = max(width, 16 * wide + 8 * (len(header) - wide) + 36)  # 36: padding, sort arrow, help mark
    return round(width * presenter.figure_scale())


def runs_table(groups: dict[str, list[checkpoints.CheckpointInfo]]) -> None:
    """Every checkpoint, group by group: its accuracy beside its source's, then how it was trained."""
    table = []
    for group in runs.GROUPS:
        for info in groups[group]:
            row = runs.run_row(info.name, info.record)
            table.append(
                {
                    "checkpoint": info.name,
                    "group": _(group),
                    "test accuracy": row["test_accuracy"] * 100 if row["test_accuracy"] is not None else None,
                    "reported": f"{row['reported_accuracy']:.2%}" if row["reported_accuracy"] is not None else "",
                    "difference": _("{points:+.2f} pts").format(points=row["difference"] * 100)
                    if "difference" in row
                    else "",
                    "by": _("{source}, {count} ep.").format(
                        source=recipes.source_name(row["source"]), count=row["reported_epochs"]
                    )
                    if row["source"]
                    else "",
                    "epochs": row["epochs"],
                    "recipe": recipes.title(row["recipe"]),
                    "optimiser": _("{optimizer} lr {lr:g}, batch {batch}").format(
                        optimizer=row["optimizer"], lr=row["lr"], batch=row["batch"]
                    )
                    if row["lr"] is not None
                    else "",
                    "model": row["model"],
                    "train s": row["seconds"],
                }
            )
    # The columns' headers, in the session's language (the rows' keys above are their codes).
    headers = {
        "checkpoint": _("checkpoint"),
        "group": _("group"),
        "test accuracy": _("test accuracy"),
        "reported": _("reported"),
        "difference": _("difference"),
        "by": _("by"),
        "epochs": _("epochs"),
        "recipe": _("recipe"),
        "optimiser": _("optimiser"),
        "model": _("model"),
        "train s": _("train s"),
    }
    column = st.column_config

    def px(width: int, key: str) -> int:
        return column_px(width, headers[key])

    config = {
        "checkpoint": column.TextColumn(pinned=True, width=px(165, "checkpoint")),
        "group": column.TextColumn(width=px(95, "group")),
        "test accuracy": column.NumberColumn(format="%.2f%%", width=px(95, "test accuracy")),
        "reported": column.TextColumn(
            width=px(80, "reported"), alignment="right", help=_("the test accuracy the source write-up reports")
        ),
        "difference": column.TextColumn(
            width=px(95, "difference"),
            alignment="right",
            help=_("our test accuracy less the source's, in percentage points"),
        ),
        "by": column.TextColumn(width=px(120, "by"), help=_("the source write-up, and the epochs it trained for")),
        "epochs": column.NumberColumn(width=px(60, "epochs")),
        "recipe": column.TextColumn(width=px(60, "recipe")),
        "train s": column.NumberColumn(format="%.0f", width=px(65, "train s"), help=_("seconds of training")),
    }
    st.dataframe(
        [{headers[key]: value for key, value in row.items()} for row in table],
        hide_index=True,
        key="cmp_table",
        height="content",
        column_config={headers[key]: c for key, c in config.items()},
    )
