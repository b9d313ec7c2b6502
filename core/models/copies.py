"""Copies of a model that explanations run on, so the model itself is never touched.

A model loaded for the dashboard is shared by every student's session: nothing may add a hook
to it, train it or switch its mode. Hooks go on a private deep copy (:func:`private_copy`), or on
one lent from a pool (:func:`borrowed_copy`: a deep copy is milliseconds of Python holding the
GIL, and every /draw run needs one or two); the sanity check's network with random weights is
:func:`random_copy`.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref

import torch
from torch import nn

from core.models.init import initialise, seeded


def private_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode with frozen parameters, safe to hook: the original is untouched."""
    clone = copy.deepcopy(model).eval()
    for parameter in clone.parameters():
        parameter.requires_grad_(False)
    return clone


_POOL_SIZE = 4  # idle copies kept per model
_pools: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, list[nn.Module]]] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def _weights_version(model: nn.Module) -> tuple:
    # Every in-place change of a tensor bumps its _version: a copy made before it is stale.
    return tuple((id(t), t._version) for t in (*model.parameters(), *model.buffers()))


def _untouched(clone: nn.Module) -> bool:
    """Whether a lent copy came back as it left: eval mode, frozen, no hook left anywhere."""
    for module in clone.modules():
        if (
            module.training
            or module._forward_hooks
            or module._forward_pre_hooks
            or module._backward_hooks
            or module._backward_pre_hooks
        ):
            return False
    return not any(parameter.requires_grad for parameter in clone.parameters())


@contextlib.contextmanager
def borrowed_copy(model: nn.Module):
    """A :func:`private_copy` of ``model`` lent for a ``with`` block, from a pool per model.

    A deep copy is several milliseconds of Python holding the GIL, and every /draw run of every
    student needs one or two. The copy goes back to the pool only if it comes back untouched
    (no hook left, eval mode, frozen); a pool is dropped once the model's weights change.
    """
    version = _weights_version(model)
    clone = None
    with _pools_lock:
        pooled = _pools.get(model)
        if pooled is not None and pooled[0] == version and pooled[1]:
            clone = pooled[1].pop()
    if clone is None:
        clone = private_copy(model)
    try:
        yield clone
    finally:
        if _untouched(clone) and _weights_version(model) == version:
            with _pools_lock:
                pooled = _pools.get(model)
                if pooled is None or pooled[0] != version:
                    pooled = _pools[model] = (version, [])
                if len(pooled[1]) < _POOL_SIZE:
                    pooled[1].append(clone)


def random_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """The same architecture with fresh random weights (a sanity check for explanations).

    Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018): an explanation that looks
    the same for a trained and an untrained network says little about what the network learned.
    The weights are drawn as each layer draws them at construction (LeNet-5 of 1998 by its own
    scheme, appendix A), from a generator of its own seeded with ``seed``
    (:func:`core.models.init.initialise`): the same seed gives the same weights, and torch's
    global generator, which a training run in another thread may be drawing from, is untouched.
    BatchNorm statistics reset too.
    """
    clone = private_copy(model)
    with torch.no_grad():
        initialise(clone, seeded(seed))
    return clone
