"""The teacher's lessons: started and extended from any page's sidebar ("Lesson mode": start a
lesson, add this view as a step), built, saved, shared and deleted on /class's lessons tab.

A lesson is built in the class store (``LessonPlans.draft``): "add this view as a step" on any page
appends the page's link as it is now; the tab orders, edits and deletes the steps and saves the
lesson under a name. Lessons travel as the files ``python -m core lesson export`` writes (a
download here) and come in the same way (an upload here, or ``lesson import``): a step naming a
page the dashboard lacks is named and skipped.

Every action checks the teacher's role where it acts (:func:`teacher_only`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.lesson_mode.live import LessonLive
from core.classroom.lesson_mode.plans import (
    DEFAULT,
    LINES_MAX,
    STEPS_MAX,
    Lesson,
    LessonPlans,
    Step,
    from_dict,
    read_bytes,
    said,
    to_json,
    to_toml,
)
from core.i18n import _
from dashboard.frame import links, roles
from dashboard.lesson import bar

SAID = "_lesson_said"  # session state: (kind, text) the last action left to say, once
DRAFT_EDITOR = "lesson_draft_rows"


def teacher_only(what: str, action: Callable, *args) -> None:
    """Run ``action`` only for the teacher; a refusal or the store's reason is said once."""
    refused = roles.teacher_action(what, action, *args)
    if refused:
        st.session_state[SAID] = ("warning", refused)


def show_said(container=st) -> None:
    kind, text = st.session_state.pop(SAID, (None, None))
    if text:  # it may hold a name or a link from a lesson file: plain text, never markdown
        getattr(container, kind)(links.markdown_text(text))


def _start(store: class_store.ClassStore, name: str) -> None:
    live = LessonLive(store).start(LessonPlans(store).lesson(name))
    st.session_state[bar.GO_KEY] = live.current.link


def _add_view(store: class_store.ClassStore, page_path: str, title: str) -> None:
    link = "/" + page_path + _query()
    steps = LessonPlans(store).add_to_draft(Step(title, link))
    st.session_state[SAID] = (
        "success",
        _("Added {link} as step {number} of the lesson you are building (Class wall → Lessons).").format(
            link=steps[-1].link, number=len(steps)
        ),
    )


def _query() -> str:
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _lesson_title(lessons: list[Lesson]) -> Callable[[str], str]:
    titles = {lesson.name: said(lesson).title for lesson in lessons}
    return lambda name: f"{titles.get(name, name)} ({name})"


def sidebar(page_path: str, page_title: str) -> None:
    """In the sidebar, for the teacher: start a lesson, add this view as a step."""
    if not roles.is_teacher():
        show_said()  # a press after the role has gone: refused, and said
        return
    try:
        store = class_store.store()
        live = LessonLive(store).now()
        lessons = LessonPlans(store).lessons()
    except (StoreError, ValueError):
        return  # /class says what is wrong with the store
    with st.expander(_("Lesson mode"), icon=":material/school:", expanded=live is not None and live.running):
        if live is not None and live.running:
            st.caption(
                _("Teaching “{title}”: the bar above the page leads it.").format(
                    title=links.markdown_text(said(live.lesson).title)
                )
            )
        else:
            name = st.selectbox(
                _("Lesson"), [lesson.name for lesson in lessons], key="lesson_pick", format_func=_lesson_title(lessons)
            )
            st.button(
                _("Start the lesson"),
                key="lesson_start",
                icon=":material/play_arrow:",
                type="primary",
                on_click=teacher_only,
                args=(_("start a lesson"), _start, store, name),
                help=_("Every student's page goes to its first step; you lead with Next and Back."),
            )
        st.button(
            _("Add this view as a step"),
            key="lesson_add",
            icon=":material/add:",
            on_click=teacher_only,
            args=(_("build a lesson"), _add_view, store, page_path, page_title),
            help=_("This page with its settings becomes the next step of the lesson you are building."),
        )
        show_said()
        st.markdown(_("[Build, save and share lessons](/class?class_tab=lessons)"))


