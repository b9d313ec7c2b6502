"""Networks a student designs: a compact notation, its checks, and the model it builds.

``parse(text)`` reads the notation into a :class:`Design` (every layer named by kind and position,
its output shape, parameters and multiply-adds worked out) or refuses it with a
:class:`DesignError` that names the layer and the way out; ``build(design)`` makes the model from
the presets' own module classes. The registry names the family ``design`` (``DesignConfig``): a
checkpoint records the notation as its configuration and is rebuilt from it.

The notation, layers separated by spaces: ``conv{F}k{K}`` then optionally ``s{S}``, ``p{P}`` or
``psame``, ``d{D}`` in that order; ``max{K}`` / ``avg{K}`` then optionally ``s{S}`` (the stride
is the window unless given); ``bn``; ``relu``, ``tanh``, ``sigmoid``, ``stanh`` (1.7159
tanh(2a/3)); ``drop{P}``; ``flat``; ``dense{U}``. ``flat`` is implied before the first dense
layer, and the output layer of 10 always ends the stack (a final ``dense10`` is that layer).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from decimal import Decimal

import torch
from torch import nn

from core.i18n import N_, Deferred, MessageError
from core.models.common import INPUT_SIZE, NUM_CLASSES, Dropout, FeaturesClassifier, conv_output_size
from core.models.init import initialise, seeded
from core.models.lenet1998 import ScaledTanh

# Caps that keep one student's design from stalling a 2-core classroom machine: the largest preset
# (keras_cnn_wide) has 3.3 million parameters and 13.9 million multiply-adds per image.
MAX_LAYERS = 32  # the implied flatten and output layer included
MAX_PARAMS = 5_000_000
MAX_MACS = 20_000_000  # per image, one forward pass

RANGES = {  # field -> (lowest, highest, its name as a message says it)
    "filters": (1, 128, N_("filters")),
    "kernel": (1, 9, N_("kernel size")),
    "stride": (1, 4, N_("stride")),
    "padding": (0, 4, N_("padding")),
    "dilation": (1, 3, N_("dilation")),
    "window": (1, 4, N_("window size")),
    "units": (1, 1024, N_("units")),
}
_SYNTAX = {  # kind -> (its pattern, how to write it)
    "conv": (
        re.compile(r"conv(\d+)k(\d+)(?:s(\d+))?(?:p(\d+|same))?(?:d(\d+))?"),
        N_(
            "conv16k5p2: 16 filters, a 5x5 kernel, padding 2 (after the kernel: s for the stride, p or psame for the padding, d for the dilation, in that order)"
        ),
    ),
    "max": (
        re.compile(r"max(\d+)(?:s(\d+))?"),
        N_("max2: max pooling over 2x2 windows (s for another stride, e.g. max3s2)"),
    ),
    "avg": (
        re.compile(r"avg(\d+)(?:s(\d+))?"),
        N_("avg2: average pooling over 2x2 windows (s for another stride, e.g. avg3s2)"),
    ),
    "drop": (re.compile(r"drop(\d*\.?\d+)"), N_("drop0.2: dropout that zeroes each value with probability 0.2")),
    "dense": (re.compile(r"dense(\d+)"), N_("dense120: a fully connected layer of 120 units")),
}
# The refusals, one sentence each: the layer, what is wrong with it, and the way out.
_OUT_OF_RANGE = N_("{layer}: {what} must be {low} to {high}, not {value}")
_NOT_A_LAYER = N_(
    "{layer} is not a layer: the notation knows conv, max, avg, bn, relu, tanh, sigmoid, stanh, drop, flat and dense, e.g. conv16k5 relu max2 dense120"
)
_WRITE_AS = N_("{layer}: write this layer as {form}")
_DROPOUT_RANGE = N_("{layer}: the dropout probability must be at least 0 and below 1, not {value}")
_AFTER_FLAT = N_("{layer} needs feature maps, but {flat} has flattened them: move it before {flat}")
_SAME_NEEDS_ODD = N_(
    "{layer}: same padding needs an odd kernel (1, 3, 5, 7 or 9): change the kernel or give the padding as a number, e.g. p{half}"
)
_DILATED_TOO_BIG = N_(
    "{layer}: a {k}x{k} kernel at dilation {d} spans {reach}x{reach}, more than the {side}x{side} map: lower the dilation or use a {fit}x{fit} kernel"
)
_KERNEL_PAD_OR_SMALLER = N_(
    "{layer}: a {k}x{k} kernel does not fit the {side}x{side} map: pad by {pad} or use a {fit}x{fit} kernel"
)
_WINDOW_TOO_BIG = N_(
    "{layer}: a {k}x{k} window does not fit the {side}x{side} map: use a window of {side} or less, or remove this pooling"
)
_FLAT_TWICE = N_("{layer}: the values are already flat after {flat}: remove it")
_TOO_MANY_LAYERS = N_(
    "{layer}: a design may have at most {cap} layers on this machine, the flattening and the output layer included: remove some"
)
_TOO_MANY_PARAMS = N_(
    "{layer}: the network would have {total:,} parameters here, over this machine's cap of {cap:,}: use fewer filters or units, or pool before this layer"
)
_TOO_MANY_MACS = N_(
    "{layer}: the network would do {total:,} multiply-adds per image here, over this machine's cap of {cap:,}: use fewer filters or a smaller kernel, or pool or stride earlier"
)

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "stanh": ScaledTanh}
_PLAIN = ("bn", "flat", *ACTIVATIONS)
_NAME_OF = {"max": "pool", "avg": "pool"}  # both poolings count as pools in the layer names


class DesignError(MessageError, ValueError):
    """A design that cannot be built, said as one sentence that names the layer (``layer``)."""

    def __init__(self, layer: str, template: str, **values) -> None:
        self.layer = layer
        super().__init__(template, {"layer": layer, **values})


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a design; ``size`` is the filters, pooling window or units."""

    kind: str  # conv, max, avg, bn, relu, tanh, sigmoid, stanh, drop, flat, dense
    name: str = ""  # kind and position: conv1, pool2, dense3
    size: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int | str = 0  # a number, or "same"
    dilation: int = 1
    p: float = 0.0
    shape: tuple[int, ...] = ()  # its output, batch left out: (maps, height, width) or (units,)
    params: int = 0
    macs: int = 0  # per image, as core.architecture.layers counts them

    @property
    def token(self) -> str:
        """The layer in the notation, in its one canonical spelling."""
        if self.kind == "conv":
            stride = f"s{self.stride}" if self.stride != 1 else ""
            padding = f"p{self.padding}" if self.padding else ""
            return f"conv{self.size}k{self.kernel}{stride}{padding}" + (
                f"d{self.dilation}" if self.dilation != 1 else ""
            )
        if self.kind in ("max", "avg"):
            return f"{self.kind}{self.size}" + (f"s{self.stride}" if self.stride != self.size else "")
        if self.kind == "drop":
            return f"drop{Decimal(repr(self.p)):f}"  # 0.00001, never 1e-05: the notation has no exponents
        if self.kind == "dense":
            return f"dense{self.size}"
        return self.kind


