"""Faults a classroom meets: interrupted writes, a killed trainer, deleted data (issue 8)."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core import models
from core.data import mnist
from core.models import checkpoints
from tests.harness import ROOT


@pytest.fixture
def folder_with_old(tmp_path):
    """A checkpoint folder holding one valid (untrained) lenet5 checkpoint named ``old``."""
    torch.manual_seed(0)
    checkpoints.save(
        models.build("mlp_128"), "old", preset="mlp_128", record={"history": [], "test_accuracy": None}, folder=tmp_path
    )
    return tmp_path


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_failed_checkpoint_write_leaves_nothing_half_written(folder_with_old, monkeypatch):
    before = (folder_with_old / "old.pt").read_bytes()
    names_before = _files(folder_with_old)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        checkpoints.save(models.build("mlp_128"), "old", preset="mlp_128", record={}, folder=folder_with_old)
    # No temporary file is left behind and the old checkpoint is byte-for-byte intact.
    assert _files(folder_with_old) == names_before
    assert (folder_with_old / "old.pt").read_bytes() == before
    monkeypatch.undo()
    checkpoints.load("old", folder=folder_with_old)


def test_unwritable_folder_is_a_clear_cli_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the checkpoint folder should be")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "mlp_128",
            "--limit",
            "1000",
            "--epochs",
            "1",
            "--folder",
            str(blocker),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2, out.stderr
    assert "could not write checkpoint 'mlp_128'" in out.stderr and "Traceback" not in out.stderr
    assert blocker.read_text().startswith("a file")


def test_trainer_killed_mid_run_leaves_the_previous_checkpoint(folder_with_old):
    before = (folder_with_old / "old.pt").read_bytes()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "mlp_128",
            "--name",
            "old",
            "--folder",
            str(folder_with_old),
            "--epochs",
            "50",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    seen = ""
    while time.monotonic() < deadline and "epoch 1/50" not in seen:  # it is training now
        seen += proc.stderr.read(64)
    assert "epoch 1/50" in seen
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert (folder_with_old / "old.pt").read_bytes() == before
    assert not [p for p in folder_with_old.iterdir() if p.name.endswith(".tmp")]
    checkpoints.load("old", folder=folder_with_old)


@pytest.mark.fullset  # the four files derived again from the whole 70,000-image pickle
def test_deleted_data_is_rederived(tmp_path):
    root = tmp_path / "data"  # as if data/ had been deleted while the app was down
    out = subprocess.run(
        [sys.executable, "-m", "core", "data", "--json", "--root", str(root)], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert all(mnist.verify(root).values())


def test_a_corrupted_checkpoint_breaks_only_its_own_model(tmp_path, monkeypatch):
    """One byte flipped in lenet5.pt: /draw says so for lenet5; mlp_128 still predicts."""
    import shutil

    import numpy as np
    from streamlit.testing.v1 import AppTest

    shipped = ROOT / "checkpoints"
    if not (shipped / "lenet5.pt").is_file() or not (shipped / "mlp_128.pt").is_file():
        pytest.skip("needs the shipped lenet5 and mlp_128 checkpoints (make checkpoints)")
    for name in ("lenet5", "mlp_128"):
        for suffix in (".pt", ".json"):
            shutil.copy2(shipped / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    raw = bytearray((tmp_path / "lenet5.pt").read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / "lenet5.pt").write_bytes(bytes(raw))
    monkeypatch.setattr(checkpoints, "DEFAULT_DIR", tmp_path)
    # Pages of earlier tests loaded the good lenet5 into the server's cache (keyed by its record's
    # hash, which the flipped byte leaves as it was): start from an empty cache, as a restart does.
    from dashboard.frame import shared_models

    shared_models._load_cached.clear()

    seven = np.kron(mnist.load_test().images[0].numpy(), np.ones((10, 10), dtype=np.uint8))
    at = AppTest.from_file(str(ROOT / "pages" / "draw.py"), default_timeout=120)
    at.session_state["draw_image_override"] = seven
    at.run()
    assert not at.exception, at.exception
    assert any("corrupted" in e.value and "python -m core train" in e.value for e in at.error)
    at.selectbox(key="draw_model").select("mlp_128").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "7"  # MNIST test digit #0 is a 7


@pytest.mark.browser
def test_app_started_without_data_rederives_it_and_serves(tmp_path, browser_page):
    """data/ deleted while the app was down: the next start derives MNIST again, pages work."""
    from tests.harness import open_page, start_streamlit

    root = tmp_path / "data"
    server = start_streamlit(env={"CNN_EXPLAINER_DATA": str(root)})
    try:
        open_page(browser_page, server.url + "/dataset", timeout_ms=180_000)
        assert browser_page.locator("[data-testid='stException']").count() == 0
        assert browser_page.get_by_text("60,000").count() > 0
    finally:
        server.stop()
    assert all(mnist.verify(root).values())


def test_cli_predict_reads_image_files(tmp_path):
    import json

    from PIL import Image

    test = mnist.load_test()
    files = []
    for i in range(3):  # MNIST test digits 7, 2, 1, written as dark ink on white like a scan
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(255 - test.images[i].numpy()).resize((140, 140)).save(path)
        files.append(str(path))
    (tmp_path / "notes.png").write_text("not a picture")
    out = subprocess.run(
        [sys.executable, "-m", "core", "predict", "lenet5", *files, str(tmp_path / "notes.png"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2 and "notes.png" in out.stderr and "Traceback" not in out.stderr
    results = json.loads(out.stdout)
    assert [r["prediction"] for r in results] == test.labels[:3].tolist()
    assert all(abs(sum(r["probabilities"]) - 1) < 1e-4 for r in results)


@pytest.mark.browser
def test_server_killed_mid_training_restarts_with_checkpoints_intact(tmp_path, browser_page):
    """A run started on /training, the server killed with SIGKILL, then started again."""
    import shutil

    from benchmarks.load_students import in_fresh_loop, start_training
    from tests.harness import CHROMIUM_FLAGS, chromium_path, open_page, start_streamlit

    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    if not (ROOT / "checkpoints" / "mlp_128.pt").is_file():
        pytest.skip("needs the shipped mlp_128 checkpoint")
    for suffix in (".pt", ".json"):
        shutil.copy2(ROOT / "checkpoints" / f"mlp_128{suffix}", tmp_path / f"mlp_128{suffix}")
    before = (tmp_path / "mlp_128.pt").read_bytes()
    env = {"CNN_EXPLAINER_CHECKPOINTS": str(tmp_path)}

    async def start_a_long_run(url):
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
            said = await start_training(browser, url, images=60_000, epochs=20, name="interrupted")
            await browser.close()
            return said

    server = start_streamlit(env=env)
    try:
        assert in_fresh_loop(start_a_long_run(server.url)) == "started"
        time.sleep(3)  # training, mid-epoch
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(30)
    assert (tmp_path / "mlp_128.pt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp_128.json", "mlp_128.pt"]  # nothing half-written

    server = start_streamlit(env=env)
    try:
        open_page(browser_page, server.url + "/models")  # the page that lists every checkpoint
        assert browser_page.locator("[data-testid='stException']").count() == 0
        assert browser_page.get_by_text("mlp_128").count() > 0
    finally:
        server.stop()
    checkpoints.load("mlp_128", folder=tmp_path)
