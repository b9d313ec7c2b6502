"""``python -m core predict MODEL|CKPT IMG...``: the canvas's preprocessing, then a prediction."""

from __future__ import annotations

import sys

from core.commands import CliError, emit
from core.data import preprocess
from core.models import checkpoints
from core.models.inference import predict

HELP = "predict digits in image files (same preprocessing as the draw page)"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="checkpoint name (e.g. lenet5) or path to a .pt/.json")
    parser.add_argument("images", nargs="+", help="PNG/JPEG files, either polarity")


def run(args) -> int:
    try:
        model, _ = checkpoints.load_from(args.checkpoint)
    except (checkpoints.CheckpointError, ValueError) as exc:
        raise CliError(str(exc)) from None
    results, lines, failed = [], [], 0
    for path in args.images:
        try:
            x = preprocess.from_path(path).tensor
        except preprocess.PreprocessError as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        p = predict(model, x)
        results.append({"file": path, "prediction": p.prediction, "probabilities": p.probabilities})
        top = sorted(range(10), key=lambda k: -p.probabilities[k])[:3]
        lines.append(f"{path}: {p.prediction}  (" + ", ".join(f"{k}: {p.probabilities[k]:.1%}" for k in top) + ")")
    if results:
        emit(args, results, "\n".join(lines))
    return 2 if failed else 0
