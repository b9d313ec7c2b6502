"""LeNet-5 as published: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning Applied to
Document Recognition", Proc. IEEE 86(11), 1998, section II-B (seed 004 retells it layer by layer).

Layers are named as in the paper: c1, s2, c3, s4, c5, f6, output, each squashing function its
own module (``c1_act`` ...). Parameter and connection counts come out as the paper's: 156 / 122,304;
12 / 5,880; 1,516 / 151,600; 32 / 2,000; 48,120; 10,164; 840 fixed (total 60,000 trainable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.data.mnist import NORM_MEAN, NORM_STD
from core.models.rbf_bitmaps import rbf_bitmaps

# Table I of the paper: C3 map -> the S2 maps it reads.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (4, 5, 0),
    (5, 0, 1),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (3, 4, 5, 0),
    (4, 5, 0, 1),
    (5, 0, 1, 2),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)
DENSE_C3_TABLE: tuple[tuple[int, ...], ...] = tuple(tuple(range(6)) for _ in range(16))


class ScaledTanh(nn.Module):
    """The paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3 (appendix A)."""

    amplitude = 1.7159
    slope = 2.0 / 3.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return "1.7159 * tanh(2a/3)"


class Subsampling(nn.Module):
    """S2/S4: each map's non-overlapping 2x2 blocks summed, times one trainable coefficient,
    plus one trainable bias (two parameters per map); the squashing follows as its own module."""

    def __init__(self, channels: int, window: int = 2) -> None:
        super().__init__()
        self.channels, self.window = channels, window
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sums = F.avg_pool2d(x, self.window) * (self.window * self.window)
        return block_sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, window={self.window}"


class PartialConv2d(nn.Module):
    """A convolution whose output maps read only some input maps (C3, Table I).

    Only the kernels of present connections exist as parameters (``weight``: one 5x5 kernel per
    connection, in table order), so an absent connection has no weight, no gradient and stays
    absent whatever the optimiser does. Each forward scatters them into a dense kernel whose
    other entries are constant zeros, then runs one ordinary convolution.
    """

    def __init__(self, table: Sequence[Sequence[int]], in_channels: int, kernel_size: int) -> None:
        super().__init__()
        pairs = [(out, inp) for out, inputs in enumerate(table) for inp in inputs]
        if any(not 0 <= inp < in_channels for _, inp in pairs) or len(set(pairs)) != len(pairs):
            raise ValueError(f"connection table must list distinct input maps in 0..{in_channels - 1}")
        self.in_channels, self.out_channels = in_channels, len(table)
        self.kernel_size = (kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.empty(len(pairs), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels))
        # Wiring, not values: rebuilt from the table, so kept out of the state_dict.
        self.register_buffer("out_index", torch.tensor([o for o, _ in pairs]), persistent=False)
        self.register_buffer("in_index", torch.tensor([i for _, i in pairs]), persistent=False)

    def connection_table(self) -> torch.Tensor:
        """Bool ``(out_channels, in_channels)``: True where an output map reads an input map."""
        table = torch.zeros(self.out_channels, self.in_channels, dtype=torch.bool)
        table[self.out_index.cpu(), self.in_index.cpu()] = True
        return table

    def maps_read(self) -> list[int]:
        """How many input maps each output map reads (C3: 3, 3, 3, 3, 3, 3, 4, ..., 4, 6)."""
        return torch.bincount(self.out_index.cpu(), minlength=self.out_channels).tolist()

    def dense_weight(self) -> torch.Tensor:
        """The equivalent ``(out, in, k, k)`` Conv2d kernel, zeros where there is no connection."""
        dense = self.weight.new_zeros(self.out_channels, self.in_channels, *self.kernel_size)
        return dense.index_put((self.out_index, self.in_index), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.dense_weight(), self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"connections={self.weight.shape[0]} of {self.in_channels * self.out_channels}"
        )


class EuclideanRBF(nn.Module):
    """Output layer: y_i = sum_j (x_j - w_ij)^2 with fixed centres w (a buffer, never trained).

    Returns ``-y`` so that the nearest centre has the largest logit.
    """

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("centres", centres.reshape(centres.shape[0], -1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -(x.unsqueeze(1) - self.centres).pow(2).sum(dim=-1)

    def extra_repr(self) -> str:
        return f"in_features={self.centres.shape[1]}, out_features={self.centres.shape[0]}, fixed"


@dataclass(frozen=True)
class LeNet1998Config:
    """Settings of :class:`LeNet1998`. ``pad_value=None`` pads with black in normalised units."""

    c3_table: tuple[tuple[int, ...], ...] = C3_TABLE
    pad_value: float | None = None


def normalised_black() -> float:
    """A black pixel as the network is given it: (0 - mean) / std, MNIST's normalisation."""
    return (0.0 - NORM_MEAN) / NORM_STD


