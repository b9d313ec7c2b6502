"""core.grids.gridmath against torch as the reference answer, over hundreds of seeded random cases.

Expected numbers come from ``torch.nn.functional.conv2d`` / ``max_pool2d`` / ``avg_pool2d``
run on the same values in float64, and from hand computations written out below.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.grids import arithmetic, gridmath, pooling, presets
from core.grids.gridmath import GridSettingsError

N_CASES = 600


def torch_conv(x, w, bias, stride, padding, dilation):
    xt = torch.tensor(x, dtype=torch.float64)[None]
    wt = torch.tensor(w, dtype=torch.float64)[None]
    bt = torch.tensor([bias], dtype=torch.float64)
    return F.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def random_conv_cases(n, seed=5):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        c = int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.integers(1, 13, size=2))
        k = int(rng.integers(1, 6))
        yield dict(
            x=rng.integers(-9, 10, size=(c, h, w)).astype(float) if rng.random() < 0.5 else rng.normal(size=(c, h, w)),
            w=rng.normal(size=(c, k, k)),
            bias=float(rng.normal()) if rng.random() < 0.5 else 0.0,
            stride=int(rng.integers(1, 4)),
            padding=int(rng.integers(0, 3)),
            dilation=int(rng.integers(1, 3)),
        )


def test_convolution_equals_torch_conv2d_on_random_cases():
    seen = {"channels": set(), "kernel": set(), "stride": set(), "padding": set(), "dilation": set(), "bias": set()}
    n_valid = n_refused = 0
    for case in random_conv_cases(N_CASES):
        x, w = case["x"], case["w"]
        settings = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
        problem = gridmath.conv_problem(x.shape, w.shape, **settings)
        if problem:
            # The window does not fit: torch refuses too, and we say why instead of crashing.
            with pytest.raises(RuntimeError):
                F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], **settings)
            with pytest.raises(GridSettingsError, match="larger than the padded input"):
                gridmath.convolve(x, w, bias=case["bias"], **settings)
            n_refused += 1
            continue
        result = gridmath.convolve(x, w, bias=case["bias"], **settings)
        expected = F.conv2d(
            torch.tensor(x)[None], torch.tensor(w)[None], torch.tensor([case["bias"]], dtype=torch.float64), **settings
        )[0, 0].numpy()
        np.testing.assert_allclose(result.output, expected, rtol=1e-12, atol=1e-12)
        # Every animated frame's number is the torch number of the cell it writes.
        assert len(result.steps) == expected.size
        for step in result.steps:
            assert step.value == pytest.approx(expected[step.out_row, step.out_col], abs=1e-12)
            assert step.value == pytest.approx(step.products.sum() + step.bias, abs=1e-12)
        n_valid += 1
        seen["channels"].add(x.shape[0])
        seen["kernel"].add(w.shape[1])
        for name in ("stride", "padding", "dilation"):
            seen[name].add(case[name])
        seen["bias"].add(case["bias"] != 0.0)
    assert n_valid >= 300 and n_refused >= 20, (n_valid, n_refused)
    assert seen == {
        "channels": {1, 2, 3},
        "kernel": {1, 2, 3, 4, 5},
        "stride": {1, 2, 3},
        "padding": {0, 1, 2},
        "dilation": {1, 2},
        "bias": {True, False},
    }


def test_steps_record_window_patch_padding_and_products():
    # 3x3 input 1..9, padding 1, 3x3 kernel of ones, stride 2: hand computation.
    x = np.arange(1, 10, dtype=float).reshape(3, 3)
    result = gridmath.convolve(x, np.ones((3, 3)), bias=0.5, stride=2, padding=1)
    assert result.output.shape == (2, 2)
    first = result.steps[0]
    assert (first.out_row, first.out_col, first.rows, first.cols) == (0, 0, (0, 1, 2), (0, 1, 2))
    # The window's top row and left column lie on padding: 5 of its 9 cells.
    assert first.padding.sum() == 5 and first.padding[0].all() and first.padding[:, 0].all()
    np.testing.assert_array_equal(first.patch[0], [[0, 0, 0], [0, 1, 2], [0, 4, 5]])
    assert first.total == 1 + 2 + 4 + 5 and first.value == 12.5
    last = result.steps[-1]
    assert (last.rows, last.cols) == ((2, 3, 4), (2, 3, 4))
    assert last.value == 5 + 6 + 8 + 9 + 0.5
    assert result.padding_mask.shape == (5, 5) and result.padding_mask.sum() == 25 - 9
    # The output fills in cell by cell, in reading order.
    partial = result.output_after(3)
    assert np.isnan(partial[1, 1]) and partial[1, 0] == result.output[1, 0]


def test_dilation_spaces_the_taps():
    x = np.arange(25, dtype=float).reshape(5, 5)
    result = gridmath.convolve(x, np.ones((2, 2)), dilation=2)
    assert result.steps[0].rows == (0, 2) and result.steps[0].cols == (0, 2)
    # Hand: x[0,0] + x[0,2] + x[2,0] + x[2,2] = 0 + 2 + 10 + 12.
    assert result.output[0, 0] == 24


def test_multichannel_sums_the_channels_into_one_output():
    x, w, bias = presets.multichannel_example()
    result = gridmath.convolve(x, w, bias=bias)
    assert result.output.shape == (3, 3)
    np.testing.assert_allclose(result.output, torch_conv_multi(x, w, bias))
    step = result.steps[0]
    assert step.products.shape == (3, 3, 3)
    # Hand computation of output[0, 0], channel by channel.
    hand = [(x[c, :3, :3] * w[c]).sum() for c in range(3)]
    np.testing.assert_allclose(step.channel_sums, hand)
    assert step.value == sum(hand) + bias


def torch_conv_multi(x, w, bias):
    return F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], torch.tensor([bias], dtype=torch.float64))[
        0, 0
    ].numpy()


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_equals_torch_on_random_cases(kind):
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(300):
        kernel, stride = int(rng.integers(2, 4)), int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.integers(kernel, 13, size=2))
        x = rng.normal(size=(h, w))
        result = pooling.pool(x, kind=kind, kernel=kernel, stride=stride)
        reference = F.max_pool2d if kind == "max" else F.avg_pool2d
        expected = reference(torch.tensor(x)[None, None], kernel, stride)[0, 0].numpy()
        np.testing.assert_allclose(result.output, expected, rtol=1e-12, atol=1e-12)
        assert [s.value for s in result.steps] == pytest.approx(expected.ravel().tolist(), abs=1e-12)
        seen.add((kernel, stride))
    assert seen == set(itertools.product((2, 3), (1, 2, 3)))


def test_lenet_subsampling_is_block_sum_times_coefficient_plus_bias():
    rng = np.random.default_rng(11)
    for _ in range(100):
        kernel, stride = int(rng.integers(2, 4)), int(rng.integers(1, 4))
        x = rng.normal(size=(int(rng.integers(kernel, 13)), int(rng.integers(kernel, 13))))
        coef, bias = float(rng.normal()), float(rng.normal())
        result = pooling.pool(x, kind="subsample", kernel=kernel, stride=stride, coefficient=coef, bias=bias)
        # 1998 S2: sum of the block (= average x k^2) times the coefficient, plus the bias.
        mean = F.avg_pool2d(torch.tensor(x)[None, None], kernel, stride)[0, 0].numpy()
        np.testing.assert_allclose(result.output, mean * kernel**2 * coef + bias, rtol=1e-12, atol=1e-12)
    # By hand on the 4x4 example: top-left block 1 + 3 + 4 + 2 = 10; 10 x 0.5 + 0.25 = 5.25.
    result = pooling.pool(presets.pooling_example(), kind="subsample", coefficient=0.5, bias=0.25)
    assert result.output[0, 0] == 5.25
    np.testing.assert_array_equal(pooling.pool(presets.pooling_example()).output, [[4, 2], [6, 8]])


def test_output_size_formula_matches_torch_shapes():
    n_checked = 0
    for n, k, s, p, d in itertools.product(range(1, 13), range(1, 6), range(1, 4), range(3), range(1, 3)):
        try:
            expected = F.conv2d(
                torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d
            ).shape[-1]
        except RuntimeError:
            with pytest.raises(GridSettingsError):
                gridmath.output_size(n, k, stride=s, padding=p, dilation=d)
            continue
        assert gridmath.output_size(n, k, stride=s, padding=p, dilation=d) == expected
        n_checked += 1
    assert n_checked > 800
    # The page's default: 8x8 input, 3x3 kernel -> (8 - 2 - 1) / 1 + 1 = 6.
    assert gridmath.output_size(8, 3) == 6


@pytest.mark.parametrize(
    "call, reason",
    [
        (lambda: gridmath.convolve(np.ones((3, 3)), np.ones((5, 5))), "larger than the padded input height 3"),
        (lambda: gridmath.convolve(np.ones((3, 3)), np.ones((3, 3)), dilation=2), "spans 5 cells"),
        (lambda: gridmath.convolve(np.ones((13, 4)), np.ones((3, 3))), "at most 12x12"),
        (lambda: gridmath.convolve(np.ones((6, 6)), np.ones((3, 3)), stride=4), "stride must be"),
        (lambda: gridmath.convolve(np.ones((6, 6)), np.ones((3, 3)), padding=3), "padding must be"),
        (lambda: gridmath.convolve(np.ones((6, 6)), np.ones((3, 3)), dilation=3), "dilation must be"),
        (lambda: gridmath.convolve(np.ones((6, 6)), np.ones((6, 6))), "kernel size must be"),
        (lambda: gridmath.convolve(np.ones((6, 6)), np.ones((2, 3))), "must be square"),
        (lambda: gridmath.convolve(np.ones((3, 6, 6)), np.ones((2, 3, 3))), "one kernel per input channel"),
        (lambda: gridmath.convolve(np.ones((4, 6, 6)), np.ones((4, 3, 3))), "use 1 to 3"),
        (lambda: gridmath.convolve([[1, float("nan")], [0, 0]], np.ones((1, 1))), "row 0, column 1 is empty"),
        (lambda: pooling.pool(np.ones((2, 2)), kernel=3, stride=1), "larger than the 2x2 input"),
        (lambda: pooling.pool(np.ones((6, 6)), kernel=4), "pooling window must be"),
        (lambda: pooling.pool(np.ones((6, 6)), stride=4), "pooling stride must be"),
        (lambda: pooling.pool(np.ones((6, 6)), kind="median"), "unknown pooling kind"),
        (lambda: gridmath.output_size(4, 5), "larger than the padded input"),
    ],
)
def test_impossible_settings_give_the_reason(call, reason):
    with pytest.raises(GridSettingsError, match=reason):
        call()


def test_feature_map_matches_torch_on_a_digit():
    from core.data.mnist import load_test

    image = presets.to_levels(load_test().images[0].numpy())
    kernel = presets.KERNELS["Vertical edge"]
    for stride, padding, dilation in [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 0, 2)]:
        got = gridmath.feature_map(image, kernel, bias=0.5, stride=stride, padding=padding, dilation=dilation)
        expected = torch_conv(image[None], kernel[None], 0.5, stride, padding, dilation)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


def test_describe_step_writes_the_arithmetic():
    result = gridmath.convolve([[1, 2], [3, 4]], [[1, -1], [0, 2]], bias=-1)
    # Hand: 1x1 + 2x(-1) + 3x0 + 4x2 = 7; 7 + (-1) = 6.
    assert arithmetic.describe_step(result, 0) == ["1×1 + 2×(-1) + 3×0 + 4×2 = 7", "sum 7 + bias (-1) = 6"]
    pooled = pooling.pool(presets.pooling_example(), kind="avg")
    assert arithmetic.describe_step(pooled, 0)[0] == "(1 + 3 + 4 + 2) / 4 = 10 / 4 = 2.5"
    maxed = pooling.pool(presets.pooling_example())
    assert arithmetic.describe_step(maxed, 3)[0] == "max(7, 2, 3, 8) = 8"
    assert maxed.steps[3].largest_cell == (3, 3)
    assert arithmetic.format_number(-0.001) == "0" and arithmetic.format_number(0.125, 2) == "0.12"
    assert arithmetic.is_right_guess(0.11, 1 / 9) and not arithmetic.is_right_guess(0.12, 1 / 9)


def test_presets_are_small_whole_numbers():
    from core.data.mnist import load_test

    patch = presets.mnist_patch(load_test().images[0].numpy(), 8)
    assert patch.shape == (8, 8) and patch.min() >= 0 and patch.max() == 9
    assert np.array_equal(patch, np.rint(patch))
    edge = presets.vertical_edge(6)
    assert edge[:, :3].min() == 9 and edge[:, 3:].max() == 0
    a = presets.random_integers((5, 5), seed=3)
    assert np.array_equal(a, presets.random_integers((5, 5), seed=3)) and 0 <= a.min() and a.max() <= 9


def test_trained_first_layer_reports_a_missing_checkpoint(tmp_path):
    layer, reason = presets.trained_first_layer("lenet5", folder=tmp_path)
    assert layer is None and "python -m core train lenet5" in reason
