"""The /training page's first tab: the form that starts a run (the teacher only: dashboard.frame.roles,
checked where each action acts) and the live panel of the server's run.

The form is not bound to the URL: choosing a model there fills it from its recipe. The live panel
is an ``st.fragment`` that polls the job every second while it runs, and looks for a new run every
few seconds while none runs (:func:`live_section`, the fine-tune tab on /class too).
"""

from __future__ import annotations

import streamlit as st
import torch

from core import models
from core.data import mnist
from core.i18n import _
from core.models import checkpoints
from core.training import recipes
from core.training.jobs import runner
from core.training.jobs.group import RemoteJob
from core.training.jobs.job import Job
from core.training.jobs.spec import JobInputError, name_taken, prepare
from core.training.jobs.state import FINISHED, SAVING, STOPPED, TRAINING, JobSnapshot, shown_message
from dashboard.figures import charts
from dashboard.frame import guard, presenter, roles, shared_models
from dashboard.training import figures as figs

POLL_SECONDS = 1.0
WATCH_SECONDS = 2.0  # how often a page without a running run looks for a new one


def load_recipe_defaults() -> None:
    """Fill the form from the chosen preset's recipe (on first view and when preset/recipe change)."""
    preset, recipe_name = st.session_state.tr_preset, st.session_state.tr_recipe
    recipe = recipes.get_recipe(preset, recipe_name)
    st.session_state.update(
        tr_epochs=recipe.epochs,
        tr_batch=recipe.batch_size,
        tr_optimizer=recipe.optimizer,
        tr_lr=f"{recipe.lr:g}",
        tr_limit=recipe.limit or mnist.training_images(recipe.select_by_validation),
        tr_seed=recipe.seed,
        tr_snapshots=preset == "lenet5",
    )
    if st.session_state.get("tr_name", "").startswith("my_") or "tr_name" not in st.session_state:
        st.session_state.tr_name = f"my_{preset}" + ("" if recipe_name == "fast" else f"_{recipe_name}")


