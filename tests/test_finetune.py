"""core.classroom.finetune: the held-out split, the refusals, and fine-tuning measured on a scripted class.

The class is drawn by tests/class_hand.py in a hand unlike MNIST's (thick, slanted, off-centre
strokes; never MNIST images): 300 digits, 30 per label. Expected figures come from measuring:
the shipped lenet5 reads MNIST's test set at 99.18% (its record) and this class at 74% (run
below), so the shift is there to be closed.
"""

from __future__ import annotations

import shutil
import threading
import time

import numpy as np
import pytest
import torch

from core import i18n
from core.classroom.finetune import (
    FinetuneSettings,
    NotEnoughDigits,
    check_enough,
    checkpoint_name,
    finetune,
    held_out_split,
    save,
)
from core.classroom.finetune_job import prepare
from core.classroom.lessons import ClassDigits, class_digits, class_predictions
from core.classroom.store import ClassStore
from core.models import checkpoints
from core.training.jobs import runner
from core.training.jobs.spec import JobInputError, NeedsConfirmation
from core.training.jobs.state import FINISHED, STOPPED, shown_message
from tests.class_hand import fill_store, scripted_class
from tests.harness import needs_lenet5, speak_chinese


def digits_of(labels, first_id: int = 1) -> ClassDigits:
    labels = np.asarray(labels, dtype=np.int64)
    images = np.zeros((len(labels), 28, 28), np.uint8)
    return ClassDigits(1, np.arange(first_id, first_id + len(labels), dtype=np.int64), images, labels)


@pytest.fixture(scope="module")
def scripted():
    return scripted_class(per_label=30, seed=0)


@pytest.fixture
def folder(tmp_path):
    """A checkpoint folder holding a copy of the shipped lenet5 (fine-tunes are saved here, not in checkpoints/)."""
    for suffix in (".pt", ".json"):
        shutil.copy(checkpoints.DEFAULT_DIR / f"lenet5{suffix}", tmp_path / f"lenet5{suffix}")
    return tmp_path


# --- the held-out split -------------------------------------------------------------------------


def test_the_split_holds_out_a_fifth_of_every_label_rounded_up():
    labels = np.repeat(np.arange(10), [30, 30, 12, 7, 5, 3, 2, 30, 30, 31])
    train, held = held_out_split(np.arange(100, 100 + len(labels)), labels, fraction=0.2, seed=0)
    per_label = np.bincount(labels[held], minlength=10)
    # ceil(0.2 * n) per label: 30 -> 6, 12 -> 3, 7 -> 2, 5 -> 1, 3 -> 1, 2 -> 1, 31 -> 7
    assert per_label.tolist() == [6, 6, 3, 2, 1, 1, 1, 6, 6, 7]
    assert len(held) >= 0.2 * len(labels) and len(train) + len(held) == len(labels)
    assert not set(train) & set(held)
    assert np.bincount(labels[train], minlength=10).min() >= 1  # every label is still taught


def test_the_split_is_fixed_by_the_seed_and_moves_little_when_digits_arrive():
    labels = np.tile(np.arange(10), 10)
    ids = np.arange(1, 101)
    first = held_out_split(ids, labels, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, held_out_split(ids, labels, seed=0)))
    assert not np.array_equal(first[1], held_out_split(ids, labels, seed=1)[1])
    # One more 3 arrives: the label's held-out count stays ceil(0.2 * 11) = 3; of the 100 digits
    # before, at most one changes side (the newcomer may take one's place).
    more = held_out_split(np.append(ids, 101), np.append(labels, 3), seed=0)[1]
    before, after = set(ids[first[1]]), set(np.append(ids, 101)[more])
    assert len(before - after) <= 1


def test_a_label_with_one_digit_keeps_it_for_training_and_the_total_is_topped_up():
    # 9 labels with 1 digit, one with 21: per label only ceil(0.2 * 21) = 5 held out, 5/30 < 20%,
    # so one more comes from the big label to reach ceil(0.2 * 30) = 6.
    labels = np.array(list(range(1, 10)) + [0] * 21)
    train, held = held_out_split(np.arange(len(labels)), labels, fraction=0.2, seed=3)
    assert len(held) == 6 and set(labels[held]) == {0}
    assert set(labels[train]) == set(range(10))


