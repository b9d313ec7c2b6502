"""MNIST on a device: a split as uint8 tensors, handed out in normalised (optionally augmented) batches.

The fast data path of training and evaluation: no DataLoader, no per-image Python.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.data import mnist


class DeviceData:
    """Images (uint8, N x 28 x 28) and labels living on one device."""

    def __init__(self, split: mnist.MnistSplit, device: torch.device):
        self.images = split.images.to(device)
        self.labels = split.labels.to(device)
        self.device = device

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None, augment: bool = False, drop_last: bool = False
    ):
        """Yield (normalised images N x 1 x 28 x 28, labels), shuffled when a generator is given."""
        n = len(self)
        order = (
            torch.randperm(n, generator=generator).to(self.device)
            if generator is not None
            else torch.arange(n, device=self.device)
        )
        stop = n - n % batch_size if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            x = self.images[idx]
            if augment:
                x = random_affine(x, generator)
            yield mnist.normalize(x), self.labels[idx]


def random_affine(
    images: torch.Tensor, generator: torch.Generator | None, max_degrees: float = 10.0, max_shift_px: float = 2.0
) -> torch.Tensor:
    """Small random rotations and shifts of uint8 digits (black fills the uncovered border)."""
    n = images.shape[0]
    rand = torch.rand(n, 3, generator=generator).to(images.device) * 2 - 1
    angle = rand[:, 0] * math.radians(max_degrees)
    shift = rand[:, 1:] * (2 * max_shift_px / 28)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    x = images.float().unsqueeze(1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    return out.squeeze(1).round_().clamp_(0, 255).to(torch.uint8)
