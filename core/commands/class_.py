"""``python -m core class ...``: the class's digits from the command line (docs/reference.md lists its commands and payloads).

``summary`` and ``sessions`` read the class store; ``export PATH`` writes a session's digits as
``.npz`` and CSV, in torchvision's MNIST layout and as a printable wall (``core.classroom.export``);
``add`` stores digits from picture files or a worksheet (``core.classroom.paper``); ``compare`` runs
models on the class's digits beside MNIST (``core.classroom.lessons``); ``finetune MODEL`` teaches a
model the class's handwriting and prints the before/after figures (``core.classroom.finetune``);
``challenge ...`` runs the design challenge (``core.commands._challenge``).
``--session ID`` picks an older session (default: the current one). The store is
``CNN_EXPLAINER_CLASS_DB`` or ``artifacts/class.sqlite``.
"""

from __future__ import annotations

import argparse
import time

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.commands import CliError, _challenge, emit
from core.models import checkpoints
from core.training.jobs.spec import JobInputError
from core.training.train import TrainingDiverged

HELP = "the class's digits: summary, sessions, export, add, compare, finetune; the design challenge"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        # --json after the action too: `class summary --json`, as README writes it
        sub.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output on stdout"
        )
        return sub

    summary = action("summary", "entries, students, digits per label and right answers per model")
    summary.add_argument("--session", type=int, help="a session id (default: the current one)")
    action("sessions", "every class session, newest first")
    export = action(
        "export",
        "write a session's digits as PATH.npz and PATH.csv, the MNIST layout under "
        "PATH/MNIST/raw/ and the wall as PATH.html",
    )
    export.add_argument("path", help="where to write (a .npz; the .csv, .html and the folder go beside it)")
    export.add_argument("--session", type=int, help="a session id (default: the current one)")
    export.add_argument("--nicknames", action="store_true", help="print the writers' nicknames on the wall")

    add = action("add", "add digits from picture files: one digit per file, or --grid ROWSxCOLS cells per picture")
    add.add_argument("files", nargs="+", metavar="FILE", help="picture files (PNG, JPEG, ...)")
    add.add_argument("--label", type=int, help="the label of every digit (0-9)")
    add.add_argument("--labels", help="one label per file; with --grid one per row, per column or per cell")
    add.add_argument("--grid", help="cut each picture into ROWSxCOLS cells, one digit each (e.g. 3x5)")
    add.add_argument("--model", default="lenet5", help="the checkpoint that reads the digits (default lenet5)")
    add.add_argument("--nickname", default="from paper", help="the sender's name on the wall (default: from paper)")
    add.add_argument("--session", type=int, help="a session id (default: the current one)")
    add.add_argument("--folder", help="checkpoint folder (default: checkpoints/)")

    compare = action("compare", "models on the class's digits beside MNIST's test set (default: every checkpoint)")
    compare.add_argument("models", nargs="*", metavar="MODEL", help="checkpoint names (default: all)")
    compare.add_argument("--session", type=int, help="a session id (default: the current one)")
    compare.add_argument("--folder", help="checkpoint folder (default: checkpoints/)")

    finetune = action(
        "finetune",
        "fine-tune MODEL on the class's digits; before/after on held-out class "
        "digits and on MNIST; saves class_<MODEL>_<session>",
    )
    finetune.add_argument("model", metavar="MODEL", help="the checkpoint to start from (e.g. lenet5)")
    finetune.add_argument("--session", type=int, help="a session id (default: the current one)")
    finetune.add_argument("--steps", type=int, help="batches to train (default 100)")
    finetune.add_argument("--batch-size", type=int, help="images per batch (default 64)")
    finetune.add_argument(
        "--class-share",
        type=float,
        help="share of each batch from the class (default 0.25; the rest MNIST training images)",
    )
    finetune.add_argument("--lr", type=float, help="Adam's learning rate (default 1e-3)")
    finetune.add_argument("--held-out", type=float, help="share of the class's digits held out (0.2-0.5, default 0.2)")
    finetune.add_argument("--seed", type=int, help="the split's and the batches' seed (default 0)")
    finetune.add_argument("--mnist-limit", type=int, help="measure on the first N MNIST test images (default all)")
    finetune.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    finetune.add_argument("--folder", help="checkpoint folder (default: checkpoints/)")
    finetune.add_argument("--dry-run", action="store_true", help="measure and report, save nothing")

    challenge = actions.add_parser(
        "challenge",
        help="the design challenge: open, submit, status, run, results, close",
        description=_challenge.__doc__,
    )
    _challenge.add_arguments(challenge)


def _store() -> class_store.ClassStore:
    try:
        return class_store.store()
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _summary(args) -> None:
    summary = _store().summary(args.session)
    right = ", ".join(f"{model} {n}/{summary['sent'][model]}" for model, n in summary["right"].items()) or "none yet"
    labels = " ".join(f"{d}:{n}" for d, n in summary["by_label"].items())
    emit(
        args,
        {key: summary[key] for key in ("session", "entries", "students", "by_label", "right")},
        f"session {summary['session']} ({summary['name']}): {summary['entries']} digits from "
        f"{summary['students']} students\nper label  {labels}\nright      {right}",
    )


