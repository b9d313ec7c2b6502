"""/training: train from the browser with live curves; compare runs; look at a model's mistakes.

Thin: widgets -> core.jobs (the run, a background thread owned by the server process) and
core.evaluation (confusion matrix, gallery, per-epoch snapshots) -> plotly. The live panel is
an ``st.fragment`` that polls the job every second while it runs; only the open tab is drawn.

The open tab and the checkpoint pickers live in the URL (``bind="query-params"``, the key is
the parameter's name), e.g. ``/training?training_tab=Confusion+matrix&cm_model=lenet5&cm_true=4&cm_pred=9``:
``training_tab cmp_names cmp_metric cm_model cm_true cm_pred gal_model scrub_model scrub_index
scrub_epoch``. The start form is not bound: choosing a model there fills the form from its recipe.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run standalone (AppTest) as well as through dashboard/app.py
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from core import checkpoints, jobs, models, recipes  # noqa: E402
from core import evaluation as ev  # noqa: E402
from core.data import load_test  # noqa: E402
from core.dataset_views import upscale_nearest  # noqa: E402
from dashboard import roles, ui  # noqa: E402
from dashboard import figures_training as figs  # noqa: E402
from dashboard import palettes, plots  # noqa: E402
from dashboard.links import BOUND  # noqa: E402

POLL_SECONDS = 1.0
TABS = ["Train a model", "Compare runs", "Confusion matrix", "Gallery", "Training scrubber"]


# --- cached computations (keyed by the weights' hash, so a retrained name is recomputed) --------

@st.cache_data(max_entries=16, show_spinner="Running the model over the 10,000 test images...")
def cached_predictions(name: str, sha256: str) -> ev.TestPredictions:
    model, _ = ui.load_model(name)
    return ev.predict_test_set(model)


@st.cache_resource(max_entries=4, show_spinner="Loading the per-epoch snapshots...")
def cached_snapshots(name: str, sha256: str) -> dict[str, dict]:
    return checkpoints.load_snapshots(name)  # read-only: model_at_epoch copies the weights


@st.cache_data(max_entries=256, show_spinner=False)
def cached_scrub(name: str, sha256: str, preset: str, epoch: int, index: int) -> ev.FirstLayer:
    model = ev.model_at_epoch(preset, cached_snapshots(name, sha256), epoch)
    return ev.first_layer_maps(model, load_test().images[index])


@st.cache_data(max_entries=16, show_spinner="Finding a digit the network learned late...")
def cached_learned_late(name: str, sha256: str, preset: str) -> int:
    return ev.learned_late(preset, cached_snapshots(name, sha256))


def zoomed(index: int, factor: int = 3) -> np.ndarray:
    return upscale_nearest(load_test().images[index].numpy(), factor)


def last_run_name() -> str | None:
    """The checkpoint the server's last run saved, if it is in the checkpoint folder."""
    job = jobs.manager().current()
    snap = job.snapshot() if job is not None else None
    return snap.name if snap is not None and snap.saved and snap.name in ui.checkpoint_names() else None


def pick_record(label: str, *, key: str) -> tuple[str, dict] | None:
    """The shared checkpoint picker (first showing the last run's checkpoint, else lenet5) and its record."""
    name = ui.checkpoint_picker(label, key=key, default=last_run_name() or "lenet5", bind=BOUND)
    if name is None:
        return None
    try:
        return name, checkpoints.read_info(name).record
    except checkpoints.CheckpointError as exc:
        st.error(str(exc))
        return None


# --- tab 1: start a run, watch it -------------------------------------------------------------

def load_recipe_defaults() -> None:
    """Fill the form from the chosen preset's recipe (on first view and when preset/recipe change)."""
    preset, kind = st.session_state.tr_preset, st.session_state.tr_recipe
    recipe = recipes.get_recipe(preset, kind)
    st.session_state.update(tr_epochs=recipe.epochs, tr_batch=recipe.batch_size, tr_optimizer=recipe.optimizer,
                            tr_lr=f"{recipe.lr:g}", tr_limit=recipe.limit or 60_000, tr_seed=recipe.seed,
                            tr_snapshots=preset == "lenet5")
    if st.session_state.get("tr_name", "").startswith("my_") or "tr_name" not in st.session_state:
        st.session_state.tr_name = f"my_{preset}" + ("" if kind == "fast" else f"_{kind}")


