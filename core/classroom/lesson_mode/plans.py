"""A lesson: an ordered list of steps, each a view of the dashboard given by its link (a page and
its URL settings, e.g. ``/architecture?arch_model=lenet5_1998&c3_map=15``), a title and one or two
lines for the students.

The default lesson (:data:`DEFAULT`) follows Home's walk-through; a teacher's own lessons are kept
in the class store (table ``lesson_plans``: :class:`LessonPlans`) and travel as files, JSON or TOML
(docs/reference.md)::

    {"name": "intro", "title": "...", "steps": [{"title": "...", "link": "/dataset?digit=7", "lines": ["..."]}]}

A file is read step by step: a step whose link names a page the dashboard does not have, or is not
a link of this dashboard at all, is named and skipped (:func:`from_dict` returns the lesson and
those reasons); a lesson left with no step is refused. A link's settings are the page's to judge
when it opens: a value the page cannot use is named there, as for any link.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from core.classroom import checks
from core.classroom.db import StoreError
from core.classroom.store import ClassStore
from core.files import atomic_write_bytes
from core.i18n import N_, _

# The dashboard's pages by their path ("" is Home): dashboard/app.py's navigation, which
# tests/test_lesson_plans.py checks this against.
PAGES = ("", "dataset", "convolution", "architecture", "design", "draw", "training", "class", "models")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
TITLE_MAX, LINE_MAX, LINES_MAX, STEPS_MAX = 80, 200, 2, 50
DRAFT_SETTING = "lesson_draft"  # settings row: the lesson the teacher is building, as JSON steps
_PERSONAL = ("teacher",)  # a link's parameter that must never travel in a lesson: the teacher's token
_READERS = ("lang", "presenter")  # each reader's own (language, presenter mode): left out of a step's link


class LessonError(StoreError, ValueError):
    """A lesson that cannot be read, saved or found: the message says which and why."""


@dataclass(frozen=True)
class Step:
    title: str
    link: str  # "/page?key=value&...", as a browser's address bar holds it after the host
    lines: tuple[str, ...] = ()

    @property
    def page(self) -> str:
        return urllib.parse.urlsplit(self.link).path.strip("/")

    @property
    def settings(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(urllib.parse.urlsplit(self.link).query, keep_blank_values=True)

    def to_dict(self) -> dict:
        return {"title": self.title, "link": self.link, "lines": list(self.lines)}


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "steps": [s.to_dict() for s in self.steps]}


def checked_link(link: object) -> str:
    """``link`` as a step keeps it (``/page?query``, without the reader's own language and presenter
    mode), or ValueError saying why it is not one of this dashboard's views: another site, an
    unknown page, the teacher's token in it."""
    if not isinstance(link, str) or not link.strip():
        raise ValueError(_("a step needs a link, e.g. /dataset?digit=7"))
    parts = urllib.parse.urlsplit(link.strip())
    if parts.scheme or parts.netloc:
        raise ValueError(
            _("{link} is not a link of this dashboard: write it from the page on, e.g. /draw").format(link=link)
        )
    page = parts.path.strip("/")
    if page not in PAGES:
        raise ValueError(
            _("{link} names the page /{page}, which this dashboard does not have; pages: {pages}").format(
                link=link, page=page, pages=", ".join("/" + p for p in PAGES)
            )
        )
    settings = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(key in _PERSONAL for key, _value in settings):
        raise ValueError(_("{link} holds the teacher's token: a lesson never carries it").format(link=link))
    query = urllib.parse.urlencode([(key, value) for key, value in settings if key not in _READERS])
    return "/" + page + ("?" + query if query else "")


def _text(value: object, most: int) -> str:
    """Plain text of at most ``most`` characters, control characters dropped (shown as plain text everywhere)."""
    return checks.plain_text(value)[:most]


