"""The class features in AppTest: /draw's Send panel, the class wall, the teacher's rights.

Every test has a class store of its own (``CNN_EXPLAINER_CLASS_DB`` in a temporary folder); what
the page stores is read back through core.classroom.store, and what it shows is compared with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.classroom import checks, teacher
from core.classroom import store as class_store
from core.classroom.db import DB_ENV
from core.classroom.entry import COUNTED_RULE, PAPER_NICKNAME
from core.data import preprocess
from core.data.mnist import load_test
from core.models import checkpoints, inference
from tests.harness import needs_lenet5, run_page


@pytest.fixture
def store(tmp_path, monkeypatch) -> class_store.ClassStore:
    monkeypatch.setenv(DB_ENV, str(tmp_path / "class.sqlite"))
    return class_store.store()


@pytest.fixture
def as_student(monkeypatch):
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")


def canvas_of(index: int) -> np.ndarray:
    """MNIST test digit ``index`` blown up 10x, as the canvas hands it over."""
    return np.kron(load_test().images[index].numpy(), np.ones((10, 10), dtype=np.uint8))


def page(name: str, params: dict | None = None, **state) -> AppTest:
    return run_page(name, params, **state)


def whole(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]
    return at


def send(at: AppTest, label: int, nickname: str | None = None) -> AppTest:
    at.button_group(key="send_label").set_value(label).run()
    if nickname is not None:
        at.text_input(key="send_nickname").input(nickname).run()
    return whole(at.button(key="send_button").click().run())


def add(store: class_store.ClassStore, key: str, label: int, prediction: int, image_index: int = 0):
    digit = preprocess.from_array(canvas_of(image_index)).digit
    probs = [0.91 if d == prediction else 0.01 for d in range(10)]
    return store.add(
        student_key=key, label=label, model="lenet5", prediction=prediction, probabilities=probs, image=digit
    )


# --- the Send panel -------------------------------------------------------------------------


@needs_lenet5
def test_send_stores_the_digit_the_network_read_and_says_what_it_sent(store):
    at = whole(page("draw", draw_image_override=canvas_of(0)))
    assert at.button(key="send_button").disabled  # no digit meant yet: nothing can be sent
    caption = " ".join(c.value for c in at.caption)
    assert "Sends the 28 × 28 digit the network read" in caption and "Never your address" in caption
    send(at, 4)
    [entry] = store.entries()
    expected = preprocess.from_array(canvas_of(0))
    model, _ = checkpoints.load("lenet5")
    result = inference.predict(model, expected.tensor)
    assert np.array_equal(entry.image, expected.digit)  # the 28x28 digit, never the 280x280 canvas
    assert (entry.label, entry.model, entry.prediction) == (4, "lenet5", result.prediction) == (4, "lenet5", 7)
    assert np.allclose(entry.probabilities, result.probabilities, atol=1e-6)
    assert at.success[0].value == "Sent as Student 1: your 4, the network said 7. Draw another and send it too."
    assert at.button_group(key="send_label").value is None  # the next digit gets its own answer


@needs_lenet5
def test_sending_twice_within_a_second_is_refused_with_a_line(store, monkeypatch):
    # a minute, not a second: on a busy machine the page's runs between the two presses may take a second
    monkeypatch.setattr(class_store, "MIN_SECONDS_BETWEEN_SENDS", 60.0)
    at = whole(page("draw", draw_image_override=canvas_of(0)))
    send(at, 7)
    send(at, 3)  # the same drawing with another label: still one send a second
    assert [w.value for w in at.warning] == ["Not sent: one digit a second at most: wait a moment and send again."]
    assert [e.label for e in store.entries()] == [7]


@needs_lenet5
def test_the_same_drawing_sent_again_is_one_entry_whose_label_changes(store, monkeypatch):
    monkeypatch.setattr(class_store, "MIN_SECONDS_BETWEEN_SENDS", 0.0)  # the limit is tested above
    at = whole(page("draw", draw_image_override=canvas_of(0)))  # MNIST's test digit 0, a 7, read as 7
    send(at, 8)
    send(at, 0)
    assert [(e.label, e.prediction) for e in store.entries()] == [(0, 7)]  # one entry, its label changed
    assert at.success[0].value == (
        "Changed: Student 1's drawing is one entry on the wall, now meant as 0 (it was 8); the network said 7."
    )
    send(at, 0)
    assert [i.value for i in at.info] == [
        "Already sent: this drawing is already on the wall as a 0: draw a new one to send another digit."
    ]
    assert len(store.entries()) == 1 and len(store.fooled()) == 1  # the board holds the drawing once


@needs_lenet5
@pytest.mark.parametrize(
    "nickname, stored, shown",
    [
        ("Ada", "Ada", "Sent as Ada:"),
        ("**bold** <script>", "**bold** <script>", r"Sent as \*\*bold\*\* \<script\>:"),
        ("tab\there\x07", "tabhere", "Sent as tabhere:"),
    ],
)
def test_nicknames_are_stored_as_typed_and_shown_as_text(store, nickname, stored, shown):
    at = send(whole(page("draw", draw_image_override=canvas_of(0))), 1, nickname)
    assert store.entries()[0].student == stored
    assert at.success[0].value.startswith(shown)


@needs_lenet5
def test_a_nickname_of_ten_thousand_characters_is_cut_to_twenty_by_the_server(store):
    at = whole(page("draw", draw_image_override=canvas_of(0)))
    at.session_state["send_nickname"] = "x" * 10_000  # past the box's own limit, as a crafted request would
    send(at, 1)
    # Streamlit holds a text box to its max_chars on the server; the store refuses longer ones itself
    # (tests/test_class_store.py).
    assert store.entries()[0].student == "x" * checks.NICKNAME_MAX


def test_no_send_panel_without_a_digit(store):
    at = whole(page("draw"))
    assert "send_button" not in [b.key for b in at.button]


@needs_lenet5
def test_drawing_still_works_when_the_database_is_unusable(tmp_path, monkeypatch):
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where the database's folder should be")
    monkeypatch.setenv(DB_ENV, str(folder / "class.sqlite"))
    at = whole(page("draw", draw_image_override=canvas_of(0)))
    assert [m.value for m in at.metric] == ["7"]
    send(at, 7)
    assert at.warning[0].value.startswith("Not sent: the class database")


# --- the wall ---------------------------------------------------------------------------------


def test_an_empty_wall_says_where_digits_come_from(store):
    at = whole(page("class"))
    assert any("No digits yet" in i.value for i in at.info)
    assert [m.value for m in at.metric] == ["0", "0", "-"]


def test_the_wall_counts_and_filters_what_the_store_holds(store):
    add(store, "a", 7, 7)
    add(store, "b", 4, 9, image_index=4)
    add(store, "c", 4, 4, image_index=4)
    at = whole(page("class"))
    assert [m.value for m in at.metric] == ["3", "3", "2 of 3"]
    [chart] = at.get("plotly_chart")
    assert len(chart.proto.spec) > 0
    at = whole(page("class", {"wall_mistakes": "true"}))
    assert at.toggle(key="wall_mistakes").value is True
    at = whole(page("class", {"wall_digit": "4"}))
    assert at.selectbox(key="wall_digit").value == 4


def test_the_teacher_hides_a_chosen_digit_and_it_leaves_the_wall(store):
    entry = add(store, "a", 4, 9)
    add(store, "b", 7, 7)
    at = whole(page("class", wall_entry=entry.id))
    assert any("meant **4**" in m.value for m in at.markdown)  # the large panel of the chosen digit
    at.button(key="wall_hide").click().run()
    whole(at)
    assert [e.id for e in store.entries()] != [] and entry.id not in [e.id for e in store.entries()]
    assert store.summary()["entries"] == 1


def test_a_digit_opens_from_the_list_as_from_a_click_and_its_picture_says_what_it_is(store):
    """For a keyboard or a screen reader: the wall's list opens the same panel as a click on a tile."""
    add(store, "a", 4, 9)
    second = add(store, "b", 7, 7)
    at = whole(page("class"))
    pick = at.selectbox(key="wall_pick")
    options = list(pick.proto.options)
    assert options[0] == "Student 2: meant 7, read as 7 (91% sure)", options  # newest first, as on the wall
    pick.set_value(second.id).run()  # what choosing the first line sends
    whole(at)
    assert at.session_state["wall_entry"] == second.id and at.session_state["wall_pick"] is None
    assert any("meant **7**" in m.value for m in at.markdown)
    assert "a handwritten 7, read as 7" in [img.alt for element in at.get("image") for img in element.proto.imgs]


