"""/models: every model the pickers offer, in four groups (``core.training.names``): those shipped
with the dashboard, the reproductions of the source write-ups (each with one line on why it
differs from the figure its source reports), those trained here, and the class's fine-tunes.

A reference for the curious and the teacher, linked from Home, which starts the lesson.
"""

import streamlit as st

from core.i18n import N_, _
from core.models import checkpoints
from core.training import names, recipes, runs
from dashboard.frame import guard

# Marked here (import time has no session), shown with _().
GROUP_TEXT = {
    runs.SHIPPED: (
        N_("Shipped with the dashboard"),
        N_("Trained by `make checkpoints` with each model's fast recipe: the ones the other pages start with."),
    ),
    runs.REPRODUCTION: (
        N_("Reproductions of the source write-ups"),
        N_("Each source's own recipe, run here, beside the figure the source reports, and why they differ."),
    ),
    runs.TRAINED_HERE: (
        N_("Trained here"),
        N_("Runs saved from the Training page (or the command line) on this machine."),
    ),
    names.CLASS: (
        N_("The class's fine-tunes"),
        N_("A model that learned the class's handwriting (on the class wall), measured on MNIST's test set."),
    ),
}
EMPTY_TEXT = {
    runs.SHIPPED: N_("None: run `make checkpoints` (or `python -m core train lenet5`)."),
    runs.REPRODUCTION: N_("None: `make checkpoints` trains them, or pick the seed recipe on the Training page."),
    runs.TRAINED_HERE: N_("None yet: a run saved on the Training page appears here."),
    names.CLASS: N_("None yet: the teacher fine-tunes one on the class wall."),
}


def accuracy_text(info: checkpoints.CheckpointInfo) -> str:
    return f"{info.test_accuracy:.2%}" if info.test_accuracy is not None else "-"


def epochs_text(info: checkpoints.CheckpointInfo) -> str:
    """Epochs trained: a whole number, or where a stopped run left its last epoch."""
    done = runs.history_series(info.record)["epochs_done"]
    if info.record.get("stopped") and done:
        return _("{done:.2f} (stopped)").format(done=done[-1])
    return str(info.epochs)


def rows(group: str, infos: list[checkpoints.CheckpointInfo]) -> list[dict]:
    """The group's table: its column names (the rows' keys) and cells in the session's language."""
    shipped = names.shipped_names()
    out = []
    for info in infos:
        named = names.name_of(info, shipped)
        row = {_("model"): named.title, _("checkpoint"): info.name}
        if group == runs.REPRODUCTION:
            reported = info.record.get("reported")
            row.update(
                {
                    _("test accuracy"): _("{accuracy} ({n} ep.)").format(
                        accuracy=accuracy_text(info), n=epochs_text(info)
                    ),
                    _("source reports"): (
                        _("{accuracy:.2%} ({source}, {n} ep.)").format(
                            accuracy=reported["test_accuracy"],
                            source=recipes.source_name(reported["source"]),
                            n=reported["epochs"],
                        )
                        if reported
                        else "-"
                    ),
                    _("how it compares, and why"): runs.reproduction_note(info.record),
                }
            )
        elif group == runs.TRAINED_HERE:
            row.update(
                {
                    _("recipe"): recipes.title(info.record.get("recipe_name", "-")),
                    _("test accuracy"): accuracy_text(info),
                    _("epochs"): epochs_text(info),
                }
            )
        else:  # shipped, the class's: what it is says it all
            row.update({_("what it is"): named.line, _("test accuracy"): accuracy_text(info)})
            if group == runs.SHIPPED:
                row[_("epochs")] = epochs_text(info)
        out.append(row)
    return out


st.title(_("The models"))
st.markdown(
    _(
        "Every model the pickers offer, in four groups. Each picker shows a model by its short name, with its "
        "checkpoint's own name in brackets: the name a link and the command line use."
    )
)

with guard.guarded(_("The checkpoints")):
    found = checkpoints.list_checkpoints()
    if not found:
        st.info(_("No checkpoints yet: run `make checkpoints` (or `python -m core train lenet5`)."))
    shipped = names.shipped_names()
    groups = {group: [] for group in names.GROUPS}
    by_name = {info.name: info for info in found}
    for named in names.names_of(found, shipped):  # in a group, LeNet-5 first, as the pickers list them
        groups[named.group].append(by_name[named.name])
    for group in names.GROUPS if found else ():
        title, text = (_(t) for t in GROUP_TEXT[group])
        with guard.guarded(title):
            st.subheader(title)
            st.caption(text)
            if groups[group]:
                st.table(rows(group, groups[group]), hide_index=True)
            else:
                st.caption(_(EMPTY_TEXT[group]))
