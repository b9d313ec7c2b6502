"""Which pixels made the network say what it said: Captum attribution methods on one digit.

Every method explains the *logit* (the score before softmax) of one target class and returns a
28 x 28 map in the input's pixels. Methods that put hooks on the network's modules (Guided
Backprop, DeepLift, Grad-CAM) run on a private copy, as does anything asked for a network in
training mode: the model given is shared by every session and is never changed.

Baselines: "nothing drawn" is black, which after normalisation is (0 - 0.1307) / 0.3081, not 0
(Captum's default baseline, which would be mid-grey). Integrated Gradients, DeepLift and
Occlusion all start from it.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from captum.attr import (
    DeepLift,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    Occlusion,
    Saliency,
)
from torch import nn

from core import models
from core.device import model_device
from core.explain import receptive_field
from core.i18n import N_, _
from core.models.copies import borrowed_copy, private_copy, random_copy
from core.models.lenet1998 import normalised_black

# Captum says so on every call; here hooks always go on a private copy and are removed after.
warnings.filterwarnings("ignore", message="Setting forward, backward hooks", module="captum")
warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU", module="captum")

# Captum's default. On the first 20 MNIST test digits with the shipped lenet5, the sum of the map
# missed the logit's change from black by 0.3% (median), 1.2% at most.
IG_STEPS = 50
# A map is drawn on a scale that saturates at this percentile of its |attribution| (over all
# 784 pixels): the 1% most extreme pixels (8) get the end colour instead of squeezing every
# other pixel towards zero. Captum's visualisation clips outliers the same way; its own rule
# (``outlier_perc=2`` of the cumulative |attribution|) clips nothing on these sparse maps, where
# one pixel holds more than 2% of the total. On MNIST test digit #0 with the shipped lenet5,
# Integrated Gradients, Gradient x Input and DeepLift reach a quarter of the scale (where the
# overlay starts colouring, dashboard.figures.one_digit.OVERLAY_VISIBLE_FROM) on 16-18% of the ink when
# scaled to their most extreme pixel, on 34-41% at the 99th percentile.
DISPLAY_PERCENTILE = 99.0
OCCLUSION_WINDOW = 4  # px: about a stroke's width in a 28 x 28 digit
OCCLUSION_STRIDE = 2  # 13 x 13 = 169 window positions, run as one batch
SIDE = 28


class AttributionError(ValueError):
    """The method cannot explain this network (e.g. Grad-CAM without a convolution)."""


# Each method's Captum call. ``inputs`` is a copy of x that requires grad; the model is already
# safe to hook when the method puts hooks on it (Method.hooks).


def _saliency(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    return Saliency(model).attribute(inputs, target=target, abs=True)


def _integrated_gradients(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    return IntegratedGradients(model).attribute(
        inputs, baselines=black_baseline(inputs), target=target, n_steps=IG_STEPS
    )


def _input_x_gradient(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    return InputXGradient(model).attribute(inputs, target=target)


def _guided_backprop(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    return GuidedBackprop(model).attribute(inputs, target=target)


def _deeplift(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    return DeepLift(model).attribute(inputs, baselines=black_baseline(inputs), target=target)


def _grad_cam(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    layer = models.last_conv_layer(model)
    if layer is None:
        raise AttributionError(_("Grad-CAM needs a convolutional layer; this network has none"))
    cam = LayerGradCam(model, layer).attribute(inputs, target=target, relu_attributions=True)
    geometry = unit_centres(model, layer, inputs)
    if geometry is None:  # a module whose geometry is unknown: stretch over the whole input
        return LayerAttribution.interpolate(cam, (SIDE, SIDE), interpolate_mode="bilinear")
    return torch.from_numpy(place_on_input(cam.detach()[0, 0].cpu().numpy(), *geometry))


def _occlusion(model: nn.Module, inputs: torch.Tensor, target: int) -> torch.Tensor:
    windows = ((SIDE - OCCLUSION_WINDOW) // OCCLUSION_STRIDE + 1) ** 2
    return Occlusion(model).attribute(
        inputs.detach(),
        target=target,
        baselines=normalised_black(),
        sliding_window_shapes=(1, OCCLUSION_WINDOW, OCCLUSION_WINDOW),
        strides=(1, OCCLUSION_STRIDE, OCCLUSION_STRIDE),
        perturbations_per_eval=windows,
    )


@dataclass(frozen=True)
class Method:
    """One attribution method, described for a student, with its own Captum call."""

    key: str
    title: str  # Captum's name (marked N_): :meth:`named` says it to a reader
    summary: str  # marked N_; shown through :meth:`described`
    run: Callable[[nn.Module, torch.Tensor, int], torch.Tensor] = field(repr=False, compare=False)
    signed: bool = True  # the map has both signs (for: positive, against: negative)
    needs_conv: bool = False  # needs a convolutional layer (Grad-CAM)
    hooks: bool = False  # puts hooks on modules: must run on a private copy

    def named(self) -> str:
        """The method's name in the session's language: Captum's name, in Chinese after a Chinese
        one (显著图（Saliency）), so the name in Captum's documentation is still there."""
        return _(self.title)

    def described(self) -> str:
        """The summary for a student, in the session's language (Occlusion's with its window and stride)."""
        return _(self.summary).format(window=OCCLUSION_WINDOW, stride=OCCLUSION_STRIDE)