def test_too_few_digits_or_a_missing_label_is_a_sentence_not_a_run():
    with pytest.raises(NotEnoughDigits, match="at least 30 of the class's digits and session 1 has 29: send 1 more"):
        check_enough(digits_of(np.arange(29) % 10))
    with pytest.raises(NotEnoughDigits, match="has no 7, 9 yet"):
        check_enough(digits_of([d for d in range(10) if d not in (7, 9)] * 5))
    check_enough(digits_of(np.arange(30) % 10))  # 30, every label: enough
    assert issubclass(NotEnoughDigits, JobInputError)  # a page catches both alike


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(held_out=0.1), "held-out share must be from 0.2"),
        (dict(steps=0), "steps must be"),
        (dict(class_share=0.0), "share of a batch"),
        (dict(lr=-1.0), "learning rate"),
    ],
)
def test_settings_that_cannot_work_are_refused(changes, words):
    with pytest.raises(JobInputError, match=words):
        FinetuneSettings(**changes).check()


@pytest.mark.parametrize(
    "changes, chinese",
    [  # each setting's own sentence, with the value as given (repr)
        (dict(steps=0), "步数必须是 1 到 10,000 之间的整数，收到的是 0"),
        (dict(batch_size=1), "批大小必须在 2 到 4,096 之间，收到的是 1"),
        (dict(class_share=1.5), "每批中班级数字所占的比例必须大于 0、至多为 1，收到的是 1.5"),
        (dict(lr=2.0), "学习率必须大于 0、至多为 1，收到的是 2.0"),
        (dict(held_out=0.6), "留出的比例必须在 0.2 到 0.5 之间，收到的是 0.6"),
        (dict(mnist_limit=20_000), "mnist_limit 必须在 1 到 10,000 之间，收到的是 20000"),
    ],
)
def test_every_setting_that_cannot_work_is_said_in_chinese_with_its_value(changes, chinese, in_chinese):
    with pytest.raises(JobInputError) as bad:
        FinetuneSettings(**changes).check()
    assert str(bad.value) == chinese


def test_a_missing_digit_is_said_in_chinese_with_the_digits_it_lacks(in_chinese):
    with pytest.raises(NotEnoughDigits) as few:  # 40 digits, none of 7 or 9, in session 1 (digits_of)
        check_enough(digits_of([d for d in range(10) if d not in (7, 9)] * 5))
    assert str(few.value) == "微调需要每个数字至少有一个，课堂 1 还没有 7, 9：请先画一些并发送"


def test_refusals_are_said_in_the_language_of_the_page_that_shows_them(monkeypatch):
    with pytest.raises(JobInputError) as bad:
        FinetuneSettings(steps=0).check()
    with pytest.raises(NotEnoughDigits) as few:
        check_enough(digits_of([0] * 29))
    assert str(bad.value) == "steps must be a whole number from 1 to 10,000, got 0"  # the command line's
    monkeypatch.setattr(i18n, "_language_source", lambda: "zh")  # as a Chinese session on /class
    assert str(bad.value) == "步数必须是 1 到 10,000 之间的整数，收到的是 0"  # the catalogue's entries
    assert str(few.value) == "微调至少需要班级的 30 个数字，课堂 1 只有 29 个：请先再发送 1 个"


# --- measured: the shift, and fine-tuning closing it ----------------------------------------------


