"""The CNNs of seed 000: conv 6@5x5 -> avg-pool 2 -> conv 16@5x5 -> avg-pool 2 -> 256 -> 120 ->
84 -> 10, with ReLU between the fully connected layers.

``cnn_avgpool`` keeps the seed's first model as written: no activation between the conv layers,
so the conv part is one linear map (that is the lesson of the second model). ``cnn_avgpool_bn``
is its second model: BatchNorm + ReLU after each conv. Differs from the seed only in that its
ReLUs were ``inplace=True``; here each is a fresh module, not in place, so Captum can hook them.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.models.common import NUM_CLASSES, FeaturesClassifier, conv_blocks, dense_stack


@dataclass(frozen=True)
class AvgPoolCnnConfig:
    """Settings of the seed-000 CNN; ``batch_norm=True`` adds BatchNorm + ReLU after each conv."""

    channels: tuple[int, int] = (6, 16)
    kernel_size: int = 5
    hidden: tuple[int, ...] = (120, 84)
    batch_norm: bool = False


def build_avgpool_cnn(config: AvgPoolCnnConfig) -> nn.Module:
    """The seed-000 CNN from its config."""
    convs = [(channels, config.kernel_size, 0) for channels in config.channels]
    layers, channels, side = conv_blocks(convs, batch_norm=config.batch_norm, relu=config.batch_norm, pool=nn.AvgPool2d)
    flat = channels * side * side  # 16 x 4 x 4 = 256, as the seed found by a trial forward
    return FeaturesClassifier(nn.Sequential(layers), dense_stack([flat, *config.hidden, NUM_CLASSES]))
