"""Which input pixels a unit can see: receptive fields by formula (``core.explain.field_check``
checks the formula against a gradient).

The formula (Araujo, Norris, Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019), composed layer by layer in forward order, for a layer with kernel k,
stride s, padding p and dilation d over a layer with field size r, jump j (the input-pixel
distance between neighbouring units) and first pixel f (the top/left edge of unit 0's field):

    r_out = r_in + (k - 1) d j_in        j_out = j_in s        f_out = f_in - p j_in

Unit i's field is then pixels f + i j .. f + i j + r - 1 along each side, and its centre
``start + i j`` with start = f + (r - 1) / 2 (the "start" of the Distill article). Padding
layers count as k = 1, s = 1. Coordinates are pixels of the 28x28 input; negative ones and
those past 27 are padding (lenet5_1998's own 28 -> 32 padding included, so its C5 field of
32 spans pixels -2..29). Boxes on the input are clipped to it.

A unit of any layer sees one rectangle of the input (all channels alike: the presets take one
input channel, and C3's partial table only chooses among S2 maps that all see the same
pixels). The formula gives the bounding box; a dilated kernel would leave holes in it.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core import models
from core.device import model_device
from core.i18n import _
from core.models.common import INPUT_SIZE
from core.models.lenet1998 import PartialConv2d, Subsampling

_PADS = (nn.ConstantPad2d, nn.ZeroPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)


class ReceptiveFieldError(ValueError):
    """A layer or unit that has no receptive field here; the message says which exist."""


@dataclass(frozen=True)
class LayerField:
    """One conv, pooling or padding layer: its geometry and its units' receptive field."""

    name: str  # module path, e.g. "features.conv1" or "c3"
    kind: str  # conv | pool | pad
    layer: str  # the module's class, e.g. "Conv2d", "Subsampling"
    kernel: int
    stride: int
    padding: int
    dilation: int
    in_size: tuple[int, int]  # H x W the layer reads (before its own padding)
    out_size: tuple[int, int]  # H x W of its output
    channels: int  # output channels
    size: int  # receptive-field side r, in input pixels
    jump: int  # input pixels between neighbouring units
    first: int  # top/left pixel of unit 0's field (negative: padding)

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def start(self) -> float:
        """Centre of unit 0's field on the input (the Distill article's start offset)."""
        return self.first + (self.size - 1) / 2


@dataclass(frozen=True)
class PixelBox:
    """Rows ``top..bottom`` and columns ``left..right`` of the input, inclusive, clipped to it.

    ``unclipped`` is the same box before clipping, padding included. Empty (``height == 0``)
    for a padding unit, which sees no input pixel.
    """

    top: int
    left: int
    bottom: int
    right: int
    unclipped: tuple[int, int, int, int]
    side: int = INPUT_SIZE

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top + 1)

    @property
    def width(self) -> int:
        return max(0, self.right - self.left + 1)

    @property
    def is_empty(self) -> bool:
        return self.height == 0 or self.width == 0

    def mask(self) -> np.ndarray:
        """Bool ``side x side``: True on the pixels inside the box."""
        inside = np.zeros((self.side, self.side), dtype=bool)
        if not self.is_empty:
            inside[self.top : self.bottom + 1, self.left : self.right + 1] = True
        return inside


@dataclass(frozen=True)
class TraceStep:
    """The block of one layer's output units (or of input pixels) a chosen unit depends on.

    ``rows``/``cols`` are (first, last), inclusive, in that layer's output grid; first > last
    when the unit depends on none of them (a padding unit).
    """

    name: str  # a layer name, or "input"
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def count(self) -> int:
        return max(0, self.rows[1] - self.rows[0] + 1) * max(0, self.cols[1] - self.cols[0] + 1)


def _square(value, what: str, module: nn.Module) -> int:
    if isinstance(value, int):
        return value
    values = tuple(value)
    if len(set(values)) != 1:
        raise ReceptiveFieldError(
            _("{module} has a non-square {what} {values}: only square geometry is supported").format(
                module=type(module).__name__, what=what, values=values
            )
        )
    return int(values[0])


