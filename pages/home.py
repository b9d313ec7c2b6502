"""Home: what the dashboard teaches, in what order, and which checkpoints are present.

The checkpoints come in three groups (``core.runs.group_checkpoints``): those shipped with
the dashboard, the reproductions of the source write-ups (each with one line on why it differs
from the figure its source reports), and those trained here.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # when run on its own (AppTest); app.py does this otherwise
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core import checkpoints  # noqa: E402
from core import runs  # noqa: E402
from core.i18n import N_, _  # noqa: E402
from dashboard import ui  # noqa: E402

# Marked here (import time has no session), shown with _().
GROUP_TEXT = {
    runs.SHIPPED: (N_("Shipped with the dashboard"),
                   N_("Trained by `make checkpoints` with each model's fast recipe: the ones the other pages start "
                      "with.")),
    runs.REPRODUCTION: (N_("Reproductions of the source write-ups"),
                        N_("Each source's own recipe, run here, beside the figure the source reports, and why they "
                           "differ.")),
    runs.TRAINED_HERE: (N_("Trained here"),
                        N_("Runs saved from the Training page (or the command line) on this machine.")),
}
EMPTY_TEXT = {
    runs.SHIPPED: N_("None: run `make checkpoints` (or `python -m core train lenet5`)."),
    runs.REPRODUCTION: N_("None: `make checkpoints` trains them, or pick the seed recipe on the Training page."),
    runs.TRAINED_HERE: N_("None yet: a run saved on the Training page appears here."),
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
    if group == runs.REPRODUCTION:
        out = []
        for info in infos:
            reported = info.record.get("reported")
            out.append({_("checkpoint"): info.name,
                        _("test accuracy"): _("{accuracy} ({n} ep.)").format(accuracy=accuracy_text(info),
                                                                            n=epochs_text(info)),
                        _("source reports"): (_("{accuracy:.2%} ({source}, {n} ep.)").format(
                            accuracy=reported["test_accuracy"], source=reported["source"], n=reported["epochs"])
                            if reported else "-"),
                        _("how it compares, and why"): runs.reproduction_note(info.record)})
        return out
    extra = (lambda info: {_("recipe"): info.record.get("recipe_name", "-")}) if group == runs.TRAINED_HERE else (
        lambda info: {})
    return [{_("checkpoint"): info.name, _("model"): info.preset, _("test accuracy"): accuracy_text(info),
             _("epochs"): epochs_text(info), **extra(info)} for info in infos]


st.title(_("How a convolutional network reads a digit"))
st.markdown("\n" + _(
    """This dashboard takes a real network apart on MNIST, the 70,000 handwritten digits that
LeNet-5 was built for in 1998. Walk through it in this order:

1. **Dataset**: what the network is given: 28x28 grey images, their labels, their statistics.
2. **Convolution**: one filter sliding over a small grid, step by step, then pooling.
3. **Architecture**: how layers stack into LeNet-5 and its cousins, and where every parameter goes.
4. **Draw a digit**: your own digit through the network: what it sees, what it predicts, and why.
5. **Training**: train a network from the browser and watch it learn.""") + "\n")

with ui.guarded(_("The checkpoints")):
    found = checkpoints.list_checkpoints()
    if not found:
        st.info(_("No checkpoints yet: run `make checkpoints` (or `python -m core train lenet5`)."))
    groups = runs.group_checkpoints(found)
    for group in runs.GROUPS if found else ():
        title, text = (_(t) for t in GROUP_TEXT[group])
        with ui.guarded(title):
            st.subheader(title)
            st.caption(text)
            if groups[group]:
                st.table(rows(group, groups[group]))
            else:
                st.caption(_(EMPTY_TEXT[group]))
