"""Per-layer accounting: output shape, parameters, fixed values, connections, multiply-adds.

Everything is read off the model itself: shapes from one forward pass with hooks, parameters
from its tensors, connections and multiply-adds from each module's geometry. Nothing is a table
of constants, so LeNet-5 of 1998 coming out as the paper's figures is a check of the model.

Definitions (the 1998 paper's where it has one):

- ``trainable_params``: trainable values of the layer (``requires_grad``); ``params`` (in
  ``totals`` and the summary) is trainable + fixed, everywhere.
- ``fixed``: values that shape the computation but are not trained, e.g. the 840 RBF centres.
  BatchNorm's running mean/variance are not counted: they are running estimates of the data's
  statistics, not values of the design (they still live in the state_dict). Integer wiring such
  as C3's connection table is not counted either.
- ``connections``: output units x (inputs each unit reads + 1 for its bias, where it has one),
  for layers that combine several inputs (convolution, subsampling, pooling, fully connected,
  RBF). Elementwise modules (activations, BatchNorm, dropout) and reshapes (pad, flatten) add
  none: in the paper the squashing belongs to its unit, so LeNet-5 totals 340,908.
- ``macs``: multiply-adds of one forward pass for one image: output units x inputs read for
  weighted sums and average pooling, one per value for BatchNorm, none for max-pooling and
  activations.
- ``weighted_layer_params`` (in ``totals``): trainable parameters of the layers with
  connections, leaving out BatchNorm's scale and shift. It is the paper's way of counting, and
  how LeNet-5 (60,000) and the modern LeNet (61,706; 61,750 with its 44 BatchNorm values)
  compare like for like.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from core import models
from core.architecture.notation import units_product
from core.device import model_device
from core.i18n import N_, _
from core.models.lenet1998 import EuclideanRBF, PartialConv2d, ScaledTanh, Subsampling

WEIGHTED_KINDS = ("conv", "partial conv", "subsampling", "linear", "rbf")
# Every kind a row can have, as a page labels it (``kind_label``); the kinds themselves are codes.
KIND_LABELS = {
    "conv": N_("conv"),
    "partial conv": N_("partial conv"),
    "subsampling": N_("subsampling"),
    "linear": N_("linear"),
    "rbf": N_("rbf"),
    "batchnorm": N_("batchnorm"),
    "max pool": N_("max pool"),
    "avg pool": N_("avg pool"),
    "activation": N_("activation"),
    "dropout": N_("dropout"),
    "flatten": N_("flatten"),
    "pad": N_("pad"),
}
_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Softmax, ScaledTanh)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


@dataclass(frozen=True)
class LayerRow:
    """One executed layer of a model (batch dimension left out of ``output_shape``)."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    trainable_params: int
    fixed: int
    connections: int
    macs: int
    formula: str = ""
    connections_formula: str = ""
    dense_params: int | None = None  # partial conv only, when asked: every map reads every input
    dense_connections: int | None = None


def kind_label(kind: str) -> str:
    """A row's kind as a page shows it, in the session's language (an unknown kind as it is)."""
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _n(value: int) -> str:
    return f"{value:,}"


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)


def _fixed(module: nn.Module) -> int:
    frozen = sum(p.numel() for p in module.parameters(recurse=False) if not p.requires_grad)
    if isinstance(module, _BATCHNORMS):
        return frozen  # running statistics are estimates, not fixed values (module docstring)
    return frozen + sum(b.numel() for b in module.buffers(recurse=False) if b.is_floating_point())


