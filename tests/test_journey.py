"""core.explain.journey: a digit through the whole network, and any unit opened to its arithmetic.

The reference is the model itself: for every shipped CNN and three positions of every layer
(first, middle, last unit), the arithmetic written out from the layer's recorded input and its
own weights (products + bias, a pooling window's choice, a dense unit's products, the softmax)
equals the value the model computed there. C3's wiring is the 1998 paper's Table I, written out
here from the paper.
"""

from __future__ import annotations

import pytest
import torch

from core import models
from core.data import mnist
from core.explain.journey import UnitError, UnitRef, journey, open_unit
from core.models import checkpoints

SHIPPED_CNNS = [name for name in models.names() if models.is_cnn(name)]
# LeCun et al. 1998, Table I: the S2 feature maps (columns 0-5) each C3 feature map (rows 0-15) combines.
TABLE_I = [
    "X...XXX..XXXX.XX",
    "XX...XXX..XXXX.X",
    "XXX...XXX..X.XXX",
    ".XXX..XXXX..X.XX",
    "..XXX..XXXX.XX.X",
    "...XXX..XXXX.XXX",
]  # row i: S2 map i; column j: C3 map j ("X": C3 map j reads S2 map i)


@pytest.fixture(scope="module")
def seven() -> torch.Tensor:
    test = mnist.load_test()
    return mnist.normalize(test.images[:1]).reshape(1, 1, 28, 28)  # MNIST test digit #0, a 7


def positions(stage) -> list[UnitRef]:
    """The first, a middle and the last unit of a stage."""
    if stage.is_map:
        maps, rows, cols = stage.output.shape
        picks = [(0, 0, 0), (maps // 2, rows // 2, cols // 2), (maps - 1, rows - 1, cols - 1)]
    else:
        count = stage.output.numel()
        picks = [(0, 0, 0), (count // 2, 0, 0), (count - 1, 0, 0)]
    return [UnitRef(stage.short, *pick) for pick in picks]


@pytest.mark.parametrize("name", SHIPPED_CNNS)
def test_every_units_arithmetic_equals_the_models_own_value(name, seven):
    model, _info = checkpoints.load(name)
    stages = journey(model, seven)
    kinds = {s.kind for s in stages}
    assert {"conv", "activation", "pool", "output"} <= kinds
    logits = model(seven)[0]
    assert torch.allclose(stages[-1].output, logits.detach(), atol=1e-5)  # the journey ends at the model's output
    for stage in stages:
        for unit in positions(stage):
            shown = open_unit(stages, unit)
            assert shown.computed == pytest.approx(shown.value, abs=1e-5, rel=1e-6), (name, unit.text, shown.operation)
            if shown.kind == "pool" and shown.operation == "max":
                assert shown.computed == max(max(row) for row in shown.patches[0])  # the chosen value is the window's
    output = open_unit(stages, UnitRef("output", 7))
    assert output.extra["probabilities"] == pytest.approx(torch.softmax(logits.double(), 0).tolist(), abs=1e-9)


def test_c3_reads_the_s2_maps_of_the_papers_table_i(seven):
    model, _info = checkpoints.load("lenet5_1998")
    c3 = next(s for s in journey(model, seven) if s.name == "c3")
    paper = [tuple(i for i in range(6) if TABLE_I[i][j] == "X") for j in range(16)]
    assert c3.feeds == tuple(paper)
    assert [len(f) for f in c3.feeds] == [3] * 6 + [4] * 9 + [6]  # 60 connections in all, as the paper counts
    unit = open_unit(journey(model, seven), UnitRef(c3.short, 13, 4, 5))
    assert unit.inputs == (1, 2, 4, 5) and len(unit.patches) == len(unit.kernels) == 4


def test_a_unit_the_network_does_not_have_is_named_with_what_there_is(seven):
    model, _info = checkpoints.load("lenet5")
    stages = journey(model, seven)
    with pytest.raises(UnitError, match="no layer 'conv9'"):
        open_unit(stages, "conv9:0:0:0")
    with pytest.raises(UnitError, match="has 6 maps of 28x28"):
        open_unit(stages, "conv1:6:0:0")
    with pytest.raises(UnitError, match="not a unit"):
        UnitRef.parse("conv1;3")
    assert UnitRef.parse(" conv1:3:12:7 ").text == "conv1:3:12:7"


@pytest.mark.parametrize("name", ["lenet5", "keras_cnn_small"])
def test_the_evidence_for_a_class_is_gradient_times_activation_of_its_logit(name, seven):
    model, _info = checkpoints.load(name)
    logits = model(seven)[0].detach()
    stages = journey(model, seven, follow=7)
    output = stages[-1]
    assert output.evidence[7] == pytest.approx(float(logits[7]), abs=1e-5)  # d logit_7 / d logit_7 = 1
    assert float(output.evidence.abs().sum() - output.evidence[7].abs()) == 0  # and 0 for the others
    last = output.module  # its input's evidence: W[7, j] a_j, summing to the logit less the bias
    before = stages[-2]
    assert float(before.evidence.sum()) == pytest.approx(float(logits[7] - last.bias[7]), abs=1e-4)
    maps = next(s for s in stages if s.kind == "conv")
    assert maps.evidence.shape == (maps.output.shape[0],)  # one number per map
    assert torch.equal(journey(model, seven)[0].output, maps.output)  # following changes no value