def _sessions(args) -> None:
    rows = _store().sessions()
    lines = [
        f"{'*' if r['current'] else ' '} {r['session']:>4}  {r['name']:<32} "
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r['started']))}  "
        f"{r['entries']:>5} digits  {r['students']:>3} students"
        for r in rows
    ]
    emit(args, rows, "\n".join(lines) if lines else "no class session yet")


def _export(args) -> None:
    from core.classroom.export import export_all

    try:
        written = export_all(_store(), args.path, args.session, nicknames=args.nicknames)
    except OSError as exc:
        raise CliError(f"could not write {args.path}: {exc.strerror or exc}") from None
    emit(
        args,
        written,
        f"{written['entries']} digits -> {written['npz']}, {written['csv']} and {written['html']}; "
        f"MNIST layout ({written['idx_train']} training, {written['idx_test']} test digits) "
        f"under {written['idx']}",
    )


def _add(args) -> int:
    from core.classroom import paper

    files = list(args.files)
    report = paper.add_pictures(
        _store(),
        files,
        label=args.label,
        labels=args.labels,
        grid=args.grid,
        model=args.model,
        session_id=args.session,
        nickname=args.nickname,
        folder=args.folder,
    )
    lines = [f"added {len(report.added)} digit(s) to session {report.session}, read by {report.model}"]
    lines += [
        f"  + {a.source}{f' ({a.cell})' if a.cell else ''}: {a.label}, read as {a.prediction} ({a.confidence:.0%})"
        for a in report.added
    ]
    lines += [f"  - {r.source}{f' ({r.cell})' if r.cell else ''}: refused: {r.reason}" for r in report.refused]
    emit(args, report.to_dict(), "\n".join(lines))
    return 0 if report.added else 1


def _compare(args) -> None:
    from core.classroom import lessons

    digits = lessons.class_digits(_store(), args.session)
    rows = lessons.compare_models(digits, args.models or None, folder=args.folder)

    def percent(value):
        return "-" if value is None else f"{value:.2%}"

    lines = [f"session {digits.session}: {len(digits)} class digits", f"{'model':<32} {'MNIST test':>10} {'class':>8}"]
    lines += [
        f"{r.model:<32} {percent(r.mnist_accuracy):>10} {percent(r.class_accuracy):>8}"
        + (f"  ({r.error})" if r.error else "")
        for r in rows
    ]
    emit(
        args,
        {
            "session": digits.session,
            "class_digits": len(digits),
            "models": [
                {
                    "model": r.model,
                    "preset": r.preset,
                    "mnist_accuracy": r.mnist_accuracy,
                    "class_accuracy": r.class_accuracy,
                    "error": r.error,
                }
                for r in rows
            ],
        },
        "\n".join(lines),
    )


def _finetune(args) -> None:
    from core.classroom import finetune
    from core.classroom.lessons import class_digits
    from core.commands.train import ProgressBar

    given = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "class_share": args.class_share,
        "lr": args.lr,
        "held_out": args.held_out,
        "seed": args.seed,
        "mnist_limit": args.mnist_limit,
    }
    settings = finetune.FinetuneSettings(**{k: v for k, v in given.items() if v is not None})
    digits = class_digits(_store(), args.session)
    try:
        bar = ProgressBar(finetune.checkpoint_name(args.model, digits.session), enabled=not args.json)
        result = finetune.finetune(args.model, digits, settings, folder=args.folder, device=args.device, progress=bar)
        saved = None if args.dry_run else str(finetune.save(result, folder=args.folder).pt_path)
    except (JobInputError, checkpoints.CheckpointError, TrainingDiverged, ValueError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        folder = args.folder or checkpoints.folder_or_default(None)
        raise CliError(f"could not write the fine-tuned checkpoint in {folder}: {exc.strerror or exc}") from None
    figures = {**result.figures(), "saved": saved}
    changed = ", ".join(f"#{c['entry']} ({c['label']}): {c['before']} -> {c['after']}" for c in result.changed)
    mnist_per_batch = settings.batch_size - settings.class_per_batch
    emit(
        args,
        figures,
        f"{result.base} fine-tuned on {figures['train_digits']} of session {digits.session}'s {len(digits)} digits "
        f"({settings.steps} steps of {settings.class_per_batch} class + {mnist_per_batch} MNIST images), "
        f"{figures['seconds']} s\n"
        f"held-out class digits ({figures['class']['n']}): {result.class_before:.2%} -> {result.class_after:.2%}\n"
        f"MNIST test ({figures['mnist']['n']:,}):          {result.mnist_before:.2%} -> {result.mnist_after:.2%}\n"
        f"answers changed: {changed or 'none'}\n"
        + (f"saved as {result.name} -> {saved}" if saved else "dry run: not saved"),
    )


def run(args) -> int:
    actions = {
        "summary": _summary,
        "sessions": _sessions,
        "export": _export,
        "add": _add,
        "compare": _compare,
        "finetune": _finetune,
        "challenge": _challenge.run,
    }
    try:
        return int(actions[args.action](args) or 0)
    except (StoreError, checkpoints.CheckpointError) as exc:
        raise CliError(str(exc)) from None
