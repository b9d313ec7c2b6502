"""Training a design as the server's one run (the teacher's right, checked where it acts): epochs
and training images from the design's recipe, an optional nickname (plain text wherever it is
shown), then the run's live curves as /training draws them. The checkpoint is named from the
notation (``design_<8 hex>``): the same design, the same name."""

from __future__ import annotations

import streamlit as st

from core import models
from core.data import mnist
from core.i18n import _
from core.models.design import Design, checkpoint_name
from core.training import recipes
from core.training.jobs import runner
from core.training.jobs.spec import JobInputError, NeedsConfirmation, name_taken, prepare
from dashboard.frame import roles
from dashboard.frame.links import markdown_text
from dashboard.training.run import live_section

EPOCHS, IMAGES, NICKNAME = "design_epochs", "design_images", "design_nickname"
MAX_EPOCHS = 20  # a lesson's run: more belongs on the command line


def start(design: Design, start_name: str | None, overwrite: bool) -> None:
    if not roles.is_teacher():  # checked where it acts: a crafted request from a student does nothing
        st.warning(roles.only_teacher(_("start the server's training run")), icon=":material/lock:")
        return
    s = st.session_state
    try:
        spec = prepare(
            models.DESIGN,
            "fast",
            name=checkpoint_name(design),
            overrides={"epochs": int(s[EPOCHS]), "limit": int(s[IMAGES])},
            config={"notation": design.notation},
            record={"started_from": start_name, "nickname": s.get(NICKNAME) or None},
            overwrite=overwrite,
        )
        runner.manager().start(spec)
    except NeedsConfirmation as exc:
        st.warning(_("Not started: {reason}").format(reason=exc), icon=":material/warning:")
    except JobInputError as exc:
        st.error(_("Not started: {reason}").format(reason=exc), icon=":material/error:")
    except runner.JobBusy as exc:
        st.warning(
            _("Not started: {reason}. Its progress is below.").format(reason=exc), icon=":material/hourglass_top:"
        )


def section(design: Design, start_name: str | None) -> None:
    recipe = recipes.get_recipe(models.DESIGN, "fast")
    s = st.session_state
    s.setdefault(EPOCHS, recipe.epochs)
    s.setdefault(IMAGES, recipe.limit or mnist.N_TRAIN)
    name = checkpoint_name(design)
    st.caption(
        _(
            "The fast recipe (learning rate {lr:g}, batch {batch}) on a seeded subset of the training images; saved "
            "as `{name}`, a name made from the notation, and then in every model picker."
        ).format(lr=recipe.lr, batch=recipe.batch_size, name=name)
    )
    with st.container(horizontal=True, gap="medium", key="design_train_form"):
        st.number_input(_("Epochs"), 1, MAX_EPOCHS, key=EPOCHS, width=140)
        st.number_input(_("Training images"), 1000, mnist.N_TRAIN, step=1000, key=IMAGES, width=180)
        st.text_input(
            _("Nickname (optional)"),
            key=NICKNAME,
            max_chars=40,
            placeholder=_("e.g. wide C1"),
            help=_("how the model pickers will name it; shown as plain text"),
            width=260,
        )
    taken = name_taken(name)
    overwrite = False
    if taken:
        st.warning(
            _("**{name}** is {taken}: starting replaces it when the run finishes.").format(
                name=markdown_text(name), taken=_(taken)
            ),
            icon=":material/warning:",
        )
        overwrite = st.checkbox(_("Yes, replace {name}").format(name=name), key=f"design_overwrite:{name}")
    teacher = roles.is_teacher()
    if st.button(
        _("Train this design"), type="primary", icon=":material/play_arrow:", key="design_train", disabled=not teacher
    ):
        start(design, start_name, overwrite)
    if not teacher:
        st.caption(roles.only_teacher(_("start or stop the server's training run")))
    live_section("_design_seen_run")
