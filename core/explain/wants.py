"""What a unit wants to see: the input that excites one output class or one convolution filter most,
found by gradient ascent on the input (activation maximisation: Erhan et al. 2009; Simonyan et al.
2013; Olah et al., Distill 2017).

From a grey image, each step moves the pixels up the gradient of the unit's activation (a class's
logit; a filter's mean over its map) with the usual regularisers: a random shift of a pixel or
two before each step (jitter, so the picture does not exploit one exact alignment), a small pull
towards black, a digit's background (decay), a light blur every few steps, and pixels kept in the
0-1 range of a real digit. The randomness comes from a generator of its own, seeded: the same seed gives the same
picture, and torch's global generator is never touched. The model is never changed (a copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.data.mnist import NORM_MEAN, NORM_STD
from core.explain.journey import UnitError, stage_modules
from core.models.copies import borrowed_copy


@dataclass(frozen=True)
class Settings:
    steps: int = 150
    rate: float = 0.05  # Adam's step on the pixels (0-1)
    jitter: int = 1  # pixels the picture is shifted by, at most, before each step
    decay: float = 1e-3  # the pull towards black (a quiet background)
    blur_every: int = 8  # a 3x3 blur every this many steps (0: never)
    seed: int = 0


_BLUR = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]).div(16).reshape(1, 1, 3, 3)


def normalised(pixels: torch.Tensor) -> torch.Tensor:
    """Pixels in 0-1 as the networks read them (MNIST's mean and standard deviation)."""
    return (pixels - NORM_MEAN) / NORM_STD


def parse_unit(text: str) -> tuple[str, int]:
    """``output:3`` or ``conv1:5`` -> (layer, index); UnitError for anything else."""
    layer, _sep, index = str(text).partition(":")
    if not layer or not index.isdigit():
        raise UnitError(f"{text!r} is not a unit: write output:K (a class) or LAYER:FILTER, e.g. conv1:5")
    return layer, int(index)


def activation(model: nn.Module, images: torch.Tensor, unit: str) -> torch.Tensor:
    """The unit's activation for normalised ``N x 1 x 28 x 28`` digits: a class's logit, or a
    filter's mean over its map (one number per digit)."""
    layer, index = parse_unit(unit)
    with borrowed_copy(model) as clone, torch.inference_mode():
        return _activation(clone, stage_modules(clone), images, layer, index)


def _activation(clone, modules, images, layer: str, index: int) -> torch.Tensor:
    if layer == "output":
        logits = clone(images)
        if not 0 <= index < logits.shape[1]:
            raise UnitError(f"the output has {logits.shape[1]} classes: output:0 to output:{logits.shape[1] - 1}")
        return logits[:, index]
    if layer not in modules:
        raise UnitError(f"this network has no layer {layer!r}; its layers: {', '.join(modules)}")
    seen = []
    handle = modules[layer].register_forward_hook(lambda _m, _i, output: seen.append(output))
    try:
        clone(images)
    finally:
        handle.remove()
    output = seen[0]
    if not 0 <= index < output.shape[1]:
        raise UnitError(f"{layer} has {output.shape[1]} maps: {layer}:0 to {layer}:{output.shape[1] - 1}")
    return output[:, index].flatten(1).mean(1)


def wanted(model: nn.Module, unit: str, settings: Settings = Settings()) -> torch.Tensor:
    """The 28 x 28 picture (pixels 0-1, white on black as MNIST's) that excites ``unit`` most."""
    layer, index = parse_unit(unit)
    generator = torch.Generator().manual_seed(settings.seed)
    pixels = torch.full((1, 1, 28, 28), 0.5, requires_grad=True)
    optimiser = torch.optim.Adam([pixels], lr=settings.rate)
    with borrowed_copy(model) as clone:
        modules = stage_modules(clone)
        for step in range(settings.steps):
            shift = torch.randint(-settings.jitter, settings.jitter + 1, (2,), generator=generator).tolist()
            moved = torch.roll(pixels, shifts=shift, dims=(2, 3))
            with torch.enable_grad():
                score = _activation(clone, modules, normalised(moved), layer, index)[0]
                loss = -score + settings.decay * pixels.pow(2).sum()  # towards black, a digit's background
                optimiser.zero_grad()
                loss.backward()
            optimiser.step()
            with torch.no_grad():
                if settings.blur_every and (step + 1) % settings.blur_every == 0:
                    pixels.copy_(F.conv2d(F.pad(pixels, (1, 1, 1, 1), mode="replicate"), _BLUR))
                pixels.clamp_(0.0, 1.0)
    return pixels.detach()[0, 0]
