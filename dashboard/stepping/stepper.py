"""The step player of the convolution page: play / pause / step / speed over the steps of one
computation, the arithmetic of the step shown, and predict-then-reveal for the next step.

It runs in an ``st.fragment`` that reruns on its own (``run_every``) while playing, so only the
frame redraws, not the page. Where the player stands (the step shown, playing or not, the last
guess) is a ``dashboard.stepping.playback.Playback`` in session state (``anim_<key>``); this module draws
it and calls its methods from the buttons.

Laid out to fit one screen of a 1280x720 projector in presenter mode (20 px type, the sidebar
open: a column 880 px wide, 720 px high under Streamlit's see-through header): one line of
buttons, the page's grids (sized by the browser to the room there is), the equation with the
verdict of the last guess beside it (not under it), and one line for the next guess and the
speed. Every control is as wide as its text, so none is cut.

By keyboard: Tab goes through the buttons, the guess and Check and reveal in that order; a
control that a step disables or replaces hands the focus on (``focus_next``), and each step's
result is said to a screen reader (``accessibility.announce``) when the player is paused.
"""

import itertools
import time
import unicodedata
from dataclasses import dataclass

import streamlit as st

from core.grids import arithmetic
from core.i18n import _
from dashboard.frame import accessibility, guard
from dashboard.stepping.playback import Playback, Verdict

SPEEDS = [1, 2, 4, 6, 8]  # steps per second
VERDICT_PX = 300  # the verdict beside the equation (which keeps the rest of the width)

# --- grids that fit the screen ------------------------------------------------------------------
# The page's grids are sized by the browser, from the room it really has (the server cannot know
# it: a 1280x720 projector leaves 880 px at presenter mode's 20 px type, a laptop about 940, a
# phone 360): each row of grids is a CSS size container, and its cells take the side in the
# row's --cell (written by ``cell_style``), over the fixed, largest size the grid's HTML asks for.
GRID_CLASS = "fitted-grids"
NARROW_PX = 640  # a phone: its rows of grids wrap anyway, one grid may take the whole width
GRID_CSS = f"""<style>
.{GRID_CLASS} {{ container-type: inline-size; }}
.{GRID_CLASS} td {{ --side: var(--cell); width: var(--side) !important; min-width: var(--side) !important;
  height: var(--side) !important; font-size: clamp(12px, calc(var(--side) * 0.42), 24px); }}
@media (max-width: {NARROW_PX}px) {{ .{GRID_CLASS} td {{ --side: var(--cell-narrow); }} }}
</style>"""
SMALLEST_CELL_PX = 24  # 12 px numbers; below this a row of grids wraps onto a new line instead
# The player's own lines, in rem (they grow with presenter mode's larger type): the buttons 2.5,
# the next guess with its label 4.25, 1 between each and 0.5 above and below (Streamlit's header
# is see-through and lets clicks through: it needs no room); a grid title 1.9; an equation line
# 1.3 rem type x 1.5, and the verdict beside the equation up to 5 high (three lines).
BUTTONS_REM, QUIZ_REM, GAP_REM, MARGIN_REM, TITLE_REM = 2.5, 4.25, 1.0, 0.5, 1.9
EQUATION_LINE_REM, VERDICT_REM = 1.95, 5.0
# Monospace characters an equation line holds on that projector: 880 px less the verdict and a
# gap, at 15.6 px a character.
EQUATION_CHARS = 35
TITLE_CHAR_REM = 0.55  # a grid title (1.05 rem, semibold) is about 0.5 em a character
LARGEST_ROOT_PX = 20  # presenter mode's type: the widest a title gets


@dataclass(frozen=True)
class GridPart:
    """One piece of a row of grids: ``columns`` cells wide (2 px apart) plus ``extra_px``, or
    ``title_rem`` wide when its title is the wider."""

    columns: int
    title_rem: float = 0.0
    extra_px: int = 2  # a table's border spacing at its two edges


def text_columns(text: str) -> int:
    """How many half-width columns ``text`` takes: a Chinese character (wide) takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def title_rem(title: str) -> float:
    return text_columns(title) * TITLE_CHAR_REM


def equation_lines(lines: list[str]) -> int:
    """How many lines the equation ``lines`` take on the projector, long ones wrapped."""
    return sum(max(1, -(-text_columns(line) // EQUATION_CHARS)) for line in lines)


def player_rest_rem(titles: int, equation: int, extra_rem: float = 0.0) -> float:
    """The height (rem) of what the player shows besides its grids' rows of cells: the buttons,
    ``titles`` lines of grid titles, ``equation`` lines of equation (or the verdict beside it),
    the next guess, the gaps, and ``extra_rem`` more of the page's own."""
    return (
        BUTTONS_REM
        + titles * TITLE_REM
        + max(equation * EQUATION_LINE_REM, VERDICT_REM)
        + QUIZ_REM
        + 3 * GAP_REM
        + 2 * MARGIN_REM
        + extra_rem
    )