@dataclass(frozen=True)
class Design:
    """A checked design: every layer (the implied flatten and output layer included) and the
    canonical notation that gives it back."""

    layers: tuple[LayerSpec, ...]
    notation: str

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)


def _in_range(name: str, field: str, value: int) -> int:
    low, high, said = RANGES[field]
    if not low <= value <= high:
        raise DesignError(name, _OUT_OF_RANGE, what=Deferred(said), low=low, high=high, value=value)
    return value


def _read(token: str, name: str) -> LayerSpec:
    """One token as a layer, its fields in range (shapes are checked later)."""
    kind = _kind_of(token)
    if kind is None:
        raise DesignError(token, _NOT_A_LAYER)
    if kind in _PLAIN:
        return LayerSpec(kind, name)
    pattern, form = _SYNTAX[kind]
    match = pattern.fullmatch(token)
    if match is None:
        raise DesignError(token, _WRITE_AS, form=Deferred(form))
    if kind == "conv":
        filters, kernel, stride, padding, dilation = match.groups()
        return LayerSpec(
            kind,
            name,
            size=_in_range(name, "filters", int(filters)),
            kernel=_in_range(name, "kernel", int(kernel)),
            stride=_in_range(name, "stride", int(stride or 1)),
            padding="same" if padding == "same" else _in_range(name, "padding", int(padding or 0)),
            dilation=_in_range(name, "dilation", int(dilation or 1)),
        )
    if kind in ("max", "avg"):
        window, stride = match.groups()
        window = _in_range(name, "window", int(window))
        return LayerSpec(kind, name, size=window, stride=_in_range(name, "stride", int(stride or window)))
    if kind == "drop":
        p = float(match.group(1))
        if not 0 <= p < 1:
            raise DesignError(name, _DROPOUT_RANGE, value=p)
        return LayerSpec(kind, name, p=p)
    return LayerSpec(kind, name, size=_in_range(name, "units", int(match.group(1))))