_METHODS = [
    Method(
        "saliency",
        N_("Saliency"),
        N_("How much the class score changes when one pixel changes: |gradient| (Simonyan et al. 2013)."),
        _saliency,
        signed=False,
    ),
    Method(
        "integrated_gradients",
        N_("Integrated Gradients"),
        N_(
            "Gradients averaged along the path from a black image to the digit, times the "
            "difference (Sundararajan et al. 2017); the map adds up to the score's change."
        ),
        _integrated_gradients,
    ),
    Method(
        "input_x_gradient",
        N_("Gradient × Input"),
        N_("The gradient times the pixel's own (normalised) value (Shrikumar et al. 2016)."),
        _input_x_gradient,
    ),
    Method(
        "guided_backprop",
        N_("Guided Backprop"),
        N_(
            "The gradient with every ReLU passing back only positive signals "
            "(Springenberg et al. 2015): sharp, but it looks alike for any class."
        ),
        _guided_backprop,
        hooks=True,
    ),
    Method(
        "deeplift",
        N_("DeepLift"),
        N_(
            "Each pixel's share of the score's difference from the black image, passed back "
            "layer by layer with the rescale rule (Shrikumar et al. 2017)."
        ),
        _deeplift,
        hooks=True,
    ),
    Method(
        "grad_cam",
        N_("Grad-CAM"),
        N_(
            "The last convolution's maps weighted by their average gradient, ReLU, each unit put "
            "back where it looks on the 28 × 28 input (Selvaraju et al. 2017): coarse, where "
            "rather than which pixels."
        ),
        _grad_cam,
        signed=False,
        needs_conv=True,
        hooks=True,
    ),
    Method(
        "occlusion",
        N_("Occlusion"),
        N_(
            "The score's drop when a {window} × {window} black square "
            "covers each place (Zeiler & Fergus 2014), stride {stride}."
        ),
        _occlusion,
    ),
]

METHODS: dict[str, Method] = {method.key: method for method in _METHODS}
DEFAULT_METHODS: tuple[str, ...] = ("saliency", "integrated_gradients", "grad_cam")


def available_methods(model: nn.Module) -> list[str]:
    """The method keys that apply to this network (no Grad-CAM without a convolution)."""
    has_conv = models.last_conv_layer(model) is not None
    return [key for key, method in METHODS.items() if has_conv or not method.needs_conv]


def black_baseline(x: torch.Tensor) -> torch.Tensor:
    """An all-black input of x's shape, in normalised units."""
    return torch.full_like(x, normalised_black())


def _check(x: torch.Tensor, method: str, target: int) -> Method:
    if method not in METHODS:
        raise AttributionError(
            _("unknown attribution method {method}; methods: {methods}").format(
                method=repr(method), methods=", ".join(METHODS)
            )
        )
    if not isinstance(x, torch.Tensor) or tuple(x.shape) != (1, 1, SIDE, SIDE):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise AttributionError(_("expected one input of shape 1 x 1 x 28 x 28, got {shape}").format(shape=shape))
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= int(target) <= 9:
        raise AttributionError(_("target must be a class from 0 to 9, got {target}").format(target=repr(target)))

    return METHODS[method]


