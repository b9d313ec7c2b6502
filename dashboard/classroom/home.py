"""Take the class home (the teacher): the session's digits as a dataset (``.npz``, CSV), as MNIST's
own four IDX files (zipped, in torchvision's ``MNIST/raw/`` layout, so any MNIST code reads them),
and the wall as one printable HTML page, nicknames only when the box is ticked.

Thin: core.classroom.store and core.classroom.export make every file. Each file is made when its button
is pressed (a download's data may be a function), never on every run of the page.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from core.classroom import export, finetune, lessons
from core.classroom import store as class_store
from core.classroom.sessions import shown_name
from core.i18n import _
from dashboard.classroom import common


def idx_zip(store: class_store.ClassStore, session: int) -> bytes:
    """The session's digits as MNIST's four IDX files (``core.classroom.export.write_idx``), zipped with
    their ``MNIST/raw/`` folders: unzipped into a folder, ``torchvision.datasets.MNIST(root=folder)``
    reads it."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="class-idx-") as folder:
        export.write_idx(store, folder, session)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def home_tab(store: class_store.ClassStore, session: int | None, teacher: bool) -> None:
    shown = store.session(session)
    digits = lessons.class_digits(store, shown.id)
    settings = finetune.FinetuneSettings()
    train, held = finetune.held_out_split(
        digits.entry_ids, digits.labels, fraction=settings.held_out, seed=settings.seed
    )
    st.markdown(
        _("**{name}**: {n} digits to take home, as data for your own code and as a wall to print.").format(
            name=shown_name(shown.name), n=len(store.entries(shown.id))
        )
    )
    stem = f"class_session_{shown.id}"
    nicknames = st.checkbox(
        _("Show nicknames on the printed wall"),
        key="home_nicknames",
        disabled=not teacher,
        help=_("Off: the printed wall shows the digits, what they meant and what the network read, and no names."),
    )
    # Each button as wide as its whole label, the row wrapping when the page is narrow (a
    # projector's large type, a phone): a label is never cut.
    row = st.container(horizontal=True, gap="small", key="home_downloads")
    # (label, what it makes when pressed, file name, key, icon, type): made only when pressed
    downloads = (
        (
            _("Dataset (.npz)"),
            lambda: export.payloads(store, shown.id)[0],
            f"{stem}.npz",
            "home_npz",
            "download",
            "application/zip",
        ),
        (
            _("Dataset (.csv)"),
            lambda: export.payloads(store, shown.id)[1],
            f"{stem}.csv",
            "home_csv",
            "table",
            "text/csv",
        ),
        (
            _("MNIST's IDX files (.zip)"),
            lambda: idx_zip(store, shown.id),
            f"{stem}_idx.zip",
            "home_idx",
            "folder_zip",
            "application/zip",
        ),
        (
            _("Printable wall (.html)"),
            lambda: export.wall_html(store, shown.id, nicknames=nicknames).encode("utf-8"),
            f"{stem}.html",
            "home_html",
            "print",
            "text/html",
        ),
    )
    for label, payload, file_name, key, icon, mime in downloads:
        if teacher:
            row.download_button(
                label, payload, file_name=file_name, key=key, icon=f":material/{icon}:", on_click="ignore", mime=mime
            )
        else:
            row.button(label, key=f"{key}_student", icon=":material/download:", disabled=True)
    common.only_teacher_caption(teacher, _("take the class's digits home"))
    st.caption(
        _(
            "The .npz holds the images (28 × 28, white on black, as MNIST), the labels meant, the network's "
            "answers and models; the CSV one line per digit. The IDX files are split as the fine-tune splits "
            "them: {train} training digits (`train-*`) and {held} held out as the test set (`t10k-*`); digits "
            "marked not fair are left out. Hidden digits are in none of the files."
        ).format(train=len(train), held=len(held))
    )
