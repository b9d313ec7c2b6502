"""``python -m core visualize MODEL --unit output:K|LAYER:FILTER --out FILE.png``: the picture that
excites one output class or one convolution filter most (``core.explain.wants``), written as a
28 x 28 white-on-black PNG that ``predict`` reads."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from core.commands import CliError, emit
from core.explain.journey import UnitError
from core.explain.wants import Settings, activation, normalised, wanted
from core.files import atomic_write_bytes
from core.models import checkpoints

HELP = "the picture that excites a class (output:3) or a filter (conv1:5) most, as a 28x28 PNG"


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="checkpoint name (e.g. lenet5) or path to a .pt/.json")
    parser.add_argument("--unit", required=True, help="output:K (a class, 0-9) or LAYER:FILTER (e.g. conv1:5)")
    parser.add_argument("--out", required=True, help="the PNG file to write")
    parser.add_argument("--steps", type=int, default=Settings.steps, help=f"gradient steps (default {Settings.steps})")
    parser.add_argument("--seed", type=int, default=Settings.seed, help="the jitter's seed (default 0)")


def run(args) -> int:
    if not 1 <= args.steps <= 5000:
        raise CliError(f"--steps must be between 1 and 5000, not {args.steps}")
    try:
        model, info = checkpoints.load_from(args.checkpoint)
        picture = wanted(model, args.unit, Settings(steps=args.steps, seed=args.seed))
        reached = float(activation(model, normalised(picture.reshape(1, 1, 28, 28)), args.unit)[0])
    except (checkpoints.CheckpointError, UnitError) as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out)
    buffer = io.BytesIO()
    Image.fromarray(np.round(picture.numpy() * 255).astype(np.uint8)).save(buffer, format="PNG")
    try:
        atomic_write_bytes(out, buffer.getvalue())
    except OSError as exc:
        raise CliError(f"could not write {out}: {exc.strerror or exc}") from None
    payload = {
        "model": info.name,
        "unit": args.unit,
        "out": str(out),
        "activation": round(reached, 4),
        "steps": args.steps,
    }
    emit(args, payload, f"{info.name} {args.unit}: activation {reached:.3f} after {args.steps} steps -> {out}")
    return 0
