"""A class fine-tune as the server's one background run (``core.training.jobs``): :func:`prepare`
reads the class's digits and checks everything while the teacher waits, so nothing starts that
cannot run; the run then shares the training page's slot, live progress and stop, saves
``class_<model>_<session>`` and ends with a message each reader sees in their language.
"""

from __future__ import annotations

import threading

import torch

from core.classroom.finetune import (
    KIND,
    FinetuneSettings,
    check_enough,
    checkpoint_name,
    finetune,
    loss_of,
    save,
)
from core.classroom.lessons import class_digits
from core.classroom.store import ClassStore
from core.device import pick_device
from core.i18n import N_
from core.models import checkpoints
from core.training.jobs.spec import CONFIRM, JobInputError, JobSpec, NeedsConfirmation, WorkOutcome, name_taken
from core.training.train import ProgressFn


def prepare(
    base: str,
    store: ClassStore,
    session_id: int | None = None,
    settings: FinetuneSettings | None = None,
    *,
    folder=None,
    device: str | None = None,
    overwrite: bool = False,
) -> JobSpec:
    """A background run for ``jobs.manager().start``: the class's digits are read now, and
    everything is checked now (NotEnoughDigits, JobInputError), so nothing starts that cannot
    run. The job saves ``class_<base>_<session>`` when it finishes; a stopped one saves nothing.
    The job's ``snapshot().result`` is then :meth:`FinetuneResult.figures`.

    A fine-tune of that model on that session already saved is replaced only with ``overwrite``
    (else NeedsConfirmation), as a training run's name is: one name per model and session keeps
    the picker short and the before/after the page shows the latest."""
    settings = (settings or FinetuneSettings()).check()
    digits = class_digits(store, session_id)
    check_enough(digits)
    try:
        info = checkpoints.read_info(base, folder)
        name = checkpoint_name(info.name, digits.session)
        if device is not None:
            pick_device(device)
    except (checkpoints.CheckpointError, ValueError) as exc:
        raise JobInputError.refusing(exc) from None
    folder = checkpoints.folder_or_default(folder)
    taken = name_taken(name, folder)
    if taken and not overwrite:
        raise NeedsConfirmation(CONFIRM[taken], {"name": name})

    def work(progress: ProgressFn, stop: threading.Event, on: torch.device) -> WorkOutcome:
        result = finetune(info.name, digits, settings, folder=folder, device=on, progress=progress, stop=stop)
        if result.stopped:
            return WorkOutcome(
                True,
                N_("stopped: nothing was saved (a fine-tune takes seconds: start it again)"),
                result=result.figures(),
            )
        progress({"event": "saving"})
        saved = save(result, folder=folder)
        return WorkOutcome(
            False,
            N_(
                "class digits {class_before:.0%} -> {class_after:.0%}, MNIST "
                "{mnist_before:.2%} -> {mnist_after:.2%}; saved as '{name}'"
            ),
            {
                "class_before": result.class_before,
                "class_after": result.class_after,
                "mnist_before": result.mnist_before,
                "mnist_after": result.mnist_after,
                "name": name,
            },
            str(saved.pt_path),
            result.mnist_after,
            result.figures(),
        )

    return JobSpec(info.preset, KIND, settings.recipe(loss_of(info)), name, folder, device=device, kind=KIND, work=work)