def layer_geometry(module: nn.Module) -> tuple[str, int, int, int, int] | None:
    """(kind, kernel, stride, padding, dilation) of a conv, pooling or padding module, else None."""
    if isinstance(module, nn.Conv2d):
        kernel, dilation = _square(module.kernel_size, "kernel", module), _square(module.dilation, "dilation", module)
        if isinstance(module.padding, str):  # "same" (stride 1) or "valid"
            padding = dilation * (kernel - 1) // 2 if module.padding == "same" else 0
        else:
            padding = _square(module.padding, "padding", module)
        return "conv", kernel, _square(module.stride, "stride", module), padding, dilation
    if isinstance(module, PartialConv2d):
        return "conv", _square(module.kernel_size, "kernel", module), 1, 0, 1
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        dilation = _square(getattr(module, "dilation", 1), "dilation", module)
        return (
            "pool",
            _square(module.kernel_size, "kernel", module),
            _square(module.stride, "stride", module),
            _square(module.padding, "padding", module),
            dilation,
        )
    if isinstance(module, Subsampling):
        return "pool", module.window, module.window, 0, 1
    if isinstance(module, _PADS):
        left, right, top, bottom = module.padding
        if not left == right == top == bottom:
            raise ReceptiveFieldError(
                _("{module} pads unevenly {padding}: only the same padding on all sides is supported").format(
                    module=type(module).__name__, padding=module.padding
                )
            )
        return "pad", 1, 1, int(left), 1
    return None


def _forward_order(model: nn.Module, side: int) -> list[tuple[str, nn.Module, tuple, tuple]]:
    """(name, module, input shape, output shape) of every leaf module, in the order it runs."""
    calls: list[tuple[str, nn.Module, tuple, tuple]] = []
    handles = []
    for name, module in model.named_modules():
        if list(module.children()):
            continue

        def record(mod, inputs, output, name=name):
            if inputs and isinstance(inputs[0], torch.Tensor) and isinstance(output, torch.Tensor):
                calls.append((name, mod, tuple(inputs[0].shape), tuple(output.shape)))

        handles.append(module.register_forward_hook(record))
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, side, side, device=model_device(model), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
    return calls


def layer_fields(model: nn.Module | str, input_size: int = INPUT_SIZE) -> list[LayerField]:
    """The conv, pooling and padding layers of a model (or preset name), in forward order, each
    with the receptive field of its units. Empty for a model without convolutions.

    A model passed in is not touched: the forward pass that finds the layer order runs on a
    deep copy. Raises ReceptiveFieldError for a layer that moves pixels in an unknown way.
    """
    if isinstance(model, str):
        return _fields_of(models.build(model).eval(), input_size)
    with _fields_lock:
        known = _fields_cache.get(model, {}).get(input_size)
    if known is None:  # fields depend on the layers alone: once per model object is enough
        known = tuple(_fields_of(copy.deepcopy(model).eval(), input_size))
        with _fields_lock:
            _fields_cache.setdefault(model, {})[input_size] = known
    return list(known)


_fields_cache: weakref.WeakKeyDictionary[nn.Module, dict[int, tuple[LayerField, ...]]] = weakref.WeakKeyDictionary()
_fields_lock = threading.Lock()


def _fields_of(model: nn.Module, input_size: int) -> list[LayerField]:
    """:func:`layer_fields` on a model of our own (hooks go on it for one forward pass)."""
    fields: list[LayerField] = []
    size, jump, first = 1, 1, 0
    for name, module, shape_in, shape_out in _forward_order(model, input_size):
        if len(shape_in) != 4:
            break  # flattened: no more pixels, only features
        geometry = layer_geometry(module)
        if geometry is None:
            if len(shape_out) == 4 and shape_out[-2:] != shape_in[-2:]:
                raise ReceptiveFieldError(
                    _(
                        "{name} ({module}) changes the map size {before} -> {after} in a way this module does not know"
                    ).format(name=name, module=type(module).__name__, before=shape_in[-2:], after=shape_out[-2:])
                )
            continue
        kind, kernel, stride, padding, dilation = geometry
        first -= padding * jump
        size += (kernel - 1) * dilation * jump
        jump *= stride
        fields.append(
            LayerField(
                name,
                kind,
                type(module).__name__,
                kernel,
                stride,
                padding,
                dilation,
                tuple(shape_in[-2:]),
                tuple(shape_out[-2:]),
                int(shape_out[1]),
                size,
                jump,
                first,
            )
        )
    return fields