def parse_lr(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise JobInputError(
            _("learning rate must be a number such as 0.001 or 1e-3, got {text}").format(text=repr(text))
        ) from None


def start_form() -> None:
    if "tr_preset" not in st.session_state:
        st.session_state.update(tr_preset="lenet5", tr_recipe="fast")
        load_recipe_defaults()
    c1, c2 = st.columns([3, 1])
    titles = {n: f"{n}: {_(models.get(n).title)}" for n in models.names()}  # in this session's language
    c1.selectbox(
        _("Model"),
        models.names(),
        key="tr_preset",
        on_change=load_recipe_defaults,
        format_func=titles.get,
        persist_state="page",
    )
    c2.segmented_control(
        _("Recipe"),
        ["fast", "seed"],
        key="tr_recipe",
        required=True,
        persist_state="page",
        on_change=load_recipe_defaults,
        format_func=recipes.title,
        help=_("seed: the source write-up's settings; fast: the quickest way to 99%"),
    )
    chosen = recipes.get_recipe(st.session_state.tr_preset, st.session_state.tr_recipe)
    if chosen.note:
        st.caption(_(chosen.note))
    with presenter.secondary(_("Settings of the run")):
        c = st.columns(6)
        c[0].number_input(_("Epochs"), 0, 500, key="tr_epochs", persist_state="page")
        c[1].number_input(_("Batch size"), 0, mnist.N_TRAIN, key="tr_batch", persist_state="page")
        c[2].selectbox(_("Optimiser"), recipes.OPTIMIZERS, key="tr_optimizer", persist_state="page")
        c[3].text_input(
            _("Learning rate"), key="tr_lr", help=_("e.g. 1e-3 for Adam, 0.1 for SGD"), persist_state="page"
        )
        c[4].number_input(
            _("Training images"),
            0,
            mnist.N_TRAIN,
            step=1000,
            key="tr_limit",
            help=_("a seeded random subset; {all:,} = all of them").format(
                all=mnist.training_images(chosen.select_by_validation)
            ),
            persist_state="page",
        )
        c[5].number_input(_("Seed"), 0, 2**31 - 1, key="tr_seed", persist_state="page")
        c1, c2 = st.columns([3, 2])
        name = c1.text_input(_("Save as (checkpoint name)"), key="tr_name", persist_state="page")
        c2.checkbox(
            _("Keep a snapshot after every epoch"),
            key="tr_snapshots",
            persist_state="page",
            help=_("for the Training scrubber tab; small for LeNet, large for the wide models"),
        )
    taken = None
    try:
        checkpoints.validate_name(name)
        taken = name_taken(name)
    except checkpoints.CheckpointError as exc:
        st.error(str(exc), icon=":material/error:")
    if taken:
        st.warning(
            _("**{name}** is {taken}: starting replaces it when the run finishes.").format(name=name, taken=_(taken)),
            icon=":material/warning:",
        )
        # per name: a tick is for that name
        st.checkbox(_("Yes, replace {name}").format(name=name), key=f"tr_overwrite:{name}")
    teacher = roles.is_teacher()
    if st.button(
        _("Start training"), type="primary", icon=":material/play_arrow:", key="tr_start", disabled=not teacher
    ):
        start_run(bool(taken) and st.session_state.get(f"tr_overwrite:{name}", False))
    if not teacher:
        st.caption(roles.only_teacher(_("start or stop the server's training run")))


def start_run(overwrite: bool) -> None:
    if not roles.is_teacher():  # checked where it acts: a crafted request from a student does nothing
        st.warning(roles.only_teacher(_("start the server's training run")), icon=":material/lock:")
        return
    s = st.session_state
    all_images = mnist.training_images(recipes.get_recipe(s.tr_preset, s.tr_recipe).select_by_validation)
    try:
        overrides = dict(
            epochs=int(s.tr_epochs),
            batch_size=int(s.tr_batch),
            optimizer=s.tr_optimizer,
            lr=parse_lr(s.tr_lr),
            seed=int(s.tr_seed),
            limit=None if int(s.tr_limit) == all_images else int(s.tr_limit),
        )
        spec = prepare(
            s.tr_preset,
            s.tr_recipe,
            name=s.tr_name.strip(),
            overrides=overrides,
            overwrite=overwrite,
            keep_snapshots=s.tr_snapshots,
        )
        runner.manager().start(spec)
    except JobInputError as exc:
        st.error(_("Not started: {reason}").format(reason=exc), icon=":material/error:")
    except runner.JobBusy as exc:
        st.warning(
            _("Not started: {reason}. Its progress is below.").format(reason=exc), icon=":material/hourglass_top:"
        )


def stop_run(job: Job) -> None:
    """Stop the run: the teacher only, checked here, on the server."""
    if roles.is_teacher():
        job.stop()
    else:
        st.session_state["tr_denied"] = roles.only_teacher(_("stop the server's training run"))


def live_panel(polling: bool) -> None:
    job = runner.manager().current()
    if job is None:
        st.caption(_("No run on this server yet: the one you start appears here, for everyone."))
        return
    snap = job.snapshot()
    r = snap.recipe
    st.subheader(_("Run {id}: {name}").format(id=snap.id, name=snap.name))
    about = (
        _(
            "{preset}, {recipe} recipe: {optimizer} lr {lr:g}, batch {batch}, {epochs} epoch(s) on {images:,} "
            "images; {elapsed:.0f} s so far"
        )
        if snap.running
        else _(
            "{preset}, {recipe} recipe: {optimizer} lr {lr:g}, batch {batch}, {images:,} images; took {elapsed:.0f} s"
        )
    )
    st.caption(
        about.format(
            preset=snap.preset,
            recipe=recipes.title(snap.recipe_name),
            optimizer=r["optimizer"],
            lr=r["lr"],
            batch=r["batch_size"],
            epochs=r["epochs"],
            images=r["limit"] or mnist.training_images(r["select_by_validation"]),
            elapsed=snap.elapsed,
        )
    )
    if snap.running:
        if snap.status == SAVING:
            text = _("Saving the checkpoint...")
        elif snap.steps == 0:
            text = _("Loading the data and building the model...")
        else:
            text = _("Epoch {epoch}/{epochs}, batch {step}/{steps}, {speed:,.0f} images/s").format(
                epoch=snap.epoch, epochs=snap.epochs, step=snap.step, steps=snap.steps, speed=snap.images_per_second
            )
        if snap.stop_requested:
            text = _("{progress} (stopping after this batch)").format(progress=text)
        st.progress(snap.fraction, text=text)
        m = st.columns([1, 1, 1, 1])
        m[0].metric(_("Train loss"), f"{snap.loss:.4f}" if snap.loss is not None else "-")
        m[1].metric(_("Train accuracy"), f"{snap.accuracy:.2%}" if snap.accuracy is not None else "-")
        m[2].metric(
            _("Test accuracy (last epoch)"), f"{snap.history[-1]['test_accuracy']:.2%}" if snap.history else "-"
        )
        m[3].button(
            _("Stop"),
            icon=":material/stop_circle:",
            on_click=stop_run,
            args=(job,),
            key="tr_stop",
            disabled=snap.stop_requested or not roles.is_teacher(),
            help=_("ends the run after the current batch; what it learned is saved"),
        )
        denied = st.session_state.pop("tr_denied", None)
        if denied or not roles.is_teacher():
            st.caption(denied or roles.only_teacher(_("stop the server's training run")))
    elif snap.status == FINISHED:
        st.success(
            _("Saved: {message}. It is now in every page's model picker.").format(message=shown_message(snap)),
            icon=":material/check_circle:",
        )
    elif snap.status == STOPPED:
        st.warning(_("Stopped: {message}").format(message=shown_message(snap)), icon=":material/stop_circle:")
    else:
        st.error(shown_message(snap), icon=":material/error:")
    if snap.curve or snap.history:
        charts.plotly_chart(figs.live_figure(snap), key="tr_live_chart", description=figs.live_text(snap))
        st.caption(why_train_differs(snap))
    if polling and not snap.running:
        st.rerun()  # the whole page: stop polling, list the new checkpoint everywhere


def has_dropout(preset: str) -> bool:
    try:
        model = shared_models.fresh_model(preset)
    except (KeyError, ValueError):
        return False
    return any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in model.modules())


