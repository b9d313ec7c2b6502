"""``python -m core train MODEL``: train a preset, show progress, write a checkpoint."""

from __future__ import annotations

import sys

from core import models
from core.commands import CliError, emit
from core.models import checkpoints, design
from core.training import recipes
from core.training.train import TrainingDiverged, train

HELP = "train a preset (progress bar); writes checkpoints/<name>.pt + .json"


def add_arguments(parser) -> None:
    parser.add_argument("model", nargs="?", help=f"one of: {', '.join(models.names())}")
    parser.add_argument(
        "--all",
        action="store_true",
        help="train every shipped checkpoint (fast recipe for each preset, plus the "
        "seed recipe where a source reports a figure): what `make checkpoints` runs",
    )
    parser.add_argument(
        "--design",
        metavar="NOTATION",
        help='train a network written in the design notation instead of a preset, e.g. "conv16k5p2 relu max2 '
        'dense120 relu" (its fast recipe: one epoch on 12,000 images unless --epochs/--limit say otherwise); '
        "saved as design_<8 hex of the notation's hash> unless --name says otherwise",
    )
    parser.add_argument("--recipe", choices=sorted(recipes.RECIPES), default="fast")
    parser.add_argument(
        "--variant",
        choices=sorted(recipes.VARIANTS),
        help="with --recipe seed on cnn_avgpool(_bn): seed 000's printed recipe with one change",
    )
    parser.add_argument("--name", help="checkpoint name (default: the model name)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--optimizer", choices=recipes.OPTIMIZERS)
    parser.add_argument("--momentum", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--schedule", choices=recipes.SCHEDULES)
    parser.add_argument("--loss", choices=recipes.LOSSES, help="map: LeCun et al. 1998, eq. (9) (lenet5_1998)")
    parser.add_argument("--augment", action="store_true", default=None, help="random shifts/rotations")
    parser.add_argument("--limit", type=int, help="train on this many images (a seeded subset)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--snapshots", action="store_true", help="also keep one snapshot per epoch")
    parser.add_argument("--folder", default=str(checkpoints.DEFAULT_DIR), help="checkpoint folder")
    parser.add_argument(
        "--dry-run", action="store_true", help="smoke test: 1 epoch on 2,000 images, tested on 1,000, nothing saved"
    )


class ProgressBar:
    """One tqdm bar per epoch on stderr, with loss, accuracy and speed."""

    def __init__(self, label: str, enabled: bool = True):
        self.label, self.enabled, self.bar = label, enabled, None

    def __call__(self, event: dict) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if event["event"] == "batch":
            if self.bar is None:
                self.bar = tqdm(
                    total=event["steps"],
                    desc=f"{self.label} epoch {event['epoch']}/{event['epochs']}",
                    unit="batch",
                    file=sys.stderr,
                    leave=True,
                    dynamic_ncols=True,
                )
            self.bar.n = event["step"]
            self.bar.set_postfix(
                loss=f"{event['loss']:.4f}",
                acc=f"{event['accuracy']:.3f}",
                img_s=f"{event['images_per_second']:,.0f}",
                refresh=True,
            )
        else:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            print(
                f"  epoch {event['epoch']}: train loss {event['train_loss']:.4f}, "
                f"test accuracy {event['test_accuracy']:.2%}, {event['seconds']:.1f} s",
                file=sys.stderr,
            )


def run_one(args, run: recipes.ShippedRun, name: str, config: dict | None = None) -> dict:
    preset, recipe_name = run.preset, run.recipe
    try:
        base = recipes.get_recipe(preset, recipe_name, run.variant)
    except recipes.RecipeError as exc:
        raise CliError(str(exc)) from None
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "momentum": args.momentum,
        "weight_decay": args.weight_decay,
        "schedule": args.schedule,
        "loss": args.loss,
        "augment": args.augment,
        "limit": args.limit,
        "seed": args.seed,
    }
    if args.dry_run:
        overrides.update(epochs=1, limit=2000, batch_size=min(base.batch_size, 256))
    try:
        recipe = recipes.prepare(preset, recipe_name, run.variant, overrides)
        result = train(
            preset,
            recipe,
            device=args.device,
            keep_snapshots=run.snapshots,
            progress=ProgressBar(name, enabled=not args.json),
            test_limit=1000 if args.dry_run else None,
            config=config,
        )
    except (recipes.RecipeError, TrainingDiverged, ValueError) as exc:
        raise CliError(str(exc)) from None
    summary = {
        "name": name,
        "model": preset,
        "recipe": recipe_name,
        "variant": run.variant,
        **(
            {"notation": config["notation"], "params": sum(p.numel() for p in result.model.parameters())}
            if config
            else {}
        ),
        "test_accuracy": result.test_accuracy,
        "epochs": len(result.history),
        "seconds": round(result.seconds, 1),
        "device": result.device,
        "saved": None,
    }
    if not args.dry_run:
        try:
            info = checkpoints.save(
                result.model,
                name,
                preset=preset,
                record=result.record(recipe_name, run.variant),
                folder=args.folder,
                snapshots=result.snapshots or None,
            )
        except (OSError, checkpoints.CheckpointError) as exc:
            raise CliError(f"could not write checkpoint {name!r} in {args.folder}: {exc}") from None
        summary["saved"] = str(info.pt_path)
    return summary


def _design_run(args) -> tuple[recipes.ShippedRun, str, dict]:
    """The run ``--design`` asks for, its checkpoint name and the model's configuration; exit 2
    with the design's one sentence when it cannot be built."""
    if args.model or args.all:
        raise CliError("--design trains the design it names: give no model and no --all")
    try:
        chosen = design.parse(args.design)
        name = checkpoints.validate_name(args.name or design.checkpoint_name(chosen))
    except (design.DesignError, checkpoints.CheckpointError) as exc:
        raise CliError(str(exc)) from None
    return recipes.ShippedRun(models.DESIGN, "fast", None, args.snapshots), name, {"notation": chosen.notation}


def run(args) -> int:
    if args.design is not None:
        run, name, config = _design_run(args)
        result = run_one(args, run, name, config)
        emit(args, result, _summary_line(result))
        return 0
    if args.all:
        runs = [(run, run.name) for run in recipes.shipped_runs()]
    elif args.model:
        if args.model not in models.names():
            raise CliError(f"unknown model {args.model!r}; valid: {', '.join(models.names())}")
        run = recipes.ShippedRun(args.model, args.recipe, args.variant, args.snapshots)
        name = args.name or run.name
        try:
            checkpoints.validate_name(name)
        except checkpoints.CheckpointError as exc:
            raise CliError(str(exc)) from None
        runs = [(run, name)]
    else:
        raise CliError("name a model to train (or --all); models: " + ", ".join(models.names()))
    results = [run_one(args, run, name) for run, name in runs]
    emit(args, results if args.all else results[0], "\n".join(_summary_line(r) for r in results))
    return 0


def _summary_line(r: dict) -> str:
    what = f"design {r['notation']!r}, {r['params']:,} parameters" if "notation" in r else r["model"]
    return (
        f"{r['name']}: {what} ({r['recipe']} recipe) test accuracy {r['test_accuracy']:.2%} "
        f"after {r['epochs']} epoch(s), {r['seconds']} s on {r['device']}"
        + (f" -> {r['saved']}" if r["saved"] else " (dry run: not saved)")
    )
