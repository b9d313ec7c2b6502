"""The "fool the network" challenge in the class store: the setting, the board, the "not fair" mark,
and digits added by the lot (from paper). Expected orders are the ones put in, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.classroom.db import BadEntry, StoreError
from core.classroom.store import ClassStore
from tests.class_hand import probabilities_for, scripted_class

IMAGES, _ = scripted_class(per_label=1, seed=5)


def send(store, key, label, answer, sure, now):
    return store.add(
        student_key=key,
        label=label,
        model="lenet5",
        prediction=answer,
        probabilities=probabilities_for(answer, sure),
        image=IMAGES[label],
        now=now,
    )


def test_the_challenge_is_off_until_the_teacher_turns_it_on_for_every_process(store, tmp_path):
    session = store.new_session("Tuesday").id
    assert store.challenge_on() is False
    store.set_challenge(True)
    assert store.challenge_on() is True and ClassStore(tmp_path / "class.sqlite").challenge_on() is True
    store.set_challenge(False)
    assert store.challenge_on() is False
    assert store.current_session().id == session  # the settings' other row (the current session) is untouched


def test_the_fooled_board_ranks_wrong_answers_by_the_networks_confidence(store):
    a = send(store, "a", 4, 9, 0.70, now=1)
    send(store, "b", 7, 7, 0.99, now=2)  # right: not on the board, however sure
    c = send(store, "c", 3, 8, 0.95, now=3)
    d = send(store, "d", 1, 7, 0.70, now=4)  # as sure as a: the earlier (a) ranks first
    e = send(store, "e", 5, 6, 0.40, now=5)
    assert [x.id for x in store.fooled()] == [c.id, a.id, d.id, e.id]
    assert [x.id for x in store.fooled(limit=2)] == [c.id, a.id]
    store.set_hidden(e.id)
    assert e.id not in [x.id for x in store.fooled()]


def test_a_digit_marked_not_fair_leaves_the_board_and_can_come_back(store):
    a = send(store, "a", 4, 9, 0.70, now=1)
    c = send(store, "c", 3, 8, 0.95, now=2)
    before = store.latest()
    store.set_unfair(c.id)
    assert [x.id for x in store.fooled()] == [a.id]
    assert store.entry(c.id).unfair and c.id in [x.id for x in store.entries()]  # still on the wall
    assert store.latest() != before  # a poller sees the change
    store.set_unfair(c.id, False)
    assert [x.id for x in store.fooled()] == [c.id, a.id]
    with pytest.raises(StoreError, match="no class digit 999"):
        store.set_unfair(999)


def test_digits_added_by_the_lot_are_one_sender_and_all_or_nothing(store):
    digits = [
        dict(label=d, model="lenet5", prediction=d, probabilities=probabilities_for(d), image=IMAGES[d])
        for d in (2, 5, 8)
    ]
    added = store.add_many(digits, student_key="paper-1", nickname="from paper", now=10.0)
    assert [e.label for e in added] == [2, 5, 8] and {e.student for e in added} == {"from paper"}
    assert store.summary()["students"] == 1 and store.summary()["entries"] == 3  # no one-a-second limit
    bad = digits + [dict(digits[0], image=np.zeros((28, 28), np.uint8))]
    with pytest.raises(BadEntry, match="digit 4: the picture is empty"):
        store.add_many(bad, student_key="paper-2")
    assert store.summary()["entries"] == 3  # nothing of the refused lot was stored
