"""``python -m core evaluate MODEL|CKPT``: test accuracy and loss of a checkpoint."""

from __future__ import annotations

from core import checkpoints
from core.commands import CliError, emit
from core.inference import evaluate_checkpoint

HELP = "test accuracy and loss of a checkpoint (a name in checkpoints/ or a path)"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="checkpoint name (e.g. lenet5) or path to a .pt/.json")
    parser.add_argument("--device", default="cpu")


def run(args) -> int:
    try:
        result = evaluate_checkpoint(args.checkpoint, args.device)
    except (checkpoints.CheckpointError, ValueError) as exc:
        raise CliError(str(exc)) from None
    emit(args, result, f"{result['model']} ({result['preset']}): test accuracy {result['accuracy']:.2%}, "
                       f"loss {result['loss']:.4f} on {result['n']:,} images")
    return 0
