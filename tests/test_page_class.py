"""The class features in AppTest: /draw's Send panel, the class wall, the teacher's rights.

Every test has a class store of its own (``CNN_EXPLAINER_CLASS_DB`` in a temporary folder); what
the page stores is read back through core.class_store, and what it shows is compared with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import checkpoints, class_store, inference, preprocess, teacher
from core.data import load_test

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
needs_lenet5 = pytest.mark.skipif(not (checkpoints.DEFAULT_DIR / "lenet5.pt").is_file(),
                                  reason="no checkpoints/lenet5.pt: run `make checkpoints`")


@pytest.fixture
def store(tmp_path, monkeypatch) -> class_store.ClassStore:
    monkeypatch.setenv(class_store.DB_ENV, str(tmp_path / "class.sqlite"))
    return class_store.store()


@pytest.fixture
def as_student(monkeypatch):
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")


def canvas_of(index: int) -> np.ndarray:
    """MNIST test digit ``index`` blown up 10x, as the canvas hands it over."""
    return np.kron(load_test().images[index].numpy(), np.ones((10, 10), dtype=np.uint8))


def page(name: str, params: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params or {})
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"../pages/{name}.py")
    return at.run()


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
    return store.add(student_key=key, label=label, model="lenet5", prediction=prediction, probabilities=probs,
                     image=digit)


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
def test_sending_twice_within_a_second_is_refused_with_a_line(store):
    at = whole(page("draw", draw_image_override=canvas_of(0)))
    send(at, 7)
    send(at, 7)
    assert [w.value for w in at.warning] == ["Not sent: one digit a second at most: wait a moment and send again."]
    assert len(store.entries()) == 1


@needs_lenet5
@pytest.mark.parametrize("nickname, stored, shown", [
    ("Ada", "Ada", "Sent as Ada:"),
    ("**bold** <script>", "**bold** <script>", r"Sent as \*\*bold\*\* \<script\>:"),
    ("tab\there\x07", "tabhere", "Sent as tabhere:"),
])
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
    assert store.entries()[0].student == "x" * class_store.NICKNAME_MAX


def test_no_send_panel_without_a_digit(store):
    at = whole(page("draw"))
    assert "send_button" not in [b.key for b in at.button]


@needs_lenet5
def test_drawing_still_works_when_the_database_is_unusable(tmp_path, monkeypatch):
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where the database's folder should be")
    monkeypatch.setenv(class_store.DB_ENV, str(folder / "class.sqlite"))
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
    monkeypatch.setenv(class_store.DB_ENV, str(path))
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
