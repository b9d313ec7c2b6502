"""A digit's journey through a whole network, and any unit of it opened to the arithmetic that made it.

:func:`journey` runs one digit through a private copy of the model and keeps every stage in forward
order (a convolution, a normalisation, an activation, a pooling, a dense layer, the output) with
the input it read and the output it made, plus which maps fed which (C3 of the 1998 LeNet-5 reads
only some of S2's maps: its Table I). :func:`open_unit` then writes one unit's value out as a
person would compute it from the recorded input and the layer's own weights: a convolution's
input patches (one per map it reads), kernels, products and sum plus bias; a pooling window and
the value it keeps; a dense unit's largest contributions; the output's softmax. Each arithmetic
carries the model's own value beside it (``value``), so a page shows both and a test compares them.

A unit is named as a link names it, ``LAYER:MAP:ROW:COL`` (``conv1:3:12:7``; a dense unit or an
output class is ``LAYER:INDEX:0:0``), LAYER being the stage's short name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from core.device import model_device
from core.explain.feature_maps import conv_kernel, stage_kind
from core.models.copies import borrowed_copy
from core.models.lenet1998 import EuclideanRBF, ScaledTanh, Subsampling

UNIT = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):(\d{1,4}):(\d{1,3}):(\d{1,3})$")
TOP_CONTRIBUTIONS = 8  # a dense unit's largest products shown, by size


class UnitError(ValueError):
    """A unit this journey does not have: the message says which and what there is."""


@dataclass(frozen=True)
class UnitRef:
    layer: str
    map: int
    row: int = 0
    col: int = 0

    @classmethod
    def parse(cls, text: str) -> UnitRef:
        found = UNIT.match(text.strip()) if isinstance(text, str) else None
        if found is None:
            raise UnitError(f"{text!r} is not a unit: write LAYER:MAP:ROW:COL, e.g. conv1:3:12:7")
        return cls(found[1], int(found[2]), int(found[3]), int(found[4]))

    @property
    def text(self) -> str:
        return f"{self.layer}:{self.map}:{self.row}:{self.col}"


@dataclass(frozen=True, eq=False)  # tensors inside
class Stage:
    """One column of the journey: a layer's output for the digit, and the input it read."""

    name: str  # module path, e.g. "features.0" or "c3"
    short: str  # unique, as a link names it: "conv1", "relu2", "pool1", "dense1", "output"
    kind: str  # conv | norm | activation | pool | dense | output
    module: nn.Module  # the copy's module (its weights as the model has them)
    input: torch.Tensor  # C x H x W or N, float32 on the CPU
    output: torch.Tensor  # C x H x W or N
    feeds: tuple[tuple[int, ...], ...] = ()  # conv: feeds[m] = the input maps output map m reads
    evidence: torch.Tensor | None = None  # gradient x activation for the followed class: per map, or per unit

    @property
    def is_map(self) -> bool:
        return self.output.dim() == 3


_COUNTED = {"conv": "conv", "norm": "bn", "activation": "act", "pool": "pool", "dense": "dense"}