def cell_style(parts: list[GridPart], rows: int, *, gap_px: int, rest_rem: float, largest: int) -> str:
    """The side of a row's cells, as CSS worked out by the browser (``--cell``): the largest that
    lets ``parts`` (``gap_px`` apart) fit the width of their row and ``rows`` cells plus
    ``rest_rem`` fit the height of the window; never below ``SMALLEST_CELL_PX`` (the grids wrap
    instead) nor above ``largest``. On a phone (``--cell-narrow``) the grids wrap anyway: the
    widest may take the whole width, and the page scrolls.

    The row's width is the sum over the parts of the wider of cells and title, a convex function
    of the cell side: it fits when every choice of which titles decide their part's width fits,
    one bound each (only titles that can be the wider are considered).
    """
    spare = gap_px * (len(parts) - 1) + 8  # 8 px to spare: no wrap on a rounding
    maybe = [
        i
        for i, p in enumerate(parts)
        if p.title_rem * LARGEST_ROOT_PX > p.columns * (SMALLEST_CELL_PX + 2) + p.extra_px
    ]
    bounds = []
    for choice in itertools.product((False, True), repeat=len(maybe)):
        titled = {i for i, by_title in zip(maybe, choice) if by_title}
        columns = sum(p.columns for i, p in enumerate(parts) if i not in titled)
        if not columns:
            continue
        px = spare + sum(p.extra_px for i, p in enumerate(parts) if i not in titled)
        rem = sum(parts[i].title_rem for i in titled)
        bounds.append(f"(100cqw - {px}px - {rem:.2f}rem) / {columns} - 2px")
    bounds.append(f"(100vh - {rest_rem:.2f}rem) / {max(rows, 1)} - 2px")
    widest = max(parts, key=lambda p: (p.columns, p.extra_px))
    narrow = f"(100cqw - {widest.extra_px + 8}px) / {max(widest.columns, 1)} - 2px"
    return (
        f"--cell:clamp({SMALLEST_CELL_PX}px, min({', '.join(bounds)}), {largest}px);"
        f"--cell-narrow:clamp({SMALLEST_CELL_PX}px, {narrow}, {largest}px)"
    )


def fitted(html: str, style: str) -> str:
    """``html`` (a row of grids) in a size container whose cells are sized by ``style`` (``cell_style``)."""
    return f"<div class='{GRID_CLASS}' style='{style}'>{html}</div>"


# --- the player ---------------------------------------------------------------------------------


def playback(key: str, sig: str, n: int) -> Playback:
    """The player's state (``anim_<key>`` in session state), started again for a new ``sig``."""
    state = st.session_state.get(f"anim_{key}")
    if not isinstance(state, Playback):  # the first run (or one left by a reloaded module)
        state = st.session_state[f"anim_{key}"] = Playback()
    state.follow(sig, n)
    return state


def equation_block(lines: list[str], key: str, bold_last: bool = True) -> None:
    """The arithmetic of the current step, large enough for the back of a classroom."""
    body = "".join(f"<div>{line}</div>" for line in lines[:-1])
    body += f"<div><b>{lines[-1]}</b></div>" if bold_last else f"<div>{lines[-1]}</div>"
    with st.container(key=key):
        st.markdown(
            f"<div style='font-size:1.3rem;line-height:1.5;font-family:monospace'>{body}</div>", unsafe_allow_html=True
        )


def verdict_box(verdict: Verdict, decimals: int) -> None:
    if verdict.right:
        st.success(verdict.sentence(decimals), icon=":material/check_circle:", width=VERDICT_PX)
    else:
        st.warning(verdict.sentence(decimals), icon=":material/error:", width=VERDICT_PX)


# --- the keyboard: where the focus goes when the control it was on goes away ----------------------
# A button that a step disables (Step back at the first step, Reset, Last step...) and the guess's
# field, new at every step, would leave the focus nowhere: the keyboard's user would start again
# from the top of the page. The player puts it on the control that comes next instead.


def focus_next(key: str, selector: str) -> None:
    """After this rerun, put the focus on ``selector`` (a control of player ``key``)."""
    count = st.session_state.get(f"{key}_focus_count", 0) + 1
    st.session_state[f"{key}_focus_count"] = count
    st.session_state[f"{key}_focus"] = (selector, count)


def button_selector(key: str, name: str) -> str:
    return f".st-key-{key}_{name} button"


def moved(key: str, state: Playback, delta: int) -> None:
    """A step button: move, and keep the focus on a button that can still be pressed."""
    state.move(delta)
    if state.at_start and delta < 0:
        focus_next(key, button_selector(key, "forward"))
    elif state.at_end and delta > 0:
        focus_next(key, button_selector(key, "reset"))


