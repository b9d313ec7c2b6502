"""Take the class home: a session's digits as files.

- the ``.npz`` and CSV (every visible digit): :func:`payloads`, :func:`write_dataset`;
- the four IDX files of torchvision's MNIST layout (``<folder>/MNIST/raw/train-images-idx3-ubyte``
  ...), so ``torchvision.datasets.MNIST(root=<folder>)``, ``python -m core evaluate MODEL --data
  <folder>`` or any MNIST code reads the class. The class's digits are split as a fine-tune splits
  them (:func:`core.classroom.finetune.held_out_split`, same seed): the held-out part is the test set
  (``t10k-*``), the rest the training set, so a model fine-tuned here is tested at home on the
  same digits it was measured on. Digits marked "not fair" are left out, as in fine-tuning;
- the wall as one printable HTML page: each digit as an inline PNG with its label and the
  network's answer; nicknames only when asked.
"""

from __future__ import annotations

import csv
import html
import io
import time
from pathlib import Path

import numpy as np

from core import i18n
from core.classroom.checks import SIDE
from core.classroom.entry import Entry
from core.classroom.finetune import FinetuneSettings, held_out_split
from core.classroom.lessons import class_digits
from core.classroom.sessions import shown_name
from core.classroom.store import ClassStore
from core.data import mnist
from core.data.views import upscale_nearest
from core.explain.pictures import png_data_uri
from core.files import atomic_write_bytes
from core.i18n import _

