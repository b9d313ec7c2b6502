"""The training job manager: tiny runs (2,000 images, one or two epochs) in a temporary folder."""

import threading
import time

import pytest
import torch

from core import checkpoints, jobs
from core.confusion import predict_test_set

TINY = dict(epochs=1, limit=2000, batch_size=100)


def tiny_spec(folder, name="tiny", **kwargs):
    overrides = {**TINY, **kwargs.pop("overrides", {})}
    return jobs.prepare("lenet5", "fast", name=name, overrides=overrides, folder=folder, test_limit=500, **kwargs)


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_one_manager_per_process():
    assert jobs.manager() is jobs.manager()


def test_run_reports_progress_and_its_checkpoint_loads(tmp_path):
    manager = jobs.JobManager()
    events = []
    job = manager.start(tiny_spec(tmp_path))
    # 2,000 images in batches of 100 = 20 steps; progress comes every 10 steps (train.SYNC_EVERY).
    while job.running:
        events.append(job.snapshot())
        time.sleep(0.05)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == jobs.FINISHED and "saved as 'tiny'" in snap.message, snap.message
    assert [round(p[0], 2) for p in snap.curve] == [0.5, 1.0]  # steps 10 and 20 of 20, in epochs
    assert snap.steps == 20 and snap.fraction == 1.0 and len(snap.history) == 1
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
    model, info = checkpoints.load("tiny", folder=tmp_path)
    assert info.record["recipe_name"] == "fast" and info.record["recipe"]["limit"] == 2000
    assert info.record["test_accuracy"] == snap.test_accuracy == snap.history[0]["test_accuracy"]
    # The saved weights reproduce the accuracy measured during the run on the same 500 images.
    assert predict_test_set(model, limit=500).accuracy == pytest.approx(info.record["test_accuracy"], abs=1 / 500)
    assert info.record["test_accuracy"] > 0.5  # 10 classes: chance is 0.1; one tiny epoch of LeNet passes 0.5
    assert not info.record.get("reported")  # the fast recipe reproduces no source's figure


def test_one_job_at_a_time_then_stop_after_the_current_batch(tmp_path):
    manager = jobs.JobManager()
    # 50 epochs of 100 steps: far more than the test waits for, even on a GPU
    first = manager.start(tiny_spec(tmp_path, "long", overrides=dict(epochs=50, batch_size=20)))
    try:
        with pytest.raises(jobs.JobBusy, match="already in progress") as busy:
            manager.start(tiny_spec(tmp_path, "second"))
        assert busy.value.job is first and manager.current() is first
        assert wait_for(lambda: first.snapshot().step > 0), "no progress within 60 s"
    finally:
        assert manager.stop() is True
    assert first.wait(60)
    snap = first.snapshot()
    # Stopped in epoch 1 (100 steps of 20 images): one partial epoch is kept and saved.
    assert snap.status == jobs.STOPPED and snap.stop_requested and len(snap.history) == 1, snap.message
    assert snap.history[0]["images"] < 2000
    # Stopped after k of the epoch's 100 batches of 20 images: the test point, and the end of the
    # train curve, sit at k / 100 of epoch 1.
    k = snap.history[0]["images"] // 20
    assert snap.history[0]["images"] == 20 * k and snap.history[0]["epoch_fraction"] == pytest.approx(k / 100)
    assert snap.curve[-1] == pytest.approx((k / 100, snap.history[0]["train_loss"], snap.history[0]["train_accuracy"]))
    assert checkpoints.read_info("long", tmp_path).record["stopped"] is True
    assert not (tmp_path / "second.json").exists()
    assert manager.stop() is False  # nothing running any more
    nxt = manager.start(tiny_spec(tmp_path, "second"))  # the slot is free again
    assert nxt.wait(60) and nxt.snapshot().status == jobs.FINISHED


def test_nan_loss_fails_the_job_and_keeps_the_previous_checkpoint(tmp_path):
    manager = jobs.JobManager()
    assert manager.start(tiny_spec(tmp_path, "victim")).wait(60)
    before = (tmp_path / "victim.pt").read_bytes()
    # lr 1e6 passes only without strict (the page is strict); SGD with it overflows within 10 steps.
    spec = tiny_spec(tmp_path, "victim", overrides=dict(lr=1e6, optimizer="sgd"), strict=False, overwrite=True)
    job = manager.start(spec)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == jobs.FAILED and "diverged" in snap.message and "lower the learning rate" in snap.message
    assert snap.saved is None and (tmp_path / "victim.pt").read_bytes() == before
    checkpoints.load("victim", folder=tmp_path)  # still verifies


