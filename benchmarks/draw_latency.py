"""How long the /draw page's panel takes for one drawing: the budget is 150 ms for lenet5 on the CPU.

The panel is what the page computes after each stroke: preprocessing a 280x280 canvas picture,
the prediction, the feature maps of every stage (with their channel pictures), and three
attribution methods (the page's default ones). The plotly figures are timed on their own line
(the browser draws them; building them is Python's share). The journey (an exploration the page
computes only while it is open: every stage with the evidence for the answer, one unit's
arithmetic, its figure) is timed on its own line too, against the panel's budget.

    .venv/bin/python -m benchmarks.draw_latency [--model lenet5] [--runs 30] [--threads 1]

Uses ``checkpoints/<model>.pt`` when present, else a freshly initialised network of the same
preset (same architecture, same arithmetic, so the same time). Prints median and p95 in ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from core import models
from core.data import preprocess
from core.data.mnist import DataNotFoundError, load_test
from core.device import torch_threads
from core.explain import attributions
from core.explain.feature_maps import feature_maps
from core.explain.journey import journey, open_unit
from core.models import checkpoints, inference
from dashboard.draw.journey import journey_figure
from dashboard.figures.html_pictures import channels_html
from dashboard.figures.one_digit import attribution_overlay, probability_bars

BUDGET_MS = 150.0


def canvas_picture() -> np.ndarray:
    """A 280x280 RGBA picture like the canvas sends: MNIST test digit #0 (a 7) drawn 10x, else a bar."""
    try:
        digit = load_test().images[0].numpy()
    except DataNotFoundError:
        digit = np.zeros((28, 28), dtype=np.uint8)
        digit[5:23, 12:16] = 255
    grey = np.kron(digit, np.ones((10, 10), dtype=np.uint8))
    return np.dstack([grey, grey, grey, (grey > 0).astype(np.uint8) * 255])


def load_model(name: str) -> tuple[torch.nn.Module, str]:
    try:
        model, _ = checkpoints.load(name)
        return model, f"checkpoint {checkpoints.DEFAULT_DIR / name}.pt"
    except checkpoints.CheckpointError:
        torch.manual_seed(0)
        model = models.build(name).eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return model, f"fresh {name} (no checkpoint; same architecture, same time)"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet5", help="checkpoint or preset name (default lenet5)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads; the page uses 1 (torch_threads); "
        f"0 for torch's default ({torch.get_num_threads()} here)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(attributions.DEFAULT_METHODS),
        help="comma-separated attribution methods (default: the page's three)",
    )
    args = parser.parse_args(argv)
    with torch_threads(args.threads or torch.get_num_threads()):
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    methods = [m for m in args.methods.split(",") if m]
    model, source = load_model(args.model)
    methods = [m for m in methods if m in attributions.available_methods(model)]
    picture = canvas_picture()

    parts: dict[str, list[float]] = {
        k: [] for k in ("preprocess", "predict", "feature maps", *methods, "panel", "figures", "journey")
    }
    cpu: dict[str, list[float]] = {"panel": [], "figures": []}
    for run in range(args.warmup + args.runs):
        times = {}
        start, cpu_start = time.perf_counter(), time.process_time()
        pre = preprocess.from_array(picture)
        times["preprocess"] = time.perf_counter()
        result = inference.predict(model, pre.tensor)
        times["predict"] = time.perf_counter()
        for stage in feature_maps(model, pre.tensor):
            channels_html(stage.tensor, stage.short_name, tile_px=56)  # what the page sends
        times["feature maps"] = time.perf_counter()
        maps = {}
        for method in methods:
            maps[method] = attributions.attribute(model, pre.tensor, method, result.prediction)
            times[method] = time.perf_counter()
        end, cpu_end = time.perf_counter(), time.process_time()
        probability_bars(result.probabilities, highlight=result.prediction)
        for method in methods:
            attribution_overlay(pre.digit, maps[method], title=method)
        figures, cpu_figures = time.perf_counter() - end, time.process_time() - cpu_end
        journey_start = time.perf_counter()
        stages = journey(model, pre.tensor, follow=result.prediction)
        unit = open_unit(stages, f"{next(s.short for s in stages if s.kind == 'conv')}:0:4:4")
        journey_figure(stages, unit.unit, pre.digit)
        journey_time = time.perf_counter() - journey_start
        if run < args.warmup:
            continue
        previous = start
        for key, stamp in times.items():
            parts[key].append((stamp - previous) * 1000)
            previous = stamp
        parts["panel"].append((end - start) * 1000)
        parts["figures"].append(figures * 1000)
        parts["journey"].append(journey_time * 1000)
        cpu["panel"].append((cpu_end - cpu_start) * 1000)
        cpu["figures"].append(cpu_figures * 1000)

    print(
        f"/draw panel latency: {args.model} ({source}), {args.runs} runs after {args.warmup} warm-up, "
        f"torch threads {torch.get_num_threads()}, device cpu"
    )
    print(f"{'part':<22}{'median ms':>10}{'p95 ms':>10}")
    for key, values in parts.items():
        label = {"panel": "PANEL (budget 150)", "figures": "plotly figures", "journey": "journey (when open)"}.get(
            key, key
        )
        print(f"{label:<22}{statistics.median(values):>10.1f}{percentile(values, 95):>10.1f}")
    # CPU time of this process: what the wall time would be on an otherwise idle core (one
    # thread), so a shared, busy machine can still be judged.
    for key, values in cpu.items():
        print(f"{key + ' CPU time':<22}{statistics.median(values):>10.1f}{percentile(values, 95):>10.1f}")
    median = statistics.median(parts["panel"])
    print(
        f"panel median {median:.1f} ms, p95 {percentile(parts['panel'], 95):.1f} ms wall "
        f"(CPU time median {statistics.median(cpu['panel']):.1f} ms): "
        f"{'within' if median < BUDGET_MS else 'OVER'} the {BUDGET_MS:.0f} ms budget"
    )
    return 0 if median < BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