def _describe(module: nn.Module, out_shape: tuple[int, ...], compare_dense: bool) -> dict:
    """kind, connections, macs and the arithmetic behind them, from the module's geometry."""
    units = math.prod(out_shape)
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        cin = module.in_channels // module.groups
        fan_in, bias = kh * kw * cin, int(module.bias is not None)
        plus = " + 1" if bias else ""
        return dict(
            kind="conv",
            connections=units * (fan_in + bias),
            macs=units * fan_in,
            formula=f"({kh}x{kw}x{cin}{plus}) x {module.out_channels} = {_n((fan_in + bias) * module.out_channels)}",
            connections_formula=f"{units_product(out_shape)} x ({kh}x{kw}x{cin}{plus}) = {_n(units * (fan_in + bias))}",
        )
    if isinstance(module, PartialConv2d):
        kh, kw = module.kernel_size
        area, maps = kh * kw, module.out_channels
        reads = module.maps_read()
        kernels = sum(reads)
        per_map = units // maps
        groups = " + ".join(f"{count}x{k}" for k, count in sorted(Counter(reads).items()))
        row = dict(
            kind="partial conv",
            connections=per_map * (kernels * area + maps),
            macs=per_map * kernels * area,
            formula=f"({groups}) x {kh}x{kw} + {maps} = {_n(kernels * area + maps)}",
            connections_formula=f"{out_shape[1]}x{out_shape[2]} x ({kernels} x {kh}x{kw} + {maps})"
            f" = {_n(per_map * (kernels * area + maps))}",
        )
        if compare_dense:
            dense = maps * (module.in_channels * area + 1)
            row.update(dense_params=dense, dense_connections=per_map * dense)
        return row
    if isinstance(module, Subsampling):
        window = module.window**2
        return dict(
            kind="subsampling",
            connections=units * (window + 1),
            macs=units * window,
            formula=f"(1 + 1) x {module.channels} = {_n(2 * module.channels)}",
            connections_formula=f"{units_product(out_shape)} x ({module.window}x{module.window} + 1)"
            f" = {_n(units * (window + 1))}",
        )
    if isinstance(module, nn.Linear):
        bias = int(module.bias is not None)
        plus = " + 1" if bias else ""
        total = module.out_features * (module.in_features + bias)
        return dict(
            kind="linear",
            connections=total,
            macs=module.out_features * module.in_features,
            formula=f"({module.in_features}{plus}) x {module.out_features} = {_n(total)}",
            connections_formula=f"{module.out_features} x ({module.in_features}{plus}) = {_n(total)}",
        )
    if isinstance(module, EuclideanRBF):
        classes, dim = module.centres.shape
        return dict(
            kind="rbf",
            connections=classes * dim,
            macs=classes * dim,
            formula=_("fixed: {classes} x {dim} = {total} (not trained)").format(
                classes=classes, dim=dim, total=_n(classes * dim)
            ),
            connections_formula=f"{classes} x {dim} = {_n(classes * dim)}",
        )
    if isinstance(module, _BATCHNORMS):
        channels = module.num_features
        formula = f"(1 + 1) x {channels} = {_n(2 * channels)}" if module.affine else _("no scale/shift")
        return dict(kind="batchnorm", connections=0, macs=units, formula=formula)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kh, kw = _pair(module.kernel_size)
        is_avg = isinstance(module, nn.AvgPool2d)
        return dict(
            kind="avg pool" if is_avg else "max pool",
            connections=units * kh * kw,
            macs=units * kh * kw if is_avg else 0,
            connections_formula=f"{units_product(out_shape)} x {kh}x{kw} = {_n(units * kh * kw)}",
        )
    if isinstance(module, _ACTIVATIONS):
        return dict(kind="activation", connections=0, macs=0)
    if isinstance(module, nn.Dropout):
        return dict(kind="dropout", connections=0, macs=0)
    if isinstance(module, nn.Flatten):
        return dict(kind="flatten", connections=0, macs=0)
    if isinstance(module, (nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d, nn.ZeroPad2d)):
        return dict(kind="pad", connections=0, macs=0)
    if _trainable(module) or _fixed(module):
        raise TypeError(
            f"layer accounting does not know {type(module).__name__}; add it to core/architecture/layers.py"
        )
    return dict(kind=type(module).__name__.lower(), connections=0, macs=0)


def _as_model(model_or_name: nn.Module | str) -> nn.Module:
    if isinstance(model_or_name, str):
        return models.build(model_or_name)  # fresh weights: only their number and shapes are read
    # A copy: the caller's model may be shared (st.cache_resource); no hooks or mode changes on it.
    return copy.deepcopy(model_or_name)


def layer_table(model_or_name: nn.Module | str, *, compare_dense_c3: bool = False) -> list[LayerRow]:
    """One row per executed leaf module of a preset (by name) or a model, in forward order.

    ``compare_dense_c3`` also reports, on each partial convolution, what it would cost if every
    output map read every input map (LeNet-5's C3: 2,416 parameters instead of 1,516).
    """
    model = _as_model(model_or_name).eval()
    names = {module: name for name, module in model.named_modules()}
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []

    def record(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        calls.append((module, tuple(output.shape[1:])))

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else torch.float32
        with torch.no_grad():
            model(torch.zeros(1, 1, 28, 28, device=model_device(model), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()

    used = Counter(module for module, _shape in calls)
    reused = [names[m] for m, count in used.items() if count > 1]
    if reused:
        raise ValueError(f"modules used more than once, so their counts would be ambiguous: {reused}")
    rows = []
    for module, shape in calls:
        info = _describe(module, shape, compare_dense_c3)
        rows.append(
            LayerRow(
                name=names[module],
                output_shape=shape,
                trainable_params=_trainable(module),
                fixed=_fixed(module),
                **info,
            )
        )
    return rows


def totals(rows: list[LayerRow]) -> dict[str, int]:
    """Sums over the rows; ``params`` is trainable + fixed (see the module docstring)."""
    trainable = sum(r.trainable_params for r in rows)
    fixed = sum(r.fixed for r in rows)
    return {
        "params": trainable + fixed,
        "trainable_params": trainable,
        "fixed": fixed,
        "connections": sum(r.connections for r in rows),
        "macs": sum(r.macs for r in rows),
        "weighted_layer_params": sum(r.trainable_params for r in rows if r.kind in WEIGHTED_KINDS),
        "batchnorm_params": sum(r.trainable_params for r in rows if r.kind == "batchnorm"),
    }


def summary_dict(model_or_name: nn.Module | str) -> dict:
    """``summary --json``'s payload (docs/reference.md) (plus fixed, formulas, MACs and the dense C3)."""
    rows = layer_table(model_or_name, compare_dense_c3=True)
    name = (
        model_or_name
        if isinstance(model_or_name, str)
        else getattr(model_or_name, "preset_name", type(model_or_name).__name__)
    )
    layers = []
    for row in rows:
        entry = {
            "name": row.name,
            "kind": row.kind,
            "output_shape": list(row.output_shape),
            "params": row.trainable_params + row.fixed,
            "trainable_params": row.trainable_params,
            "fixed": row.fixed,
            "connections": row.connections,
            "macs": row.macs,
            "formula": row.formula,
            "connections_formula": row.connections_formula,
        }
        if row.dense_params is not None:
            entry.update(dense_params=row.dense_params, dense_connections=row.dense_connections)
        layers.append(entry)
    total = totals(rows)
    return {"model": name, "layers": layers, **{f"total_{key}": value for key, value in total.items()}}
