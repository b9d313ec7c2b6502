"""The design challenge's pages in AppTest: the teacher's form and controls on /class (and a
student's crafted presses of them, which change nothing), the leaderboard with a nickname as plain
text, and /design's "Submit to the challenge" panel with every refusal said at once and nothing
queued.

Every test has a class store of its own; the queue's thread is not started (nothing trains here:
an entry's result is written as the queue would write it).
"""

from __future__ import annotations

import html
import json

import pytest

from core.classroom import store as class_store
from core.classroom import teacher
from core.classroom.db import DB_ENV
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import DONE, QUEUED, Rules
from core.classroom.design_challenge.submissions import Challenges
from core.models.design import parse
from dashboard.frame.links import markdown_text
from tests.harness import run_page

SMALL = Rules(cap_params=10_000, images=1000, epochs=1, seconds=60, test_images=500)
MLP = "dense12 relu"  # (784 + 1) x 12 + (12 + 1) x 10 = 9,550 parameters
TINY_CNN = "conv4k5 relu max2 conv8k5 relu max2 dense16 relu"  # 104 + 808 + 2,064 + 170 = 3,146
BIG = "conv64k5 relu max2 dense16"  # (25 + 1) x 64 + (12 x 12 x 64 + 1) x 16 + 170 = 149,306


@pytest.fixture
def store(tmp_path, monkeypatch) -> class_store.ClassStore:
    monkeypatch.setenv(DB_ENV, str(tmp_path / "class.sqlite"))
    monkeypatch.setattr(challenge_queue, "ensure_driver", lambda store: None)  # nothing trains in a page test
    return class_store.store()


@pytest.fixture
def as_student(monkeypatch):
    monkeypatch.setenv(teacher.LOCAL_ENV, "0")


def whole(at):
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value]
    return at


def designs_tab(**state):
    return whole(run_page("class", {"class_tab": "designs"}, **state))


def texts(at) -> str:
    return " ".join(
        m.value for kind in ("markdown", "caption", "info", "success", "warning", "error") for m in getattr(at, kind)
    )