def journey(model: nn.Module, x: torch.Tensor, follow: int | None = None) -> list[Stage]:
    """Every stage of ``model`` on one normalised ``1x1x28x28`` digit, in forward order, the last
    one the output (logits). Hooks go on a private copy: ``model`` is never changed.

    With ``follow`` (a class), each stage also carries the evidence for that class: gradient x
    activation of its logit (Shrikumar et al. 2016) at the stage's output, summed over each map's
    units for a stage of maps. At the output it is the class's own logit; at the last dense layer's
    input, the products of that layer's row for the class (they sum to the logit less its bias)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"expected one input of shape 1 x 1 x 28 x 28, got {tuple(x.shape)}")
    with borrowed_copy(model) as clone:
        stages = _record(clone, x, follow)
    return stages


def _kind(module: nn.Module) -> str | None:
    if isinstance(module, (nn.Linear, EuclideanRBF)):
        return "dense"
    if isinstance(module, nn.Flatten):
        return None
    return stage_kind(module)


def _record(clone: nn.Module, x: torch.Tensor, follow: int | None) -> list[Stage]:
    seen: list[tuple[str, str, nn.Module, torch.Tensor, torch.Tensor]] = []

    def keep(name: str, kind: str, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if follow is not None and output.requires_grad:
            output.retain_grad()  # its gradient is read after the backward pass
        seen.append((name, kind, module, inputs[0][0].detach().float().cpu(), output))

    handles = [
        module.register_forward_hook(
            lambda mod, inputs, output, name=name, kind=kind: keep(name, kind, mod, inputs, output)
        )
        for name, module in clone.named_modules()
        if (kind := _kind(module)) is not None and not list(module.children())
    ]
    try:
        if follow is None:
            with torch.inference_mode():
                clone(x.to(model_device(clone)))
        else:  # the input needs a gradient so that every stage's output has one, frozen weights or not
            with torch.enable_grad():
                logits = clone(x.to(model_device(clone)).detach().clone().requires_grad_(True))
                logits[0, follow].backward()
    finally:
        for handle in handles:
            handle.remove()
    stages = []
    for short, (name, kind, module, given, output) in zip(short_names([k for _n, k, *_rest in seen]), seen):
        made = output[0].detach().float().cpu()
        evidence = None
        if follow is not None and output.grad is not None:
            evidence = (output.grad[0] * output[0]).detach().float().cpu()
            evidence = evidence.sum(dim=(-2, -1)) if evidence.dim() == 3 else evidence
        feeds = _feeds(module) if kind == "conv" else ()
        if made.dim() == 3 and made.shape[-1] * made.shape[-2] == 1 and kind != "conv":
            made = made.flatten()  # LeNet-5's C5 and what follows it: 120 numbers, not 120 maps of one pixel
        stages.append(Stage(name, short, "output" if short == "output" else kind, module, given, made, feeds, evidence))
    return stages


def short_names(kinds: list[str]) -> list[str]:
    """The stages' names as a link writes them, from their kinds in forward order: ``conv1``,
    ``act1``, ``pool1``, ``bn1``, ``dense1``..., the last dense layer ``output``."""
    counts: dict[str, int] = {}
    names = []
    for index, kind in enumerate(kinds):
        if kind == "dense" and index == len(kinds) - 1:
            names.append("output")
            continue
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{_COUNTED[kind]}{counts[kind]}")
    return names


def stage_kind_of(module: nn.Module) -> str | None:
    """A leaf module's kind as the journey counts it (None: not a stage)."""
    return _kind(module) if not list(module.children()) else None


def stage_modules(clone: nn.Module) -> dict[str, nn.Module]:
    """Each stage's module under the name :func:`short_names` gives it, in forward order (found by
    one forward pass of a blank digit: the order the modules are called in, not defined in)."""
    order: list[nn.Module] = []
    handles = [
        module.register_forward_hook(lambda m, _i, _o: order.append(m))
        for module in clone.modules()
        if stage_kind_of(module) is not None
    ]
    try:
        with torch.inference_mode():
            clone(torch.zeros(1, 1, 28, 28, device=model_device(clone)))
    finally:
        for handle in handles:
            handle.remove()
    return dict(zip(short_names([stage_kind_of(m) for m in order]), order))


def _feeds(module: nn.Module) -> tuple[tuple[int, ...], ...]:
    """For each output map, the input maps it reads: all of them, or C3's table."""
    if hasattr(module, "connection_table"):
        table = module.connection_table()
        return tuple(tuple(int(i) for i in torch.nonzero(row).flatten()) for row in table)
    return tuple(tuple(range(module.in_channels)) for _ in range(module.out_channels))


def stage(stages: list[Stage], layer: str) -> Stage:
    found = next((s for s in stages if s.short == layer), None)
    if found is None:
        raise UnitError(f"this network has no layer {layer!r}; its layers: {', '.join(s.short for s in stages)}")
    return found


# --- one unit's arithmetic ---------------------------------------------------------------------


