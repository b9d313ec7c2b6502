"""The training job manager: tiny runs (2,000 images, one or two epochs) in a temporary folder."""

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from core.device import shared_threads, use_threads
from core.i18n import MessageError
from core.models import checkpoints
from core.training.confusion import predict_test_set
from core.training.jobs import group as run_group
from core.training.jobs import job as one_job
from core.training.jobs import runner as jobs
from core.training.jobs.group import RemoteJob
from core.training.jobs.spec import JobInputError, NeedsConfirmation, WorkOutcome, name_taken, prepare, shipped_names
from core.training.jobs.state import FAILED, FINISHED, RUNNING, STOPPED, JobSnapshot, shown_message
from core.training.train import TrainingDiverged
from tests.harness import ROOT, speak_chinese

TINY = dict(epochs=1, limit=2000, batch_size=100)


@pytest.fixture(autouse=True)
def own_jobs_dir(tmp_path, monkeypatch):
    """Every run here locks and reports in a folder of the test's own, never artifacts/jobs."""
    monkeypatch.setattr(run_group, "JOBS_DIR", tmp_path / "jobs")


def tiny_spec(folder, name="tiny", **kwargs):
    overrides = {**TINY, **kwargs.pop("overrides", {})}
    return prepare("lenet5", "fast", name=name, overrides=overrides, folder=folder, test_limit=500, **kwargs)


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_one_manager_per_process():
    assert jobs.manager() is jobs.manager()


def test_run_reports_progress_and_its_checkpoint_loads(tmp_path, monkeypatch):
    manager = jobs.JobManager()
    events = []
    job = manager.start(tiny_spec(tmp_path))
    # 2,000 images in batches of 100 = 20 steps; progress comes every 10 steps (train.SYNC_EVERY).
    while job.running:
        events.append(job.snapshot())
        time.sleep(0.05)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == FINISHED and "saved as 'tiny'" in snap.message, snap.message
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
    # Written in the job's thread (no language there), said in Chinese on a Chinese page: one epoch,
    # the accuracy to two decimals of a percent, the name as it is.
    speak_chinese(monkeypatch)
    assert shown_message(snap) == f"完成了 1 个训练轮次；测试准确率 {snap.test_accuracy:.2%}；已保存为 'tiny'"


def test_one_job_at_a_time_then_stop_after_the_current_batch(tmp_path, monkeypatch):
    manager = jobs.JobManager()
    # 50 epochs of 100 steps: far more than the test waits for, even on a GPU
    first = manager.start(tiny_spec(tmp_path, "long", overrides=dict(epochs=50, batch_size=20)))
    try:
        with pytest.raises(jobs.JobBusy, match="already in progress") as busy:
            manager.start(tiny_spec(tmp_path, "second"))
        assert busy.value.job is first and manager.current() is first
        # A Chinese page says it in Chinese (the catalogue's entry), the name and the time as they are.
        started = time.strftime("%H:%M:%S", time.localtime(first.started))
        speak_chinese(monkeypatch)
        assert str(busy.value) == f"已经有一次训练在进行（long，{started} 开始）：请等它结束，或者停止它"
        monkeypatch.undo()
        assert wait_for(lambda: first.snapshot().step > 0), "no progress within 60 s"
    finally:
        assert manager.stop() is True
    assert first.wait(60)
    snap = first.snapshot()
    # Stopped in epoch 1 (100 steps of 20 images): one partial epoch is kept and saved.
    assert snap.status == STOPPED and snap.stop_requested and len(snap.history) == 1, snap.message
    assert snap.history[0]["images"] < 2000
    # Stopped after k of the epoch's 100 batches of 20 images: the test point, and the end of the
    # train curve, sit at k / 100 of epoch 1.
    k = snap.history[0]["images"] // 20
    assert snap.history[0]["images"] == 20 * k and snap.history[0]["epoch_fraction"] == pytest.approx(k / 100)
    assert snap.curve[-1][0] == pytest.approx(k / 100)
    # Each point is the mean over the images since the one before: weighted by them, the points
    # average to the epoch's own train mean (20 images a batch, 100 batches an epoch).
    done = [0.0] + [x for x, _loss, _accuracy in snap.curve]
    images = [(b - a) * 2000 for a, b in zip(done, done[1:])]
    for i, key in ((1, "train_loss"), (2, "train_accuracy")):
        mean = sum(point[i] * n for point, n in zip(snap.curve, images)) / sum(images)
        assert mean == pytest.approx(snap.history[0][key], rel=1e-4)
    assert checkpoints.read_info("long", tmp_path).record["stopped"] is True
    speak_chinese(monkeypatch)
    assert shown_message(snap) == f"在第 1 个训练轮次中停止；测试准确率 {snap.test_accuracy:.2%}；已保存为 'long'"
    monkeypatch.undo()
    assert not (tmp_path / "second.json").exists()
    assert manager.stop() is False  # nothing running any more
    nxt = manager.start(tiny_spec(tmp_path, "second"))  # the slot is free again
    assert nxt.wait(60) and nxt.snapshot().status == FINISHED