def from_dict(data: object) -> tuple[Lesson, list[str]]:
    """The lesson a file's data describes and, for each step skipped, the reason (step number first).
    LessonError for data that is no lesson at all, or a lesson left with no step."""
    if not isinstance(data, dict):
        raise LessonError(N_("a lesson file holds one lesson: name, title and steps"))
    name = str(data.get("name") or "").strip()
    if not NAME.match(name):
        raise LessonError(
            N_("a lesson's name is 1-40 letters, digits, '_', '-' or '.', starting with a letter or digit, not {name}"),
            {"name": repr(name)},
        )
    steps, skipped = [], []
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise LessonError(N_("the lesson {name} has no list of steps"), {"name": name})
    for number, raw in enumerate(raw_steps[:STEPS_MAX], 1):
        try:
            if not isinstance(raw, dict):
                raise ValueError(_("a step is a title, a link and a line or two"))
            lines = raw.get("lines") or []
            lines = [lines] if isinstance(lines, str) else list(lines)
            step = Step(
                _text(raw.get("title"), TITLE_MAX) or _("Step {number}").format(number=number),
                checked_link(raw.get("link")),
                tuple(t for t in (_text(line, LINE_MAX) for line in lines[:LINES_MAX]) if t),
            )
        except (ValueError, TypeError) as exc:
            skipped.append(_("step {number}: {reason}").format(number=number, reason=exc))
            continue
        steps.append(step)
    if len(raw_steps) > STEPS_MAX:
        skipped.append(_("steps after the {most}th: a lesson has at most {most}").format(most=STEPS_MAX))
    if not steps:
        raise LessonError(N_("the lesson {name} has no step this dashboard can show"), {"name": name})
    return Lesson(name, _text(data.get("title"), TITLE_MAX) or name, tuple(steps)), skipped


def read_file(path: Path | str) -> tuple[Lesson, list[str]]:
    """A lesson from a ``.json`` or ``.toml`` file (:func:`from_dict`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LessonError(N_("no lesson file {path}"), {"path": path}) from None
    except OSError as exc:
        raise LessonError(N_("{path} is not a lesson file ({reason})"), {"path": path, "reason": exc}) from None
    return read_bytes(raw, path.name)


def read_bytes(raw: bytes, name: str) -> tuple[Lesson, list[str]]:
    """A lesson from a file's bytes, TOML when ``name`` ends in ``.toml``, else JSON (an upload)."""
    try:
        data = tomllib.loads(raw.decode()) if name.lower().endswith(".toml") else json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LessonError(N_("{path} is not a lesson file ({reason})"), {"path": name, "reason": exc}) from None
    return from_dict(data)


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON's escapes are TOML's basic string escapes


def to_toml(lesson: Lesson) -> str:
    out = [f"name = {_toml_string(lesson.name)}", f"title = {_toml_string(lesson.title)}"]
    for step in lesson.steps:
        lines = ", ".join(_toml_string(line) for line in step.lines)
        out += ["", "[[steps]]", f"title = {_toml_string(step.title)}", f"link = {_toml_string(step.link)}"]
        out.append(f"lines = [{lines}]")
    return "\n".join(out) + "\n"


def to_json(lesson: Lesson) -> str:
    return json.dumps(lesson.to_dict(), ensure_ascii=False, indent=1) + "\n"


def write_file(lesson: Lesson, path: Path | str) -> Path:
    """Write ``lesson`` as JSON, or TOML for a ``.toml`` path (atomically)."""
    path = Path(path)
    text = to_toml(lesson) if path.suffix.lower() == ".toml" else to_json(lesson)
    atomic_write_bytes(path, text.encode())
    return path


