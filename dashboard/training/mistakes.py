"""The /training page's tabs on a model's mistakes: the confusion matrix (a cell's images, most
confident first) and a gallery of random test images with the model's answers."""

from __future__ import annotations

import streamlit as st

from core.i18n import _
from core.training import confusion as cf
from dashboard.figures import charts, one_digit, palettes
from dashboard.frame import presenter, shared_models
from dashboard.frame.links import BOUND
from dashboard.training import figures as figs
from dashboard.training.shared import pick_record, zoomed


@st.cache_data(max_entries=16, show_spinner=False)  # the spinner's text is the session's: picked_predictions
def cached_predictions(name: str, sha256: str) -> cf.TestPredictions:
    """Keyed by the weights' hash, so a retrained name is recomputed."""
    model, _record = shared_models.load_model(name)
    return cf.predict_test_set(model)


def picked_predictions(key: str) -> tuple[str, cf.TestPredictions] | None:
    """The checkpoint chosen in the picker ``key`` and its answers on the test set; None without one."""
    picked = pick_record(_("Checkpoint"), key=key)
    if picked is None:
        return None
    name, record = picked
    with st.spinner(_("Running the model over the 10,000 test images...")):
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
    confusions = _(", ").join(
        _("{true} read as {predicted} ({count})").format(true=t, predicted=p, count=n) for t, p, n in worst
    )
    st.markdown(
        _(
            "**{name}** answers **{accuracy:.2%}** of the {images:,} test images right; {wrong:,} wrong. "
            "Most common mistakes: {confusions}."
        ).format(
            name=name, accuracy=preds.accuracy, images=len(preds), wrong=cf.mistakes(matrix), confusions=confusions
        )
    )
    if "cm_true" not in st.session_state and worst:
        st.session_state.cm_true, st.session_state.cm_pred = worst[0][0], worst[0][1]
    # on a projector the matrix has the page's width (a column would make its counts too small to read)
    left, right = (st.container(), st.container()) if presenter.is_on() else st.columns([6, 5])
    with left:
        # as large as its column allows (a phone's, a laptop's), at most CONFUSION_PX; the counts fit their cells
        width = charts.width_probe("cm_width") or figs.CONFUSION_PX
        side = min(figs.CONFUSION_PX, int(width / presenter.figure_scale()))
        charts.plotly_chart(
            figs.confusion_figure(matrix, charts.palette("count").scale, side),
            key="cm_chart",
            on_select=cell_clicked,
            selection_mode="points",
            width="content",
            description=figs.confusion_text(name, matrix),
        )
        st.caption(_("Rows: the true digit; columns: the network's answer. Click a cell to see its images."))
    with right:
        c1, c2 = st.columns(2)
        true_d = c1.selectbox(_("True digit"), range(10), key="cm_true", persist_state="page", bind=BOUND)
        pred_d = c2.selectbox(_("Predicted as"), range(10), key="cm_pred", persist_state="page", bind=BOUND)
        idx = cf.cell_indices(preds, true_d, pred_d)
        if true_d == pred_d:
            text = (
                _("**{count}** {true}s correctly recognised as {predicted}, most confident first")
                if len(idx)
                else _("**{count}** {true}s correctly recognised as {predicted}")
            )
        else:
            text = (
                _("**{count}** {true}s misclassified as {predicted}, most confident first")
                if len(idx)
                else _("**{count}** {true}s misclassified as {predicted}")
            )
        st.markdown(text.format(count=len(idx), true=true_d, predicted=pred_d))
        shown = idx[:12]
        if len(shown):
            st.image(
                [zoomed(int(i)) for i in shown],
                width=84,
                output_format="PNG",
                caption=[f"#{i}: {preds.probabilities[i, pred_d]:.0%}" for i in shown],
                alt=[
                    _(
                        "test image #{index}, a handwritten {true} that the network reads as {predicted} "
                        "({probability:.0%})"
                    ).format(index=int(i), true=true_d, predicted=pred_d, probability=preds.probabilities[i, pred_d])
                    for i in shown
                ],
            )
            st.caption(
                _("Under each image: its number in the test set, and the probability given to {predicted}.").format(
                    predicted=pred_d
                )
            )
            options = [int(i) for i in shown]
            if st.session_state.get("cm_pick") not in options:  # another cell: its first image
                st.session_state.cm_pick = options[0]
            labels = {i: _("test image #{index}").format(index=i) for i in options}  # made in this session's language
            pick = st.selectbox(
                _("All ten probabilities of"), options, key="cm_pick", format_func=labels.get, persist_state="page"
            )
            answer = charts.palette("answer")
            charts.plotly_chart(
                figs.answer_bars(preds.probabilities[pick], true_d, answer.colors),
                key="cm_probs",
                description=answer_text(preds.probabilities[pick], true_d),
            )
            right, wrong = answer.names[palettes.ANSWER_RIGHT], answer.names[palettes.ANSWER_WRONG]
            st.caption(
                _("{right}: the true digit ({true}); {wrong}: the network's wrong answer.").format(
                    right=palettes.colour(right).capitalize(), true=true_d, wrong=palettes.colour(wrong)
                )
            )


def answer_text(probabilities, label: int) -> str:
    """What ``figures_training.answer_bars`` shows: the probabilities, and which digit is the true one."""
    return _("{probabilities} The true digit is {label}.").format(
        probabilities=one_digit.probabilities_text(probabilities), label=label
    )


def gallery_tab() -> None:
    picked = picked_predictions("gal_model")
    if picked is None:
        return
    name, preds = picked
    st.session_state.setdefault("gal_seed", 0)
    st.button(
        _("Ten other images"),
        icon=":material/shuffle:",
        key="gal_new",
        on_click=lambda: st.session_state.update(gal_seed=st.session_state.gal_seed + 1),
    )
    idx = cf.random_gallery(10, seed=st.session_state.gal_seed)
    right = cf.right_among(preds, idx)
    cols = st.columns(10)
    names = charts.palette("answer").names
    for col, i in zip(cols, idx):
        label, guess = int(preds.labels[i]), int(preds.predicted[i])
        col.image(
            zoomed(int(i)),
            width="stretch",
            output_format="PNG",
            alt=_("test image #{index}, a handwritten {label} that the network reads as {guess}").format(
                index=int(i), label=label, guess=guess
            ),
        )
        color, icon = (
            (names[palettes.ANSWER_RIGHT], ":material/check:")
            if label == guess
            else (names[palettes.ANSWER_WRONG], ":material/close:")
        )
        col.markdown(
            f":{color}-badge[{icon} **{guess}**] {preds.probabilities[i, guess]:.0%}  \n"
            + _("label {label}").format(label=label)
        )
    st.caption(
        _(
            "{right} of these 10 right (random test images, draw {draw}). Under each image: the network's "
            "answer, {right_colour} when it matches the label, {wrong_colour} when not; its probability; "
            "the label."
        ).format(
            right=right,
            draw=st.session_state.gal_seed,
            right_colour=palettes.colour(names[palettes.ANSWER_RIGHT]),
            wrong_colour=palettes.colour(names[palettes.ANSWER_WRONG]),
        )
    )
