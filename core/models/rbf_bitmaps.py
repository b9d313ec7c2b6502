"""The fixed centres of LeNet-5's output layer: one 7x12 bitmap per digit.

LeCun et al. 1998, section II-B and Fig. 3: the centres of the ten Euclidean RBF units were
"chosen by hand", drawn as stylised 7x12 images of the characters, each pixel +1 or -1, so that
F6's 84 units learn to draw a prototype of the class. The paper's own bitmaps exist only as a
figure; these are drawn in its spirit: 12 rows x 7 columns, strokes two pixels wide where the
digit is legible that way, '#' = +1 (ink) and '.' = -1.
"""

from __future__ import annotations

import torch

ROWS, COLS = 12, 7

# fmt: off
DIGIT_BITMAPS: dict[int, str] = {
    0: """
.......
..###..
.##.##.
##...##
##...##
##...##
##...##
##...##
##...##
.##.##.
..###..
.......
""",
    1: """
.......
...##..
..###..
.####..
...##..
...##..
...##..
...##..
...##..
...##..
.######
.......
""",
    2: """
.......
..####.
.##..##
.....##
.....##
....##.
...##..
..##...
.##....
##.....
#######
.......
""",
    3: """
.......
.#####.
##...##
.....##
.....##
..####.
.....##
.....##
.....##
##...##
.#####.
.......
""",
    4: """
.......
....##.
...###.
..####.
.##.##.
##..##.
#######
....##.
....##.
....##.
....##.
.......
""",
    5: """
.......
#######
##.....
##.....
######.
.....##
.....##
.....##
.....##
##...##
.#####.
.......
""",
    6: """
.......
..####.
.##....
##.....
##.....
######.
##...##
##...##
##...##
##...##
.#####.
.......
""",
    7: """
.......
#######
.....##
....##.
....##.
...##..
...##..
..##...
..##...
..##...
..##...
.......
""",
    8: """
.......
.#####.
##...##
##...##
##...##
.#####.
##...##
##...##
##...##
##...##
.#####.
.......
""",
    9: """
.......
.#####.
##...##
##...##
##...##
##...##
.######
.....##
.....##
....##.
.####..
.......
""",
}
# fmt: on


def _parse(drawing: str) -> torch.Tensor:
    rows = drawing.strip().splitlines()
    if len(rows) != ROWS or any(len(row) != COLS or set(row) - {"#", "."} for row in rows):
        raise ValueError(f"a bitmap must be {ROWS} rows of {COLS} characters '#' or '.'")
    return torch.tensor([[1.0 if ch == "#" else -1.0 for ch in row] for row in rows])


def rbf_bitmaps() -> torch.Tensor:
    """The ten centres as a float tensor ``(10, 12, 7)`` of +1 (ink) / -1 (background)."""
    return torch.stack([_parse(DIGIT_BITMAPS[digit]) for digit in range(10)])