# The default lesson: Home's walk-through as a teacher leads it. Marked N_: a page shows it in the
# reader's language (:func:`said`).
DEFAULT = Lesson(
    "default",
    N_("How a convolutional network reads a digit"),
    (
        Step(N_("What the network is given"), "/dataset?digit=7", (N_("28x28 grey images and their labels."),)),
        Step(
            N_("One filter, sliding"),
            "/convolution?conv_kernel=Sharpen",
            (N_("Watch the kernel move: each output is a sum of products plus a bias."),),
        ),
        Step(
            N_("Pooling"),
            "/convolution?conv_mode=Pooling",
            (N_("Each window keeps one number: the map gets smaller, the strongest signal stays."),),
        ),
        Step(
            N_("LeNet-5, layer by layer"),
            "/architecture?arch_model=lenet5_1998&c3_map=15",
            (N_("Where every parameter goes; C3 reads only some of S2's maps."),),
        ),
        Step(
            N_("Your digit through the network"),
            "/draw?draw_model=lenet5",
            (N_("Draw a digit: see the feature maps, the answer and why."),),
        ),
        Step(
            N_("The class's digits"),
            "/class?view=wall",
            (N_("Send your digit from Draw a digit: it appears on the wall."),),
        ),
        Step(N_("Training"), "/training", (N_("A network learns: loss down, accuracy up, epoch by epoch."),)),
        Step(
            N_("Design a network"),
            "/design?start=lenet5",
            (N_("Change a layer and see every number change."),),
        ),
        Step(
            N_("The design challenge"),
            "/class?class_tab=designs",
            (N_("Submit your design: the server trains each one and ranks them."),),
        ),
    ),
)


def said(lesson: Lesson) -> Lesson:
    """``lesson`` with its texts in the reader's language (the default lesson's are marked; a
    teacher's own are as written)."""
    if lesson.name != DEFAULT.name:
        return lesson
    return Lesson(
        lesson.name,
        _(lesson.title),
        tuple(Step(_(s.title), s.link, tuple(_(line) for line in s.lines)) for s in lesson.steps),
    )


class LessonPlans:
    """The lessons a teacher saved in the class store, beside the built-in default one."""

    def __init__(self, store: ClassStore) -> None:
        self.db = store.db

    def save(self, lesson: Lesson) -> None:
        """Keep ``lesson`` (replacing one of the same name); the default lesson's name is taken."""
        if lesson.name == DEFAULT.name:
            raise LessonError(N_("'{name}' is the built-in lesson's name: choose another"), {"name": lesson.name})
        steps = json.dumps([s.to_dict() for s in lesson.steps], ensure_ascii=False)
        with self.db.transaction(write=True) as db:
            db.execute(
                "INSERT INTO lesson_plans (name, title, steps, saved) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO "
                "UPDATE SET title = excluded.title, steps = excluded.steps, saved = excluded.saved",
                (lesson.name, lesson.title, steps, time.time()),
            )

    def lessons(self) -> list[Lesson]:
        """The default lesson first, then the saved ones by name."""
        with self.db.transaction() as db:
            rows = db.execute("SELECT name, title, steps FROM lesson_plans ORDER BY name").fetchall()
        saved = [from_dict({"name": n, "title": t, "steps": json.loads(s)})[0] for n, t, s in rows]
        return [DEFAULT, *saved]

    def lesson(self, name: str) -> Lesson:
        found = next((lesson for lesson in self.lessons() if lesson.name == name), None)
        if found is None:
            raise LessonError(N_("there is no lesson {name}"), {"name": repr(name)})
        return found

    def delete(self, name: str) -> None:
        with self.db.transaction(write=True) as db:
            db.execute("DELETE FROM lesson_plans WHERE name = ?", (name,))

    # The lesson the teacher is building ("add this view as a step" on any page, then reordered,
    # edited and saved under a name): one per store, kept between pages and restarts.

    def draft(self) -> list[Step]:
        with self.db.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (DRAFT_SETTING,)).fetchone()
        if row is None:
            return []
        try:
            return list(from_dict({"name": "draft", "steps": json.loads(row[0])})[0].steps)
        except (LessonError, ValueError):
            return []  # an empty draft, as the store keeps only steps it checked

    def set_draft(self, steps: list[Step]) -> None:
        value = json.dumps([s.to_dict() for s in steps[:STEPS_MAX]], ensure_ascii=False)
        with self.db.transaction(write=True) as db:
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (DRAFT_SETTING, value))

    def add_to_draft(self, step: Step) -> list[Step]:
        """Append ``step`` (its link checked as a lesson file's) to the lesson being built."""
        checked = Step(_text(step.title, TITLE_MAX), checked_link(step.link), step.lines)
        steps = self.draft()
        if len(steps) >= STEPS_MAX:
            raise LessonError(N_("a lesson has at most {most} steps"), {"most": STEPS_MAX})
        steps.append(checked)
        self.set_draft(steps)
        return steps