def _named(kind: str, counts: dict[str, int]) -> str:
    base = _NAME_OF.get(kind, kind)
    counts[base] = counts.get(base, 0) + 1
    return f"{base}{counts[base]}"


def _kind_of(token: str) -> str | None:
    return token if token in _PLAIN else next((k for k in _SYNTAX if token.startswith(k)), None)


def _resolved(text: str) -> list[LayerSpec]:
    """The layers as written, with the implied flatten and output layer put in, named in order."""
    tokens = text.replace(",", " ").lower().split()
    if tokens and tokens[-1] == f"dense{NUM_CLASSES}":
        tokens = tokens[:-1]  # the output layer, written out
    counts: dict[str, int] = {}
    layers = [_read(token, _named(_kind_of(token) or token, counts)) for token in tokens]
    first_dense = next((i for i, layer in enumerate(layers) if layer.kind == "dense"), len(layers))
    if not any(layer.kind == "flat" for layer in layers[:first_dense]):
        layers.insert(first_dense, LayerSpec("flat"))
    layers.append(LayerSpec("dense", size=NUM_CLASSES))
    counts = {}
    return [replace(layer, name=_named(layer.kind, counts)) for layer in layers]


def _padding(layer: LayerSpec) -> int:
    return layer.dilation * (layer.kernel - 1) // 2 if layer.padding == "same" else layer.padding


