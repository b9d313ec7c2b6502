"""core.explain.receptive_field and .field_check: sizes and boxes by hand, every CNN preset against a gradient.

Hand computations use r_out = r_in + (k - 1) d j_in, j_out = j_in s, f_out = f_in - p j_in
(Araujo et al., Distill 2019), starting from one pixel (r 1, j 1, f 0):

- lenet5_1998 (28x28 padded by 2 to the paper's 32x32): pad 1; C1 5x5: 1 + 4 = 5; S2 2x2 s2:
  5 + 1 = 6, j 2; C3 5x5: 6 + 4 x 2 = 14; S4: 14 + 1 x 2 = 16, j 4; C5 5x5: 16 + 4 x 4 = 32, the
  whole 32x32 frame. The first unit's field starts at pixel -2 throughout (the padding).
- lenet5 (conv 5x5 pad 2, max-pool, conv 5x5, max-pool): 5, 6, 14, 16 with jumps 1, 2, 2, 4; the
  first field starts at -2 (the padding of conv1).
- cnn_avgpool(_bn) (no padding): 5, 6, 14, 16, starting at 0.
- keras_cnn_small: 5, 6; keras_cnn_deeper (5x5, pool, 3x3, pool): 5, 6, 6 + 2 x 2 = 10, 12;
  keras_cnn_wide (5x5 same, pool, 5x5 same, pool): 5, 6, 14, 16, conv2's padding 2 at jump 2
  moving the start to -2 - 2 x 2 = -6.

The gradient check is independent of the formula: it asks autograd which input pixels change
the unit, on a random-weight float64 copy, and must find exactly the formula's box.
"""

import pytest
import torch

from core import models
from core.explain import receptive_field as rf
from core.explain.field_check import check_unit

# name -> [(layer, kind, size, jump, first)], from the hand computations above.
HAND = {
    "lenet5_1998": [
        ("pad", "pad", 1, 1, -2),
        ("c1", "conv", 5, 1, -2),
        ("s2", "pool", 6, 2, -2),
        ("c3", "conv", 14, 2, -2),
        ("s4", "pool", 16, 4, -2),
        ("c5", "conv", 32, 4, -2),
    ],
    "lenet5": [
        ("conv1", "conv", 5, 1, -2),
        ("pool1", "pool", 6, 2, -2),
        ("conv2", "conv", 14, 2, -2),
        ("pool2", "pool", 16, 4, -2),
    ],
    "cnn_avgpool": [
        ("conv1", "conv", 5, 1, 0),
        ("pool1", "pool", 6, 2, 0),
        ("conv2", "conv", 14, 2, 0),
        ("pool2", "pool", 16, 4, 0),
    ],
    "cnn_avgpool_bn": [
        ("conv1", "conv", 5, 1, 0),
        ("pool1", "pool", 6, 2, 0),
        ("conv2", "conv", 14, 2, 0),
        ("pool2", "pool", 16, 4, 0),
    ],
    "keras_cnn_small": [("conv1", "conv", 5, 1, -2), ("pool1", "pool", 6, 2, -2)],
    "keras_cnn_deeper": [
        ("conv1", "conv", 5, 1, 0),
        ("pool1", "pool", 6, 2, 0),
        ("conv2", "conv", 10, 2, 0),
        ("pool2", "pool", 12, 4, 0),
    ],
    "keras_cnn_wide": [
        ("conv1", "conv", 5, 1, -2),
        ("pool1", "pool", 6, 2, -2),
        ("conv2", "conv", 14, 2, -6),
        ("pool2", "pool", 16, 4, -6),
    ],
}
CNNS = [name for name in models.names() if models.is_cnn(name)]


def test_every_cnn_preset_has_a_hand_computed_table():
    assert sorted(HAND) == sorted(CNNS)


@pytest.mark.parametrize("name", CNNS)
def test_sizes_jumps_and_starts_equal_the_hand_computation(name):
    fields = rf.layer_fields(name)
    got = [(f.short_name, f.kind, f.size, f.jump, f.first) for f in fields]
    assert got == HAND[name]


def test_lenet5_1998_layers_include_partial_c3_subsampling_and_padding():
    fields = {f.short_name: f for f in rf.layer_fields("lenet5_1998")}
    assert fields["c3"].layer == "PartialConv2d" and fields["s2"].layer == fields["s4"].layer == "Subsampling"
    assert fields["pad"].layer == "ConstantPad2d" and fields["pad"].out_size == (32, 32)
    # The paper's map sizes: C1 28, S2 14, C3 10, S4 5, C5 1 (LeCun et al. 1998, section II-B).
    assert [fields[n].out_size[0] for n in ("c1", "s2", "c3", "s4", "c5")] == [28, 14, 10, 5, 1]
    # Centres: C1 unit 0 on pixel 0 (the 5x5 window over -2..2); C5 on the middle, 13.5.
    assert fields["c1"].start == 0.0 and fields["c3"].start == 4.5 and fields["c5"].start == 13.5


