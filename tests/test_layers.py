"""Per-layer accounting. "paper" = LeCun et al. 1998, section II-B (LeNet-5 layer by layer)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core import models
from core.architecture import layers

# paper, section II-B: (trainable parameters, fixed values, connections) per layer
LENET_1998 = {
    "c1": (156, 0, 122_304),
    "s2": (12, 0, 5_880),
    "c3": (1_516, 0, 151_600),
    "s4": (32, 0, 2_000),
    "c5": (48_120, 0, 48_120),
    "f6": (10_164, 0, 10_164),
    "output": (0, 840, 840),
}


def _rows(name_or_model, **kwargs) -> dict[str, layers.LayerRow]:
    return {row.name: row for row in layers.layer_table(name_or_model, **kwargs)}


def test_lenet1998_rows_are_the_papers():
    rows = _rows("lenet5_1998")
    got = {name: (rows[name].trainable_params, rows[name].fixed, rows[name].connections) for name in LENET_1998}
    assert got == LENET_1998
    shapes = {name: rows[name].output_shape for name in ("pad", "c1", "s2", "c3", "s4", "c5", "f6", "output")}
    # paper, Fig. 2: 32x32 input, 6@28x28, 6@14x14, 16@10x10, 16@5x5, 120, 84, 10
    assert shapes == {
        "pad": (1, 32, 32),
        "c1": (6, 28, 28),
        "s2": (6, 14, 14),
        "c3": (16, 10, 10),
        "s4": (16, 5, 5),
        "c5": (120, 1, 1),
        "f6": (84,),
        "output": (10,),
    }
    # activations have no parameters and, as in the paper, add no connections
    assert all(r.trainable_params == r.connections == 0 for r in rows.values() if r.kind == "activation")


def test_lenet1998_totals():
    total = layers.totals(layers.layer_table("lenet5_1998"))
    # paper: 60,000 trainable parameters; connections = sum of the paper's per-layer figures
    assert total["trainable_params"] == 60_000 == total["weighted_layer_params"]
    assert total["fixed"] == 840 and total["params"] == 60_840
    assert total["connections"] == 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840 == 340_908


def test_formulas_show_the_arithmetic():
    rows = _rows("lenet5_1998")
    assert rows["c1"].formula == "(5x5x1 + 1) x 6 = 156"
    assert rows["c1"].connections_formula == "28x28x6 x (5x5x1 + 1) = 122,304"
    assert rows["c3"].formula == "(6x3 + 9x4 + 1x6) x 5x5 + 16 = 1,516"
    assert rows["s2"].connections_formula == "14x14x6 x (2x2 + 1) = 5,880"


def test_dense_c3_comparison():
    assert _rows("lenet5_1998")["c3"].dense_params is None  # only when asked
    c3 = _rows("lenet5_1998", compare_dense_c3=True)["c3"]
    # hand computation: 16 x (6 x 5x5 + 1) = 2,416 parameters; x 10x10 outputs = 241,600 connections
    assert (c3.dense_params, c3.dense_connections) == (2_416, 241_600)


def test_modern_lenet_61706_without_batchnorm():
    total = layers.totals(layers.layer_table("lenet5"))
    # hand computation: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 in conv/linear layers;
    # BatchNorm adds scale + shift per channel: 2 x (6 + 16) = 44
    assert total["weighted_layer_params"] == 61_706
    assert total["batchnorm_params"] == 44
    assert total["trainable_params"] == 61_750


@pytest.mark.parametrize("name", models.names())
def test_totals_match_the_model(name):
    torch.manual_seed(0)
    model = models.build(name)
    total = layers.totals(layers.layer_table(model))
    assert total["trainable_params"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert layers.layer_table(model)[-1].output_shape == (10,)


def test_conv_and_pool_counts_against_hand_computation():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 14 * 14, 10)
    )
    rows = layers.layer_table(model)
    conv, pool, _, fc = rows
    assert (conv.trainable_params, conv.connections, conv.macs) == (36, 28 * 28 * 4 * 9, 28 * 28 * 4 * 9)
    assert (pool.connections, pool.macs, pool.output_shape) == (14 * 14 * 4 * 4, 0, (4, 14, 14))
    assert (fc.trainable_params, fc.connections, fc.macs) == (7_850, 7_850, 7_840)


def test_batchnorm_running_stats_are_not_fixed_values():
    rows = _rows("lenet5")
    assert (rows["features.bn1"].trainable_params, rows["features.bn1"].fixed) == (12, 0)


def test_accounting_leaves_the_callers_model_alone():
    model = models.build("cnn_avgpool_bn").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layers.layer_table(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())
    assert int(model.features.bn1.num_batches_tracked) == 0


def test_summary_dict_schema():
    summary = layers.summary_dict("lenet5_1998")
    required = {"name", "kind", "output_shape", "params", "trainable_params", "connections", "macs"}
    assert {"model", "layers", "total_params", "total_trainable_params", "total_connections"} <= set(summary)
    assert all(required <= set(row) for row in summary["layers"])
    assert summary["total_trainable_params"] == 60_000 and summary["total_params"] == 60_840
    output = summary["layers"][-1]
    assert (output["name"], output["params"], output["trainable_params"]) == ("output", 840, 0)