def test_nan_loss_fails_the_job_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    manager = jobs.JobManager()
    assert manager.start(tiny_spec(tmp_path, "victim")).wait(60)
    before = (tmp_path / "victim.pt").read_bytes()
    # lr 1e6 passes only without strict (the page is strict); SGD with it overflows within 10 steps.
    spec = tiny_spec(tmp_path, "victim", overrides=dict(lr=1e6, optimizer="sgd"), strict=False, overwrite=True)
    job = manager.start(spec)
    assert job.wait(60)
    snap = job.snapshot()
    assert snap.status == FAILED and "diverged" in snap.message and "lower the learning rate" in snap.message
    assert "with learning rate 1e+06:" in snap.message  # the template's {lr:g}, filled in English too
    # Every reader sees it in their language: the job's thread kept the template and its values.
    assert (snap.message_id, set(snap.message_args)) == (one_job.DIVERGED, {"loss", "epoch", "step", "lr", "name"})
    speak_chinese(monkeypatch)
    args = snap.message_args
    assert shown_message(snap) == (
        f"训练发散了：学习率为 1e+06 时，损失在第 {args['epoch']} 个训练轮次（第 {args['step']} 步）"
        f"变成了 {args['loss']}：请调低学习率。什么都没有保存：之前的检查点“victim”（如果有）保持不变"
    )
    assert snap.saved is None and (tmp_path / "victim.pt").read_bytes() == before
    checkpoints.load("victim", folder=tmp_path)  # still verifies


@pytest.mark.parametrize(
    "overrides, name, message",
    [
        (dict(lr=0.0), "ok", "positive"),
        (dict(lr=-0.1), "ok", "positive"),
        (dict(lr=float("nan")), "ok", "positive"),
        (dict(lr=1e6), "ok", "absurd"),  # strict: refused before starting
        (dict(epochs=0), "ok", "at least 1"),
        (dict(batch_size=5000), "ok", "larger than the 2,000"),
        ({}, "../escape", "invalid checkpoint name"),
        ({}, "a/b", "invalid checkpoint name"),
        ({}, "", "invalid checkpoint name"),
    ],
)
def test_bad_input_is_refused_before_anything_starts(tmp_path, overrides, name, message):
    before = threading.active_count()
    with pytest.raises(JobInputError, match=message):
        tiny_spec(tmp_path, name, overrides=overrides)
    assert threading.active_count() == before and list(tmp_path.iterdir()) == []


def busy_with(name: str, process: str | None) -> jobs.JobBusy:
    """JobBusy for a run named ``name`` started at 09:05:03 today on ``process`` (a stand-in job:
    what JobBusy reads of one), made where no session is, as a start on another thread would."""
    started = time.mktime(time.localtime()[:3] + (9, 5, 3, 0, 0, -1))
    snap = SimpleNamespace(name=name, process=process)
    return jobs.JobBusy(SimpleNamespace(started=started, snapshot=lambda: snap))


