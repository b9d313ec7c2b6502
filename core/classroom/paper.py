"""Digits from paper: picture files into the class store, through the same preprocessing as /draw.

Two ways in (``python -m core class add``, or the page's upload calling :func:`add_pictures`):

- **one digit per file**: ``--label 4 a.png b.jpg`` (every file a 4), or ``--labels 47 a.png
  b.jpg`` (one digit per file, in order);
- **a worksheet cut into a grid**: ``--grid 3x5`` cuts each picture into 3 rows of 5 equal cells,
  one digit per cell, a little of each cell's edge left out (printed box lines). The labels:
  ``--label 7`` (every cell), or ``--labels`` with one digit per *row* (``--labels 012``: row 1
  holds 0s, row 2 1s, row 3 2s), per *column* (5 digits), or per *cell* (15 digits, row by row);
  the length says which, per row first when rows and columns are as many.

Every picture (and every cell) is refused or accepted as an upload on /draw is: not an image,
too large, animated, empty, a stray dot, each with its reason; a blank cell is refused as empty,
the others are still added. A model (default ``lenet5``) reads the accepted digits as they are
added, so each entry has an answer like any digit sent from /draw.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from core.classroom.db import StoreError
from core.classroom.store import ClassStore
from core.data import preprocess
from core.i18n import _
from core.models import checkpoints
from core.models.inference import predict_batch

DEFAULT_MODEL = "lenet5"
DEFAULT_NICKNAME = "from paper"
CELL_MARGIN = 0.08  # of each cell's width and height left out on every side: the worksheet's box lines
MAX_GRID_SIDE = 30


class PaperError(StoreError, ValueError):
    """Labels or a grid that cannot describe the pictures; the message says how to write them."""


@dataclass(frozen=True)
class Grid:
    rows: int
    cols: int

    @property
    def cells(self) -> int:
        return self.rows * self.cols


class Cell(NamedTuple):
    """Where a digit was on a sheet; both from 1."""

    row: int
    column: int

    def __str__(self) -> str:  # the command line's words (it stays English)
        return f"row {self.row}, column {self.column}"


def parse_grid(text: str) -> Grid:
    """``"3x5"`` (or ``3X5``, ``3×5``): 3 rows, 5 columns, each from 1 to 30."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×*]\s*(\d+)\s*", str(text))
    if not match or not all(1 <= int(n) <= MAX_GRID_SIDE for n in match.groups()):
        raise PaperError(
            _("a grid is ROWSxCOLUMNS with each from 1 to {most}, such as 3x5; got {text!r}").format(
                most=MAX_GRID_SIDE, text=text
            )
        )
    return Grid(int(match.group(1)), int(match.group(2)))


def _digits(text: str) -> list[int]:
    cleaned = re.sub(r"[\s,;]", "", str(text))
    if not cleaned or not cleaned.isdecimal() or not cleaned.isascii():
        raise PaperError(_("labels are digits 0-9 (spaces and commas are ignored), got {text!r}").format(text=text))
    return [int(ch) for ch in cleaned]


def _one_label(label: object) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise PaperError(_("a label is a digit from 0 to 9, got {label!r}").format(label=label))
    return int(label)


def labels_for(
    count: int, *, label: int | None = None, labels: str | None = None, grid: Grid | None = None
) -> list[int]:
    """The label of each picture (no grid; ``count`` pictures) or of each cell of one sheet (row
    by row), from ``label`` (all the same) or ``labels`` (see the module's docstring)."""
    if (label is None) == (labels is None):
        raise PaperError(_("give the digits' labels: either one digit for all (4) or one digit per picture (0123)"))
    if label is not None:
        return [_one_label(label)] * (grid.cells if grid else count)
    values = _digits(labels)
    if grid is None:
        if len(values) != count:
            raise PaperError(
                _("{given} labels for {count} picture(s): give one per picture, in order").format(
                    given=len(values), count=count
                )
            )
        return values
    if len(values) == grid.rows:
        return [values[r] for r in range(grid.rows) for _col in range(grid.cols)]
    if len(values) == grid.cols:
        return [values[c] for _row in range(grid.rows) for c in range(grid.cols)]
    if len(values) == grid.cells:
        return values
    raise PaperError(
        _(
            "{given} labels for a {rows}x{cols} grid: give one per row ({rows}), one "
            "per column ({cols}) or one per cell ({cells}, row by row)"
        ).format(given=len(values), rows=grid.rows, cols=grid.cols, cells=grid.cells)
    )