def _checked(layer: LayerSpec, shape: tuple[int, ...], flat_name: str | None) -> LayerSpec:
    """``layer`` with its output shape, parameters and multiply-adds, or the reason it cannot follow ``shape``."""
    units = math.prod(shape)
    if layer.kind in ("conv", "max", "avg") and len(shape) == 1:
        raise DesignError(layer.name, _AFTER_FLAT, flat=flat_name)
    if layer.kind == "conv":
        channels, side = shape[0], shape[1]
        reach = layer.dilation * (layer.kernel - 1) + 1
        if layer.padding == "same" and reach % 2 == 0:
            raise DesignError(layer.name, _SAME_NEEDS_ODD, half=(reach - 1) // 2)
        padding = _padding(layer)
        if reach > side + 2 * padding:
            fit = (side + 2 * padding - 1) // layer.dilation + 1
            fit -= 1 - fit % 2  # the largest odd kernel that fits: odd kernels have a centre
            pad = (reach - side + 1) // 2
            values = dict(k=layer.kernel, side=side, fit=fit)
            if layer.dilation > 1:
                raise DesignError(layer.name, _DILATED_TOO_BIG, d=layer.dilation, reach=reach, **values)
            raise DesignError(layer.name, _KERNEL_PAD_OR_SMALLER, pad=pad, **values)  # pad <= 4 as kernel <= 9
        out = conv_output_size(side, layer.kernel, padding=padding, stride=layer.stride, dilation=layer.dilation)
        fan_in = layer.kernel * layer.kernel * channels
        return replace(
            layer, shape=(layer.size, out, out), params=(fan_in + 1) * layer.size, macs=layer.size * out * out * fan_in
        )
    if layer.kind in ("max", "avg"):
        channels, side = shape[0], shape[1]
        if layer.size > side:
            raise DesignError(layer.name, _WINDOW_TOO_BIG, k=layer.size, side=side)
        out = conv_output_size(side, layer.size, stride=layer.stride)
        macs = channels * out * out * layer.size * layer.size if layer.kind == "avg" else 0
        return replace(layer, shape=(channels, out, out), macs=macs)
    if layer.kind == "flat":
        if len(shape) == 1:
            raise DesignError(layer.name, _FLAT_TWICE, flat=flat_name)
        return replace(layer, shape=(units,))
    if layer.kind == "bn":
        return replace(layer, shape=shape, params=2 * shape[0], macs=units)
    if layer.kind == "dense":
        return replace(layer, shape=(layer.size,), params=(units + 1) * layer.size, macs=units * layer.size)
    return replace(layer, shape=shape)  # activations and dropout keep the shape


def parse(text: str) -> Design:
    """The design ``text`` writes, checked layer by layer; a :class:`DesignError` when it cannot be built."""
    layers = _resolved(text)
    if len(layers) > MAX_LAYERS:
        raise DesignError(layers[MAX_LAYERS].name, _TOO_MANY_LAYERS, cap=MAX_LAYERS)
    shape: tuple[int, ...] = (1, INPUT_SIZE, INPUT_SIZE)
    checked, params, macs, flat_name = [], 0, 0, None
    for layer in layers:
        layer = _checked(layer, shape, flat_name)
        params, macs = params + layer.params, macs + layer.macs
        if params > MAX_PARAMS:
            raise DesignError(layer.name, _TOO_MANY_PARAMS, total=params, cap=MAX_PARAMS)
        if macs > MAX_MACS:
            raise DesignError(layer.name, _TOO_MANY_MACS, total=macs, cap=MAX_MACS)
        flat_name = layer.name if layer.kind == "flat" else flat_name
        shape = layer.shape
        checked.append(layer)
    return Design(tuple(checked), _notation(checked))


def _notation(layers: list[LayerSpec]) -> str:
    """The canonical text: the output layer left implied, and the flattening too where it is the first layer
    right before a dense one (an MLP); a last hidden ``dense10`` keeps the output written, so it stays hidden."""
    body = layers[:-1]
    if len(layers) >= 2 and layers[0].kind == "flat" and layers[1].kind == "dense":
        body = body[1:]
    tokens = [layer.token for layer in body]
    if tokens and tokens[-1] == f"dense{NUM_CLASSES}":
        tokens.append(tokens[-1])
    return " ".join(tokens)


def build(design: Design, *, generator: torch.Generator | None = None) -> nn.Module:
    """The design as a model: a FeaturesClassifier (the layers before the flattening, then after it)
    named as the design names its layers, weights drawn from ``generator`` (seed 0 without one), never
    from torch's global generator. The model carries ``notation``."""
    with torch.device("meta"):  # modules made without drawing weights; initialise draws them
        features, classifier, shape, after_flat = {}, {}, (1, INPUT_SIZE, INPUT_SIZE), False
        for layer in design.layers:
            if layer.kind == "flat":
                after_flat = True
            else:
                (classifier if after_flat else features)[layer.name] = _module(layer, shape)
            shape = layer.shape
        model = FeaturesClassifier(
            nn.Sequential(OrderedDict(features)) if features else None, nn.Sequential(OrderedDict(classifier))
        )
    model = model.to_empty(device="cpu")
    initialise(model, generator if generator is not None else seeded(0))
    model.notation = design.notation
    return model


def _module(layer: LayerSpec, shape: tuple[int, ...]) -> nn.Module:
    if layer.kind == "conv":
        return nn.Conv2d(
            shape[0], layer.size, layer.kernel, stride=layer.stride, padding=_padding(layer), dilation=layer.dilation
        )
    if layer.kind == "max":
        return nn.MaxPool2d(layer.size, stride=layer.stride)
    if layer.kind == "avg":
        return nn.AvgPool2d(layer.size, stride=layer.stride)
    if layer.kind == "bn":
        return nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
    if layer.kind == "drop":
        return Dropout(layer.p)
    if layer.kind == "dense":
        return nn.Linear(shape[0], layer.size)
    return ACTIVATIONS[layer.kind]()


@dataclass(frozen=True)
class DesignConfig:
    """The design family's configuration, as a checkpoint records it: the notation."""

    notation: str = ""


def build_design(config: DesignConfig) -> nn.Module:
    """The registry's builder: the model ``config.notation`` writes (DesignError when it cannot be built)."""
    return build(parse(config.notation))


def checkpoint_name(design: Design) -> str:
    """``design_`` and 8 hex digits of the canonical notation's SHA-256: the same design, the same name."""
    return "design_" + hashlib.sha256(design.notation.encode()).hexdigest()[:8]