def find_layer(fields: Sequence[LayerField], layer: str) -> LayerField:
    """The field of ``layer`` (full module path or its last part, e.g. "conv2" or "c3")."""
    for field in fields:
        if layer in (field.name, field.short_name):
            return field
    names = ", ".join(f.short_name for f in fields) or _("none (no convolutions)")
    raise ReceptiveFieldError(
        _("no conv, pooling or padding layer {layer}; layers: {names}").format(layer=repr(layer), names=names)
    )


def _box(top: int, left: int, height: int, width: int, side: int) -> PixelBox:
    bottom, right = top + height - 1, left + width - 1
    return PixelBox(
        max(top, 0), max(left, 0), min(bottom, side - 1), min(right, side - 1), (top, left, bottom, right), side
    )


def unit_box(
    fields: Sequence[LayerField], layer: str, channel: int, row: int, col: int, input_size: int = INPUT_SIZE
) -> PixelBox:
    """The input pixels unit (channel, row, col) of ``layer`` can see, by the formula."""
    field = find_layer(fields, layer)
    height, width = field.out_size
    if not (0 <= channel < field.channels and 0 <= row < height and 0 <= col < width):
        raise ReceptiveFieldError(
            _(
                "{layer} has units channel 0..{last_channel}, row 0..{last_row}, col "
                "0..{last_col}; got ({channel}, {row}, {col})"
            ).format(
                layer=field.short_name,
                last_channel=field.channels - 1,
                last_row=height - 1,
                last_col=width - 1,
                channel=channel,
                row=row,
                col=col,
            )
        )
    return _box(field.first + row * field.jump, field.first + col * field.jump, field.size, field.size, input_size)


def class_box(fields: Sequence[LayerField], input_size: int = INPUT_SIZE) -> PixelBox:
    """The pixels an output class sees: every unit of the last spatial layer, joined.

    An output unit reads all of them through the fully connected layers. The whole input for
    a model without convolutions.
    """
    if not fields:
        return _box(0, 0, input_size, input_size, input_size)
    last = fields[-1]
    height, width = last.out_size
    return _box(
        last.first, last.first, last.size + (height - 1) * last.jump, last.size + (width - 1) * last.jump, input_size
    )


def trace_back(
    fields: Sequence[LayerField], layer: str, row: int, col: int, input_size: int = INPUT_SIZE
) -> list[TraceStep]:
    """From unit (row, col) of ``layer`` back to the input: the block of units of every earlier
    layer it depends on, then the input pixels (clipped at each layer, so padding drops out).
    """
    index = fields.index(find_layer(fields, layer))
    if (input_size, input_size) != fields[0].in_size:
        raise ReceptiveFieldError(
            _("the fields were computed for a {computed} input, not {size}").format(
                computed=fields[0].in_size, size=input_size
            )
        )
    rows, cols = (row, row), (col, col)
    steps = [TraceStep(fields[index].name, rows, cols)]
    for position in range(index, -1, -1):
        field = fields[position]
        reach = field.dilation * (field.kernel - 1)
        height, width = field.in_size

        def back(span: tuple[int, int], limit: int) -> tuple[int, int]:
            low, high = span[0] * field.stride - field.padding, span[1] * field.stride - field.padding + reach
            return max(low, 0), min(high, limit - 1)

        rows, cols = back(rows, height), back(cols, width)
        name = fields[position - 1].name if position else "input"
        steps.append(TraceStep(name, rows, cols))
    return steps
