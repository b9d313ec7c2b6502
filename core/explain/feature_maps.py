"""What a network computes on one digit: the feature maps of every stage.

Shown as in seed 000's write-up (torchvision ``make_grid(normalize=True, scale_each=True)``):
each channel stretched to its own black-to-white range (``core.explain.pictures.channel_tiles``). Hooks
go on a copy borrowed from ``core.models.copies``: the model given is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.architecture.notation import shape_text
from core.device import model_device
from core.models import CONV_TYPES
from core.models.copies import borrowed_copy
from core.models.lenet1998 import ScaledTanh, Subsampling

# Leaf modules whose output is a stage worth showing, by kind. Dropout (identity in eval mode)
# and padding are left out: they add a picture without adding an idea.
_KINDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("conv", CONV_TYPES),
    ("norm", (nn.BatchNorm2d,)),
    ("activation", (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.LeakyReLU, ScaledTanh)),
    ("pool", (nn.MaxPool2d, nn.AvgPool2d, Subsampling)),
)


@dataclass(frozen=True, eq=False)  # tensors inside: == would be ambiguous
class FeatureMaps:
    """One stage's output for one input, and the convolution that produced its channels."""

    name: str  # module path in the model, e.g. "features.conv1" or "c1"
    kind: str  # conv | norm | activation | pool
    layer: str  # the module's class, e.g. "Conv2d"
    tensor: torch.Tensor  # C x H x W, float32 on the CPU
    kernel: torch.Tensor | None  # C x C_in x k x k: kernel[c] made channel c (None before any conv)
    kernel_from: str | None  # name of that convolution

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def shape(self) -> tuple[int, int, int]:
        channels, height, width = self.tensor.shape
        return int(channels), int(height), int(width)

    @property
    def shape_text(self) -> str:
        """The shape as the 1998 paper writes it: ``6@28×28``."""
        return shape_text(self.shape)


def stage_kind(module: nn.Module) -> str | None:
    """conv, norm, activation or pool; None for modules that are not a stage."""
    for kind, types in _KINDS:
        if isinstance(module, types):
            return kind
    return None


def conv_kernel(module: nn.Module) -> torch.Tensor:
    """A convolution's weights as ``out x in x k x k`` (C3's partial table as zeros)."""
    weight = module.dense_weight() if hasattr(module, "dense_weight") else module.weight
    return weight.detach().cpu().float().clone()


def feature_maps(model: nn.Module, x: torch.Tensor) -> list[FeatureMaps]:
    """Every conv, normalisation, activation and pooling output for one ``1x1x28x28`` input.

    In forward order; only outputs with a spatial map (H x W > 1: LeNet-5's C5 is 120@1x1, a
    vector, not a map). Empty for a network without convolutions. Hooks go on a private copy.
    """
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"expected one input of shape 1 x 1 x 28 x 28, got {tuple(x.shape)}")
    with borrowed_copy(model) as clone:
        return _feature_maps(clone, x)


def _feature_maps(clone: nn.Module, x: torch.Tensor) -> list[FeatureMaps]:
    stages: list[FeatureMaps] = []
    last_conv: tuple[str, torch.Tensor] | None = None

    def record(name: str, kind: str, module: nn.Module, output: torch.Tensor) -> None:
        nonlocal last_conv
        if kind == "conv":
            last_conv = (name, conv_kernel(module))
        if not isinstance(output, torch.Tensor) or output.dim() != 4 or output.shape[-1] * output.shape[-2] <= 1:
            return
        kernel_from, kernel = last_conv if last_conv is not None else (None, None)
        if kernel is not None and kernel.shape[0] != output.shape[1]:
            kernel_from, kernel = None, None  # channels no longer one-to-one with the conv's kernels
        stages.append(
            FeatureMaps(name, kind, type(module).__name__, output[0].detach().float().cpu(), kernel, kernel_from)
        )

    handles = []
    for name, module in clone.named_modules():
        kind = stage_kind(module)
        if kind is not None:
            handles.append(
                module.register_forward_hook(
                    lambda mod, _inputs, output, name=name, kind=kind: record(name, kind, mod, output)
                )
            )
    try:
        with torch.inference_mode():
            clone(x.to(model_device(clone)))
    finally:
        for handle in handles:
            handle.remove()
    return stages
