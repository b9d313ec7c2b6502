"""core.explain.pictures.describe_map: a map's text alternative, worked out by hand on made-up maps.

The rule (core/explain/pictures.py): the map is cut into 3 x 3 regions by rows and columns (row r of an
H-row map is in band r*3//H); stretched to 0-1, a pixel is bright when it is at least halfway from
the map's median to 1; a region is bright when its share of bright pixels is at least the emptiest
region's share plus 60% of the span up to the fullest region's; when the emptiest region's share
is within 25% of the fullest's, the map is "about equally bright".
"""

import numpy as np
import pytest

from core.explain.pictures import bright_regions, describe_map


def test_a_bright_left_column_is_bright_along_the_left_edge():
    # 6 x 6, column 0 at 1, the rest 0 (the median): column 0 is bright. Columns 0-1 are band 0:
    # each left region has 2 bright cells of 4 (0.5), every other region none; 0.5 >= 0 + 0.6 x 0.5.
    values = np.zeros((6, 6))
    values[:, 0] = 1.0
    assert bright_regions(values) == {(0, 0), (1, 0), (2, 0)}
    assert describe_map(values) == "bright along the left edge"


def test_a_blob_in_the_middle_is_bright_in_the_centre():
    values = np.zeros((9, 9))
    values[3:6, 3:6] = 5.0  # exactly the centre region of 3 x 3 cells
    assert describe_map(values) == "bright in the centre"
    assert describe_map(-values, signed=True) == "highest values all around the border"


def test_a_corner_and_the_diagonal():
    corner = np.zeros((9, 9))
    corner[:3, 6:] = 1.0
    assert describe_map(corner) == "bright at the top right"
    # The identity: regions (0,0), (1,1), (2,2) hold 3 bright cells of 9 (1/3), the others none.
    assert describe_map(np.eye(9)) == "bright along the diagonal from the top left to the bottom right"
    assert describe_map(np.fliplr(np.eye(9))) == "bright along the diagonal from the top right to the bottom left"


def test_regions_that_make_no_shape_are_listed_in_reading_order():
    values = np.zeros((9, 9))
    values[:3, :3] = 1.0  # the top left
    values[6:, 3:6] = 1.0  # the bottom
    assert describe_map(values) == "bright at the top left, the bottom"


def test_a_ramp_is_bright_at_its_high_end():
    # Columns 0..8 at c/8: the median is 4/8, so a pixel is bright from 0.75 on: columns 6-8,
    # the right band, all of it; the other bands have none.
    ramp = np.tile(np.arange(9) / 8, (9, 1))
    assert describe_map(ramp) == "bright along the right edge"
    assert describe_map(ramp.T) == "bright along the bottom edge"


def test_a_background_that_is_not_black_is_not_bright():
    # A feature map as a convolution with a bias leaves it: a background at 0.4 everywhere, the
    # strongest response (1.0) along the bottom rows, a weak one (0.0) at the top. Stretched, the
    # background stays 0.4 (the median), so only values from 0.7 on are bright: the bottom edge.
    values = np.full((9, 9), 0.4)
    values[7:, :] = 1.0
    values[:2, :] = 0.0
    assert describe_map(values) == "bright along the bottom edge"


def test_flat_even_and_empty_maps():
    assert describe_map(np.zeros((4, 4))) == "flat: every value is 0"  # a dead ReLU channel
    assert describe_map(np.full((3, 3), 0.25)) == "flat: every value is 0.25"
    # A checkerboard of 41 ones in 81: the median is 1, so the ones are the bright pixels; each
    # region has 5 or 4 of 9, and 5/9 - 4/9 = 0.11 < 0.25 x 5/9 = 0.14.
    checker = np.indices((9, 9)).sum(axis=0) % 2
    assert bright_regions(checker) is None
    assert describe_map(checker) == "about equally bright all over"
    assert describe_map(checker, signed=True) == "about the same values all over"
    assert describe_map(np.full((2, 2), np.nan)) == "empty: no values yet"


@pytest.mark.parametrize("shape", [(1, 5), (2, 2), (28, 28), (5, 1)])
def test_small_and_odd_shapes_still_get_a_description(shape):
    # One lit pixel in the first row and column: its region is the brightest, every other one
    # dark, however few pixels a region holds (28 x 28: 1 of 100 in the top left region).
    values = np.zeros(shape)
    values[0, 0] = 1.0
    # A single row is the middle band (neither top nor bottom); of two rows, the first is the top.
    expected = {
        (1, 5): "bright at the left",
        (5, 1): "bright at the top",
        (2, 2): "bright at the top left",
        (28, 28): "bright at the top left",
    }[shape]
    assert describe_map(values) == expected
