"""What a network computes on one digit: the feature maps of every stage, and the copies that
explanations run on.

A model loaded for the dashboard is shared by every student's session, so nothing here adds a
hook to, trains or switches the mode of the model it is given: hooks go on a private deep copy
(:func:`private_copy`), or on one lent from a pool (:func:`borrowed_copy`). Attributions (Captum)
live in :mod:`core.attributions`.

Feature maps are shown as in seed 000's write-up (torchvision ``make_grid(normalize=True,
scale_each=True)``): each channel stretched to its own black-to-white range.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import threading
import weakref
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from core.dataset_views import upscale_nearest
from core.device import model_device  # noqa: F401  (core.attributions reads it here for now)
from core.models import CONV_TYPES
from core.models.init import initialise, seeded
from core.notation import shape_text
from core.models.lenet1998 import ScaledTanh, Subsampling

# Leaf modules whose output is a stage worth showing, by kind. Dropout (identity in eval mode)
# and padding are left out: they add a picture without adding an idea.
_KINDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("conv", CONV_TYPES),
    ("norm", (nn.BatchNorm2d,)),
    ("activation", (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.LeakyReLU, ScaledTanh)),
    ("pool", (nn.MaxPool2d, nn.AvgPool2d, Subsampling)),
)


@dataclass(frozen=True, eq=False)  # tensors inside: == would be ambiguous
class FeatureMaps:
    """One stage's output for one input, and the convolution that produced its channels."""

    name: str                    # module path in the model, e.g. "features.conv1" or "c1"
    kind: str                    # conv | norm | activation | pool
    layer: str                   # the module's class, e.g. "Conv2d"
    tensor: torch.Tensor         # C x H x W, float32 on the CPU
    kernel: torch.Tensor | None  # C x C_in x k x k: kernel[c] made channel c (None before any conv)
    kernel_from: str | None      # name of that convolution

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def shape(self) -> tuple[int, int, int]:
        channels, height, width = self.tensor.shape
        return int(channels), int(height), int(width)

    @property
    def shape_text(self) -> str:
        """The shape as the 1998 paper writes it: ``6@28×28``."""
        return shape_text(self.shape)


@contextlib.contextmanager
def torch_threads(count: int = 1):
    """Run the block with ``count`` intra-op threads in the calling thread, then restore.

    Work on one digit is too small to share between cores: with two threads on a busy CPU
    (several students, one server) it ran 10x slower than with one (benchmarks/draw_latency.py).
    With torch's OpenMP backend the setting is per thread, so other threads (a training job)
    keep theirs.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def stage_kind(module: nn.Module) -> str | None:
    """conv, norm, activation or pool; None for modules that are not a stage."""
    for kind, types in _KINDS:
        if isinstance(module, types):
            return kind
    return None


def private_copy(model: nn.Module) -> nn.Module:
    """A deep copy in eval mode with frozen parameters, safe to hook: the original is untouched."""
    clone = copy.deepcopy(model).eval()
    for parameter in clone.parameters():
        parameter.requires_grad_(False)
    return clone


_POOL_SIZE = 4  # idle copies kept per model
_pools: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, list[nn.Module]]]" = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def _weights_version(model: nn.Module) -> tuple:
    # Every in-place change of a tensor bumps its _version: a copy made before it is stale.
    return tuple((id(t), t._version) for t in (*model.parameters(), *model.buffers()))


def _untouched(clone: nn.Module) -> bool:
    """Whether a lent copy came back as it left: eval mode, frozen, no hook left anywhere."""
    for module in clone.modules():
        if module.training or module._forward_hooks or module._forward_pre_hooks \
                or module._backward_hooks or module._backward_pre_hooks:
            return False
    return not any(parameter.requires_grad for parameter in clone.parameters())


@contextlib.contextmanager
def borrowed_copy(model: nn.Module):
    """A :func:`private_copy` of ``model`` lent for a ``with`` block, from a pool per model.

    A deep copy is several milliseconds of Python holding the GIL, and every /draw run of every
    student needs one or two. The copy goes back to the pool only if it comes back untouched
    (no hook left, eval mode, frozen); a pool is dropped once the model's weights change.
    """
    version = _weights_version(model)
    clone = None
    with _pools_lock:
        pooled = _pools.get(model)
        if pooled is not None and pooled[0] == version and pooled[1]:
            clone = pooled[1].pop()
    if clone is None:
        clone = private_copy(model)
    try:
        yield clone
    finally:
        if _untouched(clone) and _weights_version(model) == version:
            with _pools_lock:
                pooled = _pools.get(model)
                if pooled is None or pooled[0] != version:
                    pooled = _pools[model] = (version, [])
                if len(pooled[1]) < _POOL_SIZE:
                    pooled[1].append(clone)


def random_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """The same architecture with fresh random weights (a sanity check for explanations).

    Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018): an explanation that looks
    the same for a trained and an untrained network says little about what the network learned.
    The weights are drawn as each layer draws them at construction (LeNet-5 of 1998 by its own
    scheme, appendix A), from a generator of its own seeded with ``seed``
    (:func:`core.models.init.initialise`): the same seed gives the same weights, and torch's
    global generator, which a training run in another thread may be drawing from, is untouched.
    BatchNorm statistics reset too.
    """
    clone = private_copy(model)
    with torch.no_grad():
        initialise(clone, seeded(seed))
    return clone


def conv_kernel(module: nn.Module) -> torch.Tensor:
    """A convolution's weights as ``out x in x k x k`` (C3's partial table as zeros)."""
    weight = module.dense_weight() if hasattr(module, "dense_weight") else module.weight
    return weight.detach().cpu().float().clone()


def feature_maps(model: nn.Module, x: torch.Tensor) -> list[FeatureMaps]:
    """Every conv, normalisation, activation and pooling output for one ``1x1x28x28`` input.

    In forward order; only outputs with a spatial map (H x W > 1: LeNet-5's C5 is 120@1x1, a
    vector, not a map). Empty for a network without convolutions. Hooks go on a private copy.
    """
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"expected one input of shape 1 x 1 x 28 x 28, got {tuple(x.shape)}")
    with borrowed_copy(model) as clone:
        return _feature_maps(clone, x)


def _feature_maps(clone: nn.Module, x: torch.Tensor) -> list[FeatureMaps]:
    stages: list[FeatureMaps] = []
    last_conv: tuple[str, torch.Tensor] | None = None

    def record(name: str, kind: str, module: nn.Module, output: torch.Tensor) -> None:
        nonlocal last_conv
        if kind == "conv":
            last_conv = (name, conv_kernel(module))
        if not isinstance(output, torch.Tensor) or output.dim() != 4 or output.shape[-1] * output.shape[-2] <= 1:
            return
        kernel_from, kernel = last_conv if last_conv is not None else (None, None)
        if kernel is not None and kernel.shape[0] != output.shape[1]:
            kernel_from, kernel = None, None  # channels no longer one-to-one with the conv's kernels
        stages.append(FeatureMaps(name, kind, type(module).__name__, output[0].detach().float().cpu(),
                            kernel, kernel_from))

    handles = []
    for name, module in clone.named_modules():
        kind = stage_kind(module)
        if kind is not None:
            handles.append(module.register_forward_hook(
                lambda mod, _inputs, output, name=name, kind=kind: record(name, kind, mod, output)))
    try:
        with torch.inference_mode():
            clone(x.to(model_device(clone)))
    finally:
        for handle in handles:
            handle.remove()
    return stages


# --- pictures ------------------------------------------------------------------------

def to_grey(values: np.ndarray) -> np.ndarray:
    """A map stretched to 0-255 over its own range (a constant map is black)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if not math.isfinite(low) or not math.isfinite(high) or high - low < 1e-12:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) / (high - low) * 255.0).astype(np.uint8)


