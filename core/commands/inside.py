"""``python -m core inside MODEL [--stage NAME] [--digits N]``: how each stage of a network separates
MNIST's test digits (a 5-nearest-neighbour vote in that stage's features, the raw pixels first), and
with ``--stage`` the digits' PCA map at that stage (``core.explain.inside``)."""

from __future__ import annotations

from core.commands import CliError, emit
from core.data import mnist
from core.explain.inside import VOTERS, pca, separation, stage_features
from core.models import checkpoints

HELP = "how each stage separates the test digits (the raw pixels first), and a stage's PCA map"
METHODS = ("pca",)  # the map's projection; UMAP and t-SNE are not installed with the project


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="checkpoint name (e.g. lenet5) or path to a .pt/.json")
    parser.add_argument("--stage", help="a stage's name (input, conv1, act1, pool1, ...): its map's coordinates too")
    parser.add_argument("--method", default="pca", choices=METHODS, help="the map's projection (default pca)")
    parser.add_argument(
        "--digits", type=int, default=2000, help="MNIST's first N test digits (default 2000; at most 10000)"
    )


def run(args) -> int:
    if not 10 <= args.digits <= 10_000:
        raise CliError(f"--digits must be between 10 and 10000, not {args.digits}")
    try:
        model, info = checkpoints.load_from(args.checkpoint)
    except (checkpoints.CheckpointError, ValueError) as exc:
        raise CliError(str(exc)) from None
    test = mnist.load_test()
    images = mnist.normalize(test.images[: args.digits]).reshape(-1, 1, 28, 28)
    labels = test.labels[: args.digits]
    features = stage_features(model, images)
    if args.stage is not None and args.stage not in features:
        raise CliError(f"{info.name} has no stage {args.stage!r}; its stages: {', '.join(features)}")
    stages = []
    for name, rows in features.items():
        if args.stage is not None and name != args.stage:
            continue
        entry = {"stage": name, "dims": int(rows.shape[1]), "separation": round(separation(rows, labels), 4)}
        if args.stage is not None:
            projection = pca(rows)
            entry["explained"] = [round(v, 4) for v in projection.explained]
            entry["coords"] = [[round(float(x), 4), round(float(y), 4)] for x, y in projection.coords]
            entry["labels"] = labels.tolist()
        stages.append(entry)
    payload = {"model": info.name, "method": args.method, "digits": args.digits, "voters": VOTERS, "stages": stages}
    lines = [
        f"{info.name}: {args.digits} test digits, separation = share whose {VOTERS} nearest others "
        f"(in the stage's features) vote for their own label"
    ]
    lines += [f"  {s['stage']:<8} {s['dims']:>6} numbers   separation {s['separation']:.2%}" for s in stages]
    if args.stage is not None:
        lines.append(f"  PCA map: {len(stages[0]['coords'])} points, variance explained {stages[0]['explained']}")
    emit(args, payload, "\n".join(lines))
    return 0
