"""Our class vs MNIST: the chosen model on the class's digits beside MNIST's test set, per digit;
the class's confusion matrix (a cell's digits a click away, as on /training); the digits the
network finds hardest; and every model on the same class digits.

Thin: core.classroom.lessons measures (the model run on the stored digits now, not the answers stored
when they were sent); dashboard.classroom.figures and figures_training draw. Measurements are cached
by the session's ``latest()`` (it moves when a digit arrives, is hidden or marked not fair) and
the checkpoints' hashes, so a retrained checkpoint or a new digit is measured again and nothing
twice: ``compare_models`` checks every checkpoint's hash on each call.
"""

from __future__ import annotations

import streamlit as st

from core import models
from core.classroom import lessons
from core.classroom import store as class_store
from core.i18n import _
from core.models import checkpoints
from core.training.confusion import worst_confusions
from dashboard.classroom import common
from dashboard.classroom import figures as figs
from dashboard.figures import charts, palettes
from dashboard.frame import guard, presenter, shared_models
from dashboard.frame.links import BOUND
from dashboard.training import figures as figs_training

HARDEST = 10  # the hardest digits shown
CELL_SHOWN = 24  # a confusion cell's digits shown
CONFUSION_PX = 560  # the confusion matrix's side, at most (as on /training)


def checkpoint_hash(name: str) -> str:
    """A checkpoint's SHA-256 from its record (the cache key); a placeholder when it cannot be read
    (``compare`` then says why)."""
    try:
        return checkpoints.read_info(name).record["sha256"]
    except checkpoints.CheckpointError:
        return "unreadable"


@st.cache_data(max_entries=16, show_spinner=False)
def cached_comparison(
    store_path: str, session: int, latest: tuple[int, int], name: str, sha256: str
) -> lessons.Comparison:
    """One model on the session's digits and on MNIST's test set, per (digits, weights)."""
    digits = lessons.class_digits(class_store.store(store_path), session)
    return lessons.compare(name, digits)


@st.cache_data(max_entries=8, show_spinner=False)
def cached_rows(
    store_path: str, session: int, latest: tuple[int, int], named: tuple[tuple[str, str], ...]
) -> list[lessons.ModelRow]:
    """Every model of ``named`` (name, SHA-256) on the session's digits, per (digits, weights)."""
    digits = lessons.class_digits(class_store.store(store_path), session)
    return lessons.compare_models(digits, [name for name, _sha in named])


def table_models(session: int) -> list[str]:
    """The models of the table: each preset's shipped checkpoint, and this session's fine-tunes."""
    present = shared_models.checkpoint_names()
    return [n for n in models.names() if n in present] + sorted(
        n for n in present if n.startswith("class_") and n.endswith(f"_{session}")
    )


def headline(result: lessons.Comparison) -> None:
    st.markdown(
        _(
            "**{model}** reads **{on_class:.0%}** of the class's {n} digits right, and **{on_mnist:.2%}** of "
            "MNIST's {mnist_n:,} test digits."
        ).format(
            model=result.model,
            on_class=result.class_accuracy,
            n=len(result.digits),
            on_mnist=result.mnist_accuracy,
            mnist_n=len(result.on_mnist),
        )
    )


def per_digit(result: lessons.Comparison) -> None:
    colors = palettes.figure_colors(charts.palette("answer")).series
    charts.plotly_chart(figs.per_digit_figure(result.per_digit(), colors), key="vs_digits_chart", width="stretch")
    st.caption(
        _(
            "The share of each digit read right: the class's digits beside MNIST's test digits. With a "
            "few digits of a kind, one digit moves its bar a lot: hover over a bar for how many there are."
        )
    )


def cell_clicked() -> None:
    points = st.session_state.vs_confusion.selection.get("points") or []
    if points:
        st.session_state.vs_true, st.session_state.vs_pred = int(points[0]["y"]), int(points[0]["x"])