def test_a_run_in_progress_is_said_in_the_language_of_the_page_that_shows_it(monkeypatch):
    here, there, unknown = (
        busy_with("my_lenet", None),
        busy_with("my_lenet", "server process 2 of 3"),
        jobs.JobBusy(None),
    )
    assert str(there) == (
        "a training run is already in progress (my_lenet, started 09:05:03, on server process 2 of 3): "
        "wait for it to finish or stop it"
    )
    speak_chinese(monkeypatch)  # the same errors, shown on a Chinese page: the process in Chinese too
    assert str(here) == "已经有一次训练在进行（my_lenet，09:05:03 开始）：请等它结束，或者停止它"
    assert str(there) == "已经有一次训练在进行（my_lenet，09:05:03 开始，在服务器进程 2/3上）：请等它结束，或者停止它"
    assert str(busy_with("x", "server process 4242")).endswith("在服务器进程 4242上）：请等它结束，或者停止它")
    assert str(unknown) == "另一个服务器进程里已经有一次训练在进行：请等它结束，或者停止它"


def test_a_run_whose_process_died_is_said_in_the_readers_language(tmp_path, monkeypatch):
    # A record that says "running" while no one holds the group's lock: its process ended unreported.
    group = run_group.RunGroup(tmp_path / "checkpoints")
    group.path.mkdir(parents=True)
    snap = tiny_snapshot(status=RUNNING)
    record = {"owner": "gone", "pid": 4242, "process": "server process 2 of 2", "started": time.time()}
    group.write({**record, "snapshot": dataclasses.asdict(snap)})
    seen = RemoteJob(group, {**record, "snapshot": dataclasses.asdict(snap)}).snapshot()  # no session: English
    assert seen.status == FAILED and seen.message.startswith("the run ended with its server process 2 of 2 (pid 4242)")
    speak_chinese(monkeypatch)
    assert (
        shown_message(seen) == "运行它的服务器进程 2/2（pid 4242）在报告结果之前就结束了：检查点列表里能看到保存了什么"
    )


def tiny_snapshot(**changes) -> JobSnapshot:
    values = dict(id=1, name="tiny", preset="lenet5", recipe_name="fast", recipe={}, status=FINISHED, message="")
    values.update(epoch=1, epochs=1, step=0, steps=0, loss=None, accuracy=None, images_per_second=None, curve=[])
    values.update(history=[], elapsed=0.0, stop_requested=False)
    return JobSnapshot(**{**values, **changes})


@pytest.mark.parametrize(
    "error, english, chinese",
    [
        (OSError("disk full"), "the run failed: OSError: disk full", "训练失败：OSError：disk full"),
        (  # an error that keeps its template ends the run with it: each reader sees it in their language
            MessageError("the class database is busy: try again in a moment"),
            "the class database is busy: try again in a moment",
            "班级数据库正忙：请稍后再试",
        ),
    ],
)
def test_a_run_that_fails_says_why_in_the_readers_language(tmp_path, monkeypatch, error, english, chinese):
    def work(progress, stop, device) -> WorkOutcome:
        raise error

    job = jobs.JobManager().start(dataclasses.replace(tiny_spec(tmp_path), kind="by hand", work=work))
    assert job.wait(60)
    snap = job.snapshot()
    assert (snap.status, snap.message) == (FAILED, english)
    speak_chinese(monkeypatch)
    assert shown_message(snap) == chinese


def test_divergence_and_refusals_are_said_in_chinese_with_their_values(tmp_path, in_chinese):
    # lr 0.5 printed with {lr:g}; the loss as the loop saw it (nan); epoch 3, step 40
    assert str(TrainingDiverged(float("nan"), 3, 40, 0.5)) == (
        "学习率为 0.5 时，损失在第 3 个训练轮次（第 40 步）变成了 nan：请调低学习率；什么都没有保存"
    )
    with pytest.raises(JobInputError) as refused:
        prepare("lenet5", "fast", name="ok", overrides=TINY, folder=tmp_path, test_limit=0)
    assert str(refused.value) == "test_limit 至少要是 1，收到的是 0"
    # Another module's error that keeps its template stays one: said when shown, not when wrapped.
    kept = JobInputError.refusing(MessageError("the class database failed: {text}", {"text": "xyz"}))
    assert (kept.template, kept.values, str(kept)) == (
        "the class database failed: {text}",
        {"text": "xyz"},
        "班级数据库出错：xyz",
    )
    assert str(JobInputError.refusing(ValueError("already said"))) == "already said"


def test_unknown_model_and_recipe_are_refused(tmp_path):
    with pytest.raises(JobInputError, match="unknown model 'lenet7'"):
        prepare("lenet7", name="x", folder=tmp_path)
    with pytest.raises(JobInputError, match="'seed' or 'fast'"):
        prepare("lenet5", "slow", name="x", folder=tmp_path)