# --- /class: the lessons tab ------------------------------------------------------------------


def _rows(steps: list[Step]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order": pd.Series(range(1, len(steps) + 1), dtype="Int64"),
            "title": pd.Series([s.title for s in steps], dtype="string"),
            "link": pd.Series([s.link for s in steps], dtype="string"),
            "lines": pd.Series([" | ".join(s.lines) for s in steps], dtype="string"),
        }
    )


def _steps_of(rows: pd.DataFrame) -> list[dict]:
    """The steps the editor holds, in their order (a row's number, then where it stands)."""
    rows = rows.reset_index(drop=True)
    order = pd.to_numeric(rows["order"], errors="coerce").fillna(len(rows) + 1)
    raw = []
    for index in sorted(range(len(rows)), key=lambda i: (order[i], i)):
        row = rows.iloc[index]
        if not any(isinstance(row[c], str) and row[c].strip() for c in ("title", "link", "lines")):
            continue  # an empty row the editor added
        lines = [part.strip() for part in str(row["lines"] or "").split("|")][:LINES_MAX]
        raw.append({"title": row["title"] or "", "link": row["link"] or "", "lines": lines})
    return raw


def _save(store: class_store.ClassStore, name: str, title: str, rows: pd.DataFrame) -> None:
    raw = _steps_of(rows)
    lesson, skipped = from_dict({"name": name.strip(), "title": title, "steps": raw})
    plans = LessonPlans(store)
    plans.save(lesson)
    plans.set_draft(list(lesson.steps))
    st.session_state.pop(DRAFT_EDITOR, None)
    _say(_("Saved the lesson {name} ({count} steps).").format(name=lesson.name, count=len(lesson.steps)), skipped)


def _keep(store: class_store.ClassStore, rows: pd.DataFrame) -> None:
    raw = _steps_of(rows)
    steps, skipped = [], []
    if raw:
        lesson, skipped = from_dict({"name": "draft", "steps": raw})
        steps = list(lesson.steps)
    LessonPlans(store).set_draft(steps)
    st.session_state.pop(DRAFT_EDITOR, None)
    if skipped:
        _say("", skipped)


def _copy(store: class_store.ClassStore, name: str) -> None:
    plans = LessonPlans(store)
    plans.set_draft(list(said(plans.lesson(name)).steps))
    st.session_state.pop(DRAFT_EDITOR, None)


def _delete(store: class_store.ClassStore, name: str) -> None:
    LessonPlans(store).delete(name)


def _import(store: class_store.ClassStore, upload) -> None:
    if upload is None:
        return
    lesson, skipped = read_bytes(upload.getvalue(), upload.name)
    LessonPlans(store).save(lesson)
    _say(_("Imported the lesson {name} ({count} steps).").format(name=lesson.name, count=len(lesson.steps)), skipped)


def _say(done: str, skipped: list[str]) -> None:
    """What an action did, and each step it skipped and why (then as a warning), said once."""
    parts = [done, _("Skipped: {reasons}").format(reasons="; ".join(skipped)) if skipped else ""]
    st.session_state[SAID] = ("warning" if skipped else "success", " ".join(part for part in parts if part))


def lessons_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    """/class's lessons tab: the lesson being taught, the one being built, the saved ones."""
    st.markdown(
        _(
            "A lesson walks the class through the dashboard step by step: the teacher starts it from the "
            "sidebar's **Lesson mode**, and every student's page follows the teacher's Next and Back."
        )
    )
    show_said()
    plans = LessonPlans(store)
    live = LessonLive(store).now()
    if live is not None and live.running:
        st.info(
            _("Now teaching “{title}”, step {number} of {count}.").format(
                title=links.markdown_text(said(live.lesson).title), number=live.step + 1, count=len(live.lesson.steps)
            ),
            icon=":material/school:",
        )
    if not teacher:
        st.caption(roles.only_teacher(_("build and start lessons")))
    lessons = plans.lessons()
    _building(store, plans, teacher, lessons)
    _saved(store, teacher, lessons)


