"""What the /training page's tabs share: the checkpoint of the server's last run, the checkpoint
picker that shows it first, and a test image enlarged."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data.mnist import load_test
from core.data.views import upscale_nearest
from core.models import checkpoints
from core.training.jobs import runner
from dashboard.frame import shared_models
from dashboard.frame.links import BOUND


def zoomed(index: int, factor: int = 3) -> np.ndarray:
    """Test image ``index``, each pixel a ``factor`` x ``factor`` block."""
    return upscale_nearest(load_test().images[index].numpy(), factor)


def last_run_name() -> str | None:
    """The checkpoint the server's last run saved, if it is in the checkpoint folder."""
    job = runner.manager().current()
    snap = job.snapshot() if job is not None else None
    return snap.name if snap is not None and snap.saved and snap.name in shared_models.checkpoint_names() else None


def pick_record(label: str, *, key: str) -> tuple[str, dict] | None:
    """The shared checkpoint picker (first showing the last run's checkpoint, else lenet5) and its record."""
    name = shared_models.checkpoint_picker(label, key=key, default=last_run_name() or "lenet5", bind=BOUND)
    if name is None:
        return None
    try:
        return name, checkpoints.read_info(name).record
    except checkpoints.CheckpointError as exc:
        st.error(str(exc))
        return None