def unit_centres(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> tuple[float, float] | None:
    """Where ``layer``'s output units sit on the input: unit i is centred on pixel start + jump i.

    From the receptive-field formula of :mod:`core.explain.receptive_field` (lenet5's conv2: start 4.5,
    jump 2). None when the layer is not a conv/pooling layer there or a module before it moves
    pixels in a way the formula does not know.
    """
    name = next((n for n, m in model.named_modules() if m is layer), None)
    if name is None:
        return None
    try:
        field = receptive_field.find_layer(receptive_field.layer_fields(model, x.shape[-1]), name)
    except receptive_field.ReceptiveFieldError:
        return None
    return float(field.start), float(field.jump)


def place_on_input(values: np.ndarray, start: float, jump: float, side: int = SIDE) -> np.ndarray:
    """A layer's h x w map resampled to the input's side x side pixels, each unit at its centre
    (bilinear), instead of stretched over the whole input. Beyond the outermost units the map
    fades to zero one jump out: no unit is centred there."""
    values = np.asarray(values, dtype=np.float64)
    pixels = np.arange(side, dtype=np.float64)

    def along(line: np.ndarray) -> np.ndarray:
        centres = start + jump * np.arange(-1, line.size + 1)
        return np.interp(pixels, centres, np.concatenate([[0.0], line, [0.0]]))

    rows = np.stack([along(line) for line in values])
    placed = np.stack([along(column) for column in rows.T], axis=1)
    return placed.astype(np.float32).reshape(1, 1, side, side)


def attribute_many(
    model: nn.Module,
    x: torch.Tensor,
    methods: list[str] | tuple[str, ...],
    target: int,
    *,
    sanity_random: bool = False,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Several methods on one input, sharing one private copy: ``{method: 28 x 28 float32}``.

    ``sanity_random=True`` explains a copy of the network with fresh random weights
    (:func:`core.models.copies.random_copy` with ``seed``) instead of the trained one.
    """
    checked = [_check(x, method, target) for method in methods]
    if sanity_random:
        shared = hookable = random_copy(model, seed)
    else:
        # Plain gradient and forward methods only read the model: no copy unless it must change mode.
        shared = private_copy(model) if model.training else model
        hookable = None
    x = x.to(model_device(model))
    results: dict[str, np.ndarray] = {}
    with torch.enable_grad(), contextlib.ExitStack() as lent:
        for method in checked:
            if method.hooks and hookable is None:
                hookable = shared if shared is not model else lent.enter_context(borrowed_copy(model))
            net = hookable if method.hooks else shared
            result = method.run(net, x.detach().clone().requires_grad_(True), int(target))
            results[method.key] = result.detach().reshape(SIDE, SIDE).float().cpu().numpy()
    return results


def display_clip(values: np.ndarray) -> float:
    """The |attribution| at which a map's colour saturates: the :data:`DISPLAY_PERCENTILE`-th
    percentile of its |values|, or the largest |value| where that percentile is 0 (fewer than
    1% of the pixels are non-zero); 0 only for an all-zero map. NaN and infinite values are ignored."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64))
    magnitude = magnitude[np.isfinite(magnitude)]
    if magnitude.size == 0:
        return 0.0
    clip = float(np.percentile(magnitude, DISPLAY_PERCENTILE))
    return clip if clip > 0 else float(magnitude.max())


def scaled_for_display(values: np.ndarray, *, signed: bool) -> np.ndarray:
    """A map divided by its :func:`display_clip` and clipped: to [-1, 1] keeping the sign
    (``signed``), else its magnitude in [0, 1] (Saliency's |gradient|, Grad-CAM). An all-zero
    map stays zero, NaN becomes 0. The same rule for every method, so maps compare by shape."""
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isnan(values), 0.0, values)  # infinities saturate, like any outlier
    shown = values if signed else np.abs(values)
    clip = display_clip(shown)
    if clip == 0:
        return np.zeros(shown.shape)
    return np.clip(shown / clip, -1.0 if signed else 0.0, 1.0)


def attribute(
    model: nn.Module, x: torch.Tensor, method: str, target: int, *, sanity_random: bool = False, seed: int = 0
) -> np.ndarray:
    """One method's map (28 x 28 float32) of how each pixel bears on class ``target``'s logit.

    ``x`` is one normalised ``1 x 1 x 28 x 28`` input; ``method`` a key of :data:`METHODS`.
    Raises :class:`AttributionError` for an unknown method, a bad target or shape, or Grad-CAM
    on a network without convolutions.
    """
    return attribute_many(model, x, [method], target, sanity_random=sanity_random, seed=seed)[method]