@dataclass(frozen=True)
class Arithmetic:
    """How one unit's value was computed, as numbers a page writes out."""

    unit: UnitRef
    kind: str  # conv | norm | activation | pool | dense | output
    operation: str  # e.g. "Conv2d", "ReLU", "max", "average", "subsampling", "softmax"
    value: float  # the model's own value at the unit
    computed: float  # this arithmetic's result (equal to value within float rounding)
    inputs: tuple[int, ...] = ()  # conv: the input maps read; dense: the inputs of the largest products
    patches: tuple[tuple[tuple[float, ...], ...], ...] = ()  # conv / pool: per input map, k x k
    kernels: tuple[tuple[tuple[float, ...], ...], ...] = ()  # conv: per input map, k x k
    sums: tuple[float, ...] = ()  # conv: per input map, the sum of its products; dense: the products
    weights: tuple[float, ...] = ()  # dense: the largest products' weights; norm/subsampling: coefficients
    bias: float = 0.0
    given: float = 0.0  # activation / norm: the input value
    window: tuple[int, int, int, int] = (0, 0, 0, 0)  # conv / pool: top row, left col, rows, cols (input)
    extra: dict = field(default_factory=dict)  # output: logits, exps, total, probabilities


def open_unit(stages: list[Stage], unit: UnitRef | str) -> Arithmetic:
    """The arithmetic of ``unit`` (a :class:`UnitRef` or its text) in this journey. UnitError
    names a layer or a position the journey does not have."""
    unit = UnitRef.parse(unit) if isinstance(unit, str) else unit
    found = stage(stages, unit.layer)
    _check_position(found, unit)
    if found.kind == "conv":
        return _conv(found, unit)
    if found.kind == "pool":
        return _pool(found, unit)
    if found.kind in ("activation", "norm"):
        return _elementwise(found, unit)
    if found.kind == "dense":
        return _dense(found, unit)
    return _softmax(found, unit)


def _check_position(found: Stage, unit: UnitRef) -> None:
    if found.is_map:
        maps, rows, cols = found.output.shape
        if not (unit.map < maps and unit.row < rows and unit.col < cols):
            raise UnitError(
                f"{found.short} has {maps} maps of {rows}x{cols}: map 0-{maps - 1}, row 0-{rows - 1}, col 0-{cols - 1}"
            )
    elif not (unit.map < found.output.numel() and unit.row == unit.col == 0):
        raise UnitError(f"{found.short} has {found.output.numel()} units: write {found.short}:INDEX:0:0")


def _value(found: Stage, unit: UnitRef) -> float:
    return float(found.output[unit.map, unit.row, unit.col] if found.is_map else found.output[unit.map])


def _grid(t: torch.Tensor) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in t.tolist())


def _conv(found: Stage, unit: UnitRef) -> Arithmetic:
    module = found.module
    weight = conv_kernel(module)
    k_rows, k_cols = weight.shape[-2:]
    stride = _pair(getattr(module, "stride", 1))
    padding = _pair(getattr(module, "padding", 0))
    dilation = _pair(getattr(module, "dilation", 1))
    padded = F.pad(found.input, (padding[1], padding[1], padding[0], padding[0]))
    top, left = unit.row * stride[0], unit.col * stride[1]
    rows = slice(top, top + dilation[0] * (k_rows - 1) + 1, dilation[0])
    cols = slice(left, left + dilation[1] * (k_cols - 1) + 1, dilation[1])
    reads = found.feeds[unit.map]
    patches = [padded[i, rows, cols] for i in reads]
    kernels = [weight[unit.map, i] for i in reads]
    sums = [float((p.double() * k.double()).sum()) for p, k in zip(patches, kernels)]
    bias = float(module.bias[unit.map]) if module.bias is not None else 0.0
    return Arithmetic(
        unit,
        "conv",
        type(module).__name__,
        _value(found, unit),
        math.fsum(sums) + bias,
        inputs=tuple(reads),
        patches=tuple(_grid(p) for p in patches),
        kernels=tuple(_grid(k) for k in kernels),
        sums=tuple(sums),
        bias=bias,
        window=(top - padding[0], left - padding[1], k_rows, k_cols),
    )


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pool(found: Stage, unit: UnitRef) -> Arithmetic:
    module = found.module
    if isinstance(module, Subsampling):
        size, stride, padding = (module.window,) * 2, (module.window,) * 2, (0, 0)
    else:
        size, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        padding = _pair(module.padding)
    top, left = unit.row * stride[0] - padding[0], unit.col * stride[1] - padding[1]
    plane = found.input[unit.map]
    r0, c0 = max(top, 0), max(left, 0)
    window = plane[r0 : top + size[0], c0 : left + size[1]].double()
    if isinstance(module, Subsampling):
        coefficient, bias = float(module.weight[unit.map]), float(module.bias[unit.map])
        computed, operation, weights = float(window.sum()) * coefficient + bias, "subsampling", (coefficient,)
    elif isinstance(module, nn.MaxPool2d):
        computed, operation, weights, bias = float(window.max()), "max", (), 0.0
    else:  # average: a padded cell counts as a zero, as AvgPool2d's count_include_pad does by default
        divisor = size[0] * size[1] if getattr(module, "count_include_pad", True) else window.numel()
        computed, operation, weights, bias = float(window.sum()) / divisor, "average", (), 0.0
    return Arithmetic(
        unit,
        "pool",
        operation,
        _value(found, unit),
        computed,
        inputs=(unit.map,),
        patches=(_grid(window.float()),),
        weights=weights,
        bias=bias,
        window=(top, left, size[0], size[1]),
    )