def _building(store, plans: LessonPlans, teacher: bool, lessons: list[Lesson]) -> None:
    st.subheader(_("The lesson you are building"))
    draft = plans.draft()
    st.caption(
        _(
            "“Add this view as a step” in any page's sidebar adds that page with its settings here. Order the "
            "steps by their number, edit a title, a link or the lines for the students (lines separated by |), "
            "delete a row to drop a step."
        )
    )
    rows = st.data_editor(
        _rows(draft),
        key=DRAFT_EDITOR,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        disabled=not teacher,
        column_config={
            "order": st.column_config.NumberColumn(_("Step"), min_value=1, max_value=STEPS_MAX, step=1, width="small"),
            "title": st.column_config.TextColumn(_("Title"), max_chars=80),
            "link": st.column_config.TextColumn(_("Link"), help=_("The page and its settings, e.g. /dataset?digit=7")),
            "lines": st.column_config.TextColumn(_("For the students"), max_chars=401),
        },
    )
    name_col, title_col = st.columns(2)
    name = name_col.text_input(_("Name (for files and the command line)"), key="lesson_name", max_chars=40)
    title = title_col.text_input(_("Title"), key="lesson_title", max_chars=80)
    # Pressed buttons act here, after the fields: a callback would get the fields as they were drawn
    # before this press, not as the teacher just typed them.
    with st.container(horizontal=True):
        save = st.button(
            _("Save the lesson"), key="lesson_save", icon=":material/save:", type="primary", disabled=not teacher
        )
        keep = st.button(_("Keep these edits"), key="lesson_keep", icon=":material/edit_note:", disabled=not teacher)
        copied = st.selectbox(
            _("Start from a lesson"),
            [lesson.name for lesson in lessons],
            key="lesson_copy_from",
            format_func=_lesson_title(lessons),
            label_visibility="collapsed",
        )
        copy = st.button(
            _("Copy its steps here"), key="lesson_copy", icon=":material/content_copy:", disabled=not teacher
        )
    for pressed, action, args in ((save, _save, (name, title, rows)), (keep, _keep, (rows,)), (copy, _copy, (copied,))):
        if pressed:
            teacher_only(_("build a lesson"), action, store, *args)
            st.rerun()


def _saved(store, teacher: bool, lessons: list[Lesson]) -> None:
    st.subheader(_("Lessons"))
    st.dataframe(
        pd.DataFrame(
            {
                _("Name"): [lesson.name for lesson in lessons],
                _("Title"): [said(lesson).title for lesson in lessons],
                _("Steps"): [len(lesson.steps) for lesson in lessons],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    chosen_name = st.selectbox(
        _("Lesson"), [lesson.name for lesson in lessons], key="lesson_chosen", format_func=_lesson_title(lessons)
    )
    chosen = next(lesson for lesson in lessons if lesson.name == chosen_name)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.download_button(
            _("Download (JSON)"),
            to_json(said(chosen)),
            file_name=f"{chosen.name}.json",
            mime="application/json",
            key="lesson_download",
            icon=":material/download:",
        )
        st.download_button(
            _("Download (TOML)"),
            to_toml(said(chosen)),
            file_name=f"{chosen.name}.toml",
            mime="application/toml",
            key="lesson_download_toml",
            icon=":material/download:",
        )
        st.button(
            _("Delete"),
            key="lesson_delete",
            icon=":material/delete:",
            disabled=not teacher or chosen.name == DEFAULT.name,
            on_click=teacher_only,
            args=(_("delete a lesson"), _delete, store, chosen.name),
        )
    upload = st.file_uploader(
        _("Add a lesson from a file (JSON or TOML)"), type=["json", "toml"], key="lesson_upload", disabled=not teacher
    )
    st.button(
        _("Add it"),
        key="lesson_import",
        icon=":material/upload:",
        disabled=not teacher or upload is None,
        on_click=teacher_only,
        args=(_("add a lesson"), _import, store, upload),
    )
