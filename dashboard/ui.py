"""Small helpers shared by the pages (thin: all computation lives in ``core``)."""

from __future__ import annotations

import functools
import os

import streamlit as st
import torch

from core import checkpoints, device


@functools.cache
def configure_torch() -> int:
    """Once per server process: how many threads torch uses for each operation.

    Every session's inference and a training job share this process's cores. Torch's default,
    one thread per core, makes their threads spin against each other: on 2 busy cores a tiny
    conv took 15 ms with 2 threads and 0.04 ms with 1. Half the cores each keeps a class served;
    ``CNN_EXPLAINER_THREADS`` overrides.
    """
    threads = int(os.environ.get("CNN_EXPLAINER_THREADS", max(1, (os.cpu_count() or 2) // 2)))
    torch.set_num_threads(threads)
    return threads


@functools.cache
def device_label() -> str:
    return device.describe(device.pick_device())


def sidebar() -> None:
    """The sidebar every page shares: which device computes."""
    with st.sidebar:
        st.caption(f"Compute: **{device_label()}**")


def checkpoint_names() -> list[str]:
    """Every checkpoint with a readable record, read afresh so new ones appear without a restart."""
    return [info.name for info in checkpoints.list_checkpoints()]


@st.cache_resource(max_entries=32, show_spinner="Loading the model...")
def _load_cached(name: str, sha256: str) -> tuple[torch.nn.Module, dict]:
    # Keyed by the file's hash too, so a checkpoint retrained under the same name is reloaded.
    model, info = checkpoints.load(name)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, info.record


def load_model(name: str) -> tuple[torch.nn.Module, dict]:
    """A verified checkpoint, shared by every session: NEVER train it or add hooks to it in
    place; use ``copy.deepcopy`` first (``core.explain`` works on copies).

    Raises ``checkpoints.CheckpointError`` with a message fit for ``st.error``.
    """
    info = checkpoints.read_info(name)
    return _load_cached(name, info.record["sha256"])


def checkpoint_picker(label: str = "Model", *, key: str, default: str = "lenet5",
                      container=st) -> str | None:
    """A selectbox over the present checkpoints (default ``lenet5``); None when there are none."""
    names = checkpoint_names()
    if not names:
        container.warning("No checkpoints yet: run `make checkpoints` or train one on the Training page.")
        return None
    index = names.index(default) if default in names else 0
    return container.selectbox(label, names, index=index, key=key)