def _elementwise(found: Stage, unit: UnitRef) -> Arithmetic:
    module = found.module
    given = float(found.input[unit.map, unit.row, unit.col] if found.is_map else found.input.flatten()[unit.map])
    if isinstance(module, nn.BatchNorm2d):
        mean, var = float(module.running_mean[unit.map]), float(module.running_var[unit.map])
        gamma, beta = float(module.weight[unit.map]), float(module.bias[unit.map])
        computed = (given - mean) / math.sqrt(var + module.eps) * gamma + beta
        return Arithmetic(
            unit,
            "norm",
            "BatchNorm2d",
            _value(found, unit),
            computed,
            weights=(mean, var, gamma),
            bias=beta,
            given=given,
            extra={"eps": module.eps},
        )
    if isinstance(module, ScaledTanh):
        computed = module.amplitude * math.tanh(module.slope * given)
    else:
        computed = float(module(torch.tensor([given], dtype=torch.float64))[0])
    return Arithmetic(unit, "activation", type(module).__name__, _value(found, unit), computed, given=given)


def _dense(found: Stage, unit: UnitRef) -> Arithmetic:
    module, inputs = found.module, found.input.flatten().double()
    if isinstance(module, EuclideanRBF):  # -(sum of squared differences to a fixed centre)
        centre = module.centres[unit.map].double()
        terms = -((inputs - centre) ** 2)
        weights, bias, operation = centre, 0.0, "rbf"
    else:
        weights = module.weight[unit.map].double()
        terms = inputs * weights
        bias, operation = (float(module.bias[unit.map]) if module.bias is not None else 0.0), "Linear"
    largest = torch.argsort(terms.abs(), descending=True)[:TOP_CONTRIBUTIONS].tolist()
    return Arithmetic(
        unit,
        "dense",
        operation,
        _value(found, unit),
        math.fsum(terms.tolist()) + bias,
        inputs=tuple(largest),
        sums=tuple(float(terms[i]) for i in largest),
        weights=tuple(float(weights[i]) for i in largest),
        bias=bias,
        extra={"inputs": [float(inputs[i]) for i in largest], "count": int(inputs.numel())},
    )


def _softmax(found: Stage, unit: UnitRef) -> Arithmetic:
    """The output layer's value (its dense arithmetic) and the softmax over every class's logit."""
    dense = _dense(found, unit)
    logits = [float(v) for v in found.output.double()]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]  # shifted by the largest logit: the same ratios, no overflow
    total = math.fsum(exps)
    probabilities = [e / total for e in exps]
    return Arithmetic(
        unit,
        "output",
        "softmax",
        dense.value,
        dense.computed,
        inputs=dense.inputs,
        sums=dense.sums,
        weights=dense.weights,
        bias=dense.bias,
        extra={
            **dense.extra,
            "logits": logits,
            "shift": top,
            "exps": exps,
            "total": total,
            "probabilities": probabilities,
        },
    )