def test_a_student_sees_the_teachers_controls_disabled_with_one_line(store, as_student):
    entry = add(store, "a", 4, 9)
    at = whole(page("class", wall_entry=entry.id))
    assert at.button(key="wall_hide").disabled and at.button(key="wall_new").disabled
    captions = " ".join(c.value for c in at.caption)
    assert "Only the teacher can hide a digit" in captions
    assert "Only the teacher can start, delete or export a class session" in captions
    assert "wall_npz" not in [b.key for b in at.get("download_button")]


def test_a_new_session_empties_the_wall_and_keeps_the_old_one(store):
    add(store, "a", 4, 9)
    first = store.current_session().id
    at = whole(page("class"))
    at.button(key="wall_new").click().run()
    whole(at)
    assert store.current_session().id != first
    assert store.summary()["entries"] == 0 and store.summary(first)["entries"] == 1


def test_a_corrupted_database_is_moved_aside_and_the_wall_says_so(tmp_path, monkeypatch):
    path = tmp_path / "class.sqlite"
    path.write_bytes(b"garbage, not SQLite" * 50)
    monkeypatch.setenv(DB_ENV, str(path))
    at = whole(page("class"))
    assert any("could not be read" in w.value and "moved aside" in w.value for w in at.warning)
    assert any(p.name.startswith("class.sqlite.corrupt-") for p in tmp_path.iterdir())


