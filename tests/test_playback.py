"""The step player's state machine (dashboard.stepping.playback), driven without Streamlit: play, pause,
step, the clock while playing, and predict-then-reveal.

The computation is /convolution's default one-channel exercise (36 steps: an 8x8 input and a
3x3 kernel give a 6x6 output); its values are made up here, since only their rounding matters.
"""

import subprocess
import sys

import pytest

from dashboard.stepping.playback import Playback, Verdict
from tests.harness import ROOT

N = 36


def started(sig: str = "a", n: int = N) -> Playback:
    state = Playback()
    state.follow(sig, n)
    return state


def test_new_settings_start_again_and_the_same_ones_do_not():
    state = started()
    state.move(5)
    state.reveal(3.0, [0.0] * N)
    assert (state.pos, state.verdict.step) == (6, 6)
    state.follow("a", N)  # the same numbers and settings: a rerun changes nothing
    assert state.pos == 6 and state.verdict is not None
    state.toggle(now=0.0)
    state.follow("b", 9)  # new ones (three channels: a 3x3 output, 9 steps)
    assert (state.sig, state.n, state.pos, state.playing, state.verdict) == ("b", 9, 0, False, None)


def test_steps_stop_at_both_ends_and_pause():
    state = started()
    state.move(-1)
    assert state.pos == 0 and state.at_start and not state.at_end
    state.move(1)
    state.move(1)
    assert state.pos == 2
    state.toggle(now=0.0)
    state.move(N)  # "Last step": 2 + 36 is past the end, which is step 36
    assert state.pos == N and state.at_end and not state.playing
    state.move(1)
    assert state.pos == N
    state.move(-N)  # "Reset"
    assert state.pos == 0


def test_playing_follows_the_clock_and_stops_at_the_end():
    state = started()
    state.move(3)
    state.toggle(now=100.0)
    assert state.playing and (state.t0, state.p0) == (100.0, 3)
    # At 4 steps a second: one step ahead at once, then one more every 0.25 s.
    assert state.tick(100.0, 4) is False and state.pos == 4
    assert state.tick(100.6, 4) is False and state.pos == 3 + 1 + 2  # int(0.6 x 4) = 2
    # A tick that comes late (a busy server) catches up with the clock: 3 + 1 + int(2.0 x 4) = 12.
    assert state.tick(102.0, 4) is False and state.pos == 12
    # A new speed re-anchors the clock at the step shown: 12 + 1 + int(0.5 x 8) = 17.
    state.anchor(102.0)
    assert state.tick(102.5, 8) is False and state.pos == 17
    # Past the last step: it stops on step 36 and says so (the page reruns to stop the ticks).
    assert state.tick(200.0, 8) is True and (state.pos, state.playing) == (N, False)
    assert state.tick(201.0, 8) is False and state.pos == N  # paused: the clock moves nothing


def test_play_at_the_end_starts_from_the_beginning_and_toggles_back():
    state = started()
    state.move(N)
    state.toggle(now=5.0)
    assert state.playing and state.pos == 0 and state.p0 == 0
    state.toggle(now=6.0)
    assert not state.playing
    state.toggle(now=7.0)
    state.pause()
    assert not state.playing


def test_a_guess_is_checked_to_the_places_shown_then_the_step_is_taken():
    values = [1.004, 2.5] + [0.0] * (N - 2)
    state = started()
    state.reveal(None, values)  # no number typed: nothing happens
    assert state.pos == 0 and state.verdict is None
    state.reveal(1.0, values)  # 1.004 is shown as 1 with 2 decimals
    assert state.verdict == Verdict(1, True, 1.0, 1.004) and state.pos == 1
    assert state.verdict.sentence(2) == "Right: step 1 writes 1."
    state.reveal(4.0, values)
    assert state.verdict == Verdict(2, False, 4.0, 2.5) and state.pos == 2
    assert state.verdict.sentence(2) == "Not quite: you said 4, step 2 writes 2.5."


def test_the_verdict_shows_on_its_own_step_only():
    state = started()
    state.move(4)
    state.reveal(0.0, [0.0] * N)
    assert state.verdict_shown() == Verdict(5, True, 0.0, 0.0)
    state.move(1)
    assert state.verdict_shown() is None
    state.move(-1)
    assert state.verdict_shown() is not None


def test_no_guess_past_the_last_step():
    state = started(n=2)
    state.move(2)
    state.reveal(1.0, [1.0, 1.0])
    assert state.pos == 2 and state.verdict is None


@pytest.mark.parametrize(
    "right,expected", [(True, "Right: step 3 writes -0.5."), (False, "Not quite: you said 0.25, step 3 writes -0.5.")]
)
def test_the_verdict_writes_numbers_as_the_page_does(right, expected):
    # core.grids.arithmetic.format_number: no trailing zeros, 2 decimals.
    assert Verdict(3, right, 0.250, -0.500).sentence(2) == expected


def test_the_state_machine_needs_no_streamlit():
    code = "import sys, dashboard.stepping.playback; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
