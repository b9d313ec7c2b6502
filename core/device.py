"""Where and on how many threads torch computes: CUDA when present, then Apple MPS, else the CPU,
with a thread count fit for a machine a whole class shares."""

from __future__ import annotations

import contextlib
import os

import torch

from core.i18n import _, ngettext


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` ("cuda", "cuda:1", "mps", "cpu") overrides; else the best available."""
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {requested!r} asked for but CUDA is not available here")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device {requested!r} asked for but Apple MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's weights are (the CPU for a model without any)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def shared_threads(cpu_count: int | None = None) -> int:
    """Torch threads for one computation on a machine a class shares: half the cores, at least 1.

    Every session's inference and a training job run in one server process. Torch's default,
    one thread per core, makes their threads spin against each other: on 2 busy cores a tiny
    conv took 15 ms with 2 threads and 0.04 ms with 1. ``CNN_EXPLAINER_THREADS`` overrides.
    """
    if cpu_count is None and os.environ.get("CNN_EXPLAINER_THREADS"):
        return max(1, int(os.environ["CNN_EXPLAINER_THREADS"]))
    cpu_count = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return max(1, cpu_count // 2)


def describe(device: torch.device | None = None) -> str:
    """A short human name: the GPU's name, "Apple MPS", or "CPU (n threads)"."""
    device = device or pick_device()
    if device.type == "cuda":
        return _("GPU: {name}").format(name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return "Apple MPS"
    n = torch.get_num_threads()
    return ngettext("CPU ({n} thread)", "CPU ({n} threads)", n).format(n=n)


@contextlib.contextmanager
def torch_threads(count: int = 1):
    """Run the block with ``count`` intra-op threads in the calling thread, then restore.

    Work on one digit is too small to share between cores: with two threads on a busy CPU
    (several students, one server) it ran 10x slower than with one (benchmarks/draw_latency.py).
    With torch's OpenMP backend the setting is per thread, so other threads (a training job)
    keep theirs.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
