"""A "class" of digits written by a script, in a hand unlike MNIST's: thick strokes, a strong
slant, off-centre in the 28x28 frame, sizes that vary. Drawn with PIL from stroke skeletons (never
from MNIST images), so a test can measure what a distribution shift does to a network trained
on MNIST, and what fine-tuning on such digits gives back.

The skeletons are polylines in a unit box (x to the right, y down); each digit is drawn at 4x
size (112 px) with a random stroke width, slant, size and offset, then area-averaged to 28x28,
white on black, as the class store keeps digits.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> list:
    """Points on an ellipse from ``start`` to ``end`` degrees (0 = right, 90 = down)."""
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start, end, n)
    ]


# Each digit: a list of strokes, each stroke a list of (x, y) in [0, 1].
SKELETONS: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.32, 0.46, 0, 360, 40)],
    1: [[(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)], [(0.3, 1.0), (0.8, 1.0)]],
    2: [_arc(0.5, 0.28, 0.3, 0.26, 190, 380) + [(0.15, 1.0), (0.9, 1.0)]],
    3: [_arc(0.48, 0.26, 0.3, 0.24, 200, 450), _arc(0.48, 0.74, 0.34, 0.26, 270, 520)],
    4: [[(0.65, 1.0), (0.65, 0.0), (0.08, 0.68), (0.92, 0.68)]],
    5: [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45)], _arc(0.48, 0.68, 0.34, 0.3, 220, 500)],
    6: [[(0.75, 0.02), (0.35, 0.35), (0.2, 0.7)], _arc(0.5, 0.72, 0.3, 0.27, 180, 540)],
    7: [[(0.1, 0.0), (0.9, 0.0), (0.35, 1.0)], [(0.3, 0.5), (0.75, 0.5)]],
    8: [_arc(0.5, 0.25, 0.25, 0.24, 0, 360, 32), _arc(0.5, 0.73, 0.32, 0.26, 0, 360, 32)],
    9: [_arc(0.48, 0.3, 0.3, 0.28, 0, 360, 32), [(0.78, 0.3), (0.7, 1.0)]],
}

BIG = 112  # drawn at 4x, then averaged down to 28


def render_digit(label: int, rng: np.random.Generator) -> np.ndarray:
    """One digit in the script's hand: uint8 28x28, white on black."""
    height = rng.uniform(0.55, 0.78) * BIG  # MNIST's digits are 20 px of 28: about 0.71
    width = height * rng.uniform(0.55, 0.75)
    slant = rng.uniform(0.35, 0.6)  # x shifts by slant * (distance above the base)
    stroke = int(rng.integers(13, 19))  # 3.2-4.5 px at 28 px; MNIST's are about 2-3 px
    left = BIG / 2 - width / 2 + rng.uniform(-16, 16)  # off-centre by up to 4 px at 28 px
    top = BIG / 2 - height / 2 + rng.uniform(-12, 12)
    picture = Image.new("L", (BIG, BIG), 0)
    pen = ImageDraw.Draw(picture)
    for line in SKELETONS[label]:
        points = [(left + x * width + slant * (1 - y) * height * 0.5, top + y * height) for x, y in line]
        pen.line(points, fill=255, width=stroke, joint="curve")
        for x, y in (points[0], points[-1]):  # round ends, as a felt pen leaves them
            pen.ellipse([x - stroke / 2, y - stroke / 2, x + stroke / 2, y + stroke / 2], fill=255)
    return np.asarray(picture.resize((28, 28), Image.Resampling.BOX), dtype=np.uint8)


def scripted_class(per_label: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_label`` digits of each label, shuffled: (images uint8 N x 28 x 28, labels N)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_label)
    rng.shuffle(labels)
    return np.stack([render_digit(int(label), rng) for label in labels]), labels


def probabilities_for(answer: int, sure: float = 0.9) -> list[float]:
    """Ten probabilities with ``sure`` on ``answer``, the rest shared out."""
    rest = (1 - sure) / 9
    return [sure if d == answer else rest for d in range(10)]


def fill_store(
    store,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    model: str = "lenet5",
    predictions: np.ndarray | None = None,
    session_id: int | None = None,
    start: float = 1000.0,
) -> list:
    """Put the digits in a class store as sent by 25 students, one digit a second from ``start``;
    the stored answer is ``predictions`` (default: the label, so nothing here depends on a network)."""
    entries = []
    for i, (image, label) in enumerate(zip(images, labels)):
        answer = int(label if predictions is None else predictions[i])
        entries.append(
            store.add(
                student_key=f"student-{i % 25}",
                label=int(label),
                model=model,
                prediction=answer,
                probabilities=probabilities_for(answer),
                image=image,
                session_id=session_id,
                now=start + i,
            )
        )
    return entries
