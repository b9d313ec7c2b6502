"""The networks: ten named presets (docs/reference.md lists them), one file per family
(``registry`` names them, ``common`` and ``init`` are shared by the families), their checkpoints
(``checkpoints``: save and load, verified), running them (``inference``: predict, evaluate),
private and pooled copies of a shared model (``copies``), ONNX files (``onnx_export``) and networks
a student designs in a one-line notation (``design``).

The package's own names: ``names()``, ``build(name, **overrides)``, ``PRESETS``, ``Preset``,
``UnknownModelError``, ``DESIGN`` (the designed networks' family), ``last_conv_layer(model)``, ``is_cnn(name)``, ``rbf_bitmaps()``.

May import: core.data, core.device, core.files, core.i18n.
"""

from __future__ import annotations

from torch import nn

from core.models.lenet1998 import PartialConv2d
from core.models.rbf_bitmaps import rbf_bitmaps
from core.models.registry import DESIGN, PRESETS, Preset, UnknownModelError, build, get, is_cnn, names

__all__ = [
    "DESIGN",
    "PRESETS",
    "Preset",
    "UnknownModelError",
    "build",
    "get",
    "is_cnn",
    "last_conv_layer",
    "names",
    "rbf_bitmaps",
    "CONV_TYPES",
]

CONV_TYPES = (nn.Conv2d, PartialConv2d)


def last_conv_layer(model: nn.Module) -> nn.Module | None:
    """The convolution whose output Grad-CAM should use, or None for a model without one.

    The last conv-like module, unless the model names another in ``cam_layer_name`` (LeNet-5
    of 1998 names C3: C5's maps are 1x1, nothing to localise).
    """
    named = getattr(model, "cam_layer_name", None)
    if named is not None:
        return model.get_submodule(named)
    convs = [m for m in model.modules() if isinstance(m, CONV_TYPES)]
    return convs[-1] if convs else None
