"""What the /architecture page explains, computed: LeNet-5 of 1998 against the modern LeNet,
C3's connection table and the arithmetic of each of its maps, kernels vs filters vs channels.

Every number is read off the models or ``core.architecture.layers``; nothing here is typed in from the paper.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.architecture import layers
from core.i18n import _
from core.models.lenet1998 import PartialConv2d

PAPER, MODERN = "lenet5_1998", "lenet5"


@dataclass(frozen=True)
class Difference:
    """One way the 1998 LeNet-5 and the modern LeNet differ, with the numbers of each."""

    aspect: str
    paper: str
    modern: str
    sentence: str


def _rows(name: str) -> dict[str, layers.LayerRow]:
    return {row.name: row for row in layers.layer_table(name)}


def lenet_comparison() -> list[Difference]:
    """The differences between ``lenet5_1998`` and ``lenet5``, each in one sentence."""
    paper, modern = _rows(PAPER), _rows(MODERN)
    p_tot, m_tot = layers.totals(list(paper.values())), layers.totals(list(modern.values()))
    c3, conv2 = paper["c3"], modern["features.conv2"]
    s2, out_p, out_m = paper["s2"], paper["output"], modern["classifier.fc3"]
    n = lambda v: f"{v:,}"  # noqa: E731
    # Each total in words once, for its cells and its sentence.
    p_params, m_params = n(p_tot["weighted_layer_params"]), n(m_tot["weighted_layer_params"])
    p_connections, m_connections = n(p_tot["connections"]), n(m_tot["connections"])
    return [
        Difference(
            _("parameters"),
            p_params,
            m_params,
            _(
                "LeNet-5 trains {paper} parameters; the modern LeNet's convolutions and dense layers have {modern} "
                "(plus {batchnorm} BatchNorm scales and shifts), mostly because its second convolution is fully "
                "connected and its output is a trained linear layer."
            ).format(paper=p_params, modern=m_params, batchnorm=n(m_tot["batchnorm_params"])),
        ),
        Difference(
            "C3 / conv2",
            n(c3.trainable_params),
            n(conv2.trainable_params),
            _("C3 reads only some of S2's maps (Table I), so it has {c3}; conv2 reads all of them: {conv2}.").format(
                c3=c3.formula, conv2=conv2.formula
            ),
        ),
        Difference(
            "S2 / pool1",
            _("subsampling, {n} parameters").format(n=n(s2.trainable_params)),
            _("max-pooling, 0 parameters"),
            _(
                "S2 adds each 2x2 block, multiplies the sum by a trained coefficient and adds a trained bias, two "
                "per map ({formula}); max-pooling keeps the largest of the four values and learns "
                "nothing."
            ).format(formula=s2.formula),
        ),
        Difference(
            _("output"),
            _("RBF, {n} fixed values").format(n=n(out_p.fixed)),
            _("linear, {n} parameters").format(n=n(out_m.trainable_params)),
            _(
                "The 1998 output unit of each digit is the squared distance between F6's 84 values and a fixed "
                "7x12 bitmap of that digit ({units} x {size} = {total} values, none trained); the modern output "
                "is a trained linear layer, {formula}."
            ).format(
                units=out_p.output_shape[0],
                size=out_p.fixed // out_p.output_shape[0],
                total=n(out_p.fixed),
                formula=out_m.formula,
            ),
        ),
        Difference(
            _("activation"),
            "1.7159 tanh(2a/3)",
            _("BatchNorm, then ReLU"),
            _(
                "Every 1998 layer up to F6 squashes its sums with the scaled tanh 1.7159 tanh(2a/3); the "
                "modern convolutions are followed by BatchNorm and ReLU, which train faster."
            ),
        ),
        Difference(
            _("connections"),
            p_connections,
            m_connections,
            _(
                "A forward pass of LeNet-5 uses {paper_connections} connections and {paper_macs} multiply-adds; "
                "the modern one {modern_connections} and {modern_macs}, the partial C3 being the main "
                "saving."
            ).format(
                paper_connections=p_connections,
                paper_macs=n(p_tot["macs"]),
                modern_connections=m_connections,
                modern_macs=n(m_tot["macs"]),
            ),
        ),
    ]


def partial_conv(model: nn.Module) -> PartialConv2d | None:
    """The model's partly connected convolution (LeNet-5's C3), or None."""
    return next((m for m in model.modules() if isinstance(m, PartialConv2d)), None)


def connection_grid(conv: PartialConv2d) -> np.ndarray:
    """Bool ``in_maps x out_maps`` (6 x 16 for C3): the paper's Table I, rows S2 maps, columns C3 maps."""
    return conv.connection_table().T.numpy()


