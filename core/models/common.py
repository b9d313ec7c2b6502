"""Shared by the model families: geometry arithmetic, the features -> classifier layout."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

INPUT_SIZE = 28  # every preset takes N x 1 x 28 x 28 normalised MNIST
NUM_CLASSES = 10


def conv_output_size(size: int, kernel: int, *, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Side of a square conv (or pooling) output, as torch computes it:
    floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size: int, window: int = 2) -> int:
    """Side after non-overlapping pooling (stride = window; floor, as torch)."""
    return conv_output_size(size, window, stride=window)


def conv_blocks(
    convs: Sequence[tuple[int, int, int]], *, batch_norm: bool, relu: bool, pool: type[nn.Module]
) -> tuple[OrderedDict[str, nn.Module], int, int]:
    """The conv part shared by the CNN families: for each ``(out_channels, kernel, padding)``,
    ``conv{k}`` then ``bn{k}`` (with ``batch_norm``), ``relu{k}`` (with ``relu``) and a 2x2
    ``pool{k}`` (``nn.MaxPool2d`` or ``nn.AvgPool2d``), named so that checkpoints load.

    Returns the layers, the last block's channels and its output side (from a 28x28 input).
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    side, in_channels = INPUT_SIZE, 1
    for k, (out_channels, kernel, padding) in enumerate(convs, start=1):
        layers[f"conv{k}"] = nn.Conv2d(in_channels, out_channels, kernel, padding=padding)
        if batch_norm:
            layers[f"bn{k}"] = nn.BatchNorm2d(out_channels)
        if relu:
            layers[f"relu{k}"] = nn.ReLU()
        layers[f"pool{k}"] = pool(2)
        side = pool_output_size(conv_output_size(side, kernel, padding=padding))
        in_channels = out_channels
    return layers, in_channels, side


def same_padding(kernel: int) -> int:
    """Keras ``padding="same"`` for an odd kernel at stride 1: 2 for 5x5, 1 for 3x3."""
    if kernel % 2 == 0:
        raise ValueError(f"'same' padding needs an odd kernel, got {kernel}")
    return kernel // 2


class Dropout(nn.Dropout):
    """``nn.Dropout`` that draws its masks from ``generator`` when one is set (the trainer sets
    the run's own, so a run is reproducible whatever other threads draw from torch's global
    generator); the same module otherwise."""

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or self.generator is None:
            return super().forward(x)
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)


class FeaturesClassifier(nn.Module):
    """``features`` (optional conv part) -> ``flatten`` -> ``classifier``, the torchvision layout."""

    def __init__(self, features: nn.Sequential | None, classifier: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.flatten = nn.Flatten()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.features is not None:
            x = self.features(x)
        return self.classifier(self.flatten(x))


def dense_stack(sizes: list[int], *, first_index: int = 1) -> nn.Sequential:
    """Linear layers ``fc1 .. fcK`` through ``sizes`` with a fresh ReLU between, none on the logits."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=first_index):
        layers[f"fc{k}"] = nn.Linear(n_in, n_out)
        if k - first_index < len(sizes) - 2:
            layers[f"fc{k}_relu"] = nn.ReLU()
    return nn.Sequential(layers)