def test_taken_names_need_confirmation_and_shipped_ones_say_so(tmp_path, monkeypatch):
    assert "lenet5" in shipped_names() and "cnn_avgpool_bn_seed" in shipped_names()
    (tmp_path / "lenet5.json").write_text("{}")
    (tmp_path / "mine.json").write_text("{}")
    with pytest.raises(NeedsConfirmation, match="'lenet5' is a shipped checkpoint"):
        tiny_spec(tmp_path, "lenet5")
    with pytest.raises(NeedsConfirmation, match="'mine' is an existing checkpoint") as taken:
        tiny_spec(tmp_path, "mine")
    assert str(taken.value) == "'mine' is an existing checkpoint: confirm to replace it, or choose another name"
    speak_chinese(monkeypatch)
    assert str(taken.value) == "“mine”是已有的检查点：请确认替换它，或者换一个名字"  # on a Chinese page
    monkeypatch.undo()
    assert tiny_spec(tmp_path, "lenet5", overwrite=True).name == "lenet5"
    assert name_taken("fresh", tmp_path) is None


def threads_of_a_new_thread() -> int:
    """torch's thread count as a thread started now sees it (a page rerun is such a thread)."""
    seen = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    return seen[0]


def test_a_training_job_runs_on_the_shared_threads_and_puts_the_count_back(tmp_path):
    original = torch.get_num_threads()
    baseline = shared_threads() + 1  # differs from the job's count, so both checks can fail
    use_threads(baseline)
    try:
        assert threads_of_a_new_thread() == baseline
        job = jobs.JobManager().start(tiny_spec(tmp_path, overrides=dict(epochs=50, batch_size=20)))
        try:
            assert wait_for(lambda: job.snapshot().step > 0)
            # set by the job's thread: the count a thread started now takes (core.device's policy)
            assert threads_of_a_new_thread() == shared_threads()
        finally:
            job.stop()
        assert job.wait(60)
        assert threads_of_a_new_thread() == baseline
    finally:
        use_threads(original)


def test_a_stopped_epoch_ends_the_train_curve_where_it_stopped(tmp_path):
    # Epoch 2 of 50 batches, progress every 10 (train.SYNC_EVERY), stopped after batch 23: the
    # last report was at 1 + 20/50 = 1.4 epochs, the epoch's entry at 1 + 23/50 = 1.46.
    job = one_job.Job(1, tiny_spec(tmp_path))
    batch = dict(event="batch", epoch=2, epochs=3, steps=50, images_per_second=1.0)
    job._on_progress({**batch, "step": 10, "images": 400, "loss": 0.50, "accuracy": 0.80})
    job._on_progress({**batch, "step": 20, "images": 800, "loss": 0.45, "accuracy": 0.82})
    job._on_progress(
        dict(
            event="epoch",
            epochs=3,
            epoch=2,
            train_loss=0.44,
            train_accuracy=0.83,
            test_loss=0.4,
            test_accuracy=0.85,
            images=23 * 40,
            epoch_fraction=23 / 50,
        )
    )
    snap = job.snapshot()
    assert [round(p[0], 2) for p in snap.curve] == [1.2, 1.4, 1.46]
    # the mean of the last 120 images, from the epoch's own train mean where the test was made:
    # (0.44 * 920 - 0.45 * 800) / 120 and (0.83 * 920 - 0.82 * 800) / 120
    assert snap.curve[-1][1:] == pytest.approx((44.8 / 120, 107.6 / 120))
    assert "event" not in snap.history[0] and snap.history[0]["epoch_fraction"] == pytest.approx(0.46)
    # A whole epoch adds no point: its last report is already at its end (step 50 of 50 = 2.0).
    job._on_progress({**batch, "epoch": 3, "step": 50, "images": 2000, "loss": 0.3, "accuracy": 0.9})
    job._on_progress(
        dict(
            event="epoch",
            epochs=3,
            epoch=3,
            train_loss=0.3,
            train_accuracy=0.9,
            test_loss=0.3,
            test_accuracy=0.9,
            images=2000,
            epoch_fraction=1.0,
        )
    )
    assert [round(p[0], 2) for p in job.snapshot().curve] == [1.2, 1.4, 1.46, 3.0]


