"""The class wall itself: the filters, the counts and the grid of every digit the class sent, redrawn
every second, under the chosen digit large (``dashboard.classroom.chosen_digit``); and the
projector's view. Which class session it shows is ``dashboard.classroom.sessions``.

Thin: core.classroom.store (the digits) -> dashboard.classroom.digit_grid (the clickable grid). The
grid is an ``st.fragment`` that polls the store every second, so new digits appear without a
whole-page rerun.

The projector's view (``/class?view=wall``, :func:`wall_view`) is the wall alone: the counts in one
line, the newest digits large above the fold, a fine-tune's progress while one runs, and the
teacher's controls one click away.
"""

from __future__ import annotations

import html

import streamlit as st

from core import i18n
from core.classroom import finetune
from core.classroom import store as class_store
from core.classroom.entry import COUNTED_RULE
from core.i18n import _, ngettext
from core.training.jobs import runner
from dashboard.classroom import chosen_digit, digit_grid
from dashboard.classroom import figures as figs
from dashboard.figures import charts, palettes
from dashboard.frame import accessibility, guard, presenter
from dashboard.frame.links import BOUND

POLL_SECONDS = 1.0
WALL_LIMIT = 200  # the newest digits shown; older ones stay in the store and the export
ALL = "__all__"  # the filters' "no filter" (a code no label equals)
VIEW_TILE_PX = 190  # a digit in the projector's view, about (times presenter.figure_scale())
VIEW_ROWS = 2  # the projector's view: the newest rows of digits, all above the fold at 1280x720


def filters(models: list[str]) -> dict:
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")  # folded away on a projector
    all_label = _("all")
    mistakes = c1.toggle(_("Only mistakes"), key="wall_mistakes", bind=BOUND)
    digit = c2.selectbox(
        _("Digit meant"),
        [ALL, *range(10)],
        key="wall_digit",
        bind=BOUND,
        format_func=lambda d: all_label if d == ALL else str(d),
    )
    model = c3.selectbox(
        _("Model"),
        [ALL, *models],
        key="wall_model",
        bind=BOUND,
        format_func=lambda m: all_label if m == ALL else str(m),
    )
    return {
        "mistakes_only": mistakes,
        "label": None if digit == ALL else int(digit),
        "model": None if model == ALL else model,
    }


def counted_line(summary: dict, filtered: bool) -> str:
    """What the counts count, in words: the store's one rule, the filters, and the digits on the
    wall it leaves out."""
    parts = [_(COUNTED_RULE)]
    if filtered:
        parts.append(_("Only the digits that match the filters."))
    if summary["not_counted"]:
        parts.append(
            ngettext(
                "{n} digit shown here is marked not fair and not counted.",
                "{n} digits shown here are marked not fair and not counted.",
                summary["not_counted"],
            ).format(n=summary["not_counted"])
        )
    return i18n.sentences(*parts)


def counts(store: class_store.ClassStore, session: int | None, chosen: dict | None = None) -> None:
    """The wall's counts, of the digits its filters keep (``chosen``), by the store's one rule."""
    chosen = chosen or {}
    summary = store.summary(session, **chosen)
    sent = sum(summary["sent"].values())
    right = sum(summary["right"].values())
    with st.container(horizontal=True, gap="large", key="wall_counts"):  # one row on a phone too
        st.metric(_("Digits"), summary["entries"], width="content")
        st.metric(_("Students"), summary["students"], width="content")
        st.metric(
            _("Read right"),
            _("{right} of {sent}").format(right=right, sent=sent) if sent else "-",
            width="content",
            help=_("by the model each student used, when they sent it"),
        )
    st.caption(counted_line(summary, any(chosen.values())))


def wall(store: class_store.ClassStore, session: int | None, chosen: dict) -> None:
    """The counts and the grid of digits, from the store as it is now."""
    width = charts.width_probe("wall_width")
    counts(store, session, chosen)
    entries = store.entries(session, limit=WALL_LIMIT, **chosen)
    if not entries:
        st.info(
            _(
                "No digits yet that match these filters: students send theirs from **Draw a digit**, under their "
                "drawing."
            )
            if any(chosen.values())
            else _("No digits yet: students send theirs from **Draw a digit**, under their drawing."),
            icon=":material/draw:",
        )
        return
    picked = digit_grid.picked_entry(
        digit_grid.grid(entries, width, key="wall_chart", selected=st.session_state.get(chosen_digit.SELECTED))
    )
    if picked is not None and picked != st.session_state.get(chosen_digit.SELECTED):
        st.session_state[chosen_digit.SELECTED] = picked
        st.rerun()  # the whole page: the large panel sits outside this fragment
    names = charts.palette("answer").names
    caption = _(
        "Newest first. Under each digit: the digit the student meant → the network's answer, how sure; "
        "{right} when right, framed {wrong} when wrong. Click a digit to see it large."
    ).format(right=_(names[palettes.ANSWER_RIGHT]), wrong=_(names[palettes.ANSWER_WRONG]))
    if len(entries) == WALL_LIMIT:
        caption = _("{first} {second}").format(
            first=caption, second=_("The newest {limit} are shown.").format(limit=WALL_LIMIT)
        )
    st.caption(caption)
    digit_grid.open_by_keyboard(entries, key="wall_pick", chosen=chosen_digit.SELECTED)


