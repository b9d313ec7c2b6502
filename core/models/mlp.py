"""Multilayer perceptrons on the flattened 784 pixels (seeds 001, 002, 003).

- ``mlp_784`` (seed 001's Keras baseline): 784 -> 784 -> 10;
- ``mlp_256_128`` (seed 002): 784 -> 256 -> 128 -> 10. The seed also put a ReLU on the output
  logits, which clips every negative score to 0; we don't;
- ``mlp_128`` (seed 003): 784 -> 128 -> 10.

ReLU between layers, none on the logits; the Keras softmax output layers become logits for
cross-entropy. PyTorch's default initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.models.common import INPUT_SIZE, NUM_CLASSES, FeaturesClassifier, dense_stack


@dataclass(frozen=True)
class MlpConfig:
    """Hidden layer sizes between the 784 pixels and the 10 logits."""

    hidden: tuple[int, ...] = (128,)


def build_mlp(config: MlpConfig) -> nn.Module:
    """An MLP from its config."""
    return FeaturesClassifier(None, dense_stack([INPUT_SIZE * INPUT_SIZE, *config.hidden, NUM_CLASSES]))