@dataclass(frozen=True)
class MapArithmetic:
    """Where one output map of a partial convolution gets its parameters."""

    index: int
    inputs: tuple[int, ...]
    kernel: tuple[int, int]
    params: int
    connections: int
    formula: str
    connections_formula: str


def map_arithmetic(conv: PartialConv2d, index: int, out_size: tuple[int, int]) -> MapArithmetic:
    """The parameters and connections of output map ``index`` (``out_size``: its height, width)."""
    if not 0 <= index < conv.out_channels:
        raise ValueError(f"map index must be in 0..{conv.out_channels - 1}, got {index}")
    inputs = tuple(int(i) for i in conv.in_index[conv.out_index == index].tolist())
    kh, kw = conv.kernel_size
    params = len(inputs) * kh * kw + 1
    units = out_size[0] * out_size[1]
    return MapArithmetic(
        index,
        inputs,
        (kh, kw),
        params,
        units * params,
        _("{maps} kernels x {kh}x{kw} + 1 bias = {weights} + 1 = {params}").format(
            maps=len(inputs), kh=kh, kw=kw, weights=len(inputs) * kh * kw, params=f"{params:,}"
        ),
        _("{height}x{width} outputs x {params} = {total}").format(
            height=out_size[0], width=out_size[1], params=params, total=f"{units * params:,}"
        ),
    )


def partial_conv_total(conv: PartialConv2d) -> str:
    """The layer's parameters grouped by how many maps each output reads, e.g. for C3:
    ``6 x (3x5x5 + 1) + 9 x (4x5x5 + 1) + 1 x (6x5x5 + 1) = 456 + 909 + 151 = 1,516``."""
    kh, kw = conv.kernel_size
    reads = Counter(conv.maps_read())
    groups = sorted(reads.items())
    terms = [f"{maps} x ({k}x{kh}x{kw} + 1)" for k, maps in groups]
    values = [maps * (k * kh * kw + 1) for k, maps in groups]
    return f"{' + '.join(terms)} = {' + '.join(f'{v:,}' for v in values)} = {sum(values):,}"


@dataclass(frozen=True)
class ConvAnatomy:
    """A convolution's weight tensor read as filters, kernels and channels."""

    name: str
    weight_shape: tuple[int, ...]  # as stored: (filters, channels, kh, kw); partial: (kernels, kh, kw)
    in_shape: tuple[int, int, int]  # channels @ height x width of its input
    out_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    kernels_per_filter: tuple[int, ...]  # one entry per filter (all equal unless partly connected)

    @property
    def filters(self) -> int:
        return self.out_shape[0]

    @property
    def kernels(self) -> int:
        return sum(self.kernels_per_filter)


def conv_anatomy(model: nn.Module) -> list[ConvAnatomy]:
    """Every convolution of ``model`` with the shapes around it, in forward order."""
    rows = layers.layer_table(model)
    result, previous = [], (1, 28, 28)
    for row in rows:
        module = model.get_submodule(row.name)
        if row.kind in ("conv", "partial conv"):
            kh, kw = module.kernel_size
            if row.kind == "conv":
                per_filter = (module.in_channels // module.groups,) * module.out_channels
            else:
                per_filter = tuple(module.maps_read())
            result.append(
                ConvAnatomy(row.name, tuple(module.weight.shape), previous, row.output_shape, (kh, kw), per_filter)
            )
        previous = row.output_shape
    return result


def filter_kernels(model: nn.Module, layer: str, index: int) -> tuple[list[int], np.ndarray]:
    """Filter ``index`` of conv ``layer``: the input channels it reads and its kernels (k x kh x kw)."""
    module = model.get_submodule(layer)
    with torch.no_grad():
        if isinstance(module, PartialConv2d):
            channels = module.in_index[module.out_index == index].tolist()
            weight = module.dense_weight()[index, channels]
        else:
            weight = module.weight[index]
            channels = list(range(weight.shape[0]))
    return [int(c) for c in channels], weight.detach().cpu().numpy()
