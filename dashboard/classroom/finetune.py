"""The network learns our handwriting: the teacher fine-tunes a model on the class's digits as the
server's one background run, and everyone sees it learn and what it changed.

Thin: core.classroom.finetune_job checks and builds the run (a fifth of each digit held out to measure on, the
rest mixed into MNIST batches) and core.training.jobs.runner runs it; its progress is /training's live panel
(dashboard.training.run: the same run, the same Stop, for the teacher only). What it changed comes
from the saved checkpoint's record (``class_<model>_<session>``), so it is there after a restart.
The model, the steps and the mix are kept in the URL (``ft_model ft_steps ft_mix``).
"""

from __future__ import annotations

import streamlit as st

from core.classroom import finetune, finetune_job, lessons
from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.i18n import _, ngettext
from core.models import checkpoints
from core.training.jobs import runner
from core.training.jobs.spec import JobInputError, name_taken
from dashboard.classroom import common
from dashboard.classroom import figures as figs
from dashboard.figures import charts, palettes
from dashboard.frame import guard, roles, shared_models
from dashboard.frame.links import BOUND
from dashboard.training import run

BATCH = finetune.FinetuneSettings.batch_size
DEFAULT_MIX = finetune.FinetuneSettings().class_per_batch  # class digits in each batch
MAX_STEPS = 2000
CHANGED_SHOWN = 40
_SAID = "_ft_said"  # session state: (kind, line) left by the Start button's callback


def settings() -> finetune.FinetuneSettings:
    """The run's settings from the form (the steps, the class digits per batch)."""
    s = st.session_state
    return finetune.FinetuneSettings(
        steps=int(s.get("ft_steps", finetune.FinetuneSettings.steps)),
        class_share=int(s.get("ft_mix", DEFAULT_MIX)) / BATCH,
    )


def start(store: class_store.ClassStore, session: int) -> None:
    """Start the fine-tune of the session's digits as the server's background run: the teacher
    only, checked here; replacing an earlier fine-tune only when the teacher ticked it."""
    if not roles.is_teacher():
        st.session_state[_SAID] = ("warning", roles.only_teacher(_("start or stop the server's training run")))
        return
    try:
        model = st.session_state.get("ft_model")
        spec = finetune_job.prepare(model, store, session, settings(), overwrite=replace_ticked(model, session))
        runner.manager().start(spec)
    except JobInputError as exc:  # too few digits (NotEnoughDigits), a model that does not load
        st.session_state[_SAID] = ("error", _("Not started: {reason}").format(reason=exc))
    except runner.JobBusy as exc:
        st.session_state[_SAID] = ("warning", _("Not started: {reason}. Its progress is below.").format(reason=exc))


def replace_key(name: str) -> str:
    return f"ft_overwrite:{name}"  # per name: a tick is for that checkpoint


def replace_ticked(model: str | None, session: int) -> bool:
    """Whether the teacher ticked "replace" for the fine-tune this one would replace."""
    name = replaces(model, session)
    return bool(name and st.session_state.get(replace_key(name), False))


def replaces(model: str | None, session: int) -> str | None:
    """The name of the checkpoint a fine-tune of ``model`` on ``session`` would replace, or None."""
    try:
        name = finetune.checkpoint_name(model, session) if model else None
    except checkpoints.CheckpointError:
        return None
    return name if name and name_taken(name) else None


def too_few(digits: lessons.ClassDigits) -> str | None:
    """Why the session's digits cannot be fine-tuned on yet (core.classroom.finetune.check_enough), or None."""
    try:
        finetune.check_enough(digits)
    except finetune.NotEnoughDigits as exc:
        return _("Not enough digits yet: {reason}.").format(reason=exc)
    return None


def form(store: class_store.ClassStore, session: int | None, teacher: bool, digits: lessons.ClassDigits) -> None:
    c1, c2, c3 = st.columns([2, 1, 2], vertical_alignment="bottom")
    with c1:
        name = shared_models.checkpoint_picker(_("Model to fine-tune"), key="ft_model", bind=BOUND)
    c2.number_input(
        _("Steps"),
        1,
        MAX_STEPS,
        finetune.FinetuneSettings.steps,
        step=10,
        key="ft_steps",
        bind=BOUND,
        help=_("How many batches it trains on; each takes a few hundredths of a second on a CPU."),
    )
    c3.slider(
        _("Class digits in each batch of {batch}").format(batch=BATCH),
        1,
        BATCH,
        DEFAULT_MIX,
        key="ft_mix",
        bind=BOUND,
        help=_("The rest of each batch is MNIST training images, so that it does not forget MNIST."),
    )
    chosen = settings()
    train, held = finetune.held_out_split(digits.entry_ids, digits.labels, fraction=chosen.held_out, seed=chosen.seed)
    st.caption(
        _(
            "Each of the {steps} steps trains on {mine} of the class's digits (shifted and turned a little) "
            "and {mnist} MNIST training images. Of the session's {n} digits, {held} are held out to measure "
            "on (a fifth of each digit, never trained on) and {train} are learned from."
        ).format(
            steps=chosen.steps,
            mine=chosen.class_per_batch,
            mnist=BATCH - chosen.class_per_batch,
            n=len(digits),
            held=len(held),
            train=len(train),
        )
    )
    reason = too_few(digits)
    if reason:
        st.warning(reason, icon=":material/hourglass_empty:")
    job = runner.manager().current()
    running = job is not None and job.running
    taken = replaces(name, digits.session)
    if taken:  # asked, as /training asks before a run replaces a checkpoint
        text = (
            _("**{name}** is already there (its before and after are below): fine-tuning again replaces it.")
            if finetune_record(name, digits.session)
            else _("**{name}** is already a checkpoint: fine-tuning replaces it.")
        )
        st.warning(text.format(name=taken), icon=":material/warning:")
        st.checkbox(_("Yes, replace {name}").format(name=taken), key=replace_key(taken), disabled=not teacher)
    st.button(
        _("Fine-tune on our digits"),
        type="primary",
        icon=":material/school:",
        key="ft_start",
        disabled=not teacher
        or name is None
        or bool(reason)
        or running
        or bool(taken and not st.session_state.get(replace_key(taken))),
        on_click=start,
        args=(store, digits.session),
        help=_("Saved as a new checkpoint, `class_<model>_<session>`, in every model picker."),
    )
    said = st.session_state.pop(_SAID, None)
    if said:
        (st.error if said[0] == "error" else st.warning)(said[1], icon=":material/info:")
    common.only_teacher_caption(teacher, _("start or stop the server's training run"))