# --- who is the teacher -------------------------------------------------------------------------


def test_the_teacher_link_gives_rights_once_and_leaves_the_url(store, as_student, monkeypatch):
    monkeypatch.setenv(teacher.TOKEN_ENV, "the-right-token")
    teacher.token.cache_clear()
    try:
        at = whole(page("class", {"teacher": "the-right-token"}))
        assert "teacher" not in at.query_params
        assert not at.button(key="wall_new").disabled
        assert any("**Teacher**" in c.value for c in at.sidebar.caption)
        at.run()  # the rights stay for this browser session
        assert not at.button(key="wall_new").disabled
        wrong = whole(page("class", {"teacher": "a-guess"}))
        assert "teacher" not in wrong.query_params and wrong.button(key="wall_new").disabled
        assert any("token is not this server's" in w.value for w in wrong.warning)
    finally:
        teacher.token.cache_clear()


def test_a_student_cannot_start_a_training_run(as_student):
    at = whole(page("training"))
    assert at.button(key="tr_start").disabled
    assert any("Only the teacher can start or stop the server's training run" in c.value for c in at.caption)


# --- issue 17: our class's handwriting as data ----------------------------------------------------
#
# A class of digits drawn by tests/class_hand.py (a hand unlike MNIST's, never MNIST images), put
# in the store through core; every figure the page shows is compared with core.classroom.lessons,
# core.classroom.finetune and core.classroom.paper on the same digits.

TAB_VS, TAB_FINETUNE, TAB_HOME, TAB_PAPER = (
    "Our class vs MNIST",
    "Learning our handwriting",
    "Take the class home",
    "Digits from paper",
)


def hand_class(store: class_store.ClassStore, per_label: int = 3, seed: int = 0, predictions=None) -> list:
    from tests.class_hand import fill_store, scripted_class

    images, labels = scripted_class(per_label=per_label, seed=seed)
    return fill_store(store, images, labels, predictions=predictions)