# --- one run per server group: the processes that share a checkpoint folder (make run REPLICAS=N) ---

LONG = dict(epochs=50, batch_size=20)  # 100 steps an epoch, 5,000 in all: far longer than any test waits


@pytest.fixture
def group(tmp_path, monkeypatch):
    """A checkpoint folder as the page's default: the group ``current()`` watches."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", folder)
    return folder


def test_a_second_manager_of_the_group_is_refused_shows_the_run_and_stops_it(group, monkeypatch):
    # Two managers in one process hold the lock through separate descriptors, as two processes do
    # (flock): the second sees the first only through the group's files.
    monkeypatch.setenv(run_group.REPLICA_ENV, "1/2")
    first, second = jobs.JobManager(), jobs.JobManager()
    job = first.start(tiny_spec(group, "long", overrides=LONG))
    try:
        with pytest.raises(
            jobs.JobBusy, match=r"already in progress \(long, started .*, on server process 1 of 2\)"
        ) as busy:
            second.start(tiny_spec(group, "second"))
        assert isinstance(busy.value.job, RemoteJob)
        seen = second.current()
        assert isinstance(seen, RemoteJob) and seen.running
        # The progress crosses within a second or so of the job's own.
        assert wait_for(lambda: second.current().snapshot().step > 0), "no progress seen from the other manager"
        remote, local = second.current().snapshot(), job.snapshot()
        assert (remote.id, remote.name, remote.preset, remote.epochs, remote.steps) == (
            local.id,
            "long",
            "lenet5",
            50,
            100,
        )
        assert remote.process == "server process 1 of 2" and remote.status == RUNNING
        assert remote.curve == local.curve[: len(remote.curve)]  # the same points, up to a second behind
    finally:
        assert second.stop() is True  # a stop file; the job polls it every second
    assert job.wait(60), "the stop asked by the other manager did not reach the run"
    snap = job.snapshot()
    # Stopped within a second or two of the request: long before its 50 epochs.
    assert snap.status == STOPPED and snap.stop_requested and len(snap.history) < 50, snap.message
    seen = second.current().snapshot()  # its end as written before the lock was let go
    assert (seen.status, seen.message, seen.saved) == (STOPPED, snap.message, snap.saved)
    assert second.stop() is False
    nxt = second.start(tiny_spec(group, "second"))  # the group's slot is free again
    assert nxt.wait(60) and nxt.snapshot().status == FINISHED
    assert nxt.id == job.id + 1  # runs are numbered across the group
    assert first.current().snapshot().name == "second"  # the group's latest run, seen from the first


def test_a_finished_run_is_shown_by_managers_made_before_it_not_by_later_ones(group):
    before = jobs.JobManager()
    job = jobs.JobManager().start(tiny_spec(group, "done"))
    assert job.wait(60) and job.snapshot().status == FINISHED
    assert before.current().snapshot().message == job.snapshot().message
    # A server started after the run ended (yesterday's run, a new server) shows no run yet.
    assert jobs.JobManager().current() is None


RUNNER = """
import json, os, sys
from pathlib import Path
from core.training.jobs import runner as jobs
from core.training.jobs import group as run_group
from core.training.jobs.spec import prepare
run_group.JOBS_DIR = Path(sys.argv[1])
spec = prepare("lenet5", "fast", name="elsewhere", folder=sys.argv[2], test_limit=100,
                    overrides=dict(epochs=50, batch_size=20, limit=2000))