def live() -> None:
    """The server's background run: /training's live panel, which also shows a run started
    meanwhile from another browser within seconds."""
    run.live_section("_ft_seen_run")


def finetune_record(model: str, session: int) -> tuple[str, dict] | None:
    """The fine-tune of ``model`` on ``session``, if one was saved: (its name, what it measured)."""
    try:
        name = finetune.checkpoint_name(model, session)
    except checkpoints.CheckpointError:
        return None
    if name not in shared_models.checkpoint_names():
        return None
    figures = checkpoints.read_info(name).record.get("finetune")
    return (name, figures) if figures else None


def changed_digits(store: class_store.ClassStore, changed: list[dict]) -> None:
    fixed = sum(c["after"] == c["label"] for c in changed)
    broken = sum(c["before"] == c["label"] for c in changed)
    if not changed:
        st.markdown(_("No held-out digit changed its answer."))
        return
    st.markdown(
        ngettext(
            "**{n}** held-out digit changed its answer (now right: {fixed}; now wrong: {broken}).",
            "**{n}** held-out digits changed their answer (now right: {fixed}; now wrong: {broken}).",
            len(changed),
        ).format(n=len(changed), fixed=fixed, broken=broken)
    )
    shown = []
    for change in changed[:CHANGED_SHOWN]:
        try:
            shown.append((store.entry(change["entry"]).image, change))
        except StoreError:
            continue  # deleted since
    common.digits_row(
        [image for image, _c in shown],
        [f"{c['label']}: {c['before']} → {c['after']}" for _i, c in shown],
        [
            _("a handwritten {label}, read as {before} before and {after} after").format(
                label=c["label"], before=c["before"], after=c["after"]
            )
            for _i, c in shown
        ],
    )
    st.caption(_("Under each: the digit meant: the answer before → after."))


def results(store: class_store.ClassStore, model: str, session: int) -> None:
    found = finetune_record(model, session)
    if found is None:
        return
    name, figures = found
    st.subheader(_("Before and after: {name}").format(name=name))
    c1, c2 = st.columns(2)
    for column, place, label in ((c1, "class", _("Held-out class digits")), (c2, "mnist", _("MNIST test set"))):
        before, after = figures[place]["before"], figures[place]["after"]
        change = (after - before) * 100
        column.metric(
            label,
            f"{after:.1%}",
            delta=_("{change:+.1f} points").format(change=change),
            delta_color="normal" if round(change, 1) else "off",
            help=_("{before:.1%} before").format(before=before),
        )
    colors = palettes.figure_colors(charts.palette("answer")).series
    charts.plotly_chart(figs.before_after_figure(figures, colors), key="ft_before_after", width="stretch")
    mix = figures["mix"]
    st.caption(
        _(
            "Measured on the {held} held-out class digits (never trained on) and MNIST's {mnist:,} test digits. "
            "Trained {steps} steps of {mine} class digits and {others} MNIST images in {seconds:.0f} s."
        ).format(
            held=figures["class"]["n"],
            mnist=figures["mnist"]["n"],
            steps=figures["steps"],
            mine=mix["class_per_batch"],
            others=mix["mnist_per_batch"],
            seconds=figures["seconds"],
        )
    )
    changed_digits(store, figures.get("changed", []))


def finetune_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    st.markdown(
        _(
            "Fine-tuning: the network goes on learning from a few batches that mix the class's digits into "
            "MNIST's. Then it is measured again on class digits it never saw, and on MNIST."
        )
    )
    digits = lessons.class_digits(store, session)
    with guard.guarded(_("The fine-tune's settings")):
        form(store, session, teacher, digits)
    with guard.guarded(_("The run's progress")):
        live()
    with guard.guarded(_("Before and after")):
        model = st.session_state.get("ft_model")
        if model:
            results(store, model, digits.session)
