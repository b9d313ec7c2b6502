"""The three Keras CNNs of seed 001, rebuilt in PyTorch.

- ``keras_cnn_small``: Conv2D 32@5x5 same, ReLU -> max-pool 2 -> dropout 0.2 -> 128 -> 10;
- ``keras_cnn_deeper``: 30@5x5 valid -> pool -> 15@3x3 valid -> pool -> dropout 0.2 -> 128 -> 50 -> 10;
- ``keras_cnn_wide``: 32@5x5 same -> pool -> 64@5x5 same -> pool -> 1024 -> 10.

ReLU after every conv and hidden Dense layer, as in the seed. Differences: the seed ends with a
softmax layer and categorical cross-entropy; we return logits (cross-entropy applies the softmax).
Keras "same" is padding 2 for 5x5 and 1 for 3x3; weights use PyTorch's default initialisation,
not Keras's ``normal``/glorot.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.models.common import NUM_CLASSES, Dropout, FeaturesClassifier, conv_blocks, dense_stack, same_padding


@dataclass(frozen=True)
class KerasCnnConfig:
    """Conv layers as ``(filters, kernel)``, each followed by ReLU and 2x2 max-pooling."""

    convs: tuple[tuple[int, int], ...] = ((32, 5),)
    padding: str = "same"  # or "valid", as Keras spells it
    dropout: float = 0.2  # after the conv part; 0 for none
    hidden: tuple[int, ...] = (128,)


def build_keras_cnn(config: KerasCnnConfig) -> nn.Module:
    """A seed-001 CNN from its config."""
    if config.padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {config.padding!r}")
    convs = [
        (filters, kernel, same_padding(kernel) if config.padding == "same" else 0) for filters, kernel in config.convs
    ]
    layers, channels, side = conv_blocks(convs, batch_norm=False, relu=True, pool=nn.MaxPool2d)
    if config.dropout > 0:
        layers["dropout"] = Dropout(config.dropout)
    return FeaturesClassifier(nn.Sequential(layers), dense_stack([channels * side * side, *config.hidden, NUM_CLASSES]))
