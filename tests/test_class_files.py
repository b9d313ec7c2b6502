"""The class as files (core.classroom.export) and digits from paper (core.classroom.paper).

Expected values: the digits put in are the digits read back, byte for byte, by torchvision's own
MNIST reader; the labels given are the labels stored; a picture that is not a digit is refused
with the reason /draw gives for an upload.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core import i18n
from core.classroom import paper
from core.classroom.export import export_all, wall_html, write_idx
from core.classroom.finetune import held_out_split
from core.classroom.lessons import class_digits, class_predictions
from core.data import preprocess
from core.models import checkpoints
from core.models.inference import evaluate_checkpoint
from tests.class_hand import fill_store, render_digit, scripted_class
from tests.harness import needs_lenet5


@pytest.fixture
def filled(store):
    images, labels = scripted_class(per_label=5, seed=7)
    entries = fill_store(
        store, images, labels, predictions=np.where(np.arange(len(labels)) % 4 == 0, (labels + 1) % 10, labels)
    )
    return store, entries


# --- take the class home -------------------------------------------------------------------------


def test_the_idx_export_is_read_back_by_torchvisions_mnist(filled, tmp_path):
    from torchvision.datasets import MNIST

    store, entries = filled
    store.set_unfair(entries[0].id)  # not fair: left out of the dataset, as out of fine-tuning
    written = write_idx(store, tmp_path / "ours")
    digits = class_digits(store)
    train, test = held_out_split(digits.entry_ids, digits.labels)
    assert (written["train"], written["test"]) == (len(train), len(test)) and len(train) + len(test) == 49
    for split, index in ((True, train), (False, test)):
        dataset = MNIST(root=str(tmp_path / "ours"), train=split, download=False)
        assert torch.equal(dataset.data, torch.from_numpy(digits.images[index]))
        assert dataset.targets.tolist() == digits.labels[index].tolist()


@needs_lenet5
def test_evaluate_with_data_measures_the_exported_test_digits(filled, tmp_path):
    store, _ = filled
    write_idx(store, tmp_path / "ours")
    digits = class_digits(store)
    held = digits.subset(held_out_split(digits.entry_ids, digits.labels)[1])
    result = evaluate_checkpoint("lenet5", data_root=tmp_path / "ours")
    assert result["n"] == len(held) == 10  # ceil(0.2 * 5) = 1 of each of the 10 labels
    model, _ = checkpoints.load("lenet5")
    assert result["accuracy"] == pytest.approx(class_predictions(model, held).accuracy)
    with pytest.raises(ValueError, match="no t10k-images-idx3-ubyte"):
        evaluate_checkpoint("lenet5", data_root=tmp_path / "nowhere")


def test_the_printable_wall_shows_digits_labels_and_answers_without_nicknames_unless_asked(store):
    images, _ = scripted_class(per_label=1, seed=3)
    store.add(
        student_key="a",
        label=4,
        model="lenet5",
        prediction=9,
        probabilities=[0.01] * 9 + [0.91],
        image=images[4],
        nickname="<b>Ada</b>",
        now=1,
    )
    store.add(
        student_key="b",
        label=7,
        model="lenet5",
        prediction=7,
        probabilities=[0.01] * 7 + [0.91, 0.01, 0.01],
        image=images[7],
        now=2,
    )
    page = wall_html(store)
    figures = re.findall(r'<figure class="digit( wrong)?" data-entry="\d+" data-label="(\d)" data-answer="(\d)"', page)
    assert figures == [(" wrong", "4", "9"), ("", "7", "7")]  # oldest first
    assert page.count('src="data:image/png;base64,') == 2 and "Ada" not in page and "Student 2" not in page
    assert "read 1 of them" in page
    named = wall_html(store, nicknames=True)
    assert "&lt;b&gt;Ada&lt;/b&gt;" in named and "<b>Ada</b>" not in named and "Student 2" in named


def test_the_printable_wall_is_in_the_readers_language(store, monkeypatch):
    images, _ = scripted_class(per_label=1, seed=3)
    store.add(
        student_key="a",
        label=4,
        model="lenet5",
        prediction=9,
        probabilities=[0.01] * 9 + [0.91],
        image=images[4],
        now=1,
    )
    monkeypatch.setattr(i18n, "_language_source", lambda: "zh")  # as a Chinese session on /class
    page = wall_html(store)
    assert '<html lang="zh-CN">' in page and "：我们的数字</h1>" in page and "想写 4" in page and "认作 9" in page
    assert "meant" not in page and "our digits" not in page


def test_export_writes_npz_csv_idx_and_html_together(filled, tmp_path):
    store, _ = filled
    written = export_all(store, tmp_path / "out" / "class.npz")
    assert np.load(written["npz"])["images"].shape == (50, 28, 28)
    assert (tmp_path / "out" / "class" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()
    assert written["html"].endswith("class.html") and written["idx_train"] + written["idx_test"] == 50


# --- digits from paper ---------------------------------------------------------------------------


def on_paper(label: int, seed: int, scale: int = 6) -> np.ndarray:
    """A scripted digit as a photo of paper would show it: dark ink on white, 168 px."""
    digit = render_digit(label, np.random.default_rng(seed))
    return 255 - np.kron(digit, np.ones((scale, scale), np.uint8))


def worksheet(rows: list[list[int | None]], cell: int = 180) -> Image.Image:
    """A printed grid of boxes, each holding a digit (None: left blank)."""
    sheet = Image.new("L", (len(rows[0]) * cell, len(rows) * cell), 255)
    pen = ImageDraw.Draw(sheet)
    for r, line in enumerate(rows):
        for c, label in enumerate(line):
            if label is not None:
                sheet.paste(Image.fromarray(on_paper(label, seed=10 * r + c)), (c * cell + 6, r * cell + 6))
            pen.rectangle([c * cell, r * cell, c * cell + cell - 1, r * cell + cell - 1], outline=0, width=3)
    return sheet


@needs_lenet5
def test_add_files_good_ones_are_stored_bad_ones_refused_with_their_reasons(store, tmp_path):
    good = [tmp_path / "four.png", tmp_path / "four.jpg"]
    Image.fromarray(on_paper(4, seed=1)).save(good[0])
    Image.fromarray(on_paper(4, seed=2)).convert("RGB").save(good[1], quality=92)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    report = paper.add_pictures(store, [good[0], text, blank, good[1]], label=4)
    assert [(a.source, a.label) for a in report.added] == [(str(good[0]), 4), (str(good[1]), 4)]
    assert [(r.source, r.reason.split(":")[0]) for r in report.refused] == [
        (str(text), "not an image that can be read (PNG, JPEG, GIF, BMP, ...)"),
        (str(blank), "the picture is empty"),
    ]
    stored = store.entries()
    assert [e.label for e in stored] == [4, 4] and {e.model for e in stored} == {"lenet5"}
    model, _ = checkpoints.load("lenet5")
    digits = class_digits(store)
    assert [e.prediction for e in reversed(stored)] == class_predictions(model, digits).predicted.tolist()
    assert {e.student for e in stored} == {"from paper"}


@needs_lenet5
def test_a_worksheet_is_cut_into_cells_labelled_per_row_and_a_blank_cell_refused(store, tmp_path):
    path = tmp_path / "sheet.png"
    worksheet([[3, 3, 3], [7, 7, None]]).save(path)
    report = paper.add_pictures(store, [path], labels="37", grid="2x3")
    assert [(a.cell, a.label) for a in report.added] == [
        ((1, 1), 3),
        ((1, 2), 3),
        ((1, 3), 3),
        ((2, 1), 7),
        ((2, 2), 7),
    ]
    assert [(r.cell, r.reason.split(":")[0]) for r in report.refused] == [((2, 3), "the picture is empty")]
    assert isinstance(report.refused[0].error, preprocess.EmptyImageError)  # the page picks /draw's words by it
    assert str(report.refused[0].cell) == "row 2, column 3"  # as the command line prints it
    # Each cell went through /draw's preprocessing: the box lines were cut off, the ink centred.
    for entry in store.entries():
        assert entry.image[:, :2].max() == 0 and entry.image[:, -2:].max() == 0
    assert sum(a.prediction == a.label for a in report.added) >= 4  # lenet5 reads these clean digits


@pytest.mark.parametrize(
    "count, grid, labels, expected",
    [
        (2, None, "47", [4, 7]),  # one per file
        (1, "2x3", "37", [3, 3, 3, 7, 7, 7]),  # one per row
        (1, "2x3", "123", [1, 2, 3, 1, 2, 3]),  # one per column
        (1, "2x3", "0 1 2, 3 4 5", [0, 1, 2, 3, 4, 5]),  # one per cell, row by row
        (1, "2x2", "58", [5, 5, 8, 8]),  # as many rows as columns: per row
    ],
)
def test_labels_per_file_row_column_or_cell(count, grid, labels, expected):
    grid = paper.parse_grid(grid) if grid else None
    assert paper.labels_for(count, labels=labels, grid=grid) == expected


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(count=2, labels="4"), "1 labels for 2 picture"),
        (dict(count=1, labels="3712", grid="2x3"), "one per row (2), one per column (3) or one per cell (6"),
        (dict(count=1), "either one digit for all (4) or one digit per picture"),
        (dict(count=1, label=4, labels="4"), "either one digit for all (4) or one digit per picture"),
        (dict(count=1, label=10), "a digit from 0 to 9, got 10"),
        (dict(count=1, labels="4a"), "labels are digits 0-9"),
    ],
)
def test_labels_that_do_not_fit_are_refused_with_how_to_write_them(kwargs, words):
    grid = paper.parse_grid(kwargs.pop("grid")) if "grid" in kwargs else None
    with pytest.raises(paper.PaperError, match=re.escape(words)):
        paper.labels_for(kwargs.pop("count"), grid=grid, **kwargs)


@pytest.mark.parametrize("text", ["3", "0x4", "3x31", "axb", "3x4x5"])
def test_a_grid_is_rows_x_columns(text):
    with pytest.raises(paper.PaperError, match="ROWSxCOLUMNS"):
        paper.parse_grid(text)


@needs_lenet5
def test_an_upload_is_added_from_its_bytes_as_the_page_would(store):
    import io

    buffer = io.BytesIO()
    Image.fromarray(on_paper(2, seed=4)).save(buffer, format="PNG")
    report = paper.add_pictures(store, [("two.png", buffer.getvalue()), ("empty.png", b"")], label=2, nickname=None)
    assert [(a.source, a.label) for a in report.added] == [("two.png", 2)]
    assert [(r.source, r.reason) for r in report.refused] == [
        ("empty.png", "the file is empty (0 bytes): not an image")
    ]
    assert store.entries()[0].student == "Student 1"  # no nickname: numbered like any sender
