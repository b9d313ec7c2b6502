"""What a student waits for on /design: the page's update after an edit, and the default training run.

1. **An edit.** A server is started (``streamlit run dashboard/app.py``, headless, with the
   shipped checkpoints) and a student without a browser (``benchmarks.wire_student``: Streamlit's own
   websocket protocol, what a browser sends) opens ``/design`` and types a new notation, ``--edits``
   times: C1's filters 4, 5, ... 40 in the modern LeNet, each a rerun. Timed: from sending the edit
   to the page's run finished (``script_finished``), the layer table, the totals, the diagram, the
   receptive field and the difference from the start all sent (nothing is trained or saved). The
   page's first open is timed apart.
2. **The default run.** ``core.training.train`` with the design recipe (one epoch on 12,000 images),
   for the modern LeNet's design, seed 001's small Keras CNN written as a design, and an MLP.

    .venv/bin/python -m benchmarks.design_page [--edits 40] [--no-train]

Prints median and p95 in milliseconds for the edits and seconds and test accuracy per run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from benchmarks.load_figures import percentiles
from benchmarks.wire_student import WireSession
from core import models
from core.architecture.design_table import from_preset
from core.models.design import parse
from core.training import recipes
from core.training.train import train
from serve.streamlit_process import start as start_streamlit

NOTATION_KEY = "net"  # the page's notation input, bound to the link (dashboard.design.stack.NET)


async def time_edits(url: str, edits: int) -> tuple[float, list[float]]:
    session = await WireSession.open(url, "design")
    first = session.opened.seconds
    base = from_preset("lenet5").notation
    seconds = []
    for k in range(edits):
        notation = base.replace("conv6k5p2", f"conv{4 + k % 37}k5p2", 1)
        run = await session.set_values({NOTATION_KEY: {"string_value": notation}})
        if run.errors:
            raise RuntimeError(f"{notation!r}: {'; '.join(run.errors)}")
        total = f"{parse(notation).params:,}"
        if not run.shows(total):
            raise RuntimeError(f"{notation!r}: the page did not show its {total} parameters")
        seconds.append(run.seconds)
    await session.close()
    return first, seconds


def time_training() -> list[tuple[str, float, float]]:
    recipe = recipes.get_recipe(models.DESIGN)
    out = []
    for name in ("lenet5", "keras_cnn_small", "mlp_128"):
        notation = from_preset(name).notation
        result = train(models.DESIGN, recipe, config={"notation": notation})
        out.append((f"{name} as a design", result.seconds, result.test_accuracy))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--no-train", action="store_true", help="time the page only")
    args = parser.parse_args()
    server = start_streamlit()  # the shipped checkpoints: the page's comparison shows them all
    try:
        first, seconds = asyncio.run(time_edits(server.url, args.edits))
    finally:
        server.stop()
    ms = [s * 1000 for s in seconds]
    print(f"/design first open: {first * 1000:.0f} ms")
    print(
        f"/design after an edit ({len(ms)} edits): median {statistics.median(ms):.0f} ms, p95 {percentiles(ms)[1]:.0f} ms"
    )
    if not args.no_train:
        recipe = recipes.get_recipe(models.DESIGN)
        print(f"default run: {recipe.epochs} epoch on {recipe.limit:,} images, batch {recipe.batch_size}")
        for label, took, accuracy in time_training():
            print(f"  {label}: {took:.1f} s, test accuracy {accuracy:.2%}")


if __name__ == "__main__":
    main()