PNG_SCALE = 3  # 28 px printed as 84 px, each pixel a crisp square


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def cell_text(text: str) -> str:
    """Text a student typed, as a CSV cell a spreadsheet shows as text: one that would start a
    formula (``=HYPERLINK(...)``, ``+1``, ``@SUM``) gets a leading apostrophe, as OWASP advises."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def payloads(store: ClassStore, session_id: int | None = None) -> tuple[bytes, bytes]:
    """The session's visible digits, oldest first, as the bytes of an ``.npz`` (images uint8
    N x 28 x 28, labels, predictions, models, sent_at) and of a CSV (one row per digit; a nickname
    never read as a spreadsheet formula: :func:`cell_text`)."""
    entries = list(reversed(store.entries(session_id)))
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=np.stack([e.image for e in entries]) if entries else np.zeros((0, SIDE, SIDE), np.uint8),
        labels=np.array([e.label for e in entries], dtype=np.int64),
        predictions=np.array([e.prediction for e in entries], dtype=np.int64),
        models=np.array([e.model for e in entries], dtype=str),
        sent_at=np.array([e.sent_at for e in entries], dtype=np.float64),
    )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["index", "entry", "student", "label", "model", "prediction", "confidence", "sent_at"])
    for index, e in enumerate(entries):
        writer.writerow(
            [
                index,
                e.id,
                cell_text(e.student),
                e.label,
                e.model,
                e.prediction,
                f"{e.confidence:.4f}",
                time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(e.sent_at)),
            ]
        )
    return buffer.getvalue(), text.getvalue().encode()


def write_dataset(store: ClassStore, path: Path | str, session_id: int | None = None) -> tuple[Path, Path]:
    """:func:`payloads` written to ``path`` (``.npz``) and a ``.csv`` beside it, atomically."""
    npz_bytes, csv_bytes = payloads(store, session_id)
    path = Path(path)
    npz_path = path if path.suffix == ".npz" else path.with_suffix(".npz")
    atomic_write_bytes(npz_path, npz_bytes)
    atomic_write_bytes(npz_path.with_suffix(".csv"), csv_bytes)
    return npz_path, npz_path.with_suffix(".csv")


def write_idx(
    store: ClassStore,
    folder: Path | str,
    session_id: int | None = None,
    *,
    seed: int = FinetuneSettings.seed,
    fraction: float = FinetuneSettings.held_out,
) -> dict:
    """Write the session's digits in torchvision's MNIST layout under ``folder`` (atomically, file
    by file); return ``{"folder", "raw", "train", "test"}`` (paths and counts)."""
    digits = class_digits(store, session_id)
    train_index, test_index = held_out_split(digits.entry_ids, digits.labels, fraction=fraction, seed=seed)
    raw = mnist.raw_dir(folder)
    for prefix, index in (("train", train_index), ("t10k", test_index)):
        atomic_write_bytes(raw / f"{prefix}-images-idx3-ubyte", mnist.idx_images(digits.images[index]))
        atomic_write_bytes(raw / f"{prefix}-labels-idx1-ubyte", mnist.idx_labels(digits.labels[index]))
    return {"folder": str(folder), "raw": str(raw), "train": int(len(train_index)), "test": int(len(test_index))}


def printed_png(image: np.ndarray, scale: int = PNG_SCALE) -> str:
    """A class digit as a PNG ``data:`` URI to print: dark ink on white, enlarged by whole pixels."""
    return png_data_uri(upscale_nearest(255 - np.asarray(image, dtype=np.uint8), scale))


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #000; margin: 2em; }
h1 { font-size: 18pt; margin: 0 0 0.2em; }
p.about { font-size: 11pt; margin: 0 0 1em; }
.wall { display: flex; flex-wrap: wrap; gap: 0.6em; }
figure { margin: 0; width: 96px; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #888; }
figcaption { font-size: 10pt; line-height: 1.3; }
figure.wrong figcaption .answer { font-weight: bold; text-decoration: underline; }
.who { font-size: 9pt; color: #444; overflow-wrap: anywhere; }
@media print {
  body { margin: 0; }
  @page { size: A4; margin: 12mm; }
  figure img { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _figure(entry: Entry, nicknames: bool) -> str:
    wrong = "" if entry.right else " wrong"
    title = _("right") if entry.right else _("wrong")
    mark = f'<span title="{title}">{"✓" if entry.right else "✗"}</span>'
    who = f'<div class="who">{html.escape(entry.student)}</div>' if nicknames else ""
    alt = _("a handwritten {label}, read as {prediction}").format(label=entry.label, prediction=entry.prediction)
    meant = _("meant {label}").format(label=entry.label)
    read = _("read {prediction}").format(prediction=entry.prediction)
    return (
        f'<figure class="digit{wrong}" data-entry="{entry.id}" data-label="{entry.label}" '
        f'data-answer="{entry.prediction}">'
        f'<img src="{printed_png(entry.image)}" alt="{alt}">'
        f'<figcaption>{meant}<br><span class="answer">{read}</span> {mark} '
        f"{entry.confidence:.0%}{who}</figcaption></figure>"
    )


def wall_html(store: ClassStore, session_id: int | None = None, *, nicknames: bool = False) -> str:
    """The session's wall (visible digits, oldest first) as one self-contained printable HTML page
    in the reader's language: each digit (dark ink on white, to print), the label its writer meant,
    the network's answer when it was sent and how sure it was; the writers' nicknames only with
    ``nicknames=True``."""
    session = store.session(session_id)
    entries = list(reversed(store.entries(session.id)))
    right = sum(e.right for e in entries)
    about = _("No digits in this session.")
    if entries:
        about = _(
            "{count} digits; the network read {right} of them as their writers meant ({share:.1%}). Model: {models}."
        ).format(
            count=len(entries),
            right=right,
            share=right / len(entries),
            models=html.escape(", ".join(sorted({e.model for e in entries}))),
        )
    title = html.escape(_("{session}: our digits").format(session=shown_name(session.name)))
    explained = _(
        "Under each digit: what its writer meant, what the network read (✓ right, ✗ wrong) and how "
        "sure it was. Printed {time}."
    ).format(time=time.strftime("%Y-%m-%d %H:%M"))
    figures = "\n".join(_figure(e, nicknames) for e in entries)
    language = "zh-CN" if i18n.current_language() == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head>\n<body>"
        f"<h1>{title}</h1>"
        f'<p class="about">{about} {explained}</p>\n'
        f'<div class="wall">\n{figures}\n</div>\n</body></html>\n'
    )


def export_all(store: ClassStore, path: Path | str, session_id: int | None = None, *, nicknames: bool = False) -> dict:
    """What ``python -m core class export PATH`` writes: ``PATH.npz`` and ``PATH.csv`` (every
    visible digit), the IDX layout under the folder ``PATH`` (without the suffix) and the wall as
    ``PATH.html``. Returns the paths and counts."""
    session_id = store.session(session_id).id  # one session for every file, even if the current one changes
    npz_path, csv_path = write_dataset(store, path, session_id)
    folder = npz_path.with_suffix("")
    idx = write_idx(store, folder, session_id)
    html_path = npz_path.with_suffix(".html")
    atomic_write_bytes(html_path, wall_html(store, session_id, nicknames=nicknames).encode("utf-8"))
    return {
        "npz": str(npz_path),
        "csv": str(csv_path),
        "idx": idx["folder"],
        "html": str(html_path),
        "entries": len(store.entries(session_id)),
        "idx_train": idx["train"],
        "idx_test": idx["test"],
    }