def live_wall(store: class_store.ClassStore, session: int | None, chosen: dict) -> None:
    """:func:`wall`, redrawn every second (a fragment: the rest of the page stays as it is)."""

    @st.fragment(run_every=POLL_SECONDS)
    def polled() -> None:
        # Guarded inside the fragment: a poll that fails says so in its place, and the next
        # poll's wall replaces the line.
        with guard.guarded(_("The wall")):
            wall(store, session, chosen)

    polled()


def wall_section(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    """The filters, the chosen digit large, and the live wall, each guarded."""
    chosen = {"mistakes_only": False, "label": None, "model": None}
    with guard.guarded(_("The filters")), presenter.secondary(_("Filters")):
        chosen = filters(sorted({e.model for e in store.entries(session, include_hidden=True)}))
    with guard.guarded(_("The chosen digit")):
        chosen_digit.selected_panel(store, teacher)
    with guard.guarded(_("The wall")):
        live_wall(store, session, chosen)


def one_line_counts(summary: dict) -> str:
    """The counts of the projector's view in one line (the same rule as :func:`counts`)."""
    sent, right = sum(summary["sent"].values()), sum(summary["right"].values())
    return _("**{entries}** digits from **{students}** students · read right: **{right}** of {sent}").format(
        entries=summary["entries"], students=summary["students"], right=right, sent=sent
    )


def finetune_progress() -> None:
    """The class fine-tune's progress bar while one runs (the server's one background run)."""
    job = runner.manager().current()
    snap = job.snapshot() if job is not None else None
    if snap is None or not snap.running or snap.kind != finetune.KIND:
        return
    st.progress(
        snap.fraction,
        text=_("The network is learning our handwriting ({name}): {share:.0%} done").format(
            name=snap.name, share=snap.fraction
        ),
    )


def wall_view(store: class_store.ClassStore, session: int | None, show_controls) -> None:
    """The wall alone, for the projector: the counts in one line, the newest digits large (the
    rows that fit above the fold at 1280x720), a fine-tune's progress while one runs; the
    teacher's controls behind one button (``show_controls``: what it does before the page reruns)."""
    # The page's heading for a screen reader only: the room sees the digits, not a title.
    st.html(f'<h1 class="{accessibility.SR_ONLY}">{html.escape(_("The class wall"))}</h1>')

    @st.fragment(run_every=POLL_SECONDS)
    def polled() -> None:
        with guard.guarded(_("The wall")):
            width = charts.width_probe("wall_view_width")
            summary = store.summary(session)
            with st.container(horizontal=True, vertical_alignment="center", key="wall_view_head"):
                st.markdown(one_line_counts(summary), help=_(COUNTED_RULE), width="stretch")
                if st.button(
                    _("Teacher's controls"),
                    key="wall_view_full",
                    icon=":material/tune:",
                    type="tertiary",
                    width="content",
                ):
                    show_controls()
                    st.rerun()  # the whole page, not this fragment: the controls are outside it
            finetune_progress()
            columns, tile_px = figs.grid_shape(
                width or digit_grid.ASSUMED_WIDTH_PX, round(VIEW_TILE_PX * presenter.figure_scale())
            )
            entries = store.entries(session, limit=columns * VIEW_ROWS)
            if not entries:
                st.info(
                    _("No digits yet: students send theirs from **Draw a digit**, under their drawing."),
                    icon=":material/draw:",
                )
                return
            fig = digit_grid.tiles(entries, columns, tile_px)
            st.plotly_chart(fig, key="wall_view_chart", config=charts.CHART_CONFIG, width="content")
            right = sum(e.right for e in entries)
            accessibility.describe(
                ngettext(
                    "The newest digit: {right} read as meant, {wrong} not.",
                    "The newest {n} digits: {right} read as meant, {wrong} not.",
                    len(entries),
                ).format(n=len(entries), right=right, wrong=len(entries) - right)
            )

    polled()
