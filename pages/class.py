"""/class: the class wall. Every digit the class sent, live, for the projector.

Thin: core.class_store (the digits) -> dashboard.figures_class (the grid) and
dashboard.digit_panel (one digit, large, as /draw shows it). The grid is an ``st.fragment``
that polls the store every second, so new digits appear without a whole-page rerun. Only the
teacher (dashboard.roles) may hide digits, start or delete a class session and export; students
see those controls disabled, and every action checks the role again where it acts.

The filters live in the URL: ``/class?wall_mistakes=true&wall_digit=4&wall_model=lenet5``.

The grid is drawn to the width it has (a phone, a laptop, a projector): a tiny component in the
fragment reports that width, and the figure gets as many square tiles as fit in it.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run standalone (AppTest) as well as through dashboard/app.py
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core import class_store, pictures  # noqa: E402
from dashboard import digit_panel, roles, ui  # noqa: E402
from dashboard import figures_class as figs  # noqa: E402
from dashboard import palettes  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

POLL_SECONDS = 1.0
WALL_LIMIT = 200        # the newest digits shown; older ones stay in the store and the export
TILE_PX = 100           # a digit on the wall, about (times ui.figure_scale())
LARGE_PX = 224          # the chosen digit: 28 px shown 8x
ASSUMED_WIDTH_PX = 900  # the wall's width until the browser has said (a laptop's)
ALL = "all"
CURRENT = "current"     # the session digits are sent to now, whichever it is
SELECTED = "wall_entry"
_DENIED = "_wall_denied"

# Reports the width the wall has, in steps of 20 px and only when it changes by more than a
# scroll bar's width, so that a scroll bar coming and going never redraws the wall back and forth.
_WIDTH_JS = """
export default function (component) {
    const { setStateValue, parentElement } = component;
    const host = parentElement.host || parentElement;
    const report = () => {
        const width = Math.floor(host.getBoundingClientRect().width / 20) * 20;
        if (width > 0 && (host.wallWidth === undefined || Math.abs(width - host.wallWidth) > 20)) {
            host.wallWidth = width;
            setStateValue("width", width);
        }
    };
    const observer = new ResizeObserver(report);
    observer.observe(host);
    report();
    return () => observer.disconnect();
}
"""
width_probe = st.components.v2.component("class_wall_width", js=_WIDTH_JS)


def open_store() -> class_store.ClassStore | None:
    try:
        store = class_store.store()
    except class_store.StoreError as exc:
        st.error(f"The class wall cannot open its database: {exc}", icon=":material/database:")
        return None
    for notice in store.notices:
        st.warning(notice, icon=":material/database:")
    return store


def teacher_action(what: str, action, *args) -> None:
    """Run ``action`` only for the teacher: a crafted request from a student does nothing but
    leave a line saying so."""
    if not roles.is_teacher():
        st.session_state[_DENIED] = roles.only_teacher(what)
        return
    try:
        action(*args)
    except class_store.StoreError as exc:
        st.session_state[_DENIED] = f"Not done: {exc}."


def start_new_session(store: class_store.ClassStore) -> None:
    store.new_session()
    st.session_state["wall_session"] = CURRENT  # the wall shows the new, empty session


def sessions_panel(store: class_store.ClassStore, teacher: bool) -> int | None:
    """The teacher's controls for class sessions; returns the session the wall shows: None for
    the current one, looked up again at every poll, so that a session started anywhere (another
    tab, another server process, the command line) is on the wall at once."""
    sessions = store.sessions()
    if not any(s["current"] for s in sessions):
        store.current_session()  # starts the first one
        sessions = store.sessions()
    # A label is a function of its option alone (no counts in it): the browser holds the label
    # (dashboard/digit_panel.py says why), and a label that changed would choose another session.
    names = {s["session"]: f"{s['name']} (#{s['session']})" for s in sessions}
    with st.expander("Class sessions and export", icon=":material/school:", expanded=False):
        choice = st.selectbox("Show session", [CURRENT, *names], key="wall_session",
                              format_func=lambda c: "The current session" if c == CURRENT else names.get(c, str(c)))
        shown = None if choice == CURRENT else int(choice)
        session = store.session(shown)
        facts = next((s for s in sessions if s["session"] == session.id), None)
        if facts is not None:
            st.caption(f"{names[session.id]}: {facts['entries']} digits from {facts['students']} students; "
                       + ("the digits students send now come here." if facts["current"] else
                          "the digits students send now go to the current session, not this one."))
        c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
        c1.button("New class session", icon=":material/add:", key="wall_new", disabled=not teacher,
                  on_click=teacher_action, args=("start a new class session", start_new_session, store),
                  help="The wall empties; this session's digits stay in the store until deleted.")
        confirm = c2.checkbox("Yes, delete it", key="wall_delete_confirm", disabled=not teacher)
        c3.button("Delete this session", icon=":material/delete:", key="wall_delete",
                  disabled=not (teacher and confirm),
                  on_click=teacher_action, args=("delete a class session", store.delete_session, session.id))
        if teacher:
            npz, csv = store.export_payloads(session.id)
            c4.download_button("Export (.npz)", npz, file_name=f"class_session_{session.id}.npz", key="wall_npz",
                               icon=":material/download:", on_click="ignore")
            c4.download_button("Export (.csv)", csv, file_name=f"class_session_{session.id}.csv", key="wall_csv",
                               icon=":material/table:", on_click="ignore")
        else:
            c4.button("Export", icon=":material/download:", key="wall_export_student", disabled=True)
            st.caption(roles.only_teacher("start, delete or export a class session"))
    return shown


def filters(models: list[str]) -> dict:
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")  # folded away on a projector
    mistakes = c1.toggle("Only mistakes", key="wall_mistakes", bind=BOUND)
    digit = c2.selectbox("Digit meant", [ALL, *range(10)], key="wall_digit", bind=BOUND)
    model = c3.selectbox("Model", [ALL, *models], key="wall_model", bind=BOUND)
    return {"mistakes_only": mistakes, "label": None if digit == ALL else int(digit),
            "model": None if model == ALL else model}


def counts(store: class_store.ClassStore, session: int | None) -> None:
    summary = store.summary(session)
    sent = sum(summary["sent"].values())
    right = sum(summary["right"].values())
    with st.container(horizontal=True, gap="large", key="wall_counts"):  # one row on a phone too
        st.metric("Digits", summary["entries"], width="content")
        st.metric("Students", summary["students"], width="content")
        st.metric("Read right", f"{right} of {sent}" if sent else "-", width="content",
                  help="by the model each student used, when they sent it")


def selected_panel(store: class_store.ClassStore, teacher: bool) -> None:
    """The chosen digit, large, with the same panel as /draw; the teacher can hide it."""
    entry_id = st.session_state.get(SELECTED)
    if entry_id is None:
        return
    try:
        entry = store.entry(entry_id)
    except class_store.StoreError:
        st.session_state.pop(SELECTED, None)
        return
    with st.container(border=True, key="wall_selected_panel"):
        large, about = st.columns([1, 2.5], vertical_alignment="center")
        verdict = "right" if entry.right else "wrong"
        side = round(LARGE_PX * ui.figure_scale())
        large.image(pictures.framed(entry.image, side), width=side, output_format="PNG")
        with about:
            sent_at = time.strftime("%H:%M:%S", time.localtime(entry.sent_at))
            st.markdown(f"**{ui.plain(entry.student)}** meant **{entry.label}**; {entry.model} said "
                        f"**{entry.prediction}** ({entry.confidence:.0%} sure, {verdict}), at {sent_at}.")
            with st.container(horizontal=True):
                st.button("Show again" if entry.hidden else "Hide from the wall", key="wall_hide",
                          icon=":material/visibility:" if entry.hidden else ":material/visibility_off:",
                          disabled=not teacher, on_click=teacher_action,
                          args=("hide a digit", store.set_hidden, entry.id, not entry.hidden))
                st.button("Close", key="wall_close", icon=":material/close:",
                          on_click=lambda: st.session_state.pop(SELECTED, None))
            if not teacher:
                st.caption(roles.only_teacher("hide a digit"))
        # Folded: open, the panel is a page long and would push the wall off the screen.
        with st.expander(f"How {entry.model} read it: its answer, feature maps, the pixels that mattered",
                         icon=":material/neurology:"):
            digit_panel.explain_digit(entry.image, entry.model, prefix="wall")


def wall(store: class_store.ClassStore, session: int | None, chosen: dict) -> None:
    """The counts and the grid of digits, from the store as it is now."""
    width = width_probe(key="wall_width", on_width_change=lambda: None).width
    counts(store, session)
    entries = store.entries(session, limit=WALL_LIMIT, **chosen)
    if not entries:
        st.info("No digits yet" + (" that match these filters" if any(chosen.values()) else "")
                + ": students send theirs from **Draw a digit**, under their drawing.", icon=":material/draw:")
        return
    answer = ui.palette("answer")
    columns, tile_px = figs.grid_shape(width or ASSUMED_WIDTH_PX, round(TILE_PX * ui.figure_scale()))
    fig = figs.wall_figure(entries, columns=columns, right_color=answer.colors[palettes.ANSWER_RIGHT],
                           wrong_color=answer.colors[palettes.ANSWER_WRONG], tile_px=tile_px,
                           selected=st.session_state.get(SELECTED))
    event = st.plotly_chart(fig, key="wall_chart", on_select="rerun", selection_mode="points",
                            config=ui.CHART_CONFIG, width="content")
    points = (event.selection or {}).get("points") or [] if event else []
    picked = points[0].get("customdata") if points else None
    if isinstance(picked, list):
        picked = picked[0]
    if picked is not None and picked != st.session_state.get(SELECTED):
        st.session_state[SELECTED] = int(picked)
        st.rerun()  # the whole page: the large panel sits outside this fragment
    names = answer.names
    st.caption(f"Newest first. Under each digit: the digit the student meant → the network's answer, how sure; "
               f"{names[palettes.ANSWER_RIGHT]} when right, framed {names[palettes.ANSWER_WRONG]} when wrong. "
               "Click a digit to see it large." + (f" The newest {WALL_LIMIT} are shown." if len(entries) == WALL_LIMIT else ""))


def live_wall(store: class_store.ClassStore, session: int | None, chosen: dict) -> None:
    """:func:`wall`, redrawn every second (a fragment: the rest of the page stays as it is)."""

    @st.fragment(run_every=POLL_SECONDS)
    def grid() -> None:
        # Guarded inside the fragment: a poll that fails says so in its place, and the next
        # poll's wall replaces the line.
        with ui.guarded("The wall"):
            wall(store, session, chosen)

    grid()


st.title("The class wall")
st.markdown("Every digit the class sends from **Draw a digit** appears here within a second or two: what the "
            "student meant, and what the network made of it.")
teacher = roles.is_teacher()
denied = st.session_state.pop(_DENIED, None)
if denied:
    st.warning(denied, icon=":material/lock:")
store = open_store()
if store is not None:
    session = None  # the current one, also when the sessions panel cannot be shown
    with ui.guarded("The class sessions"):
        session = sessions_panel(store, teacher)
    chosen = {"mistakes_only": False, "label": None, "model": None}
    with ui.guarded("The filters"), ui.secondary("Filters"):
        chosen = filters(sorted({e.model for e in store.entries(session, include_hidden=True)}))
    with ui.guarded("The chosen digit"):
        selected_panel(store, teacher)
    with ui.guarded("The wall"):
        live_wall(store, session, chosen)
