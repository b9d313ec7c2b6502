"""One digit sent to the class, as the store hands it out, and the rule of what counts.

What an entry holds (what the Send panel says it sends): the 28x28 preprocessed digit (uint8),
the label the student meant, the model used, its prediction and ten probabilities, the time, a
nickname or nothing. Never the raw canvas, never an IP address: students are told apart by a
random key per browser, numbered per class session ("Student 12", said in the reader's language).

What counts: :data:`COUNTED`, the one rule every count of the class uses. Rows are read here
(:data:`ENTRY_SELECT`, :func:`entry_from_row`) so that every query hands out the same entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.classroom.checks import SIDE
from core.i18n import N_, _

PAPER_NICKNAME = "from paper"  # the sender of digits from paper (core.classroom.paper), shown translated
# What counts, the one rule of every count of the class (the wall's, the sessions', ``class summary``,
# our class vs MNIST, the fine-tune): as SQL on ``entries``, and in words for a page that shows one.
COUNTED = "hidden = 0 AND unfair = 0"
COUNTED_RULE = N_(
    "Counted: each digit on the wall once (a drawing sent again counts once), less the ones the "
    "teacher hid or marked not fair."
)


@dataclass(frozen=True, eq=False)  # an array inside: == would be ambiguous
class Entry:
    """One digit sent to the class."""

    id: int
    session_id: int
    nickname: str  # as typed ("" when none was given)
    number: int | None  # the sender's number in the session ("Student 12")
    label: int  # what the student meant
    model: str
    prediction: int  # the network's answer when it was sent
    probabilities: tuple[float, ...]
    image: np.ndarray  # uint8 28 x 28
    sent_at: float
    hidden: bool = False
    unfair: bool = False
    relabelled_from: int | None = None  # set by ``ClassStore.add`` when it changed this drawing's label

    @property
    def student(self) -> str:
        """Who sent it, as shown (plain text: a page shows it without markup): the nickname, else
        "Student 12" in the reader's language."""
        if self.nickname == PAPER_NICKNAME:
            return _("from paper")
        return self.nickname or _("Student {number}").format(number=self.number)

    @property
    def counted(self) -> bool:
        """Whether it counts (:data:`COUNTED`)."""
        return not self.hidden and not self.unfair

    @property
    def right(self) -> bool:
        return self.prediction == self.label

    @property
    def confidence(self) -> float:
        """The probability of the network's answer."""
        return self.probabilities[self.prediction]


# An entry with its sender's number in the session: a row for :func:`entry_from_row`.
ENTRY_SELECT = (
    "SELECT e.id, e.session_id, e.nickname, s.number, e.label, e.model, e.prediction, e.probabilities, "
    "e.image, e.sent_at, e.hidden, e.unfair FROM entries e LEFT JOIN students s "
    "ON s.session_id = e.session_id AND s.key = e.student_key "
)


def entry_from_row(row: tuple) -> Entry:
    """An :class:`Entry` from a row of :data:`ENTRY_SELECT` (probabilities float32 and pixels uint8
    as stored)."""
    (entry_id, session_id, nickname, number, label, model, prediction, probs, image, sent_at, hidden, unfair) = row
    return Entry(
        entry_id,
        session_id,
        nickname,
        number,
        label,
        model,
        prediction,
        tuple(float(p) for p in np.frombuffer(probs, dtype=np.float32)),
        np.frombuffer(image, dtype=np.uint8).reshape(SIDE, SIDE).copy(),
        sent_at,
        bool(hidden),
        bool(unfair),
    )
