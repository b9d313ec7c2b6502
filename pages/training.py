"""/training: train from the browser with live curves; compare runs; look at a model's mistakes.

A table of contents: each tab is drawn by a module of its own, only the open one.

- Train a model: dashboard.training.run (the start form, the live panel of the server's run;
  core.training.jobs.runner runs it in a background thread owned by the server process).
- Compare runs: dashboard.training.compare (core.training.runs).
- Confusion matrix, Gallery: dashboard.training.mistakes (core.training.confusion).
- Training scrubber: dashboard.training.scrubber (core.training.snapshots).

The open tab and the checkpoint pickers live in the URL (``bind="query-params"``, the key is
the parameter's name), e.g. ``/training?training_tab=Confusion+matrix&cm_model=lenet5&cm_true=4&cm_pred=9``:
``training_tab cmp_names cmp_metric cm_model cm_true cm_pred gal_model scrub_model scrub_index
scrub_epoch``. The start form is not bound: choosing a model there fills the form from its recipe.
"""

import streamlit as st

from core.i18n import N_, _
from dashboard.frame import guard, language
from dashboard.training.compare import compare_tab
from dashboard.training.mistakes import confusion_tab, gallery_tab
from dashboard.training.run import train_tab
from dashboard.training.scrubber import scrubber_tab

TABS = {
    N_("Train a model"): train_tab,
    N_("Compare runs"): compare_tab,
    N_("Confusion matrix"): confusion_tab,
    N_("Gallery"): gallery_tab,
    N_("Training scrubber"): scrubber_tab,
}

st.title(_("Training"))
st.markdown(
    _(
        "Train a network here and watch it learn; then compare runs and look at the mistakes it makes. "
        "One run at a time per server: everyone in the room sees the same run."
    )
)
for key in ("cm_model", "gal_model"):  # the shared picker has no persist_state: keep its choice across tabs
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
tabs = language.tabs(list(TABS), key="training_tab", on_change="rerun")
for tab, (title, draw) in zip(tabs, TABS.items()):
    if tab.open is not False:  # None when tabs do not track state: draw them all
        with tab, guard.guarded(_(title)):
            draw()
