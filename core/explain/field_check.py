"""The receptive-field formula checked against a gradient: which input pixels does a unit really see?

``core.explain.receptive_field`` computes a unit's box from the layers' geometry; this module asks
autograd instead. The pixels where d(unit)/d(input) is not zero, on a copy of the model with random
weights, must be exactly the formula's box (every pixel reached lies in it, every pixel of it is
reached). /draw shows both; tests/test_receptive_field.py checks every CNN preset this way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core import models
from core.device import model_device
from core.explain.receptive_field import PixelBox, class_box, find_layer, layer_fields, unit_box
from core.models.common import INPUT_SIZE
from core.models.copies import random_copy


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """The formula's box beside the gradient's support, for one unit."""

    box: PixelBox
    support: np.ndarray  # bool input_size x input_size: pixels where the gradient is not zero
    inside: bool  # every pixel the gradient reaches is in the box
    equal: bool  # ... and every pixel of the box is reached

    @property
    def reached(self) -> int:
        return int(self.support.sum())


def check_unit(
    model: nn.Module | str,
    layer: str | None,
    channel: int,
    row: int = 0,
    col: int = 0,
    *,
    samples: int = 32,
    seed: int = 0,
    input_size: int = INPUT_SIZE,
) -> GradientCheck:
    """The formula's box for unit (channel, row, col) of ``layer`` (``layer=None``: output class
    ``channel``) against the pixels its gradient reaches.

    The gradient is taken on a copy with random weights (seeded) in float64 and eval mode, ReLUs
    replaced by identities, summing |gradient| over ``samples`` random inputs so that a max-pool
    that picks one input of its window for one sample picks the others for other samples.
    The model passed in is not touched.
    """
    fields = layer_fields(model, input_size)
    box = class_box(fields, input_size) if layer is None else unit_box(fields, layer, channel, row, col, input_size)
    clone = _linearised_random_copy(models.build(model) if isinstance(model, str) else model, seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 1, input_size, input_size, generator=generator, dtype=torch.float64)
    x = x.to(model_device(clone)).requires_grad_(True)
    with torch.enable_grad():
        unit = clone(x)[:, channel] if layer is None else _layer_output(clone, layer, x)[:, channel, row, col]
    (gradient,) = torch.autograd.grad(unit.sum(), x)
    support = (gradient.abs().sum(dim=(0, 1)) != 0).cpu().numpy()
    inside_box = box.mask()
    return GradientCheck(box, support, bool(not (support & ~inside_box).any()), bool((support == inside_box).all()))


class _Reached(Exception):
    """Raised by a hook to stop the forward pass once the chosen layer has run."""


def _layer_output(clone: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` (a name :func:`find_layer` knows) on ``x``; the layers after it never run."""
    module = clone.get_submodule(find_layer(layer_fields(clone, x.shape[-1]), layer).name)
    captured: list[torch.Tensor] = []

    def stop(_module, _inputs, output):
        captured.append(output)
        raise _Reached

    handle = module.register_forward_hook(stop)
    try:
        clone(x)
    except _Reached:
        pass
    finally:
        handle.remove()
    return captured[0]


def _linearised_random_copy(model: nn.Module, seed: int) -> nn.Module:
    """Random weights (core.models.copies.random_copy), float64, every ReLU an identity: a ReLU that
    is off for one input would hide pixels the unit can see."""
    clone = random_copy(model, seed).double()
    for name, module in list(clone.named_modules()):
        if isinstance(module, nn.ReLU):
            parent_name, _dot, child = name.rpartition(".")
            setattr(clone.get_submodule(parent_name) if parent_name else clone, child, nn.Identity())
    return clone