def confusion(result: lessons.Comparison) -> None:
    st.subheader(_("The class's confusion matrix"))
    matrix = result.class_confusion
    if "vs_true" not in st.session_state:  # the largest mistake first, as on /training
        worst = [cell for cell in worst_confusions(matrix, 1) if cell[2] > 0]
        st.session_state.vs_true, st.session_state.vs_pred = worst[0][:2] if worst else (0, 0)
    left, right = st.columns([6, 5])
    with left:
        # /training's matrix, square to the width its column has (a phone's, a projector's half)
        width = charts.width_probe("vs_confusion_width") or CONFUSION_PX
        side = min(CONFUSION_PX, int(width / presenter.figure_scale()))
        fig = figs_training.confusion_figure(matrix, charts.palette("count").scale, side)  # counts sized to the cells
        charts.plotly_chart(fig, key="vs_confusion", on_select=cell_clicked, selection_mode="points", width="content")
        st.caption(_("Rows: the digit meant; columns: the network's answer. Click a cell to see its digits."))
    with right:
        c1, c2 = st.columns(2)
        meant = c1.selectbox(_("Digit meant"), range(10), key="vs_true", bind=BOUND)
        said = c2.selectbox(_("Read as"), range(10), key="vs_pred", bind=BOUND)
        ids = result.cell(meant, said)
        text = (
            _("**{count}** of the class's {meant}s read as {said}, most confident first")
            if ids
            else _("**{count}** of the class's {meant}s read as {said}")
        )
        st.markdown(text.format(count=len(ids), meant=meant, said=said))
        if ids:
            where = {int(entry): i for i, entry in enumerate(result.digits.entry_ids)}
            shown = [where[entry] for entry in ids[:CELL_SHOWN]]
            probabilities = result.on_class.probabilities[shown, said]
            common.digits_row(
                result.digits.images[shown],
                [f"#{entry}: {p:.0%}" for entry, p in zip(ids, probabilities)],
                [_("a handwritten {meant}, read as {said}").format(meant=meant, said=said)] * len(shown),
            )
            st.caption(
                _("Under each digit: its number on the wall, and the probability given to {said}.").format(said=said)
            )


def hardest(result: lessons.Comparison) -> None:
    st.subheader(_("The hardest digits"))
    digits = result.hardest(HARDEST)
    common.digits_row(
        [d.image for d in digits],
        [f"{d.label} → {d.prediction} · {d.own_probability:.0%}" for d in digits],
        [
            _("a handwritten {label}, read as {prediction}").format(label=d.label, prediction=d.prediction)
            for d in digits
        ],
    )
    st.caption(
        _(
            "The class's digits to which {model} gives the lowest probability for the digit meant, lowest first. "
            "Under each: the digit meant → the network's answer · the probability of the digit meant."
        ).format(model=result.model)
    )


def every_model(store: class_store.ClassStore, session: int, latest: tuple[int, int], n: int) -> None:
    st.subheader(_("Every model on our digits"))
    if not st.toggle(
        _("Compare every model"),
        key="vs_all",
        bind=BOUND,
        help=_(
            "Runs each model over MNIST's 10,000 test digits once (seconds per model the first "
            "time), then over the class's digits."
        ),
    ):
        return
    named = tuple((name, checkpoint_hash(name)) for name in table_models(session))
    with st.spinner(_("Measuring every model on MNIST's test digits and on the class's...")):
        rows = cached_rows(str(store.path), session, latest, named)
    rows = sorted(rows, key=lambda r: (r.class_accuracy is None, -(r.class_accuracy or 0), r.model))
    percent = lambda value, digits: "-" if value is None else f"{value:.{digits}%}"  # noqa: E731
    st.dataframe(
        [
            {
                _("Model"): r.model,
                _("MNIST test accuracy"): percent(r.mnist_accuracy, 2),
                _("Accuracy on our class"): percent(r.class_accuracy, 0),
                _("Note"): _("could not be measured: {reason}").format(reason=r.error) if r.error else "",
            }
            for r in rows
        ],
        hide_index=True,
        height="content",
        key="vs_table",
    )
    st.caption(
        _(
            "Each model on the same {n} class digits, best on the class first; MNIST's accuracy is over its "
            "10,000 test digits. A model is measured again when its checkpoint or the class changes."
        ).format(n=n)
    )


def lessons_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    st.markdown(
        _(
            "The network learned from MNIST: digits written by American census workers and students. How "
            "well does it read ours? Every figure here runs the model on the class's digits as they are now."
        )
    )
    name = shared_models.checkpoint_picker(_("Model"), key="vs_model", bind=BOUND)
    digits = lessons.class_digits(store, session)
    if name is None:
        return
    if len(digits) == 0:
        st.info(_("No digits in this session yet: students send theirs from **Draw a digit**."), icon=":material/draw:")
        return
    latest = store.latest(digits.session)
    with st.spinner(_("Running {model} over the class's digits and MNIST's 10,000 test digits...").format(model=name)):
        result = cached_comparison(str(store.path), digits.session, latest, name, checkpoint_hash(name))
    with guard.guarded(_("The accuracy per digit")):
        headline(result)
        per_digit(result)
    with guard.guarded(_("The class's confusion matrix")):
        confusion(result)
    with guard.guarded(_("The hardest digits")):
        hardest(result)
    with guard.guarded(_("Every model on our digits")):
        every_model(store, digits.session, latest, len(digits))
