"""Where the step player stands: play / pause / step / guess over the ``n`` steps of one
computation, as plain state that a test drives without Streamlit (``dashboard.stepping.stepper`` draws it
and calls these on its buttons).

``pos`` is how many steps are done (0..n). While playing, the step shown follows the clock from
the moment playing began or the speed changed (``anchor``): a late or dropped tick (a busy
server) never slows the pace below the chosen speed. The clock is passed in (``now``, in
seconds), so that a test can set it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.grids import arithmetic
from core.i18n import _


@dataclass(frozen=True)
class Verdict:
    """A student's guess for step ``step`` (1..n) and the value that step writes."""

    step: int
    right: bool
    guess: float
    value: float

    def sentence(self, decimals: int = 2) -> str:
        truth = arithmetic.format_number(self.value, decimals)
        if self.right:
            return _("Right: step {step} writes {value}.").format(step=self.step, value=truth)
        return _("Not quite: you said {guess}, step {step} writes {value}.").format(
            guess=arithmetic.format_number(self.guess, decimals), step=self.step, value=truth
        )


@dataclass
class Playback:
    """The state of one player: ``sig`` names the computation (its numbers and settings)."""

    sig: str | None = None
    n: int = 0
    pos: int = 0
    playing: bool = False
    verdict: Verdict | None = None
    t0: float = 0.0  # while playing: when the clock was last anchored...
    p0: int = 0  # ...and the step shown then

    def follow(self, sig: str, n: int) -> None:
        """New numbers or settings (another ``sig``): start again from step 0, paused."""
        if self.sig != sig:
            self.sig, self.n, self.pos, self.playing, self.verdict = sig, n, 0, False, None

    def anchor(self, now: float) -> None:
        self.t0, self.p0 = now, self.pos

    def toggle(self, now: float) -> None:
        """Play or pause; playing from the last step starts again from the first."""
        self.playing = not self.playing
        if self.playing and self.pos >= self.n:
            self.pos = 0
        self.anchor(now)

    def move(self, delta: int) -> None:
        """``delta`` steps forward (or back), never past either end; it pauses."""
        self.playing = False
        self.pos = min(max(self.pos + delta, 0), self.n)

    def pause(self) -> None:
        self.playing = False

    def tick(self, now: float, speed: float) -> bool:
        """While playing: the step the clock has reached at ``speed`` steps a second, one ahead
        of the anchored step at once. True when this tick reached the last step (and paused)."""
        if not self.playing:
            return False
        self.pos = min(self.n, self.p0 + 1 + int((now - self.t0) * speed))
        if self.pos >= self.n:
            self.playing = False
            return True
        return False

    def reveal(self, guess: float | None, values: Sequence[float], decimals: int = 2) -> None:
        """Check ``guess`` for the next step against ``values[pos]`` (right when it equals the
        value rounded to ``decimals`` places), keep the verdict and take that step."""
        if guess is None or self.pos >= self.n:
            return
        value = values[self.pos]
        self.verdict = Verdict(self.pos + 1, arithmetic.is_right_guess(guess, value, decimals), guess, value)
        self.pos += 1

    @property
    def at_start(self) -> bool:
        return self.pos == 0

    @property
    def at_end(self) -> bool:
        return self.pos >= self.n

    def verdict_shown(self) -> Verdict | None:
        """The verdict of the guess for the step shown, if that step was guessed."""
        return self.verdict if self.verdict and self.verdict.step == self.pos else None
