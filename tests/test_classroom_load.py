"""A small classroom on one server: two students drawing while a training job runs (issue 8).

The full-size run (10 and 30 students) is ``benchmarks/classroom_load.py``; figures in
PERFORMANCE.md. Here only correctness under concurrency is asserted, never a time.
"""

import pytest

from benchmarks.classroom_load import in_fresh_loop, run
from conftest import chromium_path


@pytest.mark.browser
def test_two_students_and_a_training_job_get_predictions_without_errors():
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    result = in_fresh_loop(run(students=2, seconds=20, train_images=3000, train_epochs=1))
    assert result["training"] == "started"
    assert result["errors"] == 0, result["error_messages"]
    assert result["predictions"] >= 2  # each student got at least one prediction back
    assert result["server_peak_rss_mb"] > 0
