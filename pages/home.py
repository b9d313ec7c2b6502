"""Home: where a lesson starts. What the dashboard teaches and the lesson's steps in order, each
a link to its page; the models the pickers offer are on a page of their own (/models), linked
at the end: a long reference table would push the lesson off a projector's first screen.
"""

import streamlit as st

from core.i18n import N_, _
from core.models import checkpoints
from core.training import names
from dashboard.frame import guard

# The lesson's steps: the page (as app.py names its file), its title, its icon, what a class does
# there. Marked here (import time has no session), shown with _().
LESSON = [
    (
        "../pages/dataset.py",
        N_("Dataset"),
        ":material/grid_view:",
        N_("What the network is given: 28x28 grey images, their labels, their statistics."),
    ),
    (
        "../pages/convolution.py",
        N_("Convolution"),
        ":material/blur_on:",
        N_("One filter sliding over a small grid, step by step, then pooling."),
    ),
    (
        "../pages/architecture.py",
        N_("Architecture"),
        ":material/account_tree:",
        N_("How layers stack into LeNet-5 and its cousins, and where every parameter goes."),
    ),
    (
        "../pages/draw.py",
        N_("Draw a digit"),
        ":material/draw:",
        N_(
            "Each student draws a digit (a phone works) and sees what the network sees, what it predicts and why; "
            "then sends it to the class."
        ),
    ),
    (
        "../pages/class.py",
        N_("Class wall"),
        ":material/groups:",
        N_(
            "The class's digits on the projector, with what the network made of each: fool the network, our class "
            "against MNIST."
        ),
    ),
    (
        "../pages/training.py",
        N_("Training"),
        ":material/monitoring:",
        N_(
            "Train a network from the browser and watch it learn; then, on the class wall, it learns the class's "
            "handwriting."
        ),
    ),
    (
        "../pages/design.py",
        N_("Design a network"),
        ":material/construction:",
        N_("Change a layer and see every number change; train the design in seconds and set it beside the presets."),
    ),
]
MODELS_PAGE = "../pages/models.py"
KEPT = ("lang", "presenter")  # what a link to the next page carries over


def carried() -> dict[str, str]:
    """The link's language and presenter mode, for the lesson's links."""
    return {key: st.query_params[key] for key in KEPT if key in st.query_params}


st.title(_("How a convolutional network reads a digit"))
st.markdown(
    _(
        "This dashboard takes a real network apart on MNIST, the 70,000 handwritten digits that LeNet-5 was "
        "built for in 1998."
    )
)

st.header(_("The lesson, in order"))
with st.container(key="lesson"):
    for number, (page, title, icon, what) in enumerate(LESSON, 1):
        with st.container(gap="xxsmall"):
            st.page_link(
                page,
                label=_("{number}. {page}").format(number=number, page=_(title)),
                icon=icon,
                query_params=carried(),
            )
            st.caption(_(what))

st.header(_("The models"))
with guard.guarded(_("The models")):
    found = names.names_of(checkpoints.list_checkpoints())
    counts = {group: sum(m.group == group for m in found) for group in names.GROUPS}
    if found:
        st.markdown(
            _(
                "Each page's model picker offers {n} models: {shipped} shipped with the dashboard, "
                "{reproductions} reproductions of the sources, {here} trained here, {class_} of the "
                "class's."
            ).format(
                n=len(found),
                shipped=counts[names.runs.SHIPPED],
                reproductions=counts[names.runs.REPRODUCTION],
                here=counts[names.runs.TRAINED_HERE],
                class_=counts[names.CLASS],
            )
        )
    else:
        st.info(_("No checkpoints yet: run `make checkpoints` (or `python -m core train lenet5`)."))
    st.page_link(
        MODELS_PAGE,
        label=_("Every model, and how the reproductions compare with their sources"),
        icon=":material/table_view:",
        query_params=carried(),
    )