class LeNet1998(nn.Module):
    """LeNet-5 of 1998 on 28x28 MNIST padded to the paper's 32x32.

    Where this differs from the paper, and why:

    - Loss: the paper trains with its maximum a posteriori criterion (equation 9: the penalty of
      the correct class plus a log-sum-exp term over the others, with a constant j). We return
      minus the squared RBF distances as logits and train with cross-entropy, which is the same
      family of criterion (log-sum-exp over -y_i) without the constant; argmax predicts.
    - Input scale: the paper maps background to -0.1 and ink to 1.175; we use the project's
      normalisation (mean 0.1307, std 0.3081) and pad 28x28 to 32x32 with normalised black.
    - Output centres: the paper's hand-drawn 7x12 bitmaps survive only as a figure (Fig. 3); ours
      are drawn in the same style (``rbf_bitmaps``).
    - Optimiser: the paper used stochastic diagonal Levenberg-Marquardt; training is not set here.

    Weights start uniform in +-2.4 / fan-in (appendix A), biases and coefficients included.
    """

    # C5's output is 1x1, so C3 is the last layer whose map Grad-CAM can show.
    cam_layer_name = "c3"

    def __init__(self, config: LeNet1998Config = LeNet1998Config()) -> None:
        super().__init__()
        self.config = config
        pad_value = normalised_black() if config.pad_value is None else config.pad_value
        self.pad = nn.ConstantPad2d(2, pad_value)  # 1@28x28 -> 1@32x32
        self.c1 = nn.Conv2d(1, 6, 5)  # 6@28x28
        self.c1_act = ScaledTanh()
        self.s2 = Subsampling(6)  # 6@14x14
        self.s2_act = ScaledTanh()
        self.c3 = PartialConv2d(config.c3_table, 6, 5)  # 16@10x10
        self.c3_act = ScaledTanh()
        self.s4 = Subsampling(len(config.c3_table))  # 16@5x5
        self.s4_act = ScaledTanh()
        self.c5 = nn.Conv2d(len(config.c3_table), 120, 5)  # 120@1x1
        self.c5_act = ScaledTanh()
        self.flatten = nn.Flatten()
        self.f6 = nn.Linear(120, 84)
        self.f6_act = ScaledTanh()
        self.output = EuclideanRBF(rbf_bitmaps())  # 10 fixed centres of 84 = 7x12
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Uniform in (-2.4/F, 2.4/F), F the fan-in of the unit a connection belongs to; drawn
        from ``generator`` when given (core.models.init), else from torch's global one."""

        def uniform_(tensor: torch.Tensor, fan_in: torch.Tensor | float) -> None:
            tensor.uniform_(-1.0, 1.0, generator=generator).mul_(2.4 / fan_in)

        for conv in (self.c1, self.c5):
            fan_in = conv.weight[0].numel()
            uniform_(conv.weight, fan_in)
            uniform_(conv.bias, fan_in)
        for sub in (self.s2, self.s4):
            uniform_(sub.weight, sub.window**2)
            uniform_(sub.bias, sub.window**2)
        kernel_area = math.prod(self.c3.kernel_size)
        maps_read = torch.tensor(self.c3.maps_read(), dtype=torch.float32, device=self.c3.weight.device)
        uniform_(self.c3.weight, (maps_read[self.c3.out_index] * kernel_area).view(-1, 1, 1))
        uniform_(self.c3.bias, maps_read * kernel_area)
        uniform_(self.f6.weight, self.f6.in_features)
        uniform_(self.f6.bias, self.f6.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.c1_act(self.c1(self.pad(x)))
        x = self.s2_act(self.s2(x))
        x = self.c3_act(self.c3(x))
        x = self.s4_act(self.s4(x))
        x = self.c5_act(self.c5(x))
        x = self.f6_act(self.f6(self.flatten(x)))
        return self.output(x)


def build_lenet1998(config: LeNet1998Config) -> nn.Module:
    """The faithful LeNet-5 from its config."""
    return LeNet1998(config)
