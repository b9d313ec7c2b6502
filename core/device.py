"""Where and on how many threads torch computes: CUDA when present, then Apple MPS, else the CPU,
with a thread count fit for a machine a whole class shares.

The thread policy, the one place torch's CPU thread count is set (:func:`use_threads`):

- what torch does: the count belongs to each thread. Setting it takes effect at once in the
  calling thread, and becomes the count every thread takes at its first torch call from then on
  (whatever thread set it); a thread that has already used torch keeps its own count
  (``tests/test_device.py`` shows each of these);
- every page run, in its own script thread, starts on :func:`shared_threads` (``dashboard/app.py``),
  and so does a training or fine-tuning run in its thread: half the cores each, the other half
  left to the rest of the class;
- work on one digit runs on one thread (``torch_threads(1)``), restored afterwards.
"""

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


def device_name(device: torch.device | None = None) -> str:
    """A short human name: the GPU's name, "Apple MPS", or "CPU (n threads)"."""
    device = device or pick_device()
    if device.type == "cuda":
        return _("GPU: {name}").format(name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return "Apple MPS"
    n = torch.get_num_threads()
    return ngettext("CPU ({n} thread)", "CPU ({n} threads)", n).format(n=n)


def use_threads(count: int) -> int:
    """Set torch's CPU thread count to ``count`` (at least 1); return the calling thread's count before.

    The count is the calling thread's at once, and every thread's that first uses torch after
    this call, whatever thread made it; threads that have already used torch keep theirs. So a
    thread sets the count it needs itself, and puts back what it found when it is done, for the
    threads that start after it.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(count)))
    return before


@contextlib.contextmanager
def torch_threads(count: int = 1):
    """Run the block on ``count`` CPU threads in the calling thread (:func:`use_threads`), then restore.

    Work on one digit is too small to share between cores: with two threads on a busy CPU
    (several students, one server) it ran 10x slower than with one (benchmarks/draw_latency.py).
    Threads already running (a training job, another student's page) keep their own count; a
    thread that first uses torch while the block runs takes ``count`` too.
    """
    before = use_threads(count)
    try:
        yield
    finally:
        use_threads(before)
