"""``python -m core bench``: training speed of seed 004's loop against our fast path."""

from __future__ import annotations

import sys

from core.commands import CliError, emit
from core.training.bench import bench

HELP = "training speed: seed 004's DataLoader loop vs the fast path, side by side"


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--seed-epochs", type=int, default=5, help="cap for the seed loop (default 5)")
    parser.add_argument("--fast-epochs", type=int, help="epochs of the fast recipe (default: the recipe's)")
    parser.add_argument("--limit", type=int, help="train on this many images (smoke test)")
    parser.add_argument("--seeds", type=int, default=5, help="fast-path runs with seeds 0.. (default 5): the spread")


def _fmt(seconds) -> str:
    return f"{seconds:.1f} s" if seconds else "not reached"


def run(args) -> int:
    try:
        r = bench(
            args.model,
            device=args.device,
            seed_epochs=args.seed_epochs,
            fast_epochs=args.fast_epochs,
            limit=args.limit,
            seeds=args.seeds,
            log=(lambda line: print(line, file=sys.stderr)),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    a, b, spread = r["seed_loop"], r["fast_path"], r["fast_seeds"]
    if r["time_to_99_ratio"]:
        ratio_99 = f"{r['time_to_99_ratio']:.2f}x sooner"
    elif r["time_to_99_ratio_at_least"]:
        ratio_99 = (
            f"at least {r['time_to_99_ratio_at_least']:.2f}x sooner (the seed loop had not reached "
            f"99% after {a['train_seconds']:.0f} s, {len(a['epochs'])} epochs)"
        )
    else:
        ratio_99 = "not reached by the fast path"
    human = "\n".join(
        [
            f"device: {r['device']} ({r['threads']} threads), model {r['model']}, torch {r['torch']}",
            f"{'loop':<60} {'images/s':>10} {'train s':>9} {'to 99%':>12}",
            f"{a['loop']:<60} {a['images_per_second']:>10,.0f} {a['train_seconds']:>9.1f} {_fmt(a['seconds_to_99']):>12}",
            f"{b['loop']:<60} {b['images_per_second']:>10,.0f} {b['train_seconds']:>9.1f} {_fmt(b['seconds_to_99']):>12}",
            f"speed ratio (fast / seed): {r['speed_ratio']:.2f}x; time to 99%: {ratio_99}",
            f"raw training throughput (no data path, batch {b['batch_size']}): {r['raw_images_per_second']:,.0f} images/s; "
            f"the fast path runs at {r['fast_fraction_of_raw']:.0%} of it",
            f"fast path over {spread['seeds']} seeds: {spread['reached_99']} reached 99%; final test accuracy "
            f"{spread['final_min']:.2%} to {spread['final_max']:.2%} (mean {spread['final_mean']:.2%}): "
            + ", ".join(f"seed {p['seed']} {p['final_accuracy']:.2%}" for p in spread["per_seed"]),
        ]
    )
    emit(args, r, human)
    return 0
