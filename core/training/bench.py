"""Training speed: seed 004's DataLoader loop against our fast path, side by side.

(a) the loop of seed 004: torchvision's MNIST dataset with ToTensor + Normalize, a DataLoader
    with batch 64 and shuffling, Adam lr 1e-3;
(b) ``core.training.train`` with the ``fast`` recipe: uint8 tensors on the device, per-batch
    normalisation, larger batches, AdamW + one-cycle.
Both train the same model on the same device; after every epoch the test accuracy is
measured (not counted as training time), giving the training time to first reach 99%.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from core import models
from core.data import mnist
from core.data.batches import DeviceData
from core.device import pick_device
from core.models.inference import evaluate
from core.models.init import seeded
from core.training import recipes
from core.training.train import train

TARGET = 0.99


def seed_loop(
    model_name: str, device: torch.device, epochs: int, limit: int | None, test: DeviceData, log: Callable[[str], None]
) -> dict:
    """Seed 004's loop, as written there (DataLoader of PIL images, batch 64, Adam 1e-3)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    torch.manual_seed(0)
    mean, std = mnist.NORM_MEAN, mnist.NORM_STD
    dataset = datasets.MNIST(
        root=str(mnist.DEFAULT_ROOT),
        train=True,
        download=False,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))]),
    )
    if limit:
        dataset = Subset(dataset, range(limit))
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    model = models.build(model_name).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _run_epochs(
        "seed 004 loop (DataLoader, batch 64, Adam 1e-3)",
        epochs,
        test,
        log,
        model,
        lambda: _seed_epoch(model, loader, optimizer, device),
    )


def _seed_epoch(model, loader, optimizer, device) -> int:
    model.train()
    seen = 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += y.shape[0]
    return seen


def _run_epochs(label, epochs, test, log, model, one_epoch) -> dict:
    seconds, images, reached, per_epoch = 0.0, 0, None, []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        images += one_epoch()
        if test.device.type == "cuda":
            torch.cuda.synchronize()
        seconds += time.perf_counter() - start
        accuracy, _ = evaluate(model, test)
        per_epoch.append({"epoch": epoch, "seconds": round(seconds, 2), "test_accuracy": accuracy})
        log(f"  {label}: epoch {epoch}: {accuracy:.2%} after {seconds:.1f} s of training")
        if reached is None and accuracy >= TARGET:
            reached = seconds
            break
    return {
        "loop": label,
        "images_per_second": images / seconds,
        "train_seconds": round(seconds, 2),
        "seconds_to_99": reached,
        "epochs": per_epoch,
    }


def raw_throughput(model_name: str, device: torch.device, batch_size: int, *, steps: int = 40) -> float:
    """The model's own training speed on this device, images/s: forward, backward and an optimiser
    step on one batch already in memory, over and over, with no data path at all. What a loop can
    at best approach."""
    model = models.build(model_name, generator=seeded(0)).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    test = mnist.load_test()
    x = mnist.normalize(test.images[:batch_size]).to(device)
    y = test.labels[:batch_size].to(device)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):  # warm-up: allocations, cuDNN's choice of algorithms
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * x.shape[0] / (time.perf_counter() - start)


def fast_path(
    model_name: str,
    device: torch.device,
    epochs: int | None,
    limit: int | None,
    log: Callable[[str], None],
    seed: int = 0,
) -> dict:
    recipe = recipes.prepare(model_name, "fast", overrides={"epochs": epochs, "limit": limit, "seed": seed})
    label = (
        f"fast path ({recipe.optimizer} + {recipe.schedule}, batch {recipe.batch_size}, "
        f"{recipe.epochs} epochs, seed {seed})"
    )
    per_epoch: list[dict] = []

    def on_epoch(event: dict) -> None:
        if event["event"] == "epoch":
            total = sum(e["seconds"] for e in per_epoch) + event["seconds"]
            per_epoch.append(
                {
                    "epoch": event["epoch"],
                    "seconds": event["seconds"],
                    "cumulative": round(total, 2),
                    "test_accuracy": event["test_accuracy"],
                }
            )
            log(f"  {label}: epoch {event['epoch']}: {event['test_accuracy']:.2%} after {total:.1f} s of training")

    result = train(model_name, recipe, device=device, progress=on_epoch)
    seconds = sum(e["seconds"] for e in per_epoch)
    images = sum(e["images"] for e in result.history)
    reached = next((e["cumulative"] for e in per_epoch if e["test_accuracy"] >= TARGET), None)
    return {
        "loop": label,
        "seed": seed,
        "batch_size": recipe.batch_size,
        "images_per_second": images / seconds,
        "train_seconds": round(seconds, 2),
        "seconds_to_99": reached,
        "final_accuracy": result.test_accuracy,
        "images_seen": images,
        "epochs": [
            {"epoch": e["epoch"], "seconds": e["cumulative"], "test_accuracy": e["test_accuracy"]} for e in per_epoch
        ],
    }


def bench(
    model_name: str = "lenet5",
    *,
    device: str | None = None,
    seed_epochs: int = 5,
    fast_epochs: int | None = None,
    limit: int | None = None,
    seeds: int = 5,
    log: Callable[[str], None] = print,
) -> dict:
    """Run both loops in one process on one device; return their figures and ratios.

    The fast path runs ``seeds`` times (seeds 0, 1, ...): how many reach 99% and the spread of
    their accuracy say whether the recipe is robust; seed 0 is the one set beside the seed loop.
    The model's raw training throughput (no data path) is the limit the fast path is measured
    against.
    """
    dev = pick_device(device)
    test = DeviceData(mnist.load_test(), dev)
    log(f"bench on {dev} with {model_name}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    a = seed_loop(model_name, dev, seed_epochs, limit, test, log)
    runs = [fast_path(model_name, dev, fast_epochs, limit, log, seed=seed) for seed in range(max(1, seeds))]
    b = runs[0]
    raw = raw_throughput(model_name, dev, b["batch_size"])
    log(
        f"  raw training throughput (forward + backward + step, batch {b['batch_size']} in memory): {raw:,.0f} images/s"
    )
    ratio_speed = b["images_per_second"] / a["images_per_second"]
    ratio_99 = at_least = None
    if a["seconds_to_99"] and b["seconds_to_99"]:
        ratio_99 = a["seconds_to_99"] / b["seconds_to_99"]
    elif b["seconds_to_99"]:  # the seed loop never got there within its cap: a lower bound
        at_least = a["train_seconds"] / b["seconds_to_99"]
    finals = [r["final_accuracy"] for r in runs]
    spread = {
        "seeds": len(runs),
        "reached_99": sum(r["seconds_to_99"] is not None for r in runs),
        "final_min": min(finals),
        "final_max": max(finals),
        "final_mean": sum(finals) / len(finals),
        "per_seed": [
            {
                "seed": r["seed"],
                "final_accuracy": r["final_accuracy"],
                "seconds_to_99": r["seconds_to_99"],
                "images_seen": r["images_seen"],
            }
            for r in runs
        ],
    }
    return {
        "device": str(dev),
        "model": model_name,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seed_loop": a,
        "fast_path": b,
        "fast_seeds": spread,
        "raw_images_per_second": raw,
        "fast_fraction_of_raw": b["images_per_second"] / raw,
        "speed_ratio": ratio_speed,
        "time_to_99_ratio": ratio_99,
        "time_to_99_ratio_at_least": at_least,
    }
