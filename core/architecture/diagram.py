"""A network as the stages of its diagram: the boxes of the 1998 paper's Fig. 2 and how each is made.

A stage is what a layer that combines inputs (convolution, subsampling, pooling, full
connection, RBF) produces; element-wise steps after it (activation, BatchNorm, dropout) are
listed on the stage rather than drawn as boxes of their own, as the paper draws them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from torch import nn

from core import models
from core.architecture import layers
from core.architecture.notation import shape_text
from core.i18n import N_, _

STAGE_KINDS = ("conv", "partial conv", "subsampling", "max pool", "avg pool", "linear", "rbf")
_AFTER_NAMES = {"activation": None, "batchnorm": "BatchNorm", "dropout": "dropout"}


@dataclass(frozen=True)
class Stage:
    """One box of the diagram."""

    name: str  # as the paper names it for LeNet-5 (C1, S2 ...), else the module's
    shape: tuple[int, ...]  # (maps, height, width) or (units,)
    operation: str  # how it is made from the stage before; "" for the input
    kind: str = "input"  # the kind of layer that makes it (core.architecture.layers' kinds)
    after: tuple[str, ...] = ()  # element-wise steps applied to it, in order
    trainable_params: int = 0  # of the layer that makes it
    note: str = ""

    @property
    def is_maps(self) -> bool:
        return len(self.shape) == 3

    @property
    def caption(self) -> str:
        return shape_text(self.shape)


def _activation_name(module: nn.Module) -> str:
    name = type(module).__name__
    return _("scaled tanh") if name == "ScaledTanh" else name


# How a convolution is drawn: (partly connected?, what follows) -> the whole phrase, one each.
_CONVOLUTIONS = {
    (False, ""): N_("{kh}x{kw} convolution"),
    (False, "padding"): N_("{kh}x{kw} convolution, padding {padding}"),
    (False, "full"): N_("{kh}x{kw} convolution (= full connection)"),
    (True, ""): N_("{kh}x{kw} convolution, partly connected"),
    (True, "padding"): N_("{kh}x{kw} convolution, partly connected, padding {padding}"),
    (True, "full"): N_("{kh}x{kw} convolution, partly connected (= full connection)"),
}


def _operation(module: nn.Module, kind: str, in_shape: tuple[int, ...], flattened: bool) -> str:
    if kind in ("conv", "partial conv"):
        kh, kw = module.kernel_size
        padding = getattr(module, "padding", (0, 0))
        then = ""
        if isinstance(padding, tuple) and any(padding):
            then = "padding"
        elif len(in_shape) == 3 and (in_shape[1], in_shape[2]) == (kh, kw):
            then = "full"  # a kernel as large as its input sees all of it
        padding = padding[0] if isinstance(padding, tuple) else padding
        return _(_CONVOLUTIONS[kind == "partial conv", then]).format(kh=kh, kw=kw, padding=padding)
    if kind == "subsampling":
        return _("{k}x{k} subsampling").format(k=module.window)
    if kind in ("max pool", "avg pool"):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return (_("{k}x{k} max pooling") if kind == "max pool" else _("{k}x{k} average pooling")).format(k=k)
    if kind == "linear":
        return _("flatten, full connection") if flattened else _("full connection")
    if kind == "rbf":
        return _("Gaussian connections")
    raise ValueError(f"no diagram operation for kind {kind!r}")


def _display_name(preset: str | None, module_name: str) -> str:
    """The paper's names for LeNet-5 of 1998 (C1, S2 ... OUTPUT, the last in the reader's
    language), else the module's own."""
    short = module_name.rsplit(".", 1)[-1]
    if preset != "lenet5_1998":
        return short
    return _("OUTPUT") if short == "output" else short.upper()


def stages(model_or_name: nn.Module | str) -> list[Stage]:
    """The input and every combining layer of a model (a preset name or a module), in order."""
    model = models.build(model_or_name) if isinstance(model_or_name, str) else model_or_name
    preset = model_or_name if isinstance(model_or_name, str) else getattr(model, "preset_name", None)
    rows = layers.layer_table(model)
    result = [Stage(_("INPUT") if preset == "lenet5_1998" else _("input"), (1, 28, 28), "")]
    flattened = False
    for row in rows:
        module = model.get_submodule(row.name)
        current = result[-1]
        if row.kind == "pad" and len(result) == 1:
            pad = row.output_shape[1] - current.shape[1]
            result[-1] = Stage(
                current.name, row.output_shape, "", note=_("28x28 with a {pad}-pixel border").format(pad=pad // 2)
            )
        elif row.kind == "flatten":
            flattened = True
        elif row.kind in STAGE_KINDS:
            result.append(
                Stage(
                    _display_name(preset, row.name),
                    row.output_shape,
                    _operation(module, row.kind, current.shape, flattened),
                    row.kind,
                    trainable_params=row.trainable_params,
                )
            )
            flattened = False
        else:
            label = _activation_name(module) if row.kind == "activation" else _AFTER_NAMES.get(row.kind)
            if isinstance(module, nn.Dropout):
                label = f"dropout {module.p:g}"
            if label:
                result[-1] = dataclasses.replace(current, after=current.after + (label,))
    return result