def why_train_differs(snap: JobSnapshot) -> str:
    """One line under the curves: why the train curves may look worse than the test points in this run."""
    reasons = [_("the train line averages batches while the weights are still changing")]
    if has_dropout(snap.preset):
        reasons.append(_("dropout switches units off while it trains"))
    if snap.recipe.get("augment") or snap.kind != TRAINING:  # a class fine-tune shifts and turns its digits
        reasons.append(_("the training digits are shifted and turned a little"))
    if snap.recipe.get("label_smoothing"):
        reasons.append(_("label smoothing adds to the train loss (its targets are never quite 100%)"))
    return _(
        "Why train can look worse than test: {reasons}; each test point is measured after the epoch, on "
        "images it never trained on, with the whole network and the epoch's final weights."
    ).format(reasons=_("; ").join(reasons))


def run_mark(job: Job | RemoteJob | None) -> tuple | None:
    """What a page's picture of the server's run depends on: which run it is and whether it goes on."""
    return None if job is None else (job.id, job.started, job.running)


def live_section(seen_key: str) -> None:
    """The server's run, as every page that shows it draws it: polled every second while it runs;
    otherwise a fragment that draws nothing looks every few seconds for another run (one the
    teacher started in another browser, or in another server process) and then redraws the whole
    page, so that every open page shows the new run within seconds without a reload. While nothing
    changed, a look costs reading the job's state, nothing is drawn or sent."""
    job = runner.manager().current()
    polling = job is not None and job.running
    st.session_state[seen_key] = run_mark(job)

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def live() -> None:
        with guard.guarded(_("The run's progress")):  # a fragment's rerun is not inside the tab's guard
            live_panel(polling)

    live()
    if polling:
        return  # the live panel redraws the page when the run ends

    @st.fragment(run_every=WATCH_SECONDS)
    def watch() -> None:
        if run_mark(runner.manager().current()) != st.session_state.get(seen_key):
            st.rerun(scope="app")

    watch()


def train_tab() -> None:
    start_form()
    live_section("_tr_seen_run")
