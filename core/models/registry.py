"""The named presets (in docs/reference.md's order): a config dataclass and its builder each."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.i18n import N_
from core.models.avgpool import AvgPoolCnnConfig, build_avgpool_cnn
from core.models.design import DesignConfig, build_design
from core.models.init import initialise
from core.models.keras import KerasCnnConfig, build_keras_cnn
from core.models.lenet import LeNetConfig, build_lenet
from core.models.lenet1998 import LeNet1998Config, build_lenet1998
from core.models.mlp import MlpConfig, build_mlp


class UnknownModelError(ValueError):
    """A model name that is not a preset; the message lists the valid names."""


@dataclass(frozen=True)
class Preset:
    """One named model: where it comes from, and the config it is built from."""

    name: str
    family: str  # lenet1998 | lenet | avgpool | keras | mlp
    source: str  # which source it reproduces (docs/sources.md)
    title: str  # one line for pickers
    description: str
    config: Any  # the family's frozen config dataclass
    builder: Callable[[Any], nn.Module] = dataclasses.field(repr=False, compare=False)

    @property
    def is_cnn(self) -> bool:
        return self.family != "mlp"


_PRESETS = [
    Preset(
        "lenet5_1998",
        "lenet1998",
        "seed 004, LeCun et al. 1998",
        N_("LeNet-5 (1998): subsampling, C3 table, RBF output"),
        N_(
            "The paper's LeNet-5: 28x28 padded to 32x32, C1 6@5x5, trainable subsampling S2, C3 "
            "wired by Table I, S4, C5 120, F6 84, Euclidean RBF output on fixed 7x12 bitmaps; "
            "squashing 1.7159 tanh(2a/3) everywhere."
        ),
        LeNet1998Config(),
        build_lenet1998,
    ),
    Preset(
        "lenet5",
        "lenet",
        "seed 004",
        N_("Modern LeNet: padding, BatchNorm, ReLU, max-pool"),
        N_(
            "conv 6@5x5 pad 2, BatchNorm, ReLU, max-pool, conv 16@5x5, BatchNorm, ReLU, max-pool, "
            "400-120-84-10 with ReLU."
        ),
        LeNetConfig(),
        build_lenet,
    ),
    Preset(
        "cnn_avgpool",
        "avgpool",
        "seed 000",
        N_("CNN with average pooling, no activation in the conv part"),
        N_(
            "conv 6@5x5, avg-pool, conv 16@5x5, avg-pool, 256-120-84-10; as in the seed, nothing "
            "nonlinear between the two convs."
        ),
        AvgPoolCnnConfig(batch_norm=False),
        build_avgpool_cnn,
    ),
    Preset(
        "cnn_avgpool_bn",
        "avgpool",
        "seed 000",
        N_("The same CNN with BatchNorm + ReLU after each conv"),
        N_("conv 6@5x5, BatchNorm, ReLU, avg-pool, conv 16@5x5, BatchNorm, ReLU, avg-pool, 256-120-84-10."),
        AvgPoolCnnConfig(batch_norm=True),
        build_avgpool_cnn,
    ),
    Preset(
        "keras_cnn_small",
        "keras",
        "seed 001",
        N_("Keras simple CNN: 32@5x5, pool, dropout, 128"),
        N_("32@5x5 same, ReLU, max-pool, dropout 0.2, dense 128, 10."),
        KerasCnnConfig(convs=((32, 5),), padding="same", dropout=0.2, hidden=(128,)),
        build_keras_cnn,
    ),
    Preset(
        "keras_cnn_deeper",
        "keras",
        "seed 001",
        N_("Keras larger CNN: 30@5x5, 15@3x3, 128, 50"),
        N_("30@5x5, max-pool, 15@3x3, max-pool, dropout 0.2, dense 128, 50, 10; ReLU throughout."),
        KerasCnnConfig(convs=((30, 5), (15, 3)), padding="valid", dropout=0.2, hidden=(128, 50)),
        build_keras_cnn,
    ),
    Preset(
        "keras_cnn_wide",
        "keras",
        "seed 001",
        N_("Keras wide CNN: 32@5x5, 64@5x5, dense 1024"),
        N_("32@5x5 same, max-pool, 64@5x5 same, max-pool, dense 1024, 10; ReLU throughout."),
        KerasCnnConfig(convs=((32, 5), (64, 5)), padding="same", dropout=0.0, hidden=(1024,)),
        build_keras_cnn,
    ),
    Preset(
        "mlp_784",
        "mlp",
        "seed 001",
        N_("MLP 784-784-10 (Keras baseline)"),
        N_("One hidden layer as wide as the image: 784-784-10, ReLU."),
        MlpConfig(hidden=(784,)),
        build_mlp,
    ),
    Preset(
        "mlp_256_128",
        "mlp",
        "seed 002",
        N_("MLP 784-256-128-10"),
        N_("Two hidden layers, ReLU between, none on the logits (the seed had one there)."),
        MlpConfig(hidden=(256, 128)),
        build_mlp,
    ),
    Preset(
        "mlp_128",
        "mlp",
        "seed 003",
        N_("MLP 784-128-10"),
        N_("One hidden layer of 128, ReLU."),
        MlpConfig(hidden=(128,)),
        build_mlp,
    ),
]

PRESETS: dict[str, Preset] = {preset.name: preset for preset in _PRESETS}


# The family of the networks students design (core.models.design): not a preset of the list above,
# but built, recorded and loaded as one, its configuration the design's notation.
DESIGN = "design"
DESIGNED = Preset(
    DESIGN,
    DESIGN,
    "",
    N_("A network designed here"),
    N_("A stack of layers written in the design notation."),
    DesignConfig(),
    build_design,
)


def names() -> list[str]:
    """Preset names in the order of docs/reference.md's table."""
    return list(PRESETS)


def get(name: str) -> Preset:
    """The preset called ``name`` (``design``: the designed networks' family), or ``UnknownModelError``
    listing the valid names."""
    if name == DESIGN:
        return DESIGNED
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise UnknownModelError(f"unknown model {name!r}; valid names: {', '.join(PRESETS)}") from None


def build(name: str, *, generator: torch.Generator | None = None, **overrides: Any) -> nn.Module:
    """A fresh model for preset ``name``; ``overrides`` replace fields of its config.

    With ``generator`` the initial weights are drawn from it (``core.models.init``): the same
    generator state gives the same weights, whatever other threads do with torch's global
    generator. Without one, the weights are whatever the layers' constructors drew (from the
    global generator): fine when they are about to be replaced by a checkpoint's or only the
    shapes matter. The model carries ``preset_name`` and ``config`` so that a checkpoint can
    record what to rebuild.
    """
    preset = get(name)
    fields = {f.name for f in dataclasses.fields(preset.config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"{name} has no setting {', '.join(unknown)}; settings: {', '.join(sorted(fields))}")
    config = dataclasses.replace(preset.config, **overrides)
    model = preset.builder(config)
    if generator is not None:
        initialise(model, generator)
    model.preset_name = name
    model.config = config
    return model


def is_cnn(name: str) -> bool:
    """Whether preset ``name`` has convolutional layers (all but the MLPs)."""
    return get(name).is_cnn
