"""What the /dataset page shows, computed: sample grids, class counts, mean images, one image's numbers.

Thin wrappers over ``core.data.mnist``; every array handed out is numpy so a page can draw it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.data import mnist as data
from core.i18n import N_

SPLITS = ("train", "test")
# How a page names each split (its option label, which the URL holds: ``?split=test``), shown
# translated with ``_(SPLIT_LABELS[split])``.
SPLIT_LABELS = {"train": N_("train"), "test": N_("test")}
MAX_SAMPLES = 100


def load_split(split: str) -> data.MnistSplit:
    """``"train"`` -> the 60,000 training images, ``"test"`` -> the 10,000 test images."""
    if split == "train":
        return data.load_train()
    if split == "test":
        return data.load_test()
    raise ValueError(f"unknown split {split!r}: use one of {SPLITS}")


@dataclass(frozen=True)
class Samples:
    """A selection of images: uint8 ``N x 28 x 28``, their labels and their indices in the split."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def sample_indices(labels: torch.Tensor, n: int, *, digit: int | None = None, seed: int | None = None) -> np.ndarray:
    """Indices of ``n`` images, optionally only of class ``digit``.

    ``seed=None`` takes the first ``n`` in file order (the "first 25 images" preview of the
    write-ups); an integer seed draws them at random, the same draw for the same seed.
    """
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"n must be between 1 and {MAX_SAMPLES}, got {n}")
    if digit is not None and not 0 <= digit <= 9:
        raise ValueError(f"digit must be 0..9 or None, got {digit}")
    pool = torch.arange(labels.shape[0]) if digit is None else torch.nonzero(labels == digit).flatten()
    if seed is not None:
        order = torch.randperm(pool.shape[0], generator=torch.Generator().manual_seed(seed))
        pool = pool[order]
    return pool[:n].numpy()


def select_samples(split: str, n: int, *, digit: int | None = None, seed: int | None = None) -> Samples:
    """``n`` images of ``split`` (see :func:`sample_indices` for ``digit`` and ``seed``)."""
    mnist = load_split(split)
    idx = sample_indices(mnist.labels, n, digit=digit, seed=seed)
    return Samples(mnist.images[idx].numpy(), mnist.labels[idx].numpy(), idx)


def class_counts(split: str) -> list[int]:
    """How many images of each digit 0..9 the split holds."""
    return data.class_counts(load_split(split))


def mean_images(split: str = "train") -> np.ndarray:
    """The average image of each class, ``10 x 28 x 28`` float on the 0-255 scale."""
    mnist = load_split(split)
    sums = torch.zeros(10, 28, 28, dtype=torch.float64)
    sums.index_add_(0, mnist.labels, mnist.images.to(torch.float64))
    counts = torch.bincount(mnist.labels, minlength=10).to(torch.float64)
    return (sums / counts[:, None, None]).numpy()


def upscale_nearest(images: np.ndarray, factor: int) -> np.ndarray:
    """Repeat each pixel ``factor`` x ``factor`` times: bigger without the blur of interpolation."""
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(images, factor, axis=-2), factor, axis=-1)


def one_hot(label: int, num_classes: int = 10) -> np.ndarray:
    """The label as the network's target vector: 1 at position ``label``, 0 elsewhere."""
    if not 0 <= label < num_classes:
        raise ValueError(f"label must be in 0..{num_classes - 1}, got {label}")
    vec = np.zeros(num_classes, dtype=np.int64)
    vec[label] = 1
    return vec


def normalized_image(image: np.ndarray) -> np.ndarray:
    """One uint8 ``28 x 28`` image as the network receives it: ``(x / 255 - mean) / std``."""
    return data.normalize(torch.as_tensor(np.asarray(image))[None]).numpy()[0, 0]


@dataclass(frozen=True)
class NormalizationFacts:
    """Where the normalisation constants come from, with the numbers to explain them."""

    mean: float  # mean pixel value of the training set, on the 0-1 scale
    std: float  # its standard deviation
    n_images: int  # training images the statistics are computed over
    n_pixels: int  # n_images x 784 pixel values
    black: float  # what a 0 pixel becomes: (0 - mean) / std
    white: float  # what a 255 pixel becomes: (1 - mean) / std


def normalization_facts() -> NormalizationFacts:
    """The mean and std of MNIST's normalisation and what they do to black and white."""
    mean, std = data.NORM_MEAN, data.NORM_STD
    n_images = len(data.load_train())
    return NormalizationFacts(
        mean=mean,
        std=std,
        n_images=n_images,
        n_pixels=n_images * 28 * 28,
        black=(0.0 - mean) / std,
        white=(1.0 - mean) / std,
    )