@pytest.mark.parametrize("overrides, name, message", [
    (dict(lr=0.0), "ok", "positive"),
    (dict(lr=-0.1), "ok", "positive"),
    (dict(lr=float("nan")), "ok", "positive"),
    (dict(lr=1e6), "ok", "absurd"),          # strict: refused before starting
    (dict(epochs=0), "ok", "at least 1"),
    (dict(batch_size=5000), "ok", "larger than the 2,000"),
    ({}, "../escape", "invalid checkpoint name"),
    ({}, "a/b", "invalid checkpoint name"),
    ({}, "", "invalid checkpoint name"),
])
def test_bad_input_is_refused_before_anything_starts(tmp_path, overrides, name, message):
    before = threading.active_count()
    with pytest.raises(jobs.JobInputError, match=message):
        tiny_spec(tmp_path, name, overrides=overrides)
    assert threading.active_count() == before and list(tmp_path.iterdir()) == []


def test_unknown_model_and_recipe_are_refused(tmp_path):
    with pytest.raises(jobs.JobInputError, match="unknown model 'lenet7'"):
        jobs.prepare("lenet7", name="x", folder=tmp_path)
    with pytest.raises(jobs.JobInputError, match="'seed' or 'fast'"):
        jobs.prepare("lenet5", "slow", name="x", folder=tmp_path)


def test_taken_names_need_confirmation_and_shipped_ones_say_so(tmp_path):
    assert "lenet5" in jobs.shipped_names() and "cnn_avgpool_bn_seed" in jobs.shipped_names()
    (tmp_path / "lenet5.json").write_text("{}")
    (tmp_path / "mine.json").write_text("{}")
    with pytest.raises(jobs.NeedsConfirmation, match="'lenet5' is a shipped checkpoint"):
        tiny_spec(tmp_path, "lenet5")
    with pytest.raises(jobs.NeedsConfirmation, match="'mine' is an existing checkpoint"):
        tiny_spec(tmp_path, "mine")
    assert tiny_spec(tmp_path, "lenet5", overwrite=True).name == "lenet5"
    assert jobs.name_taken("fresh", tmp_path) is None


def threads_of_a_new_thread() -> int:
    """torch's thread count as a thread started now sees it (a page rerun is such a thread)."""
    seen = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    return seen[0]


def test_training_threads_leave_half_the_cores_free_and_are_restored(tmp_path):
    assert [jobs.training_threads(n) for n in (1, 2, 4, 16)] == [1, 1, 2, 8]
    original = torch.get_num_threads()
    baseline = jobs.training_threads() + 1  # differs from the job's count, so both checks can fail
    torch.set_num_threads(baseline)
    try:
        assert threads_of_a_new_thread() == baseline
        job = jobs.JobManager().start(tiny_spec(tmp_path, overrides=dict(epochs=50, batch_size=20)))
        try:
            assert wait_for(lambda: job.snapshot().step > 0)
            assert threads_of_a_new_thread() == jobs.training_threads()  # set by the job, process-wide
        finally:
            job.stop()
        assert job.wait(60)
        assert threads_of_a_new_thread() == baseline
    finally:
        torch.set_num_threads(original)


def test_a_stopped_epoch_ends_the_train_curve_where_it_stopped(tmp_path):
    # Epoch 2 of 50 batches, progress every 10 (train.SYNC_EVERY), stopped after batch 23: the
    # last report was at 1 + 20/50 = 1.4 epochs, the epoch's entry at 1 + 23/50 = 1.46.
    job = jobs.Job(1, tiny_spec(tmp_path))
    batch = dict(event="batch", epoch=2, epochs=3, steps=50, images_per_second=1.0)
    job._on_progress({**batch, "step": 10, "loss": 0.50, "accuracy": 0.80})
    job._on_progress({**batch, "step": 20, "loss": 0.45, "accuracy": 0.82})
    job._on_progress(dict(event="epoch", epochs=3, epoch=2, train_loss=0.44, train_accuracy=0.83, test_loss=0.4,
                          test_accuracy=0.85, images=23 * 40, epoch_fraction=23 / 50))
    snap = job.snapshot()
    assert [round(p[0], 2) for p in snap.curve] == [1.2, 1.4, 1.46]
    assert snap.curve[-1][1:] == (0.44, 0.83)  # the epoch's own train mean, where the test was made
    assert "event" not in snap.history[0] and snap.history[0]["epoch_fraction"] == pytest.approx(0.46)
    # A whole epoch adds no point: its last report is already at its end (step 50 of 50 = 2.0).
    job._on_progress({**batch, "epoch": 3, "step": 50, "loss": 0.3, "accuracy": 0.9})
    job._on_progress(dict(event="epoch", epochs=3, epoch=3, train_loss=0.3, train_accuracy=0.9, test_loss=0.3,
                          test_accuracy=0.9, images=2000, epoch_fraction=1.0))
    assert [round(p[0], 2) for p in job.snapshot().curve] == [1.2, 1.4, 1.46, 3.0]
