"""Digits from paper (the teacher): pictures uploaded into the current class session, either one
digit per file or a worksheet photo cut into a grid, each labelled; then what was added (with the
network's answer) and what was refused, and why, in /draw's words for a picture it cannot use.

Thin: core.classroom.paper.add_pictures preprocesses, reads and stores them (all accepted digits as
one sender, "from paper"); its refusals say why, and core.data.preprocess's error classes say which of
/draw's messages fits (``draw_input.refusal``).
"""

from __future__ import annotations

import re

import streamlit as st

from core.classroom import paper
from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.sessions import shown_name
from core.i18n import N_, _, ngettext
from core.models import checkpoints
from dashboard.classroom import common
from dashboard.draw import inputs
from dashboard.frame import links, roles, shared_models

MODES = {"files": N_("One digit per file"), "grid": N_("A worksheet cut into a grid")}
TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]  # /draw's upload takes the same
_REPORT = "_paper_report"  # session state: ("error", line) or ("report", AddReport, session name, lines)


def add(store: class_store.ClassStore) -> None:
    """The Add button: the teacher only, checked here. The report is kept for the next run to show."""
    if not roles.is_teacher():
        st.session_state[_REPORT] = ("error", roles.only_teacher(_("add digits from paper")))
        return
    s = st.session_state
    uploads = [(f.name, f.getvalue()) for f in s.get("paper_files") or []]
    text = re.sub(r"[\s,;]", "", s.get("paper_labels") or "")
    if not uploads or not text:
        s[_REPORT] = ("error", _("Choose the pictures and write their labels first."))
        return
    try:
        grid = paper.parse_grid(s.get("paper_grid") or "") if s.get("paper_mode") == "grid" else None
        one = len(text) == 1  # one digit: the label of every picture (or cell)
        report = paper.add_pictures(
            store,
            uploads,
            label=int(text) if one and text.isdecimal() else None,
            labels=None if one and text.isdecimal() else text,
            grid=grid,
            model=s.get("paper_model") or paper.DEFAULT_MODEL,
        )
    except (paper.PaperError, checkpoints.CheckpointError, StoreError) as exc:
        s[_REPORT] = ("error", _("Nothing added: {reason}.").format(reason=exc))
        return
    lines = []
    for refused in report.refused:
        where = links.markdown_text(refused.source)
        if refused.cell is not None:
            where = _("{file}, row {row}, column {column}").format(
                file=where, row=refused.cell.row, column=refused.cell.column
            )
        lines.append((where, inputs.refusal(refused.error)[1]))
    s[_REPORT] = ("report", report, shown_name(store.session(report.session).name), lines)


def show_report(store: class_store.ClassStore) -> None:
    said = st.session_state.get(_REPORT)
    if not said:
        return
    if said[0] == "error":
        st.warning(said[1], icon=":material/error:")
        return
    _kind, report, session_name, lines = said
    added = len(report.added)
    if added:
        st.success(
            ngettext(
                "{n} digit added to {session}, read by {model}.",
                "{n} digits added to {session}, read by {model}.",
                added,
            ).format(n=added, session=session_name, model=report.model),
            icon=":material/check_circle:",
        )
        shown = []
        for a in report.added:
            try:
                shown.append((store.entry(a.entry).image, a))
            except StoreError:
                continue  # deleted since
        common.digits_row(
            [image for image, _a in shown],
            [f"{a.label} → {a.prediction} · {a.confidence:.0%}" for _i, a in shown],
            [
                _("a handwritten {label}, read as {prediction}").format(label=a.label, prediction=a.prediction)
                for _i, a in shown
            ],
        )
        st.caption(_("Under each: the label given → the network's answer, how sure."))
    if lines:
        st.warning(
            ngettext("{n} picture refused:", "{n} pictures refused:", len(lines)).format(n=len(lines))
            + "\n\n"
            + "\n".join(f"- **{where}**: {why}" for where, why in lines),
            icon=":material/image:",
        )
    if not added and not lines:
        st.info(_("Nothing added and nothing refused."), icon=":material/info:")


def paper_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    current = store.current_session()
    st.markdown(
        _(
            "Digits written on paper, photographed or scanned, go into the current session (**{name}**) as "
            "if sent from **Draw a digit**: made like MNIST digits, read by the network, on the wall."
        ).format(name=shown_name(current.name))
    )
    files = st.file_uploader(
        _("Pictures of digits (PNG or JPEG; dark on light or light on dark)"),
        type=TYPES,
        accept_multiple_files=True,
        key="paper_files",
        disabled=not teacher,
    )
    mode = st.segmented_control(
        _("Each picture holds"),
        list(MODES),
        format_func=lambda m: _(MODES[m]),
        default="files",
        required=True,
        key="paper_mode",
        disabled=not teacher,
    )
    c1, c2, c3 = st.columns([2, 1, 2], vertical_alignment="bottom")
    if mode == "grid":
        c1.text_input(
            _("Labels"),
            key="paper_labels",
            disabled=not teacher,
            placeholder="0123456789",
            help=_("One digit for every cell (7), or one per row, one per column, or one per cell, row by row."),
        )
        c2.text_input(_("Grid (rows x columns)"), value="3x5", key="paper_grid", disabled=not teacher)
    else:
        c1.text_input(
            _("Labels"),
            key="paper_labels",
            disabled=not teacher,
            placeholder="4 · 0123",
            help=_("One digit for every picture (4), or one per picture in their order (0123)."),
        )
    with c3:
        shared_models.checkpoint_picker(_("Model that reads them"), key="paper_model", default=paper.DEFAULT_MODEL)
    st.button(
        _("Add to the class"),
        type="primary",
        icon=":material/upload:",
        key="paper_add",
        disabled=not teacher or not files,
        on_click=add,
        args=(store,),
    )
    common.only_teacher_caption(teacher, _("add digits from paper"))
    show_report(store)