def test_unit_boxes_by_hand():
    fields = rf.layer_fields("lenet5")
    # pool2 unit (2, 2): first -2 + 2 x 4 = 6, size 16 -> pixels 6..21.
    box = rf.unit_box(fields, "pool2", 0, 2, 2)
    assert (box.top, box.left, box.bottom, box.right, box.height) == (6, 6, 21, 21, 16)
    # conv1 unit (0, 0): -2..2 clipped to 0..2, a 3x3 corner (the rest is padding).
    corner = rf.unit_box(fields, "features.conv1", 5, 0, 0)
    assert (corner.top, corner.bottom, corner.height, corner.width) == (0, 2, 3, 3)
    assert corner.unclipped == (-2, -2, 2, 2) and corner.mask().sum() == 9
    old = rf.layer_fields("lenet5_1998")
    # C5's one unit sees -2..29 of the 32x32 frame: all 28x28 pixels.
    assert rf.unit_box(old, "c5", 119, 0, 0).mask().all()
    # A unit of the padding layer in the border sees no input pixel; pad unit (2, 2) is pixel (0, 0).
    assert rf.unit_box(old, "pad", 0, 0, 0).is_empty
    assert rf.unit_box(old, "pad", 0, 2, 2).mask().sum() == 1 and rf.unit_box(old, "pad", 0, 2, 2).mask()[0, 0]


def test_trace_back_through_every_layer_by_hand():
    fields = rf.layer_fields("lenet5")
    steps = rf.trace_back(fields, "pool2", 2, 2)
    # pool2 row 2 <- conv2 rows 4..5 <- pool1 rows 4..9 <- conv1 rows 8..19 <- input rows 6..21.
    assert [(s.name.rsplit(".", 1)[-1], s.rows) for s in steps] == [
        ("pool2", (2, 2)),
        ("conv2", (4, 5)),
        ("pool1", (4, 9)),
        ("conv1", (8, 19)),
        ("input", (6, 21)),
    ]
    assert steps[-1].count == 16 * 16
    # lenet5_1998's C1 unit (0, 0) reads padded rows 0..4, which are input rows -2..2: 0..2.
    old = rf.trace_back(rf.layer_fields("lenet5_1998"), "c1", 0, 0)
    assert [(s.name, s.rows) for s in old] == [("c1", (0, 0)), ("pad", (0, 4)), ("input", (0, 2))]


def _units(field):
    height, width = field.out_size
    return {(0, 0), (height // 2, width // 3), (height - 1, width - 1)}


@pytest.mark.parametrize("name", CNNS)
def test_gradient_support_equals_the_formula_box_for_every_layer(name):
    fields = rf.layer_fields(name)
    checked = 0
    for field in fields:
        for row, col in _units(field):
            check = check_unit(name, field.name, field.channels - 1, row, col)
            where = f"{name} {field.short_name} unit ({row}, {col})"
            assert check.inside and check.equal, (where, check.box, check.reached)
            assert check.reached == check.box.height * check.box.width, where
            # The per-layer trace ends on the same pixels as the formula.
            last = rf.trace_back(fields, field.name, row, col)[-1]
            assert last.count == check.reached, where
            checked += 1
    assert checked >= 2 * len(fields)


@pytest.mark.parametrize("name", CNNS)
def test_output_classes_of_a_cnn_see_the_whole_input(name):
    box = rf.class_box(rf.layer_fields(name))
    assert (box.top, box.left, box.bottom, box.right) == (0, 0, 27, 27)
    check = check_unit(name, None, 3)
    assert check.equal and check.reached == 28 * 28


def test_max_pool_hides_pixels_from_one_sample_which_is_why_the_check_sums_many():
    # One random input: each max-pool passes the gradient to one cell of its window, so lenet5's
    # pool2 unit reaches only part of its 16x16 box; average pooling passes it to all four.
    one = check_unit("lenet5", "pool2", 0, 2, 2, samples=1)
    assert one.inside and not one.equal and one.reached < 256
    assert check_unit("lenet5", "pool2", 0, 2, 2, samples=32).reached == 256
    assert check_unit("cnn_avgpool", "pool2", 0, 2, 2, samples=1).reached == 256


def test_an_mlp_has_no_layers_and_its_classes_see_everything():
    assert rf.layer_fields("mlp_128") == []
    assert rf.class_box([]).mask().all()


def test_bad_layer_or_unit_says_what_exists():
    fields = rf.layer_fields("lenet5")
    with pytest.raises(rf.ReceptiveFieldError, match="conv1, pool1, conv2, pool2"):
        rf.unit_box(fields, "c3", 0, 0, 0)
    with pytest.raises(rf.ReceptiveFieldError, match="row 0..4"):
        rf.unit_box(fields, "pool2", 0, 5, 0)


def test_the_model_passed_in_is_not_touched():
    torch.manual_seed(0)
    model = models.build("lenet5").eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # as the cached models are
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rf.layer_fields(model)
    check_unit(model, "conv2", 3, 4, 4, samples=4)
    check_unit(model, None, 7, samples=4)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(not m._forward_hooks for m in model.modules())
    assert not any(p.requires_grad for p in model.parameters()) and not model.training
    assert all(isinstance(m, torch.nn.ReLU) for n, m in model.named_modules() if n.endswith("relu1"))


def test_a_model_objects_fields_are_computed_once_and_handed_out_as_copies():
    model = models.build("lenet5").eval()
    first = rf.layer_fields(model)
    first.clear()  # a caller changing its list changes nobody else's
    second = rf.layer_fields(model)
    assert [(f.short_name, f.size, f.jump, f.first) for f in second] == [h[:1] + h[2:] for h in HAND["lenet5"]]
    assert all(a is b for a, b in zip(second, rf.layer_fields(model)))  # the same frozen fields, cached
