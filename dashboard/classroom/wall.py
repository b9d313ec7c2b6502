"""The class wall itself: the teacher's class sessions, the filters, the chosen digit large, and the
grid of every digit the class sent, redrawn every second.

Thin: core.classroom.store (the digits) -> dashboard.classroom.figures (the grid) and
dashboard.draw.digit_panel (one digit, large, as /draw shows it). The grid is an ``st.fragment``
that polls the store every second, so new digits appear without a whole-page rerun.

The grid is drawn to the width it has (a phone, a laptop, a projector): a tiny component in the
fragment reports that width, and the figure gets as many square tiles as fit in it.

The projector's view (``/class?view=wall``, :func:`wall_view`) is the wall alone: the counts in one
line, the newest digits large above the fold, a fine-tune's progress while one runs, and the
teacher's controls one click away. ``?wall_session=<number>`` opens an older class session.
"""

from __future__ import annotations

import html
import time

import streamlit as st

from core import i18n
from core.classroom import export, finetune
from core.classroom import store as class_store
from core.explain import pictures
from core.i18n import _, ngettext
from core.training.jobs import runner
from dashboard.classroom import common
from dashboard.classroom import figures as figs
from dashboard.draw import digit_panel
from dashboard.figures import charts, palettes
from dashboard.frame import accessibility, guard, links, presenter, roles
from dashboard.frame.links import BOUND

POLL_SECONDS = 1.0
WALL_LIMIT = 200  # the newest digits shown; older ones stay in the store and the export
TILE_PX = 100  # a digit on the wall, about (times presenter.figure_scale())
LARGE_PX = 224  # the chosen digit: 28 px shown 8x
ASSUMED_WIDTH_PX = 900  # the wall's width until the browser has said (a laptop's)
ALL = "__all__"  # the filters' "no filter" (a code no label equals)
CURRENT = "current"  # the session digits are sent to now, whichever it is
SELECTED = "wall_entry"
SESSION_KEY = "wall_session"  # the session shown: the selectbox's key and the link's parameter
VIEW_TILE_PX = 190  # a digit in the projector's view, about (times presenter.figure_scale())
VIEW_ROWS = 2  # the projector's view: the newest rows of digits, all above the fold at 1280x720
_OPEN_NOW = "_wall_open_now"  # session state: a digit was chosen from the list; the page reruns


def start_new_session(store: class_store.ClassStore) -> None:
    store.new_session()
    st.session_state[SESSION_KEY] = CURRENT  # the wall shows the new, empty session
    st.query_params.pop(SESSION_KEY, None)


def linked_session(store: class_store.ClassStore) -> int | None:
    """The class session the link asks for (``?wall_session=3``), checked: None for the current
    one, and a number that is no session's named in the page's link notice."""
    asked = st.query_params.get_all(SESSION_KEY)
    if not asked:
        return None
    try:
        return store.session(int(asked[-1])).id
    except (ValueError, class_store.StoreError):
        links.refuse(SESSION_KEY, asked, _("The current session"), shown=CURRENT, state_key=SESSION_KEY)
        st.session_state.setdefault(SESSION_KEY, CURRENT)  # what is shown instead (the projector's view too)
        return None


def keep_in_link(choice) -> None:
    """The session chosen, in the link (a number), so that a shared link opens the same session."""
    if choice == CURRENT:
        st.query_params.pop(SESSION_KEY, None)
    else:
        st.query_params[SESSION_KEY] = str(choice)


