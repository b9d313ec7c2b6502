"""Running trained checkpoints: test-set evaluation and predictions on pictures."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from core import checkpoints, data
from core.copies import private_copy
from core.train import DeviceData, evaluate


def load_model(spec: str, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, checkpoints.CheckpointInfo]:
    """A checkpoint by name (``lenet5``), or by path (``checkpoints/lenet5.pt``), verified."""
    name, folder = checkpoints.resolve(spec)
    return checkpoints.load(name, folder=folder, device=device)


def evaluate_checkpoint(spec: str, device: torch.device | str = "cpu") -> dict:
    """``{"model", "accuracy", "loss", "n"}`` of a checkpoint on the 10,000 test images."""
    model, info = load_model(spec, device)
    test = DeviceData(data.load_test(), torch.device(device))
    accuracy, loss = evaluate(model, test)
    return {"model": info.name, "preset": info.preset, "accuracy": accuracy, "loss": loss, "n": len(test)}


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
    out = [torch.softmax(net(data.normalize(images[i:i + batch_size])).float(), dim=1)
           for i in range(0, images.shape[0], batch_size)]
    return torch.cat(out)