def cut_grid(sheet: np.ndarray, grid: Grid, margin: float = CELL_MARGIN) -> list[np.ndarray]:
    """The cells of a picture, row by row, each without ``margin`` of its size on every side."""
    height, width = sheet.shape[:2]
    cells = []
    for r in range(grid.rows):
        top, bottom = round(r * height / grid.rows), round((r + 1) * height / grid.rows)
        for c in range(grid.cols):
            left, right = round(c * width / grid.cols), round((c + 1) * width / grid.cols)
            dy, dx = round(margin * (bottom - top)), round(margin * (right - left))
            cells.append(sheet[top + dy : max(top + dy + 1, bottom - dy), left + dx : max(left + dx + 1, right - dx)])
    return cells


@dataclass(frozen=True)
class Added:
    source: str
    cell: Cell | None  # (row, column) from 1 on a sheet; None for a file of one digit
    entry: int
    label: int
    prediction: int
    confidence: float


@dataclass(frozen=True)
class Refused:
    source: str
    cell: Cell | None
    error: preprocess.PreprocessError  # its class says which of /draw's messages fits

    @property
    def reason(self) -> str:
        return str(self.error)


@dataclass
class AddReport:
    """What was added (with the network's answer) and what was refused, and why."""

    session: int
    model: str
    added: list[Added] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "session": self.session,
            "model": self.model,
            "added": [asdict(a) for a in self.added],
            "refused": [{"source": r.source, "cell": r.cell, "reason": r.reason} for r in self.refused],
        }


Source = Path | str | tuple[str, bytes]  # a file, or (a name, the bytes of an upload)


def _preprocess(source: Source, **options) -> preprocess.Preprocessed:
    """from_path for a file, from_bytes for an upload; the reason without the file's name in front."""
    if isinstance(source, tuple):
        return preprocess.from_bytes(source[1], **options)
    try:
        return preprocess.from_path(source, **options)
    except preprocess.PreprocessError as exc:
        reason, prefix = str(exc), f"{Path(source)}: "
        raise type(exc)(reason[len(prefix) :] if reason.startswith(prefix) else reason) from None


def cell_of(grid: Grid, index: int) -> Cell:
    """(row, column), each from 1, of the ``index``-th cell, row by row."""
    return Cell(index // grid.cols + 1, index % grid.cols + 1)


def add_pictures(
    store: ClassStore,
    sources: list[Source],
    *,
    label: int | None = None,
    labels: str | None = None,
    grid: Grid | str | None = None,
    model: str = DEFAULT_MODEL,
    session_id: int | None = None,
    nickname: str | None = DEFAULT_NICKNAME,
    folder=None,
) -> AddReport:
    """Preprocess, read with ``model`` and store the digits of ``sources`` (files, or ``(name,
    bytes)`` uploads) in the session (default: the current one), as one sender.

    Raises PaperError for labels or a grid that do not fit, CheckpointError for a model that does
    not load, BadEntry / StoreUnavailable from the store; a picture or cell that cannot be a digit
    is not an error but a :class:`Refused` line in the report.
    """
    if not sources:
        raise PaperError(_("no pictures given: name one or more image files"))
    grid = parse_grid(grid) if isinstance(grid, str) else grid
    wanted = labels_for(len(sources), label=label, labels=labels, grid=grid)
    net, _record = checkpoints.load(model, folder=folder)
    session = store.session(session_id)
    report = AddReport(session.id, model)
    found: list[tuple[str, Cell | None, int, np.ndarray]] = []  # source, cell, label, 28x28 digit
    for number, source in enumerate(sources):
        name = source[0] if isinstance(source, tuple) else str(source)
        try:
            if grid is None:
                found.append((name, None, wanted[number], _preprocess(source).digit))
                continue
            sheet = _preprocess(source, min_ink_fraction=0.0).raw  # levelled: white ink on black
        except preprocess.PreprocessError as exc:
            report.refused.append(Refused(name, None, exc))
            continue
        for index, cell in enumerate(cut_grid(sheet, grid)):
            try:
                found.append((name, cell_of(grid, index), wanted[index], preprocess.from_array(cell).digit))
            except preprocess.PreprocessError as exc:
                report.refused.append(Refused(name, cell_of(grid, index), exc))
    if not found:
        return report
    images = torch.from_numpy(np.stack([digit for *_, digit in found]))
    probabilities = predict_batch(net, images).numpy().astype(np.float64)
    entries = store.add_many(
        [
            {"label": lbl, "model": model, "prediction": int(p.argmax()), "probabilities": p / p.sum(), "image": digit}
            for (_, _, lbl, digit), p in zip(found, probabilities)
        ],
        student_key=f"paper-{uuid.uuid4().hex}",
        nickname=nickname,
        session_id=session.id,
    )
    report.added = [
        Added(name, cell, e.id, e.label, e.prediction, round(e.confidence, 4))
        for (name, cell, _, _), e in zip(found, entries)
    ]
    return report