@needs_lenet5
@pytest.mark.fullset  # MNIST's 10,000 test images before and after the fine-tune
def test_fine_tuning_learns_the_class_hand_and_keeps_mnist(tmp_path, folder, scripted, capsys):
    images, labels = scripted
    store = ClassStore(tmp_path / "class.sqlite")
    fill_store(store, images, labels)
    digits = class_digits(store)
    base, info = checkpoints.load("lenet5", folder=folder)
    on_class = class_predictions(base, digits).accuracy
    # The shift: the shipped lenet5 reads MNIST's test set at 99.18% (its record) and this hand
    # far worse (74.3% when this test was written).
    assert info.record["test_accuracy"] == pytest.approx(0.9918) and on_class < 0.90

    started = time.perf_counter()
    result = finetune("lenet5", digits, folder=folder)  # the defaults; all 10,000 MNIST test images
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n[fine-tune of lenet5 on 300 class digits: {seconds:.1f} s; held-out class "
            f"{result.class_before:.2%} -> {result.class_after:.2%}; MNIST {result.mnist_before:.2%} -> "
            f"{result.mnist_after:.2%}]"
        )
    assert len(result.held_index) == 60 and len(result.train_index) == 240  # ceil(0.2 * 30) = 6 per label
    assert result.mnist_images == 10_000 and result.mnist_before == pytest.approx(0.9918)
    assert result.class_after > result.class_before
    assert result.mnist_before - result.mnist_after < 0.01  # less than one point lost on MNIST
    # Every changed answer is a held-out digit, and the accuracies agree with them.
    held = digits.subset(result.held_index)
    assert {c["entry"] for c in result.changed} <= set(held.entry_ids.tolist())
    fixed = sum((c["after"] == c["label"]) - (c["before"] == c["label"]) for c in result.changed)
    assert round((result.class_after - result.class_before) * 60) == fixed

    info = save(result, folder=folder)
    assert info.name == checkpoint_name("lenet5", digits.session) == f"class_lenet5_{digits.session}"
    model, loaded = checkpoints.load(info.name, folder=folder)  # hashed and verified like any other
    assert class_predictions(model, held).accuracy == pytest.approx(result.class_after)
    record = loaded.record["finetune"]
    assert loaded.record["trained_on"] == "class fine-tune" and loaded.preset == "lenet5"
    assert (record["session"], record["class_digits"], record["train_digits"], record["held_out"]) == (
        digits.session,
        300,
        240,
        60,
    )
    assert record["class"]["before"] == result.class_before and record["mnist"]["after"] == result.mnist_after
    assert record["steps"] == 100 and record["mix"] == {"batch_size": 64, "class_per_batch": 16, "mnist_per_batch": 48}
    assert sorted(record["held_out_entries"]) == sorted(held.entry_ids.tolist())
    assert info.name in [i.name for i in checkpoints.list_checkpoints(folder)]  # every picker rereads the folder


@needs_lenet5
def test_the_same_seed_gives_the_same_weights_whatever_the_global_generator_does(folder, scripted):
    images, labels = scripted
    digits = ClassDigits(1, np.arange(1, len(labels) + 1), images, labels)
    settings = FinetuneSettings(steps=10, mnist_limit=200)
    torch.manual_seed(1)
    first = finetune("lenet5", digits, settings, folder=folder).model.state_dict()
    torch.manual_seed(2)  # a different global state: nothing of the fine-tune draws from it
    second = finetune("lenet5", digits, settings, folder=folder).model.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


# --- as a background job --------------------------------------------------------------------------


@needs_lenet5
def test_a_fine_tune_job_reports_progress_and_saves(tmp_path, folder, scripted, monkeypatch):
    images, labels = scripted
    store = ClassStore(tmp_path / "class.sqlite")
    fill_store(store, images, labels)
    manager = runner.JobManager()
    spec = prepare("lenet5", store, settings=FinetuneSettings(steps=30, mnist_limit=500), folder=folder)
    assert (spec.kind, spec.name, spec.preset) == (
        "class fine-tune",
        f"class_lenet5_{store.current_session().id}",
        "lenet5",
    )
    job = manager.start(spec)
    with pytest.raises(runner.JobBusy):
        manager.start(spec)  # one run per server, training or fine-tune
    seen = []
    while job.running:
        seen.append(job.snapshot())
        time.sleep(0.05)
    snap = job.snapshot()
    assert snap.status == FINISHED, snap.message
    assert "saved as 'class_lenet5_" in snap.message and snap.kind == "class fine-tune"
    assert snap.steps == 30 and snap.fraction == 1.0 and len(snap.history) == 1
    assert [round(p[0], 2) for p in snap.curve] == [0.33, 0.67, 1.0]  # a progress event every 10 of 30 steps
    assert set(snap.result) >= {"class", "mnist", "changed"} and snap.result["mnist"]["n"] == 500
    assert snap.test_accuracy == snap.result["mnist"]["after"]
    checkpoints.load(spec.name, folder=folder)
    # Written in the job's thread, said on a Chinese page with the run's own figures and name.
    speak_chinese(monkeypatch)
    r = snap.result
    assert shown_message(snap) == (
        f"班级数字 {r['class']['before']:.0%} -> {r['class']['after']:.0%}，MNIST {r['mnist']['before']:.2%} -> "
        f"{r['mnist']['after']:.2%}；已保存为 '{spec.name}'"
    )


