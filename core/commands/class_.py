"""``python -m core class ...``: the class's digits from the command line (DESIGN.md's class CLI).

``summary`` and ``sessions`` read the class store; ``export PATH`` writes a session's digits as
``.npz`` and CSV. ``--session ID`` picks an older session (default: the current one). The store
is ``CNN_EXPLAINER_CLASS_DB`` or ``artifacts/class.sqlite``.
"""

from __future__ import annotations

import argparse
import time

from core import class_store
from core.commands import CliError, emit

HELP = "the class's digits: summary, sessions, export"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        # --json after the action too: `class summary --json`, as DESIGN.md writes it
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                         help="machine-readable output on stdout")
        return sub

    summary = action("summary", "entries, students, digits per label and right answers per model")
    summary.add_argument("--session", type=int, help="a session id (default: the current one)")
    action("sessions", "every class session, newest first")
    export = action("export", "write a session's digits as PATH.npz and PATH.csv")
    export.add_argument("path", help="where to write (a .npz; the .csv goes beside it)")
    export.add_argument("--session", type=int, help="a session id (default: the current one)")


def _store() -> class_store.ClassStore:
    try:
        return class_store.store()
    except class_store.StoreError as exc:
        raise CliError(str(exc)) from None


def _summary(args) -> None:
    summary = _store().summary(args.session)
    right = ", ".join(f"{model} {n}/{summary['sent'][model]}" for model, n in summary["right"].items()) or "none yet"
    labels = " ".join(f"{d}:{n}" for d, n in summary["by_label"].items())
    emit(args, {key: summary[key] for key in ("session", "entries", "students", "by_label", "right")},
         f"session {summary['session']} ({summary['name']}): {summary['entries']} digits from "
         f"{summary['students']} students\nper label  {labels}\nright      {right}")


def _sessions(args) -> None:
    rows = _store().sessions()
    lines = [f"{'*' if r['current'] else ' '} {r['session']:>4}  {r['name']:<32} "
             f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r['started']))}  "
             f"{r['entries']:>5} digits  {r['students']:>3} students" for r in rows]
    emit(args, rows, "\n".join(lines) if lines else "no class session yet")


def _export(args) -> None:
    store = _store()
    try:
        npz_path, csv_path = store.export(args.path, args.session)
    except OSError as exc:
        raise CliError(f"could not write {args.path}: {exc.strerror or exc}") from None
    count = store.summary(args.session)["entries"]
    emit(args, {"npz": str(npz_path), "csv": str(csv_path), "entries": count},
         f"{count} digits -> {npz_path} and {csv_path}")


def run(args) -> int:
    try:
        {"summary": _summary, "sessions": _sessions, "export": _export}[args.action](args)
    except class_store.StoreError as exc:
        raise CliError(str(exc)) from None
    return 0
