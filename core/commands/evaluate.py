"""``python -m core evaluate MODEL|CKPT [--data PATH]``: test accuracy and loss of a checkpoint, on
MNIST's test set or on the test IDX files of another folder in the same layout."""

from __future__ import annotations

from core.commands import CliError, emit
from core.models import checkpoints
from core.models.inference import evaluate_checkpoint

HELP = "test accuracy and loss of a checkpoint (a name in checkpoints/ or a path), on MNIST or --data PATH"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="checkpoint name (e.g. lenet5) or path to a .pt/.json")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="evaluate on the test IDX files of PATH (torchvision's MNIST layout: "
        "PATH/MNIST/raw/t10k-*-ubyte, as `class export` writes) instead of MNIST's",
    )


def run(args) -> int:
    try:
        result = evaluate_checkpoint(args.checkpoint, args.device, args.data)
    except (checkpoints.CheckpointError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"could not read {exc.filename or args.data}: {exc.strerror or exc}") from None
    emit(
        args,
        result,
        f"{result['model']} ({result['preset']}): test accuracy {result['accuracy']:.2%}, "
        f"loss {result['loss']:.4f} on {result['n']:,} images" + (f" of {result['data']}" if args.data else ""),
    )
    return 0
