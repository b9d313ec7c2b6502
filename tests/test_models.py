"""The model zoo: every preset runs, explains and trains; LeNet-5 of 1998 is the paper's.

Figures cited as "paper" come from LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning
Applied to Document Recognition", Proc. IEEE 1998, section II-B and Table I.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam, Saliency
from torch import nn

from core import models
from core.data import mnist
from core.models.init import initialise, seeded
from core.models.lenet1998 import C3_TABLE, DENSE_C3_TABLE, ScaledTanh

DESIGN_NAMES = [
    "lenet5_1998",
    "lenet5",
    "cnn_avgpool",
    "cnn_avgpool_bn",
    "keras_cnn_small",
    "keras_cnn_deeper",
    "keras_cnn_wide",
    "mlp_784",
    "mlp_256_128",
    "mlp_128",
]


def _build(name: str, **overrides) -> nn.Module:
    torch.manual_seed(0)
    return models.build(name, **overrides)


def test_names_are_designs_in_its_order():
    assert models.names() == DESIGN_NAMES  # DESIGN.md's preset table
    for name in DESIGN_NAMES:
        preset = models.PRESETS[name]
        assert preset.name == name and preset.source.startswith("seed 00") and preset.title


def test_unknown_model_lists_valid_names():
    with pytest.raises(models.UnknownModelError) as caught:
        models.build("lenet7")
    assert isinstance(caught.value, ValueError)
    assert all(name in str(caught.value) for name in DESIGN_NAMES)


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="hidden"):
        models.build("mlp_128", hiden=(64,))


@pytest.mark.parametrize("name", DESIGN_NAMES)
def test_preset(name):
    model = _build(name)
    for n in (1, 7):
        assert model(torch.randn(n, 1, 28, 28)).shape == (n, 10)

    # Backward reaches every trainable parameter.
    model.zero_grad()
    F.cross_entropy(model(torch.randn(7, 1, 28, 28)), torch.arange(7)).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)

    # Each module runs exactly once per forward (a reused ReLU would break Captum's hooks).
    calls: Counter = Counter()
    handles = [m.register_forward_hook(lambda mod, i, o: calls.update([mod])) for m in model.modules()]
    model(torch.randn(2, 1, 28, 28))
    for handle in handles:
        handle.remove()
    assert {name: calls[m] for name, m in model.named_modules()} == {n: 1 for n, _ in model.named_modules()}
    assert not [n for n, m in model.named_modules() if getattr(m, "inplace", False)]

    model.eval()
    x = torch.randn(3, 1, 28, 28, requires_grad=True)
    saliency = Saliency(model).attribute(x, target=[0, 4, 9])
    assert saliency.shape == x.shape and torch.isfinite(saliency).all() and saliency.abs().sum() > 0
    layer = models.last_conv_layer(model)
    assert (layer is None) == (not models.is_cnn(name))
    if layer is not None:
        cam = LayerGradCam(model, layer).attribute(x, target=[0, 4, 9])
        assert cam.shape[0] == 3 and cam.shape[2] * cam.shape[3] > 1 and torch.isfinite(cam).all()


@pytest.mark.parametrize("name", ["lenet5_1998", "keras_cnn_deeper", "mlp_128"])
def test_build_is_deterministic_given_the_seed(name):
    first, second = _build(name).state_dict(), _build(name).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_last_conv_layer():
    lenet = _build("lenet5_1998")
    assert models.last_conv_layer(lenet) is lenet.c3  # C5's map is 1x1: nothing to localise
    modern = _build("lenet5")
    assert models.last_conv_layer(modern) is modern.features.conv2
    assert models.last_conv_layer(_build("mlp_784")) is None


# --- LeNet-5 of 1998 ---------------------------------------------------------------------


def test_lenet1998_trainable_parameters_are_the_papers_60000():
    model = _build("lenet5_1998")
    trainable = {n: p.numel() for n, p in model.named_parameters() if p.requires_grad}
    per_layer = Counter()
    for n, count in trainable.items():
        per_layer[n.split(".")[0]] += count
    # paper, section II-B: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164
    assert dict(per_layer) == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164}
    assert sum(trainable.values()) == 60_000
    assert model.output.centres.numel() == 840 and not model.output.centres.requires_grad


def test_c3_connection_table_is_table_one():
    table = _build("lenet5_1998").c3.connection_table()
    expected = torch.zeros(16, 6, dtype=torch.bool)
    for out, inputs in enumerate(C3_TABLE):
        expected[out, list(inputs)] = True
    assert torch.equal(table, expected)
    # paper Table I: 6 maps read 3 S2 maps, 9 read 4, 1 reads all 6 -> 60 kernels of 5x5
    assert sorted(Counter(table.sum(1).tolist()).items()) == [(3, 6), (4, 9), (6, 1)]
    assert int(table.sum()) == 60


def test_c3_matches_per_map_convolutions():
    """Reference: each C3 map computed by torch's conv2d over only the S2 maps it reads."""
    c3 = _build("lenet5_1998").c3
    x = torch.randn(2, 6, 14, 14)
    got = c3(x)
    k = 0
    for out, inputs in enumerate(C3_TABLE):
        kernel = c3.weight[k : k + len(inputs)].unsqueeze(0)
        k += len(inputs)
        want = F.conv2d(x[:, list(inputs)], kernel, c3.bias[out : out + 1])
        torch.testing.assert_close(got[:, out : out + 1], want)


