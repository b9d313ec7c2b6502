"""``python -m core data``: make sure MNIST is in data/, verify it, print counts."""

from __future__ import annotations

from core.commands import CliError, emit
from core.data import mnist

HELP = "make sure MNIST is in data/, verify it, print counts"


def add_arguments(parser) -> None:
    parser.add_argument("--root", default=str(mnist.DEFAULT_ROOT), help="data folder (default: data/)")


def run(args) -> int:
    try:
        info = mnist.summary(args.root)
    except mnist.DataNotFoundError as exc:
        raise CliError(str(exc)) from None
    train_counts = mnist.class_counts(mnist.load_train(args.root))
    info_h = (
        f"MNIST in {info['root']}\n"
        f"  train {info['train']:,} images, test {info['test']:,} images, "
        f"md5 {'ok' if info['md5_ok'] else 'WRONG'}\n"
        f"  train class counts: {train_counts}\n"
        f"  normalised with mean {mnist.NORM_MEAN}, std {mnist.NORM_STD} (pixels scaled to [0, 1])"
    )
    emit(args, info, info_h)
    return 0