def chart_specs(at: AppTest) -> list[dict]:
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figcaptions(html: str) -> list[str]:
    import html as markup
    import re

    return [markup.unescape(text) for text in re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", html)]


def html_of(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


@needs_lenet5
def test_our_class_vs_mnist_shows_what_core_measures_on_the_class(store):
    from core.classroom import lessons

    hand_class(store)
    at = whole(page("class", {"class_tab": TAB_VS, "vs_model": "lenet5"}))
    expected = lessons.compare("lenet5", lessons.class_digits(store))
    # 30 digits; the shipped lenet5 reads MNIST's 10,000 test digits at 99.18% (its record).
    assert len(expected.digits) == 30 and expected.mnist_accuracy == pytest.approx(0.9918)
    headline = f"**lenet5** reads **{expected.class_accuracy:.0%}** of the class's 30 digits right, and **99.18%**"
    assert any(m.value.startswith(headline) for m in at.markdown), [m.value for m in at.markdown]
    [bars] = [spec for spec in chart_specs(at) if spec["layout"].get("barmode") == "group"]
    ours, theirs = bars["data"]
    assert ours["y"] == [row.class_accuracy for row in expected.per_digit()]
    assert theirs["y"] == pytest.approx([row.mnist_accuracy for row in expected.per_digit()])
    # The confusion cell shown first is the class's largest mistake, its digits most confident first.
    matrix = expected.class_confusion
    meant, said = at.selectbox(key="vs_true").value, at.selectbox(key="vs_pred").value
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    assert matrix[meant, said] == off.max() > 0
    cell = expected.cell(meant, said)
    assert any(m.value.startswith(f"**{len(cell)}** of the class's {meant}s read as {said}") for m in at.markdown)
    assert [f"#{entry}:" in html_of(at) for entry in cell] == [True] * len(cell)
    # The hardest ten, lowest probability for their own label first, with their numbers.
    rows = [figcaptions(h.proto.body) for h in at.get("html")]  # each block of pictures, its captions in order
    assert [f"{d.label} → {d.prediction} · {d.own_probability:.0%}" for d in expected.hardest(10)] in rows


@needs_lenet5
def test_a_click_on_the_class_confusion_matrix_shows_that_cells_digits(store):
    from core.classroom import lessons

    hand_class(store)
    at = whole(page("class", {"class_tab": TAB_VS, "vs_true": "2", "vs_pred": "2"}))
    expected = lessons.compare("lenet5", lessons.class_digits(store))
    right_twos = int(expected.class_confusion[2, 2])
    assert any(m.value.startswith(f"**{right_twos}** of the class's 2s read as 2") for m in at.markdown)


@needs_lenet5
def test_every_model_is_measured_once_per_class_and_weights(store, monkeypatch):
    from core.classroom import lessons
    from dashboard.classroom import vs_mnist

    hand_class(store)
    calls = []
    measure = lessons.compare_models
    monkeypatch.setattr(
        lessons, "compare_models", lambda digits, names, **kw: calls.append(list(names)) or measure(digits, names, **kw)
    )
    monkeypatch.setattr(vs_mnist, "table_models", lambda session: ["lenet5", "mlp_128"])
    at = whole(page("class", {"class_tab": TAB_VS, "vs_all": "true"}))
    table = at.dataframe[0].value
    rows = measure(lessons.class_digits(store), ["lenet5", "mlp_128"])
    best_first = sorted(rows, key=lambda r: -r.class_accuracy)
    assert list(table["Model"]) == [r.model for r in best_first]
    assert list(table["MNIST test accuracy"]) == [f"{r.mnist_accuracy:.2%}" for r in best_first]
    assert list(table["Accuracy on our class"]) == [f"{r.class_accuracy:.0%}" for r in best_first]
    assert calls == [["lenet5", "mlp_128"]]
    whole(at.run())
    assert len(calls) == 1  # the same digits and weights: not measured again
    add(store, "late", 7, 7)  # a digit arrives: the session's latest() moves
    whole(at.run())
    assert len(calls) == 2
    monkeypatch.setattr(vs_mnist, "checkpoint_hash", lambda name: f"retrained {name}")
    whole(at.run())
    assert len(calls) == 3  # a checkpoint's hash changed: measured again


def test_the_challenge_is_off_and_hidden_until_the_teacher_turns_it_on(store):
    entries = hand_class(store, per_label=1, predictions=[(d + 1) % 10 for d in range(10)])  # all fooled
    at = whole(page("class"))
    assert at.toggle(key="fool_on").value is False and not at.toggle(key="fool_on").disabled
    assert "Fooled it" not in [s.value for s in at.subheader]
    at.toggle(key="fool_on").set_value(True).run()
    whole(at)
    assert store.challenge_on()  # for every page and server process sharing the store
    assert "Fooled it" in [s.value for s in at.subheader]
    board = [spec for spec in chart_specs(at) if spec["data"][0].get("customdata")]
    # The board first, then the wall: the board holds store.fooled() in its order.
    assert board[0]["data"][0]["customdata"] == [e.id for e in store.fooled()]
    assert sorted(board[0]["data"][0]["customdata"]) == sorted(e.id for e in entries)
    at.toggle(key="fool_on").set_value(False).run()
    assert not store.challenge_on() and "Fooled it" not in [s.value for s in whole(at).subheader]


@needs_lenet5
def test_the_teacher_marks_a_fooled_digit_not_fair_and_it_leaves_the_board(store):
    digit = preprocess.from_array(canvas_of(0)).digit  # MNIST's test digit 0, a 7
    fooled = store.add(
        student_key="a",
        label=1,
        model="lenet5",
        prediction=7,
        probabilities=[0.91 if d == 7 else 0.01 for d in range(10)],
        image=digit,
    )
    store.set_challenge(True)
    at = whole(page("class", fool_entry=fooled.id))
    panel = " ".join(m.value for m in at.markdown)
    assert "meant **1**; lenet5 said **7** (91% sure, wrong)" in panel
    assert "saliency" in at.multiselect(key="fool_methods").value  # opens with which pixels mattered
    assert any(s.value == "Feature maps" for s in at.subheader)
    at.button(key="fool_unfair").click().run()
    whole(at)
    assert store.entry(fooled.id).unfair and store.fooled() == []
    assert [s.value for s in at.success] == ["Marked not fair: it has left the board."]
    assert any("Nobody has fooled the network yet" in i.value for i in at.info)


def test_a_student_sees_the_challenge_switch_disabled_with_one_line(store, as_student):
    store.set_challenge(True)
    at = whole(page("class"))
    assert at.toggle(key="fool_on").disabled and at.toggle(key="fool_on").value is True
    captions = " ".join(c.value for c in at.caption)
    assert "Only the teacher can turn the fool-the-network challenge on or off" in captions


def test_too_few_digits_to_fine_tune_is_a_clear_message(store):
    hand_class(store, per_label=1)  # 10 digits; core.classroom.finetune needs 30
    at = whole(page("class", {"class_tab": TAB_FINETUNE}))
    # (in a whole-suite run another test's stopped training run may also be shown: the server's one run)
    assert (
        "Not enough digits yet: fine-tuning needs at least 30 of the class's digits and session "
        f"{store.current_session().id} has 10: send 20 more first."
    ) in [w.value for w in at.warning]
    assert at.button(key="ft_start").disabled


@pytest.fixture
def own_checkpoints(tmp_path, monkeypatch):
    """A checkpoint folder of this test's (lenet5 and mlp_128 copied): a fine-tune saves there."""
    import shutil

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("lenet5", "mlp_128"):
        for suffix in (".pt", ".json"):
            shutil.copy(checkpoints.DEFAULT_DIR / f"{name}{suffix}", folder / f"{name}{suffix}")
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", folder)
    return folder


@pytest.fixture
def no_run():
    from core.training.jobs import runner

    def stop():
        job = runner.manager().current()
        if job is not None and job.running:
            job.stop()
            job.wait(120)

    stop()
    yield
    stop()


@needs_lenet5
def test_the_teacher_fine_tunes_from_the_page_and_everyone_sees_before_and_after(store, own_checkpoints, no_run):
    from core.training.jobs import runner
    from core.training.jobs.state import FINISHED

    hand_class(store, per_label=4)  # 40 digits: 4 of each, 1 of each held out
    session = store.current_session().id
    at = whole(page("class", {"class_tab": TAB_FINETUNE, "ft_model": "lenet5", "ft_steps": "12", "ft_mix": "24"}))
    caption = " ".join(c.value for c in at.caption)
    assert (
        "Each of the 12 steps trains on 24 of the class's digits (shifted and turned a little) and 40 MNIST "
        "training images. Of the session's 40 digits, 10 are held out"
    ) in caption
    at.button(key="ft_start").click().run()
    job = runner.manager().current()
    assert job.snapshot().name == f"class_lenet5_{session}"
    assert job.wait(240), "the fine-tune did not end"
    snap = job.snapshot()
    assert snap.status == FINISHED, snap.message
    whole(at.run())
    assert f"Before and after: class_lenet5_{session}" in [s.value for s in at.subheader]
    figures = checkpoints.read_info(f"class_lenet5_{session}").record["finetune"]
    assert (figures["steps"], figures["mix"]["class_per_batch"], figures["class"]["n"]) == (12, 24, 10)
    assert [m.value for m in at.metric if m.label in ("Held-out class digits", "MNIST test set")] == [
        f"{figures['class']['after']:.1%}",
        f"{figures['mnist']['after']:.1%}",
    ]
    changed = figures["changed"]  # the held-out digits whose answer changed, each shown with both answers
    said = "No held-out digit changed its answer." if not changed else f"**{len(changed)}** held-out digit"
    assert any(m.value.startswith(said) for m in at.markdown)
    pictures = [caps for caps in (figcaptions(h.proto.body) for h in at.get("html")) if caps]
    assert pictures == ([[f"{c['label']}: {c['before']} → {c['after']}" for c in changed]] if changed else [])
    # The new checkpoint is in every model picker: /draw's too.
    draw = whole(page("draw"))
    assert f"class_lenet5_{session}" in draw.selectbox(key="draw_model").options


def test_the_teacher_takes_the_class_home_as_idx_files_mnist_code_reads(store, tmp_path):
    import io
    import zipfile

    from core.classroom import export
    from dashboard.classroom.home import idx_zip

    hand_class(store, per_label=2)
    at = whole(page("class", {"class_tab": TAB_HOME}))
    assert [b.key for b in at.get("download_button") if b.key.startswith("home_")] == [
        "home_npz",
        "home_csv",
        "home_idx",
        "home_html",
    ]
    assert at.checkbox(key="home_nicknames").value is False  # the printed wall shows no names unless asked
    expected = export.write_idx(store, tmp_path / "expected")
    with zipfile.ZipFile(io.BytesIO(idx_zip(store, store.current_session().id))) as archive:
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ):
            assert archive.read(f"MNIST/raw/{name}") == (Path(expected["raw"]) / name).read_bytes()
    # 20 digits, 2 of each: one of each held out as the test set (core.classroom.finetune.held_out_split)
    assert (expected["train"], expected["test"]) == (10, 10)


def test_a_student_cannot_take_the_class_home_or_add_digits_from_paper(store, as_student):
    at = whole(page("class", {"class_tab": TAB_HOME}))
    assert not list(at.get("download_button"))
    assert [b.disabled for b in at.button if b.key.startswith("home_")] == [True] * 4
    assert "Only the teacher can take the class's digits home" in " ".join(c.value for c in at.caption)
    at = whole(page("class", {"class_tab": TAB_PAPER}))
    assert at.file_uploader(key="paper_files").disabled and at.button(key="paper_add").disabled
    assert "Only the teacher can add digits from paper" in " ".join(c.value for c in at.caption)


def png_of(picture: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


@needs_lenet5
def test_digits_from_paper_are_added_and_bad_pictures_refused_as_draw_refuses_them(store):
    seven = 255 - canvas_of(0)  # MNIST's test digit 0, a 7, dark ink on white paper
    blank = np.full((280, 280), 255, np.uint8)
    at = whole(page("class", {"class_tab": TAB_PAPER}))
    at.file_uploader(key="paper_files").set_value(
        [
            ("seven.png", png_of(seven), "image/png"),
            ("blank.png", png_of(blank), "image/png"),
            ("notes.png", b"not a picture at all", "image/png"),
        ]
    ).run()
    at.text_input(key="paper_labels").input("7").run()
    whole(at.button(key="paper_add").click().run())
    [entry] = store.entries()
    assert (entry.label, entry.prediction, entry.student) == (7, 7, "from paper")  # lenet5 reads it as a 7
    assert at.success[0].value.startswith("1 digit added to ")
    [refused] = [w.value for w in at.warning if w.value.startswith("2 pictures refused:")]
    assert "- **blank.png**: Nothing to read in this picture: the picture is empty" in refused
    assert "- **notes.png**: This file cannot be used: not an image that can be read" in refused


@needs_lenet5
def test_a_worksheet_is_cut_into_a_grid_and_a_blank_cell_refused(store):
    row = [255 - load_test().images[i].numpy() for i in (0, 1)] + [np.full((28, 28), 255, np.uint8)]
    sheet = np.kron(np.hstack(row), np.ones((8, 8), np.uint8))  # 7, 2 and an empty box, 224 px each
    at = whole(page("class", {"class_tab": TAB_PAPER}))
    at.segmented_control(key="paper_mode").set_value("grid").run()
    at.file_uploader(key="paper_files").set_value([("sheet.png", png_of(sheet), "image/png")]).run()
    at.text_input(key="paper_labels").input("721").run()
    at.text_input(key="paper_grid").input("1x3").run()
    whole(at.button(key="paper_add").click().run())
    assert sorted((e.label, e.prediction) for e in store.entries()) == [(2, 2), (7, 7)]
    [refused] = [w.value for w in at.warning if w.value.startswith("1 picture refused:")]
    assert "- **sheet.png, row 1, column 3**: Nothing to read in this picture" in refused


# --- what counts, links, the projector's view, names in the reader's language -----------------


def test_the_walls_counts_follow_its_filters_and_the_one_rule_and_say_so(store):
    add(store, "a", 4, 9)
    unfair = add(store, "b", 4, 4, image_index=4)
    add(store, "c", 7, 7, image_index=7)
    add(store, "d", 7, 7, image_index=9)
    store.set_unfair(unfair.id)
    at = whole(page("class"))
    # 4 on the wall, 1 of them not fair: 3 count (a's wrong 4, c's and d's right 7s)
    assert [m.value for m in at.metric] == ["3", "3", "2 of 3"]
    captions = [c.value for c in at.caption]
    assert COUNTED_RULE + " 1 digit shown here is marked not fair and not counted." in captions
    at = whole(page("class", {"wall_digit": "7"}))
    assert [m.value for m in at.metric] == ["2", "2", "2 of 2"]  # the filter keeps c's and d's 7s
    assert any("Only the digits that match the filters." in c for c in [c.value for c in at.caption])
    at = whole(page("class", {"class_tab": "home"}))
    # the sessions' list, the fine-tune and the IDX files count the same 3 (fine-tune's split: 2 + 1 held out)
    captions = " ".join(c.value for c in at.caption)
    assert "3 digits from 3 students" in captions and "2 training digits (`train-*`) and 1 held out" in captions


@pytest.mark.parametrize(
    "params, tab, widget",
    [
        ({"class_tab": "vs-mnist"}, "Our class vs MNIST", "vs_model"),
        ({"class_tab": "finetune", "lang": "zh"}, "学习我们的笔迹", "ft_model"),
        ({"class_tab": "Take the class home", "lang": "zh"}, "把全班数字带回家", "home_nicknames"),
    ],
)
def test_a_tab_opens_from_its_short_key_or_title_in_either_language_without_a_notice(store, params, tab, widget):
    add(store, "a", 4, 9)
    at = whole(page("class", params))
    assert at.session_state["class_tab"] == tab
    assert widget in at.session_state  # only the open tab's widgets run
    assert not [w.value for w in at.warning if "class_tab" in w.value]


def test_a_class_session_that_does_not_exist_is_named_in_the_links_notice(store):
    first = store.current_session()
    add(store, "a", 4, 9)
    store.new_session()
    at = whole(page("class", {"wall_session": "999999"}))
    assert [w.value for w in at.warning] == [
        "This link's **wall_session=999999** is not a value this page accepts: showing **The current session** instead."
    ]
    at = whole(page("class", {"wall_session": "999999", "view": "wall"}))  # the projector's view says it too
    assert [w.value for w in at.warning if "wall_session=999999" in w.value]
    at = whole(page("class", {"wall_session": str(first.id)}))  # an older session, by its number
    assert at.session_state["wall_session"] == first.id and [m.value for m in at.metric][:1] == ["1"]
    assert not at.warning


def test_the_projectors_view_is_the_wall_alone_with_its_counts_in_one_line(store):
    add(store, "a", 4, 9)
    add(store, "b", 7, 7, image_index=7)
    for params in ({"view": "wall"}, {"presenter": "true"}):  # presenter mode opens on it
        at = whole(page("class", params))
        assert not at.title and "class_tab" not in at.session_state  # no tabs, no headings
        assert [m.value for m in at.markdown if "digits from" in m.value] == [
            "**2** digits from **2** students · read right: **1** of 2"
        ]
        assert len(at.get("plotly_chart")) == 1 and at.button(key="wall_view_full")
    at.button(key="wall_view_full").click().run()  # the teacher's controls: the whole page
    whole(at)
    assert at.query_params["view"] in ("full", ["full"]) and "class_tab" in at.session_state
    at = whole(page("class", {"presenter": "true", "class_tab": "vs-mnist"}))  # a tab asked for: the whole page
    assert at.session_state["class_tab"] == "Our class vs MNIST"


def test_a_numbered_student_and_digits_from_paper_are_named_in_chinese(store):
    entry = add(store, "a", 4, 9)
    store.add_many(
        [{"label": 7, "model": "lenet5", "prediction": 7, "probabilities": [0.1] * 10, "image": entry.image}],
        student_key="paper",
        nickname=PAPER_NICKNAME,
    )
    at = whole(page("class", {"lang": "zh"}, wall_entry=entry.id))
    options = list(at.selectbox(key="wall_pick").proto.options)
    assert options[0].startswith("来自纸上") and options[1].startswith("学生 1"), options
    assert any("学生 1" in m.value for m in at.markdown)  # the open digit's panel


def test_the_projectors_view_shows_a_running_fine_tunes_progress(store, monkeypatch):
    from core.classroom import finetune
    from core.training.jobs import runner
    from core.training.jobs.state import RUNNING, JobSnapshot

    add(store, "a", 4, 9)
    snap = JobSnapshot(
        id=1,
        name="class_lenet5_1",
        preset="lenet5",
        recipe_name=finetune.KIND,
        recipe={},
        status=RUNNING,
        message="",
        epoch=1,
        epochs=1,
        step=30,
        steps=120,
        loss=0.1,
        accuracy=0.9,
        images_per_second=None,
        curve=[],
        history=[],
        elapsed=3.0,
        stop_requested=False,
        kind=finetune.KIND,
    )

    class Running:
        def current(self):
            return type("Job", (), {"snapshot": lambda self: snap})()

    monkeypatch.setattr(runner, "manager", Running)
    at = whole(page("class", {"view": "wall"}))
    # 30 of 120 steps of its one epoch: a quarter done
    assert [p.proto.text for p in at.get("progress")] == [
        "The network is learning our handwriting (class_lenet5_1): 25% done"
    ]


def test_an_unusable_value_for_a_tab_not_open_is_named_when_the_tab_opens(store):
    add(store, "a", 4, 9)
    add(store, "b", 7, 7, image_index=7)
    at = whole(page("class", {"vs_true": "11"}))  # the wall's tab is open: nothing to say yet
    assert not [w.value for w in at.warning if "vs_true" in w.value]
    at.session_state["class_tab"] = "Our class vs MNIST"  # what a click on the tab sends
    whole(at.run())
    # no digit 11: the matrix's largest mistake is shown instead, a's 4 read as 9
    assert [w.value for w in at.warning] == [
        "This link's **vs_true=11** is not a value this page accepts: showing **4** instead."
    ]
