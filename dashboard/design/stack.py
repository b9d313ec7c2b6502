"""Where a design starts and how it is edited: the starting point (a plain-stack preset, an empty
network, or one of the source write-ups' experiments), the notation as one line of text, and the
same stack as a table of layers with buttons that move, copy and remove a layer and a form for the
chosen layer's fields (the table's rows cannot be dragged, and its cells are small on a phone).

The notation is the design: the text input is bound to the link (``?net=...``, spaces written
``+``) and the table is drawn from it. An edit of the table writes the notation (in its canonical
spelling when it can be built) and draws the table again from its rows; an edit of the text redraws
the table (of a text that cannot be built, the layers that can be read on their own). The start is bound too
(``?start=lenet5``): the layer math compares the design with it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.architecture import design_table as table
from core.i18n import N_, _
from core.models.design import RANGES, DesignError, parse
from core.training import names as model_names
from core.training import recipes
from dashboard.frame import presenter, shared_models
from dashboard.frame.links import BOUND

NET, START = "net", "start"  # the link's keys, also the widgets' keys
EMPTY = "empty"  # the starting point with no layer but the output layer
_ROWS, _ROWS_TEXT, _VERSION = "_design_rows", "_design_rows_text", "_design_version"
_START_SEEN = "_design_start_seen"  # the start of the last run: a change of it is the student's
PICK = "design_pick"  # the layer the buttons act on

KIND_NAMES = {
    "conv": N_("convolution"),
    "max": N_("max pooling"),
    "avg": N_("average pooling"),
    "bn": N_("BatchNorm"),
    "relu": "ReLU",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "stanh": N_("scaled tanh"),
    "drop": N_("dropout"),
    "flat": N_("flatten"),
    "dense": N_("fully connected"),
}


def start_notation(start: str) -> str:
    """The notation of a starting point (the empty network's is empty)."""
    return "" if start == EMPTY else table.from_preset(start).notation


def start_title(start: str) -> str:
    if start == EMPTY:
        return _("an empty network (the output layer alone)")
    return _("{title} ({name})").format(title=model_names.model_title(start), name=start)


def _start_from(preset: str) -> None:
    st.session_state[START] = preset
    st.session_state[NET] = start_notation(preset)
    st.session_state[_START_SEEN] = preset


def start_picker() -> str:
    """The starting point's picker (the link holds the preset's own name, ``?start=lenet5``); a new
    start puts its notation in the line. The start chosen."""
    with st.container(width=420):
        start = shared_models.named_selectbox(
            _("Start from"), [*table.STARTING_POINTS, EMPTY], shown=start_title, key=START, bind=BOUND
        )
    seen = st.session_state.get(_START_SEEN)
    if seen is not None and seen != start:  # chosen here, not opened from a link: its design replaces the line
        st.session_state[NET] = start_notation(start)
    st.session_state[_START_SEEN] = start
    return start


def reference_note() -> None:
    """Why LeNet-5 of 1998 is not among the starts (not on a projector: the teacher says it)."""
    if not presenter.is_on():
        st.caption(_("LeNet-5 of 1998 is no start: its partial C3 and RBF output are not layers of a stack."))


def experiments() -> None:
    """The source write-ups' experiments, each preset a one-click start (folded beside the picker)."""
    with st.popover(_("Redo an experiment of the source write-ups"), icon=":material/science:"):
        for source, description, presets in table.EXPERIMENTS:
            st.caption(
                _("{source}: {description}").format(source=recipes.source_name(source), description=_(description))
            )
            with st.container(horizontal=True, gap="small"):
                for preset in presets:
                    st.button(preset, key=f"design_try_{preset}", on_click=_start_from, args=(preset,))


def notation_input(start: str) -> str:
    """The notation's text input, bound to the link; filled from the start on a plain first visit."""
    if NET not in st.session_state and NET not in st.query_params:
        st.session_state[NET] = start_notation(start)
    return st.text_input(
        _("The network in one line"),
        key=NET,
        bind=BOUND,
        max_chars=800,
        placeholder="conv16k5 relu max2 dense120 relu",
        help=_(
            "Layers separated by spaces: conv16k5p2 (16 filters, 5x5 kernel, padding 2; s for the stride, psame, "
            "d for the dilation), max2 or avg2 (pooling), bn, relu, tanh, sigmoid, stanh, drop0.2, flat, dense120. "
            "The flattening before the first dense layer and the output layer of 10 are added for you."
        ),
    )


def _follow_text(text: str) -> None:
    """The table's rows from the notation when it changed elsewhere (typed, a link, a start); of a
    notation that cannot be built, the layers that can be read on their own."""
    s = st.session_state
    if s.get(_ROWS_TEXT) == text and _ROWS in s:
        return
    try:
        s[_ROWS] = table.editable_rows(parse(text))
    except DesignError:
        s[_ROWS] = table.readable_rows(text)
    s[_ROWS_TEXT] = text
    s[_VERSION] = s.get(_VERSION, 0) + 1


def _set_rows(rows: list[dict], pick: int | None = None) -> None:
    """New rows for the stack: the notation follows (canonical when it can be built), the table is drawn anew."""
    s = st.session_state
    text = table.rows_notation(rows)
    try:
        design = parse(text)
        text, rows = design.notation, table.editable_rows(design)
    except DesignError:
        pass
    s[_ROWS], s[NET], s[_ROWS_TEXT] = rows, text, text
    s[_VERSION] = s.get(_VERSION, 0) + 1
    if pick is not None:
        s[PICK] = pick


def _edited(key: str) -> None:
    """The table's edits (cells changed, rows deleted, rows added at the end) applied to its rows."""
    delta = st.session_state[key]
    rows = [dict(row) for row in st.session_state[_ROWS]]
    for index, change in delta.get("edited_rows", {}).items():
        rows[int(index)].update(change)
    deleted = {int(index) for index in delta.get("deleted_rows", [])}
    rows = [row for index, row in enumerate(rows) if index not in deleted]
    rows += [{**dict.fromkeys(table.FIELDS), "kind": "relu", **added} for added in delta.get("added_rows", [])]
    _set_rows(rows)


def _move(step: int) -> None:
    rows, at = list(st.session_state[_ROWS]), st.session_state[PICK]
    to = at + step
    if 0 <= at < len(rows) and 0 <= to < len(rows):
        rows[at], rows[to] = rows[to], rows[at]
        _set_rows(rows, pick=to)


def _copy() -> None:
    rows, at = list(st.session_state[_ROWS]), st.session_state[PICK]
    if 0 <= at < len(rows):
        _set_rows(rows[: at + 1] + [dict(rows[at])] + rows[at + 1 :], pick=at + 1)


def _remove() -> None:
    rows, at = list(st.session_state[_ROWS]), st.session_state[PICK]
    if 0 <= at < len(rows):
        _set_rows(rows[:at] + rows[at + 1 :], pick=max(0, min(at, len(rows) - 2)))


def _columns() -> dict:
    number = st.column_config.NumberColumn
    low_high = {field: RANGES[field][:2] for field in ("kernel", "stride", "dilation")}
    return {
        "kind": st.column_config.SelectboxColumn(
            _("layer"),
            options=table.KINDS,
            required=True,
            default="relu",
            width=130,  # "average pooling" whole, and room for the fields beside it
            format_func=lambda k: _(KIND_NAMES[k]),
        ),
        "size": number(
            _("size"),
            min_value=1,
            max_value=1024,
            step=1,
            format="%d",
            width="small",
            help=_("a convolution's filters, a dense layer's units, a pooling's window"),
        ),
        **{
            field: number(
                _(label), min_value=low_high[field][0], max_value=low_high[field][1], step=1, format="%d", width="small"
            )
            for field, label in (("kernel", N_("kernel")), ("stride", N_("stride")), ("dilation", N_("dilation")))
        },
        "padding": st.column_config.SelectboxColumn(_("padding"), options=table.PADDINGS, width="small"),
        "p": number(_("dropout p"), min_value=0.0, max_value=0.95, step=0.05, format="%.2f", width="small"),
    }


def stack_editor(text: str) -> None:
    """The stack as a table (a row per layer, fields as columns, rows added at the end or deleted)
    and the buttons that act on one chosen layer."""
    _follow_text(text)
    s = st.session_state
    rows = s[_ROWS]
    frame = pd.DataFrame(rows, columns=table.FIELDS).astype(
        {"size": "Int64", "kernel": "Int64", "stride": "Int64", "dilation": "Int64", "p": "Float64"}
    )
    key = f"design_stack_{s[_VERSION]}"
    with st.container(key="design_stack"):
        st.data_editor(
            frame,
            key=key,
            column_config=_columns(),
            column_order=table.FIELDS,
            num_rows="dynamic",
            hide_index=True,
            placeholder="",
            height=min(38 + 35 * (len(rows) + 1), 600),
            on_change=_edited,
            args=(key,),
            width="stretch",
        )
    st.caption(_("The output layer of 10 units always ends the stack; empty fields take the kind's usual values."))
    if not rows:
        return
    if s.get(PICK, 0) >= len(rows):
        s[PICK] = len(rows) - 1
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom", key="design_tools"):
        st.selectbox(
            _("Layer"),
            range(len(rows)),
            key=PICK,
            format_func=lambda i: f"{i + 1}. {table.row_token(rows[i])}",
            width=200,
        )
        st.button(_("Up"), icon=":material/arrow_upward:", key="design_up", on_click=_move, args=(-1,))
        st.button(_("Down"), icon=":material/arrow_downward:", key="design_down", on_click=_move, args=(1,))
        st.button(_("Copy below"), icon=":material/content_copy:", key="design_copy", on_click=_copy)
        st.button(_("Remove"), icon=":material/delete:", key="design_remove", on_click=_remove)
    layer_fields(rows, s[PICK])


# The fields of each kind of layer, as the chosen layer's form shows them: (field, label, low, high, step).
_FORM_FIELDS = {
    "conv": (
        ("size", N_("filters"), *RANGES["filters"][:2], 1),
        ("kernel", N_("kernel"), *RANGES["kernel"][:2], 1),
        ("stride", N_("stride"), *RANGES["stride"][:2], 1),
        ("padding", N_("padding"), 0, 0, 0),
        ("dilation", N_("dilation"), *RANGES["dilation"][:2], 1),
    ),
    "max": (("size", N_("window"), *RANGES["window"][:2], 1), ("stride", N_("stride"), *RANGES["stride"][:2], 1)),
    "avg": (("size", N_("window"), *RANGES["window"][:2], 1), ("stride", N_("stride"), *RANGES["stride"][:2], 1)),
    "dense": (("size", N_("units"), *RANGES["units"][:2], 1),),
    "drop": (("p", N_("dropout p"), 0.0, 0.95, 0.05),),
}


def _field_changed(at: int, field: str) -> None:
    rows = [dict(row) for row in st.session_state[_ROWS]]
    rows[at][field] = st.session_state[f"design_field_{field}"]
    _set_rows(rows, pick=at)


def layer_fields(rows: list[dict], at: int) -> None:
    """The chosen layer's kind and fields as widgets of their own: large enough for a finger, and
    the same change as a cell of the table."""
    row = rows[at]
    kind = row["kind"] if row["kind"] in table.KINDS else "relu"
    fields = _FORM_FIELDS.get(kind, ())
    values = table.filled({**row, "kind": kind})
    with st.container(horizontal=True, gap="small", key="design_layer_form"):
        st.session_state["design_field_kind"] = kind
        st.selectbox(
            _("Kind of layer {n}").format(n=at + 1),
            table.KINDS,
            key="design_field_kind",
            format_func=lambda k: _(KIND_NAMES[k]),
            on_change=_field_changed,
            args=(at, "kind"),
            width=200,
        )
        for field, label, low, high, step in fields:
            key = f"design_field_{field}"
            st.session_state[key] = values[field]
            if field == "padding":
                st.selectbox(_(label), table.PADDINGS, key=key, on_change=_field_changed, args=(at, field), width=110)
            else:
                st.number_input(
                    _(label), low, high, step=step, key=key, on_change=_field_changed, args=(at, field), width=130
                )