def sessions_panel(store: class_store.ClassStore, teacher: bool) -> int | None:
    """The teacher's controls for class sessions; returns the session the wall shows: None for
    the current one, looked up again at every poll, so that a session started anywhere (another
    tab, another server process, the command line) is on the wall at once."""
    sessions = store.sessions()
    if not any(s["current"] for s in sessions):
        store.current_session()  # starts the first one
        sessions = store.sessions()
    # A label is a function of its option alone (no counts in it): the browser holds the label
    # (dashboard/draw/digit_panel.py says why), and a label that changed would choose another session.
    names = {s["session"]: f"{class_store.shown_name(s['name'])} (#{s['session']})" for s in sessions}
    current_label = _("The current session")
    if SESSION_KEY not in st.session_state:  # the session's first run: the link's session, if it has one
        st.session_state[SESSION_KEY] = linked_session(store) or CURRENT
    with st.expander(_("Class sessions and export"), icon=":material/school:", expanded=False):
        choice = st.selectbox(
            _("Show session"),
            [CURRENT, *names],
            key=SESSION_KEY,
            format_func=lambda c: current_label if c == CURRENT else names.get(c, str(c)),
        )
        keep_in_link(choice)
        shown = None if choice == CURRENT else int(choice)
        session = store.session(shown)
        facts = next((s for s in sessions if s["session"] == session.id), None)
        if facts is not None:
            about = (
                _("{name}: {entries} digits from {students} students; the digits students send now come here.")
                if facts["current"]
                else _(
                    "{name}: {entries} digits from {students} students; the digits students send now go to the "
                    "current session, not this one."
                )
            )
            st.caption(about.format(name=names[session.id], entries=facts["entries"], students=facts["students"]))
        # One row that wraps, each control as wide as its label: a label is never cut (a projector's
        # large type, a phone).
        row = st.container(horizontal=True, vertical_alignment="center", key="wall_session_actions")
        row.button(
            _("New class session"),
            icon=":material/add:",
            key="wall_new",
            disabled=not teacher,
            on_click=common.teacher_action,
            args=(_("start a new class session"), start_new_session, store),
            help=_("The wall empties; this session's digits stay in the store until deleted."),
        )
        confirm = row.checkbox(_("Yes, delete it"), key="wall_delete_confirm", disabled=not teacher)
        row.button(
            _("Delete this session"),
            icon=":material/delete:",
            key="wall_delete",
            disabled=not (teacher and confirm),
            on_click=common.teacher_action,
            args=(_("delete a class session"), store.delete_session, session.id),
        )
        if teacher:
            npz, csv = export.payloads(store, session.id)
            row.download_button(
                _("Export (.npz)"),
                npz,
                file_name=f"class_session_{session.id}.npz",
                key="wall_npz",
                icon=":material/download:",
                on_click="ignore",
            )
            row.download_button(
                _("Export (.csv)"),
                csv,
                file_name=f"class_session_{session.id}.csv",
                key="wall_csv",
                icon=":material/table:",
                on_click="ignore",
            )
        else:
            row.button(_("Export"), icon=":material/download:", key="wall_export_student", disabled=True)
            st.caption(roles.only_teacher(_("start, delete or export a class session")))
    return shown


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
    parts = [_(class_store.COUNTED_RULE)]
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


def describe(entry: class_store.Entry) -> str:
    """One sentence on a sent digit: who, what they meant, what the network said, when."""
    sentence = (
        _("**{student}** meant **{label}**; {model} said **{prediction}** ({confidence:.0%} sure, right), at {time}.")
        if entry.right
        else _(
            "**{student}** meant **{label}**; {model} said **{prediction}** ({confidence:.0%} sure, wrong), at {time}."
        )
    )
    return sentence.format(
        student=links.markdown_text(entry.student),
        label=entry.label,
        model=entry.model,
        prediction=entry.prediction,
        confidence=entry.confidence,
        time=time.strftime("%H:%M:%S", time.localtime(entry.sent_at)),
    )


def large_picture(column, entry: class_store.Entry) -> None:
    """The chosen digit, large and crisp, with what it is for a screen reader."""
    side = round(LARGE_PX * presenter.figure_scale())
    column.image(
        pictures.framed(entry.image, side),
        width=side,
        output_format="PNG",
        alt=_("a handwritten {label}, read as {prediction}").format(label=entry.label, prediction=entry.prediction),
    )


def selected_panel(store: class_store.ClassStore, teacher: bool) -> None:
    """The chosen digit, large, with the same panel as /draw; the teacher can hide it."""
    entry = common.remembered_entry(store, SELECTED)
    if entry is None:
        return
    with st.container(border=True, key="wall_selected_panel"):
        large, about = st.columns([1, 2.5], vertical_alignment="center")
        large_picture(large, entry)
        with about:
            st.markdown(describe(entry))
            with st.container(horizontal=True):
                st.button(
                    _("Show again") if entry.hidden else _("Hide from the wall"),
                    key="wall_hide",
                    icon=":material/visibility:" if entry.hidden else ":material/visibility_off:",
                    disabled=not teacher,
                    on_click=common.teacher_action,
                    args=(_("hide a digit"), store.set_hidden, entry.id, not entry.hidden),
                )
                st.button(
                    _("Close"),
                    key="wall_close",
                    icon=":material/close:",
                    on_click=lambda: st.session_state.pop(SELECTED, None),
                )
            common.only_teacher_caption(teacher, _("hide a digit"))
        # Folded: open, the panel is a page long and would push the wall off the screen.
        with st.expander(
            _("How {model} read it: its answer, feature maps, the pixels that mattered").format(model=entry.model),
            icon=":material/neurology:",
        ):
            digit_panel.explain_digit(entry.image, entry.model, prefix="wall")


