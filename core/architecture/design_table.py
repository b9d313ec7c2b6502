"""A designed network's layer table (``summary --json``'s payload for the model a design builds,
its rows named as the design names its layers: conv1, pool1, flat1, dense1...) and where designs
start: the presets that are plain stacks, written in the notation (``from_preset``), and the source
write-ups' experiments as groups of them."""

from __future__ import annotations

from core import models
from core.architecture.layers import summary_dict
from core.i18n import N_
from core.models.design import Design, DesignError, build, parse


def design_summary(design: Design) -> dict:
    """``summary_dict`` of ``build(design)`` with the design's layer names, ``model`` "design" and
    ``notation``. The shapes come from the model's own forward pass; a design whose worked-out
    shapes differ from them is a bug of the notation's arithmetic, raised as one."""
    payload = summary_dict(build(design))
    rows = payload["layers"]
    measured = [tuple(row["output_shape"]) for row in rows]
    worked_out = [layer.shape for layer in design.layers]
    if measured != worked_out:
        raise RuntimeError(f"{design.notation!r}: the model's shapes {measured} are not the design's {worked_out}")
    for row, layer in zip(rows, design.layers):
        row["name"] = layer.name
    return {**payload, "model": "design", "notation": design.notation}


_NOT_A_STACK = N_(
    "{layer} is not a plain stack of layers (its partial C3 and its RBF output are not layers of the notation): start from lenet5 instead"
)


def from_preset(name: str) -> Design:
    """Preset ``name`` in the notation; LeNet-5 of 1998 is refused (its partial C3 and RBF output are
    not layers of a stack); an unknown name is ``UnknownModelError``."""
    preset = models.get(name)
    config, tokens = preset.config, []
    if preset.family == "lenet":
        for k, channels in enumerate(config.channels):
            padding = f"p{config.first_padding}" if k == 0 and config.first_padding else ""
            tokens += [
                f"conv{channels}k{config.kernel_size}{padding}",
                *(["bn"] if config.batch_norm else []),
                "relu",
                "max2",
            ]
    elif preset.family == "avgpool":
        for channels in config.channels:
            tokens += [f"conv{channels}k{config.kernel_size}", *(["bn", "relu"] if config.batch_norm else []), "avg2"]
    elif preset.family == "keras":
        for filters, kernel in config.convs:
            tokens += [f"conv{filters}k{kernel}" + ("psame" if config.padding == "same" else ""), "relu", "max2"]
        tokens += [f"drop{config.dropout:g}"] if config.dropout > 0 else []
    elif preset.family != "mlp":
        raise DesignError(name, _NOT_A_STACK)
    tokens += ["flat"] if preset.family != "mlp" else []
    for units in config.hidden:
        tokens += [f"dense{units}", "relu"]
    return parse(" ".join(tokens))


# The presets a design may start from (every plain stack, in the registry's order); LeNet-5 of 1998
# stays a reference to compare with.
STARTING_POINTS = tuple(name for name in models.names() if models.get(name).family != "lenet1998")

# Each source write-up's experiment, as the presets it compares: one click starts from each.
EXPERIMENTS = (
    ("seed 000", N_("average pooling, without and with BatchNorm"), ("cnn_avgpool", "cnn_avgpool_bn")),
    (
        "seed 001",
        N_("an MLP, then a small, a wide and a deeper CNN"),
        ("mlp_784", "keras_cnn_small", "keras_cnn_wide", "keras_cnn_deeper"),
    ),
    ("seed 002", N_("an MLP of two hidden layers"), ("mlp_256_128",)),
    ("seed 003", N_("an MLP of one small hidden layer"), ("mlp_128",)),
    ("seed 004", N_("LeNet-5 with today's parts"), ("lenet5",)),
)
