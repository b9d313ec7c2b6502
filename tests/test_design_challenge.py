"""The design challenge's store and queue (core.classroom.design_challenge: submissions, queue) and
``python -m core class challenge`` (in-process), in temporary folders, training on a few hundred
images: every submission refused for a reason says it, the queue trains each entry once, in turn,
and survives a diverging design, the time limit and a killed process."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from core import models
from core.__main__ import main
from core.classroom.db import BadEntry, TooFast
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import (
    DIVERGED,
    DONE,
    QUEUED,
    REPLACED,
    TIMED_OUT,
    TRAINING,
    WITHDRAWN,
    ChallengeError,
    Rules,
    pareto_front,
    results_csv,
)
from core.classroom.design_challenge.submissions import Challenges
from core.classroom.store import ClassStore
from core.data import mnist
from core.data.batches import DeviceData
from core.models import checkpoints
from core.models.design import DesignError, parse
from core.models.inference import evaluate
from core.training.jobs import group as run_group
from core.training.jobs import runner
from core.training.train import TrainingDiverged
from tests.harness import ROOT

TINY = Rules(cap_params=10_000, images=600, epochs=1, seconds=60, test_images=300, seed=0)
SMALL_CNN = "conv4k5 relu max2 conv8k5 relu max2 dense16 relu"  # (25+1)x4 + (100+1)x8 + (128+1)x16 + 170 = 3,146
MLP = "dense12 relu"  # (784+1)x12 + (12+1)x10 = 9,550


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setattr(run_group, "JOBS_DIR", tmp_path / "jobs")
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path / "ck")
    (tmp_path / "ck").mkdir()
    store = ClassStore(tmp_path / "class.sqlite")
    return store, Challenges(store), runner.JobManager(), tmp_path / "ck"


def test_submissions_are_queued_in_turn_and_refused_with_their_reason(env):
    store, challenges, _manager, _folder = env
    challenge = challenges.open("Smallest 98%", TINY)
    ada = challenges.submit(challenge.id, student_key="a", nickname="Ada", notation=SMALL_CNN, now=100.0)
    assert (ada.params, ada.status, challenges.place(ada.id)) == (3146, QUEUED, 1)
    assert ada.params == parse(SMALL_CNN).params and ada.notation == parse(SMALL_CNN).notation
    bo = challenges.submit(challenge.id, student_key="b", nickname="**Bo** [x](y)", notation=MLP, now=100.0)
    assert bo.nickname == "**Bo** [x](y)" and bo.params == 9550 and challenges.place(bo.id) == 2
    with pytest.raises(ChallengeError, match="149,306 parameters, over the challenge's cap of 10,000"):
        challenges.submit(challenge.id, student_key="c", nickname="Cy", notation="conv64k5 relu max2 dense16")
    with pytest.raises(DesignError, match="conv3: a 5x5 kernel does not fit the 4x4 map"):
        challenges.submit(challenge.id, student_key="c", nickname="Cy", notation="conv6k5 max2 conv16k5 max2 conv8k5")
    with pytest.raises(ChallengeError, match="another student's"):
        challenges.submit(challenge.id, student_key="c", nickname="ada", notation=MLP, now=200.0)
    with pytest.raises(BadEntry, match="nickname"):
        challenges.submit(challenge.id, student_key="c", nickname="  ", notation=MLP, now=200.0)
    with pytest.raises(ChallengeError, match="already open"):
        challenges.open("Another", TINY)
    with pytest.raises(ChallengeError, match="the cap on parameters must be from 100"):
        Rules(cap_params=10).check()
    assert [e.nickname for e in challenges.queue(challenge.id)] == ["Ada", "**Bo** [x](y)"]  # nothing else queued


def test_the_same_student_and_nickname_replaces_a_queued_design_in_its_place(env):
    _store, challenges, _manager, _folder = env
    challenge = challenges.open("c", TINY)
    first = challenges.submit(challenge.id, student_key="a", nickname="Ada", notation=SMALL_CNN, now=10.0)
    challenges.submit(challenge.id, student_key="b", nickname="Bo", notation=MLP, now=11.0)
    again = challenges.submit(challenge.id, student_key="a", nickname="Ada", notation="dense8 relu", now=12.0)
    assert again.id == first.id and again.notation == "dense8 relu" and challenges.place(again.id) == 1
    assert len(challenges.entries(challenge.id)) == 2


def test_a_hundred_submissions_in_a_second_from_one_session_queue_one(env):
    _store, challenges, _manager, _folder = env
    challenge = challenges.open("c", TINY)
    accepted, refused = 0, 0
    for k in range(100):
        try:
            challenges.submit(challenge.id, student_key="a", nickname=f"n{k}", notation=MLP, now=50.0 + k / 100)
            accepted += 1
        except TooFast:
            refused += 1
    assert (accepted, refused) == (1, 99)


def _accuracy_of(name: str, folder, test_images: int) -> float:
    """The checkpoint's accuracy on the first ``test_images`` of MNIST's test set, measured anew."""
    model, _info = checkpoints.load(name, folder=folder)
    test = mnist.load_test()
    subset = mnist.MnistSplit(test.images[:test_images], test.labels[:test_images])
    return evaluate(model, DeviceData(subset, "cpu"))[0]


def test_the_queue_trains_every_entry_once_ranks_them_and_their_checkpoints_load(env):
    store, challenges, manager, folder = env
    challenge = challenges.open("c", TINY)
    for key, notation in (("a", SMALL_CNN), ("b", MLP), ("c", "dense4 relu")):
        challenges.submit(challenge.id, student_key=key, nickname=key.upper(), notation=notation, now=ord(key))
    assert challenge_queue.run_all(store, manager, folder, timeout=300) == 3
    entries = challenges.entries(challenge.id)
    assert {e.status for e in entries} == {DONE} and sorted(e.rank for e in entries) == [1, 2, 3]
    assert [e.accuracy for e in entries] == sorted((e.accuracy for e in entries), reverse=True)
    for e in entries:  # the score is the checkpoint's own accuracy on the rules' test images
        assert e.accuracy == pytest.approx(_accuracy_of(e.checkpoint, folder, TINY.test_images), abs=1e-9)
        info = checkpoints.read_info(e.checkpoint, folder)
        assert info.preset == models.DESIGN and info.record["nickname"] == e.nickname
        assert info.record["params"] == e.params and len(e.history) == 1
    front = pareto_front(entries)
    assert front[0].params == min(e.params for e in entries)
    assert all(a.params < b.params and a.accuracy < b.accuracy for a, b in zip(front, front[1:]))
    # trained, then submitted again: a new entry queued, the old one replaced (no longer ranked)
    again = challenges.submit(challenge.id, student_key="b", nickname="B", notation="dense6 relu", now=1e6)
    assert again.status == QUEUED and again.id not in [e.id for e in entries]
    assert next(e for e in challenges.entries(challenge.id) if e.notation == MLP).status == REPLACED
    table = list(csv.DictReader(io.StringIO(results_csv(challenges.entries(challenge.id)))))
    assert {row["notation"] for row in table} >= {parse(SMALL_CNN).notation, MLP, "dense6 relu"}
    closed = challenges.close(challenge.id)
    assert not closed.is_open and challenges.entry(again.id).status == WITHDRAWN
    with pytest.raises(ChallengeError, match="closed"):
        challenges.submit(challenge.id, student_key="d", nickname="D", notation=MLP, now=2e6)


def test_a_diverging_design_is_marked_and_the_queue_moves_on(env, monkeypatch):
    store, challenges, manager, folder = env
    challenge = challenges.open("c", TINY)
    challenges.submit(challenge.id, student_key="a", nickname="A", notation="dense5 sigmoid", now=1.0)
    challenges.submit(challenge.id, student_key="b", nickname="B", notation=MLP, now=2.0)
    real_train = challenge_queue.train

    def nan_for_sigmoid(preset, recipe, **kwargs):
        if "sigmoid" in kwargs["config"]["notation"]:  # as the loop raises it at the first NaN loss
            raise TrainingDiverged(float("nan"), 1, 10, recipe.lr)
        return real_train(preset, recipe, **kwargs)

    monkeypatch.setattr(challenge_queue, "train", nan_for_sigmoid)
    assert challenge_queue.run_all(store, manager, folder, timeout=300) == 2
    a, b = sorted(challenges.entries(challenge.id), key=lambda e: e.id)
    assert a.status == DIVERGED and a.rank is None and "nan" in a.message and a.checkpoint is None
    assert b.status == DONE and b.rank == 1


def test_an_entry_past_the_time_limit_is_stopped_and_scored_on_what_it_reached(env):
    store, challenges, manager, folder = env
    challenge = challenges.open("c", dataclasses.replace(TINY, images=60_000, epochs=5))  # far over 0.5 s
    entry = challenges.submit(challenge.id, student_key="a", nickname="A", notation=SMALL_CNN, now=1.0)
    claimed = challenges.claim_next(challenge.id)
    assert claimed.id == entry.id
    hurried = dataclasses.replace(
        challenge, rules=dataclasses.replace(challenge.rules, seconds=0.5)
    )  # below the rules' floor
    job = manager.start(challenge_queue.entry_spec(challenges, hurried, claimed, folder))
    assert job.wait(120)
    [done] = challenges.entries(challenge.id)  # ranked
    assert done.status == TIMED_OUT and done.rank == 1 and done.accuracy is not None
    assert len(done.history) == 1 and done.history[0]["epoch_fraction"] < 1  # stopped inside epoch 1 of 5


def test_a_killed_run_leaves_nothing_lost_and_the_queue_resumes_from_its_entry(env, tmp_path):
    store, challenges, manager, folder = env
    challenge = challenges.open("c", dataclasses.replace(TINY, images=60_000, epochs=5, seconds=600))
    slow = challenges.submit(challenge.id, student_key="a", nickname="A", notation=SMALL_CNN, now=1.0)
    challenges.submit(challenge.id, student_key="b", nickname="B", notation=MLP, now=2.0)
    environment = {
        **os.environ,
        "CNN_EXPLAINER_CLASS_DB": str(store.path),
        "CNN_EXPLAINER_CHECKPOINTS": str(folder),
        "CNN_EXPLAINER_JOBS_DIR": str(tmp_path / "jobs"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "class", "challenge", "run"], cwd=ROOT, env=environment, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while challenges.entry(slow.id).status != TRAINING and time.monotonic() < deadline:
            time.sleep(0.1)
        assert challenges.entry(slow.id).status == TRAINING
        time.sleep(1.0)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    assert [e.status for e in sorted(challenges.entries(challenge.id), key=lambda e: e.id)] == [TRAINING, QUEUED]
    challenges.set_stopped(challenge.id, False)
    quick = dataclasses.replace(challenge.rules, images=600, epochs=1)  # the restart: the same entry first
    with store.db.transaction(write=True) as db:
        db.execute("UPDATE challenges SET rules = ? WHERE id = ?", (quick.to_json(), challenge.id))
    assert challenge_queue.run_all(store, manager, folder, timeout=300) == 2
    first, second = sorted(challenges.entries(challenge.id), key=lambda e: e.id)
    assert (first.status, second.status) == (DONE, DONE)
    assert checkpoints.read_info(first.checkpoint, folder).record["challenge"]["entry"] == slow.id


def test_the_command_line_opens_submits_runs_and_ranks(env, monkeypatch, capsys):
    store, _challenges, _manager, folder = env
    monkeypatch.setenv("CNN_EXPLAINER_CLASS_DB", str(store.path))
    opened = ["class", "challenge", "open", "--name", "Small", "--images", "600", "--test-images", "300", "--json"]
    assert main(opened) == 0
    assert json.loads(capsys.readouterr().out)["rules"]["cap_params"] == 10_000
    assert main(["class", "challenge", "submit", MLP, "--nickname", "Bo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["place"] == 1
    assert main(["class", "challenge", "submit", "conv64k5 relu max2 dense16", "--nickname", "Cy"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: this design has 149,306 parameters, over the challenge's cap of 10,000: make it smaller"
    assert main(["class", "challenge", "run", "--json"]) == 0
    capsys.readouterr()
    assert main(["class", "challenge", "results", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["challenge"]["name"] == "Small"
    [bo] = results["entries"]
    assert (bo["nickname"], bo["params"], bo["status"], bo["rank"]) == ("Bo", 9550, DONE, 1)
    assert bo["accuracy"] == pytest.approx(_accuracy_of(bo["checkpoint"], folder, 300), abs=1e-9)


def test_the_queue_waits_while_the_teachers_run_trains_and_resumes_a_stale_claim(env):
    """A server's queue thread (run_next): nothing starts beside another run of the group; once the
    slot is free, an entry a killed server left training (its claim older than the grace period)
    goes back to its place and trains first."""
    from core.training.jobs.spec import prepare

    store, challenges, manager, folder = env
    challenge = challenges.open("c", TINY)
    first = challenges.submit(challenge.id, student_key="a", nickname="A", notation=MLP, now=1.0)
    challenges.submit(challenge.id, student_key="b", nickname="B", notation="dense4 relu", now=2.0)
    teachers = manager.start(
        prepare("lenet5", "fast", name="teachers", overrides={"epochs": 1, "limit": 3000}, folder=folder)
    )
    assert challenge_queue.run_next(store, manager, folder) is None  # the teacher's run holds the slot
    assert [e.status for e in challenges.queue(challenge.id)] == [QUEUED, QUEUED]
    assert teachers.wait(120)
    assert challenges.claim_next(challenge.id).id == first.id  # as a server does, then is killed
    with store.db.transaction(write=True) as db:
        db.execute(
            "UPDATE designs SET claimed = claimed - ? WHERE id = ?", (challenge_queue.STALE_CLAIM_SECONDS + 1, first.id)
        )
    job = challenge_queue.run_next(store, manager, folder)
    assert job is not None and job.spec.name == challenge_queue.checkpoint_name(first)
    assert job.wait(120)
    assert challenges.entry(first.id).status == DONE
