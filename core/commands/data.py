"""``python -m core data``: make sure MNIST is in data/, verify it, print counts."""

from __future__ import annotations

from core import data
from core.commands import CliError, emit

HELP = "make sure MNIST is in data/, verify it, print counts"


def add_arguments(parser) -> None:
    parser.add_argument("--root", default=str(data.DEFAULT_ROOT), help="data folder (default: data/)")


def run(args) -> int:
    try:
        info = data.summary(args.root)
    except data.DataNotFoundError as exc:
        raise CliError(str(exc)) from None
    train_counts = data.class_counts(data.load_train(args.root))
    mean, std = data.norm_stats(args.root)
    info_h = (f"MNIST in {info['root']}\n"
              f"  train {info['train']:,} images, test {info['test']:,} images, "
              f"md5 {'ok' if info['md5_ok'] else 'WRONG'}\n"
              f"  train class counts: {train_counts}\n"
              f"  mean {mean}, std {std} (pixels scaled to [0, 1])")
    emit(args, info, info_h)
    return 0
