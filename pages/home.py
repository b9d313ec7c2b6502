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
from dashboard import ui  # noqa: E402

GROUP_TEXT = {
    runs.SHIPPED: ("Shipped with the dashboard",
                 "Trained by `make checkpoints` with each model's fast recipe: the ones the other pages start with."),
    runs.REPRODUCTION: ("Reproductions of the source write-ups",
                      "Each source's own recipe, run here, beside the figure the source reports, and why they differ."),
    runs.TRAINED_HERE: ("Trained here",
                      "Runs saved from the Training page (or the command line) on this machine."),
}
EMPTY_TEXT = {
    runs.SHIPPED: "None: run `make checkpoints` (or `python -m core train lenet5`).",
    runs.REPRODUCTION: "None: `make checkpoints` trains them, or pick the seed recipe on the Training page.",
    runs.TRAINED_HERE: "None yet: a run saved on the Training page appears here.",
}


def accuracy_text(info: checkpoints.CheckpointInfo) -> str:
    return f"{info.test_accuracy:.2%}" if info.test_accuracy is not None else "-"


def epochs_text(info: checkpoints.CheckpointInfo) -> str:
    """Epochs trained: a whole number, or where a stopped run left its last epoch."""
    done = runs.history_series(info.record)["epochs_done"]
    if info.record.get("stopped") and done:
        return f"{done[-1]:.2f} (stopped)"
    return str(info.epochs)


def rows(group: str, infos: list[checkpoints.CheckpointInfo]) -> list[dict]:
    if group == runs.REPRODUCTION:
        out = []
        for info in infos:
            reported = info.record.get("reported")
            out.append({"checkpoint": info.name, "test accuracy": f"{accuracy_text(info)} ({epochs_text(info)} ep.)",
                        "source reports": (f"{reported['test_accuracy']:.2%} ({reported['source']}, "
                                           f"{reported['epochs']} ep.)" if reported else "-"),
                        "how it compares, and why": runs.reproduction_note(info.record)})
        return out
    extra = (lambda info: {"recipe": info.record.get("recipe_name", "-")}) if group == runs.TRAINED_HERE else (
        lambda info: {})
    return [{"checkpoint": info.name, "model": info.preset, "test accuracy": accuracy_text(info),
             "epochs": epochs_text(info), **extra(info)} for info in infos]


st.title("How a convolutional network reads a digit")
st.markdown(
    """
This dashboard takes a real network apart on MNIST, the 70,000 handwritten digits that
LeNet-5 was built for in 1998. Walk through it in this order:

1. **Dataset**: what the network is given: 28x28 grey images, their labels, their statistics.
2. **Convolution**: one filter sliding over a small grid, step by step, then pooling.
3. **Architecture**: how layers stack into LeNet-5 and its cousins, and where every parameter goes.
4. **Draw a digit**: your own digit through the network: what it sees, what it predicts, and why.
5. **Training**: train a network from the browser and watch it learn.
"""
)

with ui.guarded("The checkpoints"):
    found = checkpoints.list_checkpoints()
    if not found:
        st.info("No checkpoints yet: run `make checkpoints` (or `python -m core train lenet5`).")
    groups = runs.group_checkpoints(found)
    for group in runs.GROUPS if found else ():
        title, text = GROUP_TEXT[group]
        with ui.guarded(title):
            st.subheader(title)
            st.caption(text)
            if groups[group]:
                st.table(rows(group, groups[group]))
            else:
                st.caption(EMPTY_TEXT[group])