def chart_specs(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def score(challenges: Challenges, challenge_id: int, accuracy: float) -> None:
    """The next queued entry trained and scored, as the queue stores it."""
    entry = challenges.claim_next(challenge_id)
    challenges.finish(entry.id, DONE, accuracy=accuracy, seconds=1.5, history=[], checkpoint=None)


def test_the_teacher_opens_a_challenge_with_the_form_and_everyone_reads_its_rules(store):
    at = designs_tab()
    assert at.number_input(key="dc_cap_params").value == 10_000  # the rules' default cap
    assert at.number_input(key="dc_cap_macs").value is None  # no cap on multiply-adds unless set
    at.text_input(key="dc_name").input("Smallest over 98%")
    at.number_input(key="dc_cap_params").set_value(5000)
    at.number_input(key="dc_images").set_value(1000)
    at.number_input(key="dc_epochs").set_value(1)
    at.number_input(key="dc_test_images").set_value(500)
    whole(at.button(key="dc_open").click().run())
    challenge = Challenges(store).current()
    assert challenge.name == "Smallest over 98%" and challenge.is_open
    assert challenge.rules == Rules(cap_params=5000, images=1000, epochs=1, seconds=60, test_images=500)
    shown = texts(at)
    assert "At most 5,000 parameters" in shown and "1 epoch on 1,000 training images" in shown
    assert "accuracy on the first 500 test images; a tie goes to fewer parameters" in shown
    assert "No design waiting." in shown
    assert not at.get("form")  # one challenge open at a time: the form is gone


def test_the_teacher_stops_resumes_closes_and_hides_and_a_closed_challenge_stays_readable(store):
    challenges = Challenges(store)
    first = challenges.open("First", SMALL)
    ada = challenges.submit(first.id, student_key="a", nickname="Ada", notation=MLP, now=1.0)
    score(challenges, first.id, 0.9)
    at = designs_tab(dc_entry=ada.id)
    whole(at.button(key="dc_stop").click().run())
    assert challenges.challenge(first.id).stopped
    whole(at.button(key="dc_stop").click().run())  # now "Resume the queue"
    assert not challenges.challenge(first.id).stopped
    whole(at.button(key="dc_hide").click().run())
    assert challenges.entry(ada.id).hidden
    whole(at.button(key="dc_close").click().run())
    assert not challenges.challenge(first.id).is_open
    second = challenges.open("Second", SMALL)
    at = designs_tab()
    assert at.selectbox(key="dc_challenge").value == second.id  # the open one first
    whole(at.selectbox(key="dc_challenge").set_value(first.id).run())
    assert "First (closed)" in [s.value for s in at.subheader]
    assert "Ada" in at.table[0].value.iloc[:, 1].tolist()  # the teacher sees the hidden entry, marked
    assert at.table[0].value.iloc[0, -1] == "done, hidden"


def test_a_student_sees_the_controls_disabled_and_crafted_presses_change_nothing(store, as_student):
    at = designs_tab()
    assert at.button(key="dc_open").disabled
    at.text_input(key="dc_name").input("Mine")
    whole(crafted_press(at.button(key="dc_open")).run())  # Streamlit drops a disabled widget's press
    assert Challenges(store).challenges() == []
    challenges = Challenges(store)
    challenge = challenges.open("Teacher's", SMALL)
    ada = challenges.submit(challenge.id, student_key="a", nickname="Ada", notation=MLP, now=1.0)
    at = designs_tab(dc_entry=ada.id)
    for key in ("dc_stop", "dc_close", "dc_hide", "dc_csv"):
        assert _widget(at, key).disabled, key
    for key in ("dc_stop", "dc_close", "dc_hide"):
        whole(crafted_press(_widget(at, key)).run())
    unchanged(challenges, challenge.id, ada.id)


def test_a_press_after_the_teacher_role_is_gone_is_refused_where_it_acts(store, as_student):
    # Drawn for the teacher (the buttons enabled), pressed once the role has gone: the page's own
    # check, not only the disabled button, refuses it.
    challenges = Challenges(store)
    challenge = challenges.open("Teacher's", SMALL)
    ada = challenges.submit(challenge.id, student_key="a", nickname="Ada", notation=MLP, now=1.0)
    for key, what in (("dc_stop", "open, stop or close"), ("dc_close", "open, stop or close"), ("dc_hide", "hide")):
        at = designs_tab(dc_entry=ada.id, _teacher=True)
        assert not _widget(at, key).disabled
        at.session_state["_teacher"] = False
        whole(_widget(at, key).click().run())
        assert any(f"Only the teacher can {what}" in w.value for w in at.warning), key
        unchanged(challenges, challenge.id, ada.id)


def unchanged(challenges: Challenges, challenge_id: int, entry_id: int) -> None:
    now = challenges.challenge(challenge_id)
    assert now.is_open and not now.stopped and not challenges.entry(entry_id).hidden
    assert challenges.entry(entry_id).status == QUEUED  # not withdrawn


def crafted_press(button):
    """A press of a disabled button, as a request made by hand would send it (the page draws it
    disabled; AppTest, like a browser, refuses to press it unless told it is not)."""
    button.proto.disabled = False
    return button.click()


def _widget(at, key):
    found = [w for kind in ("button", "download_button") for w in at.get(kind) if getattr(w, "key", None) == key]
    if found:
        return found[0]
    return at.button(key=key)


def test_the_leaderboard_shows_a_nickname_with_markup_as_plain_text(store):
    challenges = Challenges(store)
    challenge = challenges.open("Markup", SMALL)
    nickname = "<b>Bo</b> **x** [y]"
    challenges.submit(challenge.id, student_key="b", nickname=nickname, notation=MLP, now=1.0)
    score(challenges, challenge.id, 0.91)
    at = designs_tab()
    assert at.table[0].value.iloc[0, 1] == nickname  # a table's cell is text as typed
    [points] = [trace for spec in chart_specs(at) for trace in spec["data"] if trace.get("customdata")]
    assert points["text"] == [html.escape(nickname)]  # plotly reads tags: escaped, shown as typed
    assert points["x"] == [9550] and points["y"] == [pytest.approx(91.0)]
    at = designs_tab(dc_entry=points["customdata"][0])
    assert any(markdown_text(nickname) in m.value for m in at.markdown)  # the entry's line: escaped markdown


# --- /design's submit panel -------------------------------------------------------------------------


def design_page(notation: str):
    return whole(run_page("design", {"net": notation}))


def submit(at, nickname: str):
    at.text_input(key="dc_nickname").input(nickname)
    return whole(at.button(key="dc_submit").click().run())


def test_no_submit_panel_without_an_open_challenge(store):
    at = design_page(MLP)
    assert not [b for b in at.button if b.key == "dc_submit"]


def test_a_design_is_queued_and_the_student_sees_their_place(store):
    challenges = Challenges(store)
    challenge = challenges.open("Small", SMALL)
    challenges.submit(challenge.id, student_key="other", nickname="Ada", notation=MLP, now=1.0)
    at = submit(design_page(TINY_CNN), "Bo")
    [first, mine] = challenges.queue(challenge.id)
    assert (mine.nickname, mine.params, mine.notation) == ("Bo", 3146, parse(TINY_CNN).notation)
    assert any("Bo's design is in the queue: place 2" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("notation", "nickname", "said"),
    [
        (BIG, "Cy", "this design has 149,306 parameters, over the challenge's cap of 10,000: make it smaller"),
        ("conv6k5 max2 conv16k5 max2 conv8k5", "Cy", "conv3: a 5x5 kernel does not fit the 4x4 map"),
        (MLP, "ada", "the nickname ada is another student's in this challenge: choose another"),
        (MLP, "", "choose a nickname first: the leaderboard shows it"),
    ],
    ids=["over-the-cap", "impossible", "nickname-taken", "no-nickname"],
)
def test_a_refused_design_is_said_at_once_and_nothing_is_queued(store, notation, nickname, said):
    challenges = Challenges(store)
    challenge = challenges.open("Small", SMALL)
    challenges.submit(challenge.id, student_key="other", nickname="Ada", notation=MLP, now=1.0)
    at = submit(design_page(notation), nickname)
    assert any(said in e.value and e.value.startswith("Not submitted: ") for e in at.error), [e.value for e in at.error]
    assert [e.nickname for e in challenges.entries(challenge.id)] == ["Ada"]


def test_a_second_design_within_a_second_and_one_after_closing_are_refused(store):
    challenges = Challenges(store)
    challenge = challenges.open("Small", SMALL)
    at = submit(design_page(MLP), "Bo")
    at = submit(at, "Bo2")  # the same browser session at once
    assert any("one design a second at most" in e.value for e in at.error)
    challenges.close(challenge.id)  # closed while the page was open: the press says so
    at = whole(at.button(key="dc_submit").click().run())
    assert any("the challenge Small is closed: no more designs" in e.value for e in at.error)
    assert [e.nickname for e in challenges.entries(challenge.id)] == ["Bo"]
