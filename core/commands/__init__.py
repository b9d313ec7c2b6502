"""One module per ``python -m core`` command (see ``core/__main__.py``).

May import: every package of core.
"""

from __future__ import annotations

import json
import sys


class CliError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def emit(args, payload, human: str) -> None:
    """Print ``payload`` as JSON with ``--json``, else the human text."""
    if getattr(args, "json", False):
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(human)