def parse_lr(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise jobs.JobInputError(f"learning rate must be a number such as 0.001 or 1e-3, got {text!r}") from None


def start_form() -> None:
    if "tr_preset" not in st.session_state:
        st.session_state.update(tr_preset="lenet5", tr_recipe="fast")
        load_recipe_defaults()
    c1, c2 = st.columns([3, 1])
    c1.selectbox("Model", models.names(), key="tr_preset", on_change=load_recipe_defaults,
                 format_func=lambda n: f"{n}: {models.get(n).title}", persist_state="page")
    c2.segmented_control("Recipe", ["fast", "seed"], key="tr_recipe", required=True, persist_state="page",
                         on_change=load_recipe_defaults,
                         help="seed: the source write-up's settings; fast: the quickest way to 99%")
    note = recipes.get_recipe(st.session_state.tr_preset, st.session_state.tr_recipe).note
    if note:
        st.caption(note)
    with ui.secondary("Settings of the run"):
        c = st.columns(6)
        c[0].number_input("Epochs", 0, 500, key="tr_epochs", persist_state="page")
        c[1].number_input("Batch size", 0, 60_000, key="tr_batch", persist_state="page")
        c[2].selectbox("Optimiser", recipes.OPTIMIZERS, key="tr_optimizer", persist_state="page")
        c[3].text_input("Learning rate", key="tr_lr", help="e.g. 1e-3 for Adam, 0.1 for SGD", persist_state="page")
        c[4].number_input("Training images", 0, 60_000, step=1000, key="tr_limit",
                          help="a seeded random subset; 60,000 = all of them", persist_state="page")
        c[5].number_input("Seed", 0, 2**31 - 1, key="tr_seed", persist_state="page")
        c1, c2 = st.columns([3, 2])
        name = c1.text_input("Save as (checkpoint name)", key="tr_name", persist_state="page")
        c2.checkbox("Keep a snapshot after every epoch", key="tr_snapshots", persist_state="page",
                    help="for the Training scrubber tab; small for LeNet, large for the wide models")
    taken = None
    try:
        checkpoints.validate_name(name)
        taken = jobs.name_taken(name)
    except checkpoints.CheckpointError as exc:
        st.error(str(exc), icon=":material/error:")
    if taken:
        st.warning(f"**{name}** is {taken}: starting replaces it when the run finishes.", icon=":material/warning:")
        st.checkbox(f"Yes, replace {name}", key=f"tr_overwrite:{name}")  # per name: a tick is for that name
    teacher = roles.is_teacher()
    if st.button("Start training", type="primary", icon=":material/play_arrow:", key="tr_start",
                 disabled=not teacher):
        start_run(bool(taken) and st.session_state.get(f"tr_overwrite:{name}", False))
    if not teacher:
        st.caption(roles.only_teacher("start or stop the server's training run"))


def start_run(overwrite: bool) -> None:
    if not roles.is_teacher():  # checked where it acts: a crafted request from a student does nothing
        st.warning(roles.only_teacher("start the server's training run"), icon=":material/lock:")
        return
    s = st.session_state
    try:
        overrides = dict(epochs=int(s.tr_epochs), batch_size=int(s.tr_batch), optimizer=s.tr_optimizer,
                         lr=parse_lr(s.tr_lr), seed=int(s.tr_seed),
                         limit=None if int(s.tr_limit) == 60_000 else int(s.tr_limit))
        spec = jobs.prepare(s.tr_preset, s.tr_recipe, name=s.tr_name.strip(), overrides=overrides,
                            overwrite=overwrite, keep_snapshots=s.tr_snapshots)
        jobs.manager().start(spec)
    except jobs.JobInputError as exc:
        st.error(f"Not started: {exc}", icon=":material/error:")
    except jobs.JobBusy as exc:
        st.warning(f"Not started: {exc}. Its progress is below.", icon=":material/hourglass_top:")


def stop_run(job: jobs.Job) -> None:
    """Stop the run: the teacher only, checked here, on the server."""
    if roles.is_teacher():
        job.stop()
    else:
        st.session_state["tr_denied"] = roles.only_teacher("stop the server's training run")


def live_panel(polling: bool) -> None:
    job = jobs.manager().current()
    if job is None:
        st.caption("No run on this server yet: the one you start appears here, for everyone.")
        return
    snap = job.snapshot()
    r = snap.recipe
    st.subheader(f"Run {snap.id}: {snap.name}")
    st.caption(f"{snap.preset}, {snap.recipe_name} recipe: {r['optimizer']} lr {r['lr']:g}, batch {r['batch_size']}, "
               f"{r['epochs']} epoch(s) on {r['limit'] or 60_000:,} images; {snap.elapsed:.0f} s so far"
               if snap.running else
               f"{snap.preset}, {snap.recipe_name} recipe: {r['optimizer']} lr {r['lr']:g}, "
               f"batch {r['batch_size']}, {r['limit'] or 60_000:,} images; took {snap.elapsed:.0f} s")
    if snap.running:
        if snap.status == jobs.SAVING:
            text = "Saving the checkpoint..."
        elif snap.steps == 0:
            text = "Loading the data and building the model..."
        else:
            text = (f"Epoch {snap.epoch}/{snap.epochs}, batch {snap.step}/{snap.steps}, "
                    f"{snap.images_per_second:,.0f} images/s")
        if snap.stop_requested:
            text += " (stopping after this batch)"
        st.progress(snap.fraction, text=text)
        m = st.columns([1, 1, 1, 1])
        m[0].metric("Train loss", f"{snap.loss:.4f}" if snap.loss is not None else "-")
        m[1].metric("Train accuracy", f"{snap.accuracy:.2%}" if snap.accuracy is not None else "-")
        m[2].metric("Test accuracy (last epoch)", f"{snap.history[-1]['test_accuracy']:.2%}" if snap.history else "-")
        m[3].button("Stop", icon=":material/stop_circle:", on_click=stop_run, args=(job,), key="tr_stop",
                    disabled=snap.stop_requested or not roles.is_teacher(),
                    help="ends the run after the current batch; what it learned is saved")
        denied = st.session_state.pop("tr_denied", None)
        if denied or not roles.is_teacher():
            st.caption(denied or roles.only_teacher("stop the server's training run"))
    elif snap.status == jobs.FINISHED:
        st.success(f"Saved: {snap.message}. It is now in every page's model picker.", icon=":material/check_circle:")
    elif snap.status == jobs.STOPPED:
        st.warning(f"Stopped: {snap.message}", icon=":material/stop_circle:")
    else:
        st.error(snap.message, icon=":material/error:")
    if snap.curve or snap.history:
        ui.plotly_chart(figs.live_figure(snap), key="tr_live_chart")
    if polling and not snap.running:
        st.rerun()  # the whole page: stop polling, list the new checkpoint everywhere


def train_tab() -> None:
    start_form()
    job = jobs.manager().current()
    polling = job is not None and job.running

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def live() -> None:
        with ui.guarded("The run's progress"):  # a fragment's rerun is not inside the tab's guard
            live_panel(polling)

    live()


# --- tab 2: compare runs ------------------------------------------------------------------------

def compare_tab() -> None:
    infos = checkpoints.list_checkpoints()
    if not infos:
        st.info("No checkpoints yet: train one in the first tab, or run `make checkpoints`.")
        return
    records = {i.name: i.record for i in infos}
    groups = ev.group_checkpoints(infos)
    names = list(records)
    if "cmp_names" in st.session_state:  # a checkpoint may have been deleted since
        st.session_state.cmp_names = [n for n in st.session_state.cmp_names if n in names]
    else:
        preferred = [n for n in ("cnn_avgpool_seed", "cnn_avgpool_bn_seed") if n in names]
        st.session_state.cmp_names = preferred or names[:2]
    c1, c2, c3 = st.columns([5, 2, 2], vertical_alignment="bottom")
    chosen = c1.multiselect("Checkpoints", names, key="cmp_names", persist_state="page", bind=BOUND)
    metric = c2.segmented_control("Curve", ["accuracy", "loss"], default="accuracy", required=True,
                                  key="cmp_metric", persist_state="page", bind=BOUND)
    show_train = c3.toggle("Train curves", value=True, key="cmp_train",
                           help="dashed; a train curve far above the test curve is overfitting", persist_state="page")
    if chosen:
        ui.plotly_chart(figs.compare_figure({n: records[n] for n in chosen}, metric, show_train),
                        key="cmp_chart")
        for name in chosen:  # a reproduction far from its source's figure says why, beside the figure
            if ev.is_reproduction(records[name]):
                st.caption(f"**{name}** (reproduction): {ev.reproduction_note(records[name])}")
    st.markdown("**Every checkpoint**, beside the figure its source reports where there is one")
    runs_table(groups)


def column_px(width: int) -> int:
    """A table column's width: wider in presenter mode, whose type is larger."""
    return round(width * ui.figure_scale())


def runs_table(groups: dict[str, list[checkpoints.CheckpointInfo]]) -> None:
    """Every checkpoint, group by group: its accuracy beside its source's, then how it was trained."""
    table = []
    for group in ev.GROUPS:
        for info in groups[group]:
            row = ev.run_row(info.name, info.record)
            table.append({
                "checkpoint": info.name, "group": group,
                "test accuracy": row["test_accuracy"] * 100 if row["test_accuracy"] is not None else None,
                "reported": f"{row['reported_accuracy']:.2%}" if row["reported_accuracy"] is not None else "",
                "difference": f"{row['difference'] * 100:+.2f} pts" if "difference" in row else "",
                "by": f"{row['source']}, {row['reported_epochs']} ep." if row["source"] else "",
                "epochs": row["epochs"], "recipe": row["recipe"],
                "optimiser": f"{row['optimizer']} lr {row['lr']:g}, batch {row['batch']}" if row["lr"] is not None
                else "", "model": row["model"], "train s": row["seconds"]})
    column, px = st.column_config, column_px
    st.dataframe(table, hide_index=True, key="cmp_table", height="content", column_config={
        "checkpoint": column.TextColumn(pinned=True, width=px(165)),
        "group": column.TextColumn(width=px(95)),
        "test accuracy": column.NumberColumn(format="%.2f%%", width=px(95)),
        "reported": column.TextColumn(width=px(80), alignment="right",
                                      help="the test accuracy the source write-up reports"),
        "difference": column.TextColumn(width=px(95), alignment="right",
                                        help="our test accuracy less the source's, in percentage points"),
        "by": column.TextColumn(width=px(120), help="the source write-up, and the epochs it trained for"),
        "epochs": column.NumberColumn(width=px(60)),
        "recipe": column.TextColumn(width=px(60)),
        "train s": column.NumberColumn(format="%.0f", width=px(65), help="seconds of training")})


# --- tab 3: confusion matrix ----------------------------------------------------------------------

def cell_clicked() -> None:
    points = st.session_state.cm_chart.selection.get("points") or []
    if points:
        st.session_state.cm_true, st.session_state.cm_pred = int(points[0]["y"]), int(points[0]["x"])


def confusion_tab() -> None:
    picked = pick_record("Checkpoint", key="cm_model")
    if picked is None:
        return
    name, record = picked
    preds = cached_predictions(name, record["sha256"])
    matrix = ev.confusion_matrix(preds.labels, preds.predicted)
    worst = ev.worst_confusions(matrix, 3)
    st.markdown(f"**{name}** answers **{preds.accuracy:.2%}** of the {len(preds):,} test images right; "
                f"{ev.mistakes(matrix):,} wrong. Most common mistakes: "
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
        idx = ev.cell_indices(preds, true_d, pred_d)
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
            ui.plotly_chart(figs.answer_bars(preds.probabilities[pick], true_d, answer.colors), key="cm_probs",
                           )
            right, wrong = answer.names[palettes.ANSWER_RIGHT], answer.names[palettes.ANSWER_WRONG]
            st.caption(f"{right.capitalize()}: the true digit ({true_d}); {wrong}: the network's wrong answer.")


# --- tab 4: gallery -------------------------------------------------------------------------

def gallery_tab() -> None:
    picked = pick_record("Checkpoint", key="gal_model")
    if picked is None:
        return
    name, record = picked
    preds = cached_predictions(name, record["sha256"])
    st.session_state.setdefault("gal_seed", 0)
    st.button("Ten other images", icon=":material/shuffle:", key="gal_new",
              on_click=lambda: st.session_state.update(gal_seed=st.session_state.gal_seed + 1))
    idx = ev.random_gallery(10, seed=st.session_state.gal_seed)
    right = ev.right_among(preds, idx)
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


# --- tab 5: training scrubber ------------------------------------------------------------------

def follow_checkpoint(name: str, late: int, last_epoch: int) -> None:
    """Point the scrubber at ``name``'s own "learned late" digit after its last epoch, once each
    time the checkpoint changes; on the scrubber's first draw keep what the link (or the session)
    already asked for."""
    s = st.session_state
    followed = s.get("_scrub_followed")
    if followed == name:
        return
    for key, value in (("scrub_index", late), ("scrub_epoch", last_epoch)):
        if followed is not None or (key not in s and key not in st.query_params):
            s[key] = value
    s._scrub_followed = name


def scrubber_tab() -> None:
    with_snaps = [i for i in checkpoints.list_checkpoints() if i.record.get("snapshots_sha256")]
    if not with_snaps:
        st.info("No checkpoint has per-epoch snapshots yet: `make checkpoints` ships lenet5's, or tick "
                "'Keep a snapshot after every epoch' when training.")
        return
    names = [i.name for i in with_snaps]
    c1, c2, c3 = st.columns([4, 2, 2], vertical_alignment="bottom")
    default = next((n for n in (last_run_name(), "lenet5") if n in names), names[0])
    name = c1.selectbox("Checkpoint with snapshots", names, key="scrub_model", index=names.index(default),
                        persist_state="page", bind=BOUND)
    record = next(i.record for i in with_snaps if i.name == name)
    if not models.get(record["preset"]).is_cnn:
        st.info(f"{name} is an MLP: it has no feature maps to show.")
        return
    late = cached_learned_late(name, record["snapshots_sha256"], record["preset"])
    snaps = cached_snapshots(name, record["snapshots_sha256"])
    epochs = ev.snapshot_epochs(snaps)
    follow_checkpoint(name, late, epochs[-1])
    c3.button("A digit it learned late", key="scrub_late", icon=":material/school:",
              on_click=lambda: st.session_state.update(scrub_index=late),
              help="of the first 1,000 test images, the one whose right answer gained most "
                   "from the first epoch to the last")
    index = c2.number_input("Test image #", 0, 9_999, key="scrub_index", persist_state="page", bind=BOUND)
    if st.session_state.get("scrub_epoch", epochs[-1]) not in epochs:  # retrained with fewer epochs: its end
        st.session_state.scrub_epoch = epochs[-1]
    epoch = (st.select_slider("After epoch", epochs, key="scrub_epoch", persist_state="page", bind=BOUND)
             if len(epochs) > 1 else epochs[0])
    label = int(load_test().labels[index])
    first = cached_scrub(name, record["snapshots_sha256"], record["preset"], epoch, int(index))
    history = {h["epoch"]: h for h in record.get("history", [])}
    c1, c2, c3 = st.columns([1, 3, 3])
    c1.image(zoomed(int(index), 4), caption=f"label {label}", output_format="PNG")
    with c2:
        entry = history.get(epoch, {})
        acc, fraction = entry.get("test_accuracy"), entry.get("epoch_fraction", 1.0)
        stopped = f", stopped {fraction:.0%} of the way through," if fraction < 1 else ""
        st.markdown(f"After epoch **{epoch}**{stopped}" + (f" (test accuracy {acc:.2%})" if acc is not None else ""))
        ui.plotly_chart(figs.answer_bars(first.probabilities, label, ui.palette("answer").colors), key="scrub_probs")
    with c3:
        trail = [cached_scrub(name, record["snapshots_sha256"], record["preset"], e, int(index)).probabilities[label]
                 for e in epochs]
        st.markdown("Probability of the right answer, epoch by epoch")
        ui.plotly_chart(figs.trail_figure(epochs, trail, epoch, label), key="scrub_trail")
    channels = first.maps.shape[0]
    st.markdown(f"**First-layer feature maps** (`{first.name}`, {channels} maps) after epoch {epoch}: "
                "each map scaled to its own range, black low, white high")
    st.html(plots.channels_html(first.maps, first.name, tile_px=round(112 * ui.figure_scale())))


# --- the page --------------------------------------------------------------------------------

st.title("Training")
st.markdown("Train a network here and watch it learn; then compare runs and look at the mistakes it makes. "
            "One run at a time per server: everyone in the room sees the same run.")
for key in ("cm_model", "gal_model"):  # the shared picker has no persist_state: keep its choice across tabs
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
tabs = st.tabs(TABS, key="training_tab", on_change="rerun", bind=BOUND)
for tab, title, draw in zip(tabs, TABS, (train_tab, compare_tab, confusion_tab, gallery_tab, scrubber_tab)):
    if tab.open is not False:  # None when tabs do not track state: draw them all
        with tab, ui.guarded(title):
            draw()
