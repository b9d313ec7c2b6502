"""A design against the one it started from, layer by layer; activation memory; the stack as rows
to edit and back. Pure functions of core.architecture.design_table: fast, no model is trained."""

import math

import pytest

from core.architecture import design_table as table
from core.models.design import parse

LENET5 = table.from_preset("lenet5")  # conv6k5p2 bn relu max2 conv16k5 bn relu max2 flat dense120 relu ...
WIDE_C1 = parse(LENET5.notation.replace("conv6k5p2", "conv16k5p2", 1))


def by_name(changes):
    return {change.name: change for change in changes if change.name}


def test_sixteen_filters_in_c1_add_260_parameters_there_and_4000_in_conv2():
    changes = by_name(table.layer_changes(LENET5, WIDE_C1))
    # conv1: (5x5x1 + 1) x 16 - (5x5x1 + 1) x 6 = 416 - 156 = 260, by hand.
    assert (changes["conv1"].params_before, changes["conv1"].params, changes["conv1"].delta) == (156, 416, 260)
    # conv2 reads 16 maps instead of 6: (5x5x16 + 1) x 16 - (5x5x6 + 1) x 16 = 6416 - 2416 = 4000.
    assert (changes["conv2"].params_before, changes["conv2"].params, changes["conv2"].delta) == (2416, 6416, 4000)
    # bn1 scales and shifts 16 maps instead of 6: 2 x 16 - 2 x 6 = 20.
    assert changes["bn1"].delta == 20
    assert changes["conv1"].status == changes["conv2"].status == table.CHANGED
    # relu1 and pool1 have no parameters, but their output has 16 maps now: changed too.
    assert changes["relu1"].status == changes["pool1"].status == table.CHANGED
    # From conv2's output on nothing differs: bn2 onwards is the same.
    assert [changes[name].status for name in ("bn2", "pool2", "flat1", "dense1", "dense3")] == [table.SAME] * 5
    assert sum(change.delta for change in changes.values()) == WIDE_C1.params - LENET5.params == 4280


def test_a_layer_put_in_is_one_added_row_and_the_layers_after_it_keep_their_partners():
    inserted = parse(LENET5.notation.replace("max2 ", "max2 conv8k3psame relu ", 1))
    changes = table.layer_changes(LENET5, inserted)
    added = [(c.name, c.params) for c in changes if c.status == table.ADDED]
    # conv2 = conv8k3psame on 6 maps: (3x3x6 + 1) x 8 = 440 parameters, then its ReLU.
    assert added == [("conv2", 440), ("relu2", 0)]
    # The old conv2 (now conv3) reads 8 maps: (5x5x8 + 1) x 16 = 3216, was 2416.
    conv3 = by_name(changes)["conv3"]
    assert (conv3.was, conv3.params_before, conv3.params) == ("conv2", 2416, 3216)
    assert not [c for c in changes if c.status == table.REMOVED]


def test_a_layer_taken_out_is_one_removed_row():
    fewer = parse("conv6k5p2 bn relu max2 flat dense120 relu dense84 relu")  # LeNet-5 without its second block
    removed = [c.was for c in table.layer_changes(LENET5, fewer) if c.status == table.REMOVED]
    assert removed == ["conv2", "bn2", "relu2", "pool2"]


def test_the_same_design_has_no_change():
    assert {c.status for c in table.layer_changes(LENET5, parse(LENET5.notation))} == {table.SAME}


@pytest.mark.parametrize(
    ("name", "shape", "expected"),
    [("conv1", (6, 28, 28), 6 * 28 * 28 * 4), ("pool2", (16, 5, 5), 1600), ("dense1", (120,), 480)],
)
def test_activation_memory_is_the_output_values_times_4_bytes(name, shape, expected):
    layer = next(layer for layer in LENET5.layers if layer.name == name)
    assert layer.shape == shape
    assert table.activation_bytes(layer) == math.prod(shape) * 4 == expected


@pytest.mark.parametrize(
    "text",
    [
        *(table.from_preset(name).notation for name in table.STARTING_POINTS),
        "",
        "dense10 dense10",  # a hidden layer of 10 units: the output is written after it
        "conv6k5 flat dense10 dense10",
        "conv8k3s2psamed2 avg3s2 tanh drop0.00001 flat",
    ],
)
def test_the_rows_to_edit_give_the_notation_back(text):
    design = parse(text)
    rows = table.editable_rows(design)
    assert len(rows) == len(design.notation.split()) - (design.notation.endswith("dense10 dense10"))
    assert parse(table.rows_notation(rows)).notation == design.notation


def test_an_empty_field_takes_the_kinds_default_and_a_new_row_is_a_layer():
    assert table.row_token({"kind": "conv", "size": 16, "kernel": None, "padding": "same"}) == "conv16k3psame"
    assert table.row_token({"kind": "max", "size": float("nan")}) == "max2"
    assert table.row_token({"kind": "drop"}) == "drop0.25"
    assert table.row_token({"kind": "dense", "size": 32.0}) == "dense32"
    assert table.rows_notation([{"kind": "relu"}, {"kind": None}, {"kind": "dense", "size": 10}]) == (
        "relu dense10 dense10"
    )


def test_a_notation_that_cannot_be_built_keeps_the_layers_that_can_be_read():
    # conv2's 5x5 kernel does not fit the 3x3 map, and "foo" is no layer: the rows skip only "foo".
    rows = table.readable_rows("conv6k5 max2 max2 max2 foo conv8k5")
    assert [table.row_token(row) for row in rows] == ["conv6k5", "max2", "max2", "max2", "conv8k5"]