job = jobs.manager().start(spec)
print("started", flush=True)
job.wait(600)
snap = job.snapshot()
print(json.dumps({"status": snap.status, "stop_requested": snap.stop_requested}), flush=True)
os._exit(0)  # as a server ends: not through torch's teardown with its threads still about (SIGABRT)
"""


def start_elsewhere(group: Path) -> subprocess.Popen:
    """A long run in another process (server process 2 of 2 of the group); returns once it runs."""
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(run_group.JOBS_DIR), str(group)],
        cwd=ROOT,
        env={**os.environ, run_group.REPLICA_ENV: "2/2", "CNN_EXPLAINER_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = runner.stdout.readline()
    assert line.strip() == "started", (line, runner.stderr.read() if runner.poll() is not None else "")
    return runner


def test_a_run_in_another_process_is_refused_here_watched_here_and_stopped_from_here(group):
    runner = start_elsewhere(group)
    try:
        here = jobs.JobManager()
        with pytest.raises(jobs.JobBusy, match=r"\(elsewhere, started .*, on server process 2 of 2\)"):
            here.start(tiny_spec(group, "mine"))
        assert wait_for(lambda: here.current().snapshot().step > 0, 120), "no progress from the other process"
        snap = here.current().snapshot()
        assert snap.running and snap.process == "server process 2 of 2" and snap.steps == 100
        here.stop()
        assert here.current().snapshot().stop_requested  # shown at once here, before the run has seen it
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.returncode == 0, err
    assert json.loads(out) == {"status": STOPPED, "stop_requested": True}
    assert here.current().snapshot().status == STOPPED
    assert checkpoints.read_info("elsewhere", group).record["stopped"] is True


def test_a_process_killed_mid_run_frees_the_group_and_its_run_shows_as_ended(group):
    runner = start_elsewhere(group)
    here = jobs.JobManager()
    try:
        assert wait_for(lambda: here.current() is not None and here.current().snapshot().step > 0, 120)
    finally:
        runner.kill()  # SIGKILL: no chance to write its end; the kernel lets the lock go
        runner.wait()
    snap = here.current().snapshot()
    assert snap.status == FAILED and not snap.running
    assert "ended with its server process 2 of 2" in snap.message and f"pid {runner.pid}" in snap.message
    job = here.start(tiny_spec(group, "after"))  # not refused: the lock died with the process
    assert job.wait(60) and job.snapshot().status == FINISHED


def test_the_live_curve_holds_the_mean_since_the_last_report_so_it_does_not_jump_at_each_epoch(tmp_path):
    """The loop reports the epoch's mean so far; the curve keeps the mean of the images added since
    the report before, which does not start over with each epoch (nothing is run: events by hand)."""
    job = one_job.Job(1, tiny_spec(tmp_path, "by_hand"))
    for epoch, step, images, loss, accuracy in (
        (1, 10, 100, 2.0, 0.30),
        (1, 20, 200, 1.5, 0.50),
        (2, 10, 100, 0.9, 0.75),
        (2, 20, 200, 0.8, 0.80),
    ):
        job._on_progress(
            {
                "event": "batch",
                "epoch": epoch,
                "epochs": 2,
                "step": step,
                "steps": 20,
                "loss": loss,
                "accuracy": accuracy,
                "images": images,
                "images_per_second": 1.0,
            }
        )
    # step 20 of epoch 1: (1.5 * 200 - 2.0 * 100) / 100 = 1.0 and (0.5 * 200 - 0.3 * 100) / 100 = 0.7;
    # epoch 2 starts afresh: 0.9 and 0.75 over its first 100; then (0.8 * 200 - 0.9 * 100) / 100 = 0.7, 0.85
    assert [(x, round(loss, 6), round(accuracy, 6)) for x, loss, accuracy in job.curve] == [
        (0.5, 2.0, 0.3),
        (1.0, 1.0, 0.7),
        (1.5, 0.9, 0.75),
        (2.0, 0.7, 0.85),
    ]
    # A stop after 150 images of epoch 3: its last 50 images, from the epoch's entry, end the curve.
    job._on_progress(
        {
            "event": "batch",
            "epoch": 3,
            "epochs": 3,
            "step": 10,
            "steps": 20,
            "loss": 0.6,
            "accuracy": 0.9,
            "images": 100,
            "images_per_second": 1.0,
        }
    )
    job._on_progress(
        {
            "event": "epoch",
            "epoch": 3,
            "epochs": 3,
            "train_loss": 0.5,
            "train_accuracy": 0.92,
            "images": 150,
            "epoch_fraction": 0.75,
            "test_loss": 0.4,
            "test_accuracy": 0.95,
        }
    )
    x, loss, accuracy = job.curve[-1]  # (0.5 * 150 - 0.6 * 100) / 50 = 0.3; (0.92 * 150 - 0.9 * 100) / 50 = 0.96
    assert (x, round(loss, 6), round(accuracy, 6)) == (2.75, 0.3, 0.96)