def test_c3_absent_connections_stay_absent_after_adam():
    torch.manual_seed(1)
    model = _build("lenet5_1998")
    absent = ~model.c3.connection_table()
    before = model.c3.weight.detach().clone()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.1)
    F.cross_entropy(model(torch.randn(8, 1, 28, 28)), torch.arange(8)).backward()
    assert model.c3.weight.grad.shape == (60, 5, 5)  # gradients exist only for the 60 kernels
    optimiser.step()
    assert not torch.equal(model.c3.weight, before)  # the present kernels did move
    dense = model.c3.dense_weight().detach()
    assert absent.sum() == 36 and dense[absent].abs().sum() == 0  # 96 pairs - 60 connections


def test_dense_c3_would_have_2416_parameters():
    # hand computation: 16 maps x (6 x 5x5 + 1) = 2,416 (vs 1,516 with Table I)
    dense = _build("lenet5_1998", c3_table=DENSE_C3_TABLE)
    assert sum(p.numel() for p in dense.c3.parameters()) == 2416


def test_subsampling_sums_blocks_times_coefficient_plus_bias():
    s2 = _build("lenet5_1998").s2
    with torch.no_grad():
        s2.weight.copy_(torch.arange(1.0, 7.0))
        s2.bias.fill_(0.5)
    x = torch.randn(1, 6, 28, 28)
    want = F.avg_pool2d(x, 2) * 4 * torch.arange(1.0, 7.0).view(1, 6, 1, 1) + 0.5
    torch.testing.assert_close(s2(x), want)


def test_squashing_function():
    f = ScaledTanh()
    # paper, appendix A: A = 1.7159, S = 2/3, chosen so that f(1) = 1 and f(-1) = -1
    torch.testing.assert_close(f(torch.tensor([1.0, -1.0, 0.0])), torch.tensor([1.0, -1.0, 0.0]), atol=1e-4, rtol=0)


def test_rbf_bitmaps_and_output():
    bitmaps = models.rbf_bitmaps()
    assert bitmaps.shape == (10, 12, 7) and set(bitmaps.unique().tolist()) == {-1.0, 1.0}
    hamming = (bitmaps.view(10, 1, -1) != bitmaps.view(1, 10, -1)).sum(-1)
    assert hamming[~torch.eye(10, dtype=torch.bool)].min() >= 8  # no two digits nearly alike
    model = _build("lenet5_1998")
    assert torch.equal(model.output.centres, bitmaps.view(10, 84))
    # An F6 output equal to the bitmap of 3 is at distance 0 from centre 3, and 3 wins.
    logits = model.output(bitmaps[3].view(1, 84))
    assert logits[0, 3] == 0 and logits.argmax() == 3
    torch.testing.assert_close(logits[0], -(bitmaps.view(10, 84) - bitmaps[3].view(84)).pow(2).sum(-1))


def test_lenet1998_pads_with_normalised_black():
    mean, std = mnist.NORM_MEAN, mnist.NORM_STD
    model = _build("lenet5_1998")
    black = torch.full((1, 1, 28, 28), (0 - mean) / std)
    padded = model.pad(black)
    assert padded.shape == (1, 1, 32, 32)
    torch.testing.assert_close(padded, torch.full((1, 1, 32, 32), (0 - mean) / std))


# --- initial weights from a generator of one's own (core.models.init) -----------------------


@pytest.mark.parametrize("name", models.names())
def test_the_same_seed_gives_the_same_weights_whatever_the_global_generator_does(name):
    first = models.build(name, generator=seeded(3))
    torch.rand(1000)  # another thread drawing from the global generator in between
    second = models.build(name, generator=seeded(3))
    other = models.build(name, generator=seeded(4))
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    trained = [k for k, p in first.named_parameters() if p.requires_grad]
    assert any(not torch.equal(first.state_dict()[k], other.state_dict()[k]) for k in trained)


def test_drawn_weights_follow_each_layers_own_scheme():
    # PyTorch's default for Conv2d/Linear: U(+-1/sqrt(fan-in)); lenet5's fc1 reads 400 values -> 0.05.
    fc1 = models.build("lenet5", generator=seeded(0)).classifier.fc1
    assert float(fc1.weight.abs().max()) <= 0.05 and float(fc1.weight.abs().max()) > 0.045
    # LeNet-5 of 1998, appendix A: U(+-2.4/F); C1 reads 5x5 = 25 pixels -> 0.096.
    c1 = models.build("lenet5_1998", generator=seeded(0)).c1
    assert 0.09 < float(c1.weight.abs().max()) <= 2.4 / 25
    bn = models.build("lenet5", generator=seeded(0)).features.bn1
    assert torch.equal(bn.weight, torch.ones(6)) and torch.equal(bn.bias, torch.zeros(6))


def test_a_layer_of_unknown_initial_distribution_is_refused():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))

    with pytest.raises(TypeError, match="no known initial distribution for Odd"):
        initialise(torch.nn.Sequential(Odd()), seeded(0))
