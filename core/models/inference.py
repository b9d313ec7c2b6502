"""Running trained checkpoints: test-set evaluation and predictions on pictures."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from core.data import mnist
from core.data.batches import DeviceData
from core.models import checkpoints
from core.models.copies import private_copy

EVAL_BATCH = 2000  # images per forward pass when evaluating


@torch.inference_mode()
def evaluate(model: torch.nn.Module, split: DeviceData, batch_size: int = EVAL_BATCH) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` on ``split``."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=split.device)
    loss_sum = torch.zeros((), device=split.device)
    for x, y in split.batches(batch_size):
        logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    model.train(was_training)
    n = len(split)
    return float(correct) / n, float(loss_sum) / n


def evaluate_checkpoint(spec: str, device: torch.device | str = "cpu", data_root: Path | str | None = None) -> dict:
    """``{"model", "accuracy", "loss", "n"}`` of a checkpoint on the 10,000 test images, or on the
    test IDX files of ``data_root`` (any folder in torchvision's MNIST layout, such as a class's
    export; ``"data"`` then names it). ValueError when that folder holds no such files."""
    split = mnist.load_test() if data_root is None else mnist.load_idx_split(data_root, train=False)
    if len(split) == 0:
        raise ValueError(f"{data_root} holds no test images to evaluate on")
    model, info = checkpoints.load_from(spec, device)
    test = DeviceData(split, torch.device(device))
    accuracy, loss = evaluate(model, test)
    result = {"model": info.name, "preset": info.preset, "accuracy": accuracy, "loss": loss, "n": len(test)}
    if data_root is not None:
        result["data"] = str(data_root)
    return result


@dataclass
class Prediction:
    prediction: int
    probabilities: list[float]
    seconds: float


@torch.inference_mode()
def predict(model: torch.nn.Module, x: torch.Tensor) -> Prediction:
    """Class and softmax probabilities of one normalised 1x1x28x28 input."""
    start = time.perf_counter()
    probs = torch.softmax(model(x).float(), dim=1)[0]
    return Prediction(int(probs.argmax()), [round(float(p), 6) for p in probs], time.perf_counter() - start)


@torch.inference_mode()
def predict_batch(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Softmax probabilities (N x 10) of uint8 images N x 28 x 28.

    ``model`` is only read (it may be the one every session shares): one in training mode is
    run through an eval-mode copy, never switched itself.
    """
    net = private_copy(model) if model.training else model
    out = [
        torch.softmax(net(mnist.normalize(images[i : i + batch_size])).float(), dim=1)
        for i in range(0, images.shape[0], batch_size)
    ]
    return torch.cat(out)
