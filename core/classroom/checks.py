"""What a class digit may hold: checked before anything is stored (BadEntry says what is wrong).

``core.classroom.store`` calls these for every digit it stores; the Send panel and the pages show
the same limits (``NICKNAME_MAX``).
"""

from __future__ import annotations

import math
import unicodedata

import numpy as np

from core.classroom.db import BadEntry
from core.i18n import N_, _

NICKNAME_MAX = 20
SIDE = 28


def plain_text(text: object) -> str:
    """``text`` as the class store keeps what a person typed: control characters dropped, spaces
    trimmed; markup kept as it is (pages show it as plain text)."""
    return "".join(ch for ch in str(text or "") if not unicodedata.category(ch).startswith("C")).strip()


def clean_nickname(text: str | None) -> str:
    """A nickname as stored: control characters dropped, spaces trimmed, at most 20 characters.

    Markup is kept as plain text (pages escape what they show); too long raises BadEntry.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise BadEntry(_("a nickname must be text"))
    cleaned = plain_text(text)
    if len(cleaned) > NICKNAME_MAX:
        raise BadEntry(
            _("a nickname has at most {most} characters (this one has {length:,})").format(
                most=NICKNAME_MAX, length=len(cleaned)
            )
        )
    return cleaned


_NOT_A_DIGIT = {
    "label": N_("the label must be a digit from 0 to 9, got {value!r}"),
    "prediction": N_("the prediction must be a digit from 0 to 9, got {value!r}"),
}


def check_label(label: object, what: str = "label") -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise BadEntry(_(_NOT_A_DIGIT[what]).format(value=label))
    return int(label)


def _check_image(image: object) -> bytes:
    array = np.asarray(image)
    if array.shape != (SIDE, SIDE):
        raise BadEntry(_("a class digit is a 28 x 28 picture, got shape {shape}").format(shape=array.shape))
    if array.dtype != np.uint8:
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 255:
            raise BadEntry(_("a class digit's pixels are whole numbers from 0 to 255"))
        array = np.rint(array).astype(np.uint8)
    if not array.any():
        raise BadEntry(_("the picture is empty: draw a digit first"))
    return array.tobytes()


def _check_probabilities(probabilities: object) -> bytes:
    values = np.asarray(probabilities, dtype=np.float64).ravel()
    if (
        values.shape != (10,)
        or not np.all(np.isfinite(values))
        or values.min() < 0
        or not math.isclose(float(values.sum()), 1.0, abs_tol=1e-3)
    ):
        raise BadEntry(_("probabilities must be ten finite values adding up to 1"))
    return values.astype(np.float32).tobytes()


def checked_digit(*, label, model, prediction, probabilities, image) -> tuple:
    """(label, model, prediction, probabilities bytes, pixels bytes), checked; BadEntry if not."""
    label = check_label(label)
    prediction = check_label(prediction, "prediction")
    pixels = _check_image(image)
    probs = _check_probabilities(probabilities)
    if not isinstance(model, str) or not model:
        raise BadEntry(_("a digit needs the name of the model that read it"))
    return label, model[:64], prediction, probs, pixels


def checked_sender(student_key: object, nickname: str | None) -> str:
    """The cleaned nickname; BadEntry when the sender's key is missing."""
    nickname = clean_nickname(nickname)
    if not isinstance(student_key, str) or not student_key:
        raise BadEntry(_("a digit needs the sender's session key"))
    return nickname