@needs_lenet5
def test_a_stopped_fine_tune_saves_nothing(tmp_path, folder, scripted, monkeypatch):
    images, labels = scripted
    store = ClassStore(tmp_path / "class.sqlite")
    fill_store(store, images, labels)
    spec = prepare("lenet5", store, settings=FinetuneSettings(steps=10_000, mnist_limit=200), folder=folder)
    job = runner.JobManager().start(spec)
    deadline = time.monotonic() + 60
    while job.snapshot().step == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    job.stop()
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == STOPPED and "nothing was saved" in snap.message
    assert not (folder / f"{spec.name}.json").exists()
    speak_chinese(monkeypatch)
    assert shown_message(snap) == "已停止：没有保存任何内容（微调只需几秒：请重新开始）"


def test_prepare_refuses_a_small_class_or_an_unknown_model_before_anything_starts(tmp_path, folder, scripted):
    images, labels = scripted
    store = ClassStore(tmp_path / "class.sqlite")
    fill_store(store, images[:12], labels[:12])
    before = threading.active_count()
    with pytest.raises(NotEnoughDigits, match="has 12: send 18 more"):
        prepare("lenet5", store, folder=folder)
    four_each = np.concatenate([np.flatnonzero(labels == d)[:4] for d in range(10)])
    other = store.new_session("enough digits").id
    fill_store(store, images[four_each], labels[four_each], session_id=other, start=5000.0)
    with pytest.raises(JobInputError, match="no checkpoint"):
        prepare("lenet9", store, folder=folder)
    assert prepare("lenet5", store, folder=folder).name == f"class_lenet5_{other}"  # 40 digits, every label
    assert threading.active_count() == before and not list(folder.glob("class_*"))


def test_a_second_fine_tune_of_a_model_on_a_session_asks_before_it_replaces_the_first(tmp_path, folder, scripted):
    images, labels = scripted
    store = ClassStore(tmp_path / "class.sqlite")
    fill_store(store, images[:40], labels[:40])
    name = checkpoint_name("lenet5", store.current_session().id)
    for suffix in (".pt", ".json"):  # as a first fine-tune saved it (its record is the test's stand-in)
        shutil.copy(folder / f"lenet5{suffix}", folder / f"{name}{suffix}")
    with pytest.raises(NeedsConfirmation, match=f"'{name}' is an existing checkpoint: confirm to replace it"):
        prepare("lenet5", store, folder=folder)
    assert prepare("lenet5", store, folder=folder, overwrite=True).name == name


@needs_lenet5
def test_the_fine_tune_tab_asks_before_a_second_fine_tune_replaces_the_first(tmp_path, folder, scripted, monkeypatch):
    from core.classroom import store as class_store
    from core.classroom.db import DB_ENV
    from tests.harness import run_page

    job = runner.manager().current()
    if job is not None and job.running:  # the server's one run (another test's) would disable the button
        job.stop()
        job.wait(120)
    monkeypatch.setenv(DB_ENV, str(tmp_path / "class.sqlite"))
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", folder)
    store = class_store.store()
    images, labels = scripted
    fill_store(store, images[:40], labels[:40])
    name = checkpoint_name("lenet5", store.current_session().id)
    for suffix in (".pt", ".json"):
        shutil.copy(folder / f"lenet5{suffix}", folder / f"{name}{suffix}")
    at = run_page("class", {"class_tab": "Learning our handwriting", "ft_model": "lenet5"})
    assert not at.exception, at.exception
    # (its record is lenet5's, no fine-tune's: no before and after to point to)
    assert f"**{name}** is already a checkpoint: fine-tuning replaces it." in [w.value for w in at.warning]
    assert at.button(key="ft_start").disabled  # a teacher (AppTest is localhost), but not ticked yet
    at.checkbox(key=f"ft_overwrite:{name}").check().run()
    assert not at.exception and not at.button(key="ft_start").disabled
