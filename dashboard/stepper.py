"""The step player of the convolution page: play / pause / step / speed over the steps of one
computation, and predict-then-reveal for the next step.

It runs in an ``st.fragment`` that reruns on its own (``run_every``) while playing, so only the
frame redraws, not the page; the step index lives in session state (``anim_<key>``).
"""

import time

import numpy as np
import streamlit as st

from core import gridmath

SPEEDS = [1, 2, 4, 6, 8]  # steps per second


def animation_state(key: str, sig: str) -> dict:
    state = st.session_state.setdefault(f"anim_{key}", {"sig": None})
    if state["sig"] != sig:  # new numbers or settings: start again from step 0
        state.update(sig=sig, pos=0, playing=False, verdict=None)
    return state


def animate(key: str, sig: str, values: list[float], targets: list[str], draw, predict_what: str,
            decimals: int = 2) -> None:
    """Play / pause / step / speed over ``len(values)`` steps; ``draw(pos, playing)`` draws one frame.

    ``pos`` is how many steps are done (0..n). ``values[i]`` is what step i+1 writes into
    ``targets[i]``, which the student may predict before it is revealed; a guess is right when
    it equals the value rounded to ``decimals`` places.
    """
    state = animation_state(key, sig)
    n = len(values)
    speed_key = f"{key}_speed"
    speed = st.session_state.setdefault(speed_key, 4)
    interval = 1.0 / speed if state["playing"] else None

    def anchor():
        # While playing, the step shown follows the clock from here: a late or dropped tick
        # (a busy server) never slows the pace below the chosen speed.
        state.update(t0=time.monotonic(), p0=state["pos"])

    def play():
        state["playing"] = not state["playing"]
        if state["playing"] and state["pos"] >= n:
            state["pos"] = 0
        anchor()

    def move(delta: int):
        state.update(playing=False, pos=int(np.clip(state["pos"] + delta, 0, n)))

    def check_guess():
        guess = st.session_state.get(f"{key}_guess_{state['pos']}")
        if guess is None or state["pos"] >= n:
            return
        value = values[state["pos"]]
        state["verdict"] = (state["pos"] + 1, gridmath.is_right_guess(guess, value, decimals), guess, value)
        state["pos"] += 1

    @st.fragment(run_every=interval)
    def player():
        # run_every is fixed when the fragment is defined: a change of play state or speed
        # needs one full rerun to start or stop the ticking.
        if state["playing"] != (interval is not None) or (state["playing"] and st.session_state[speed_key] != speed):
            st.rerun()
        if state["playing"]:
            elapsed_steps = int((time.monotonic() - state["t0"]) * st.session_state[speed_key])
            state["pos"] = min(n, state["p0"] + 1 + elapsed_steps)
            if state["pos"] >= n:
                state["playing"] = False
                st.rerun()
        pos, playing = state["pos"], state["playing"]
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            st.button("Pause" if playing else "Play", key=f"{key}_play", on_click=play, type="primary",
                      icon=":material/pause:" if playing else ":material/play_arrow:")
            st.button("Step back", key=f"{key}_back", on_click=move, args=(-1,),
                      icon=":material/chevron_left:", disabled=pos == 0)
            st.button("Step forward", key=f"{key}_forward", on_click=move, args=(1,),
                      icon=":material/chevron_right:", disabled=pos >= n)
            st.button("Reset", key=f"{key}_reset", on_click=move, args=(-n,),
                      icon=":material/first_page:", disabled=pos == 0)
            st.button("Last step", key=f"{key}_end", on_click=move, args=(n,),
                      icon=":material/last_page:", disabled=pos >= n)
            st.select_slider("Speed (steps per second)", SPEEDS, key=speed_key, width=220, on_change=anchor)
            with st.container(key=f"{key}_progress", width="content"):
                st.markdown(f"#### Step {pos} of {n}")
        draw(pos, playing)
        if not playing and pos < n:
            ask, check, verdict = st.columns([2.6, 1.1, 2.6], vertical_alignment="bottom")
            ask.number_input(f"Predict, then reveal: what will step {pos + 1} write into {targets[pos]}{predict_what}?",
                             value=None, step=1.0, format="%g", placeholder="type a number",
                             key=f"{key}_guess_{pos}")
            check.button("Check and reveal", key=f"{key}_check", on_click=check_guess, icon=":material/visibility:",
                         disabled=st.session_state.get(f"{key}_guess_{pos}") is None)
        else:
            verdict = st.container()
        if state["verdict"] and state["verdict"][0] == pos:
            step_no, right, guess, value = state["verdict"]
            said, truth = gridmath.format_number(guess, decimals), gridmath.format_number(value, decimals)
            if right:
                verdict.success(f"Right: step {step_no} writes {truth}.", icon=":material/check_circle:")
            else:
                verdict.warning(f"Not quite: you said {said}, step {step_no} writes {truth}.",
                                icon=":material/error:")

    player()


def pause_all() -> None:
    """Leaving a mode pauses its animation (it would otherwise race to the end while hidden)."""
    for name, state in st.session_state.items():
        if str(name).startswith("anim_") and isinstance(state, dict):
            state["playing"] = False