def picked_entry(event) -> int | None:
    """The entry id a click on a grid of digits chose (its point's customdata), or None."""
    points = (event.selection or {}).get("points") or [] if event else []
    picked = points[0].get("customdata") if points else None
    if isinstance(picked, list):
        picked = picked[0]
    return None if picked is None else int(picked)


def grid(entries: list[class_store.Entry], width: int | None, *, key: str, selected: int | None):
    """The digits as one clickable figure as wide as its place; returns the chart's event."""
    answer = charts.palette("answer")
    columns, tile_px = figs.grid_shape(width or ASSUMED_WIDTH_PX, round(TILE_PX * presenter.figure_scale()))
    fig = figs.wall_figure(
        entries,
        columns=columns,
        right_color=answer.colors[palettes.ANSWER_RIGHT],
        wrong_color=answer.colors[palettes.ANSWER_WRONG],
        tile_px=tile_px,
        selected=selected,
    )
    event = st.plotly_chart(
        fig, key=key, on_select="rerun", selection_mode="points", config=charts.CHART_CONFIG, width="content"
    )  # not charts.plotly_chart: the tiles are already sized for presenter mode
    right = sum(e.right for e in entries)
    accessibility.describe(
        ngettext(
            "{n} digit, newest first: {right} read as meant, {wrong} not. Each can be opened from the list below them.",
            "{n} digits, newest first: {right} read as meant, {wrong} not. Each "
            "can be opened from the list below them.",
            len(entries),
        ).format(n=len(entries), right=right, wrong=len(entries) - right)
    )
    return event


def open_by_keyboard(entries: list[class_store.Entry], *, key: str, chosen: str) -> None:
    """A list of the digits shown, for whoever cannot click the figure (keyboard, screen reader):
    choosing one opens it as a click on its tile does (``chosen``: the session-state key)."""

    def opened() -> None:
        st.session_state[chosen], st.session_state[key] = st.session_state[key], None
        st.session_state[_OPEN_NOW] = True

    lines = {
        e.id: _("{student}: meant {label}, read as {prediction} ({confidence:.0%} sure)").format(
            student=e.student, label=e.label, prediction=e.prediction, confidence=e.confidence
        )
        for e in entries
    }
    st.selectbox(
        _("Open a digit"),
        list(lines),
        index=None,
        format_func=lines.get,
        key=key,
        on_change=opened,
        placeholder=_("Choose one of the digits above"),
    )
    if st.session_state.pop(_OPEN_NOW, False):
        st.rerun()  # the whole page: the large panel sits outside the polled fragment


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
    picked = picked_entry(grid(entries, width, key="wall_chart", selected=st.session_state.get(SELECTED)))
    if picked is not None and picked != st.session_state.get(SELECTED):
        st.session_state[SELECTED] = picked
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
    open_by_keyboard(entries, key="wall_pick", chosen=SELECTED)


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
        selected_panel(store, teacher)
    with guard.guarded(_("The wall")):
        live_wall(store, session, chosen)


# --- the projector's view ---------------------------------------------------------------------------


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
                st.markdown(one_line_counts(summary), help=_(class_store.COUNTED_RULE), width="stretch")
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
                width or ASSUMED_WIDTH_PX, round(VIEW_TILE_PX * presenter.figure_scale())
            )
            entries = store.entries(session, limit=columns * VIEW_ROWS)
            if not entries:
                st.info(
                    _("No digits yet: students send theirs from **Draw a digit**, under their drawing."),
                    icon=":material/draw:",
                )
                return
            answer = charts.palette("answer")
            fig = figs.wall_figure(
                entries,
                columns=columns,
                right_color=answer.colors[palettes.ANSWER_RIGHT],
                wrong_color=answer.colors[palettes.ANSWER_WRONG],
                tile_px=tile_px,
            )
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
