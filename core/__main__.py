"""Command line: ``python -m core COMMAND [options]``.

Each command lives in ``core/commands/<name>.py`` and defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. They are discovered here, so a new
command is a new file. Errors a user can fix are ``CliError``: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from core import commands
from core.commands import CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # a part of a command (_challenge: class challenge), not one
            continue
        module = importlib.import_module(f"core.commands.{info.name}")
        # A command named like a Python keyword lives in a file with a trailing "_" (class_.py).
        cmd = sub.add_parser(info.name.rstrip("_").replace("_", "-"), help=module.HELP, description=module.HELP)
        cmd.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
