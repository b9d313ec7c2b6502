"""Shared by the model families: geometry arithmetic, the features -> classifier layout."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

INPUT_SIZE = 28  # every preset takes N x 1 x 28 x 28 normalised MNIST
NUM_CLASSES = 10


def conv_output_size(size: int, kernel: int, *, padding: int = 0, stride: int = 1) -> int:
    """Side of a square conv output: floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def pool_output_size(size: int, window: int = 2) -> int:
    """Side after non-overlapping pooling with stride equal to the window (floor, as torch)."""
    return size // window


def same_padding(kernel: int) -> int:
    """Keras ``padding="same"`` for an odd kernel at stride 1: 2 for 5x5, 1 for 3x3."""
    if kernel % 2 == 0:
        raise ValueError(f"'same' padding needs an odd kernel, got {kernel}")
    return kernel // 2


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