def enlarge(image: np.ndarray, side_px: int) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor, so that each pixel stays a crisp square."""
    image = np.asarray(image)
    return upscale_nearest(image, max(1, side_px // max(image.shape[0], image.shape[1], 1)))


def framed(image: np.ndarray, side_px: int) -> np.ndarray:
    """A grey uint8 picture fitted into a black ``side_px`` square with a grey outline, so that a
    thin or all-white picture still shows its edges. Small pictures grow by a whole factor
    (crisp squares); large ones shrink with area averaging."""
    image = np.asarray(image, dtype=np.uint8)
    height, width = image.shape
    inner = side_px - 2
    if max(height, width) <= inner:
        fitted = enlarge(image, inner)
    else:
        scale = inner / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        fitted = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))
    square = np.zeros((side_px, side_px), dtype=np.uint8)
    top, left = (side_px - fitted.shape[0]) // 2, (side_px - fitted.shape[1]) // 2
    square[top:top + fitted.shape[0], left:left + fitted.shape[1]] = fitted
    square[[0, -1], :] = 128
    square[:, [0, -1]] = 128
    return square


@functools.lru_cache(maxsize=1024)
def _label(number: int) -> np.ndarray:
    """A channel number as dark grey text on white, 16 px tall (drawn once, then reused)."""
    text = str(number)
    try:
        font = ImageFont.load_default(size=12)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    picture = Image.new("L", (8 * len(text) + 4, 16), 255)
    ImageDraw.Draw(picture).text((1, 1), text, fill=60, font=font)
    return np.asarray(picture)


def channel_mosaic(tensor: torch.Tensor | np.ndarray, *, columns: int | None = None, tile_px: int = 56,
                   gap_px: int = 6, numbered: bool = True) -> np.ndarray:
    """A ``C x H x W`` stack as one RGB picture: a grid of channels, each scaled to its own
    range, enlarged without blur, numbered from 0 above its tile; white background."""
    maps = np.asarray(tensor.numpy() if isinstance(tensor, torch.Tensor) else tensor, dtype=np.float32)
    count = maps.shape[0]
    columns = columns or min(count, 8)
    rows = math.ceil(count / columns)
    tiles = [enlarge(to_grey(m), tile_px) for m in maps]
    tile_h, tile_w = tiles[0].shape
    label_px = 16 if numbered else 0
    height = rows * (tile_h + label_px + gap_px) - gap_px
    width = columns * (tile_w + gap_px) - gap_px
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        top = (index // columns) * (tile_h + label_px + gap_px) + label_px
        left = (index % columns) * (tile_w + gap_px)
        canvas[top:top + tile_h, left:left + tile_w] = tile[:, :, None]
    if numbered:
        for index in range(count):
            label = _label(index)[:label_px, :tile_w]
            top = (index // columns) * (tile_h + label_px + gap_px)
            left = (index % columns) * (tile_w + gap_px)
            canvas[top:top + label.shape[0], left:left + label.shape[1]] = label[:, :, None]
    return canvas


def kernel_grid(kernel: torch.Tensor | np.ndarray, *, columns: int = 6) -> np.ndarray:
    """One output channel's kernel, ``C_in x k x k``, as one 2-D array for a grid picture: the
    ``C_in`` slices side by side, ``columns`` to a row, NaN in the one-cell gaps between them."""
    slices = np.asarray(kernel.numpy() if isinstance(kernel, torch.Tensor) else kernel, dtype=np.float64)
    if slices.ndim == 2:
        slices = slices[None]
    count, height, width = slices.shape
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for index, piece in enumerate(slices):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        grid[top:top + height, left:left + width] = piece
    return grid
