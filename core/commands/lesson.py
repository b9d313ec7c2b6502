"""``python -m core lesson ACTION``: the lessons a teacher leads (docs/reference.md has the file format).

``list`` the default lesson and the ones saved in the class store; ``show NAME`` its steps; ``import
FILE`` reads a lesson from a JSON or TOML file and saves it (a step whose link this dashboard cannot
show is named and skipped); ``export NAME FILE`` writes one as JSON, or TOML for a ``.toml`` file.
"""

from __future__ import annotations

import argparse

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.lesson_mode.plans import Lesson, LessonPlans, read_file, write_file
from core.commands import CliError, emit

HELP = "the lessons a teacher leads: list, show, import, export"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
        return sub

    action("list", "the default lesson and the saved ones, with their steps")
    action("show", "one lesson's steps").add_argument("name")
    action("import", "read a lesson from a .json or .toml file and save it").add_argument("file")
    export = action("export", "write a lesson as JSON (or TOML for a .toml file)")
    export.add_argument("name")
    export.add_argument("file")


def _lines(lesson: Lesson) -> str:
    out = [f"{lesson.name}: {lesson.title} ({len(lesson.steps)} steps)"]
    out += [f"  {k}. {step.title}  {step.link}" for k, step in enumerate(lesson.steps, 1)]
    return "\n".join(out)


def run(args) -> int:
    try:
        plans = LessonPlans(class_store.store())
        if args.action == "list":
            lessons = plans.lessons()
            emit(args, {"lessons": [lesson.to_dict() for lesson in lessons]}, "\n".join(map(_lines, lessons)))
        elif args.action == "show":
            lesson = plans.lesson(args.name)
            emit(args, lesson.to_dict(), _lines(lesson))
        elif args.action == "import":
            lesson, skipped = read_file(args.file)
            plans.save(lesson)
            said = [f"skipped {reason}" for reason in skipped]
            emit(args, {**lesson.to_dict(), "skipped": skipped}, "\n".join([f"saved {_lines(lesson)}", *said]))
        else:
            path = write_file(plans.lesson(args.name), args.file)
            emit(args, {"name": args.name, "file": str(path)}, f"wrote {args.name} to {path}")
    except (StoreError, OSError) as exc:
        raise CliError(str(exc)) from None
    return 0
