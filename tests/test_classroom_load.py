"""A small classroom on one server (issue 8): students drawing on /draw while a training job runs.

The full-size run (10 and 30 students) is ``benchmarks/classroom_load.py``; figures in
PERFORMANCE.md. Here only correctness is asserted, never a time: the machine is shared.
"""

import pytest

from benchmarks.classroom_load import run
from benchmarks.load_figures import wall_delays
from benchmarks.load_students import DRAWN_DIGITS, digit_strokes, in_fresh_loop
from benchmarks.wire_student import WireSession
from tests.harness import chromium_path


def test_a_websocket_student_gets_the_digit_it_drew(streamlit_server):
    """The load rig's browserless student speaks the browser's protocol faithfully: the server
    decodes its canvas message into the digit drawn (a one, a zero, a seven, which the shipped
    lenet5 reads correctly), and Clear gives a new, empty canvas."""

    async def session():
        student = await WireSession.open(streamlit_server.url, "draw")
        try:
            runs, canvases = [], []
            for k in range(3):
                canvases.append(student._canvas_id())
                runs.append(await student.draw(digit_strokes(k)))
                cleared = await student.clear()
                assert cleared.prediction is None and not cleared.errors
            return runs, canvases, student
        finally:
            await student.close()

    runs, canvases, student = in_fresh_loop(session())
    assert [r.errors for r in runs] == [[], [], []]
    assert [r.prediction for r in runs] == [str(d) for d in DRAWN_DIGITS]
    assert all(r.seconds_to_prediction <= r.seconds for r in runs)
    assert len(set(canvases)) == 3  # each Clear made a canvas with a new key
    assert all(r.media for r in runs) and student.media_fetched > 0  # the preprocessing pictures


def test_wall_delays_by_hand():
    # Entries stored at t = 10.0, 10.5, 13.0; the wall's count was 1 at 11.2, 2 at 11.4, 3 at 14.1.
    assert wall_delays([10.0, 10.5, 13.0], [(11.2, 1), (11.4, 2), (14.1, 3)]) == pytest.approx([1.2, 0.9, 1.1])
    # A count that jumps by two shows two entries at once; an entry never shown has no delay.
    assert wall_delays([10.0, 10.5, 13.0], [(12.0, 2)]) == pytest.approx([2.0, 1.5])


@pytest.mark.browser
def test_a_small_class_draws_and_sends_beside_a_training_job_and_the_wall_shows_every_digit():
    """The benchmark's class mode, small: one Chromium student on the real canvas, two websocket
    students who send every digit they draw, the teacher's wall open in Chromium, a training run."""
    if chromium_path() is None:
        pytest.skip("chromium is not installed")
    result = in_fresh_loop(run(students=3, seconds=25, train_images=3000, train_epochs=1, browsers=1, class_mode=True))
    assert result["training"] == "started"
    assert result["errors"] == 0, result["error_messages"]
    assert result["browser_predictions"] >= 1  # the Chromium student, with the mouse on the canvas
    assert result["wire_predictions"] >= 2  # each websocket student at least once
    assert result["sent"] >= 2 and result["stored"] == result["sent"]  # each websocket student sent
    assert result["on_wall"] == result["stored"]  # each one reached the teacher's wall
    assert result["wall_p95_s"] is not None
    assert result["server_peak_rss_mb"] > 0
