"""``python -m core models`` and ``python -m core summary``. The JSON outputs run as a user
would (a subprocess); the human tables and errors run in-process, since each interpreter start
pays for importing torch."""

from __future__ import annotations

import json
import subprocess
import sys

from core import models
from core.__main__ import main
from core.architecture import layers
from tests.harness import ROOT


def _core(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_summary_json_round_trips_and_matches_the_api():
    result = _core("summary", "lenet5_1998", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == layers.summary_dict("lenet5_1998")


def test_models_json_lists_every_preset_with_counts():
    result = _core("models", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [row["name"] for row in listed] == models.names()
    by_name = {row["name"]: row for row in listed}
    assert by_name["lenet5_1998"]["trainable_params"] == 60_000  # paper
    assert by_name["lenet5_1998"]["fixed"] == 840  # paper: the RBF centres
    assert by_name["mlp_128"]["trainable_params"] == 101_770  # (784 + 1) x 128 + (128 + 1) x 10


def test_summary_table_has_the_papers_figures(capsys):
    assert main(["summary", "lenet5_1998"]) == 0
    out = capsys.readouterr().out
    for figure in ("122,304", "5,880", "1,516", "151,600", "48,120", "10,164", "840", "60,000", "2,416"):
        assert figure in out  # paper, section II-B; 2,416: the dense C3 (hand computation)
    assert "c1_act" not in out  # activations only with --all
    assert main(["summary", "lenet5_1998", "--all"]) == 0
    assert "c1_act" in capsys.readouterr().out


def test_models_table(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in models.names()) and "60,000" in out


def test_unknown_model_is_one_clear_line(capsys):
    assert main(["summary", "lenet7"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert all(name in err for name in models.names())
