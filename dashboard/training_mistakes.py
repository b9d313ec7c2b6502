"""The /training page's tabs on a model's mistakes: the confusion matrix (a cell's images, most
confident first) and a gallery of random test images with the model's answers."""

from __future__ import annotations

import streamlit as st

from core import confusion as cf
from dashboard import figures_training as figs
from dashboard import palettes, ui
from dashboard.links import BOUND
from dashboard.training_shared import pick_record, zoomed


@st.cache_data(max_entries=16, show_spinner="Running the model over the 10,000 test images...")
def cached_predictions(name: str, sha256: str) -> cf.TestPredictions:
    """Keyed by the weights' hash, so a retrained name is recomputed."""
    model, _ = ui.load_model(name)
    return cf.predict_test_set(model)


def picked_predictions(key: str) -> tuple[str, cf.TestPredictions] | None:
    """The checkpoint chosen in the picker ``key`` and its answers on the test set; None without one."""
    picked = pick_record("Checkpoint", key=key)
    if picked is None:
        return None
    name, record = picked
    return name, cached_predictions(name, record["sha256"])


def cell_clicked() -> None:
    points = st.session_state.cm_chart.selection.get("points") or []
    if points:
        st.session_state.cm_true, st.session_state.cm_pred = int(points[0]["y"]), int(points[0]["x"])


def confusion_tab() -> None:
    picked = picked_predictions("cm_model")
    if picked is None:
        return
    name, preds = picked
    matrix = cf.confusion_matrix(preds.labels, preds.predicted)
    worst = cf.worst_confusions(matrix, 3)
    st.markdown(f"**{name}** answers **{preds.accuracy:.2%}** of the {len(preds):,} test images right; "
                f"{cf.mistakes(matrix):,} wrong. Most common mistakes: "
                + ", ".join(f"{t} read as {p} ({n})" for t, p, n in worst) + ".")
    if "cm_true" not in st.session_state and worst:
        st.session_state.cm_true, st.session_state.cm_pred = worst[0][0], worst[0][1]
    left, right = st.columns([5, 6])
    with left:
        ui.plotly_chart(figs.confusion_figure(matrix, ui.palette("count").scale), key="cm_chart", on_select=cell_clicked,
                        selection_mode="points", width="content")
        st.caption("Rows: the true digit; columns: the network's answer. Click a cell to see its images.")
    with right:
        c1, c2 = st.columns(2)
        true_d = c1.selectbox("True digit", range(10), key="cm_true", persist_state="page", bind=BOUND)
        pred_d = c2.selectbox("Predicted as", range(10), key="cm_pred", persist_state="page", bind=BOUND)
        idx = cf.cell_indices(preds, true_d, pred_d)
        kind = "correctly recognised" if true_d == pred_d else "misclassified"
        st.markdown(f"**{len(idx)}** {true_d}s {kind} as {pred_d}" + (", most confident first" if len(idx) else ""))
        shown = idx[:12]
        if len(shown):
            st.image([zoomed(int(i)) for i in shown], width=84, output_format="PNG",
                     caption=[f"#{i}: {preds.probabilities[i, pred_d]:.0%}" for i in shown])
            st.caption(f"Under each image: its number in the test set, and the probability given to {pred_d}.")
            options = [int(i) for i in shown]
            if st.session_state.get("cm_pick") not in options:  # another cell: its first image
                st.session_state.cm_pick = options[0]
            pick = st.selectbox("All ten probabilities of", options, key="cm_pick",
                                format_func=lambda i: f"test image #{i}", persist_state="page")
            answer = ui.palette("answer")
            ui.plotly_chart(figs.answer_bars(preds.probabilities[pick], true_d, answer.colors), key="cm_probs")
            right, wrong = answer.names[palettes.ANSWER_RIGHT], answer.names[palettes.ANSWER_WRONG]
            st.caption(f"{right.capitalize()}: the true digit ({true_d}); {wrong}: the network's wrong answer.")


def gallery_tab() -> None:
    picked = picked_predictions("gal_model")
    if picked is None:
        return
    name, preds = picked
    st.session_state.setdefault("gal_seed", 0)
    st.button("Ten other images", icon=":material/shuffle:", key="gal_new",
              on_click=lambda: st.session_state.update(gal_seed=st.session_state.gal_seed + 1))
    idx = cf.random_gallery(10, seed=st.session_state.gal_seed)
    right = cf.right_among(preds, idx)
    cols = st.columns(10)
    names = ui.palette("answer").names
    for col, i in zip(cols, idx):
        label, guess = int(preds.labels[i]), int(preds.predicted[i])
        col.image(zoomed(int(i)), width="stretch", output_format="PNG")
        color, icon = ((names[palettes.ANSWER_RIGHT], ":material/check:") if label == guess else
                       (names[palettes.ANSWER_WRONG], ":material/close:"))
        col.markdown(f":{color}-badge[{icon} **{guess}**] {preds.probabilities[i, guess]:.0%}  \nlabel {label}")
    st.caption(f"{right} of these 10 right (random test images, draw {st.session_state.gal_seed}). Under each "
               f"image: the network's answer, {names[palettes.ANSWER_RIGHT]} when it matches the label, "
               f"{names[palettes.ANSWER_WRONG]} when not; its probability; "
               "the label.")