def controls(key: str, state: Playback) -> None:
    """One line of buttons and the step shown: on a 1280x720 projector (presenter mode, 20 px
    type, the sidebar open: an 880 px column) the five buttons and the counter just fit."""
    playing, n = state.playing, state.n
    with st.container(horizontal=True, vertical_alignment="center", gap="xsmall", key=f"{key}_controls"):
        st.button(
            _("Pause") if playing else _("Play"),
            key=f"{key}_play",
            type="primary",
            on_click=lambda: state.toggle(time.monotonic()),
            icon=":material/pause:" if playing else ":material/play_arrow:",
        )
        for label, name, delta, icon, disabled in (
            (_("Step back"), "back", -1, "chevron_left", state.at_start),
            (_("Step forward"), "forward", 1, "chevron_right", state.at_end),
            (_("Reset"), "reset", -n, "first_page", state.at_start),
            (_("Last step"), "end", n, "last_page", state.at_end),
        ):
            st.button(
                label,
                key=f"{key}_{name}",
                on_click=moved,
                args=(key, state, delta),
                icon=f":material/{icon}:",
                disabled=disabled,
            )
        with st.container(key=f"{key}_progress", width="content"):
            st.markdown(
                "<span style='font-size:1.25rem;font-weight:700;white-space:nowrap'>"
                + _("Step {step} of {n}").format(step=state.pos, n=n)
                + "</span>",
                unsafe_allow_html=True,
            )


def animate(
    key: str,
    sig: str,
    values: list[float],
    targets: list[str],
    draw,
    decimals: int = 2,
    *,
    equation_key: str,
    bold_last: bool = True,
) -> None:
    """Play / pause / step / speed over ``len(values)`` steps; ``draw(pos, playing)`` draws one
    frame and returns the lines of its arithmetic, which are shown under it (as ``equation_key``).

    ``pos`` is how many steps are done (0..n). ``values[i]`` is what step i+1 writes into
    ``targets[i]``, which the student may predict before it is revealed; a guess is right when
    it equals the value rounded to ``decimals`` places (``Playback.reveal``).
    """
    state = playback(key, sig, len(values))
    speed_key = f"{key}_speed"
    speed = st.session_state.setdefault(speed_key, 4)
    interval = 1.0 / speed if state.playing else None

    def reveal():
        guess = st.session_state.get(f"{key}_guess_{state.pos}")
        if guess is None:  # nothing typed yet: say so where the verdict goes
            st.session_state[f"{key}_no_guess"] = state.pos
            return
        state.reveal(guess, values, decimals)
        # The next guess's field is new: the focus goes there (or, after the last step, to Play).
        focus_next(
            key, f".st-key-{key}_guess_{state.pos} input" if state.pos < state.n else button_selector(key, "play")
        )

    @st.fragment(run_every=interval)
    def player():
        # run_every is fixed when the fragment is defined: a change of play state or speed
        # needs one full rerun to start or stop the ticking.
        if state.playing != (interval is not None) or (state.playing and st.session_state[speed_key] != speed):
            st.rerun()
        if state.tick(time.monotonic(), st.session_state[speed_key]):
            st.rerun()
        pos, playing = state.pos, state.playing
        controls(key, state)
        with guard.guarded(_("This step")):  # the fragment reruns on its own, outside the page's guards
            lines = draw(pos, playing)
            verdict = state.verdict_shown()
            unguessed = st.session_state.pop(f"{key}_no_guess", None) == pos and not playing
            with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
                equation_block(lines, equation_key, bold_last)
                if verdict:
                    verdict_box(verdict, decimals)
                elif unguessed:
                    st.info(
                        _("Type your prediction for step {step} first, then check it.").format(step=pos + 1),
                        icon=":material/edit:",
                        width=VERDICT_PX,
                    )
            if not playing and pos:  # while playing, the steps go by too fast to be read out
                value = arithmetic.format_number(values[pos - 1], decimals)
                step_said = _("Step {step} of {n}: {target} = {value}.").format(
                    step=pos, n=state.n, target=targets[pos - 1], value=value
                )
                accessibility.announce(verdict.sentence(decimals) if verdict else step_said)
        # The next guess, then the speed, on one line; the number box takes what is left.
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small", key=f"{key}_quiz"):
            if not playing and pos < state.n:
                st.number_input(
                    _("Predict step {step}: what goes into {target}?").format(step=pos + 1, target=targets[pos]),
                    value=None,
                    step=1.0,
                    format="%g",
                    placeholder=_("type a number"),
                    key=f"{key}_guess_{pos}",
                    width="stretch",
                )
                # Never disabled: typed, then Tab, the focus must find it (the number is read on the way).
                st.button(
                    _("Check and reveal"),
                    key=f"{key}_check",
                    on_click=reveal,
                    icon=":material/visibility:",
                    width="content",
                )
            else:
                st.space("stretch")
            st.select_slider(
                _("Speed (steps per second)"),
                SPEEDS,
                key=speed_key,
                width=200,
                on_change=lambda: state.anchor(time.monotonic()),
            )
        focus = st.session_state.pop(f"{key}_focus", None)
        if focus:
            accessibility.move_focus(focus[0], f"{key}:{focus[1]}")

    player()


def pause_all() -> None:
    """Leaving a mode pauses its animation (it would otherwise race to the end while hidden)."""
    for name, state in st.session_state.items():
        if str(name).startswith("anim_") and isinstance(state, Playback):
            state.pause()
