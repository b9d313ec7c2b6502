"""The design notation (core.models.design), its table (core.architecture.design_table) and
``python -m core design``, run in-process (each interpreter start pays for importing torch)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from core import models
from core.__main__ import main
from core.architecture.design_table import design_summary, from_preset
from core.architecture.layers import layer_table
from core.models.design import MAX_LAYERS, MAX_MACS, MAX_PARAMS, DesignError, build, parse

PLAIN_STACKS = [name for name in models.names() if name != "lenet5_1998"]
LENET5 = "conv6k5p2 bn relu max2 conv16k5 bn relu max2 flat dense120 relu dense84 relu"


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", PLAIN_STACKS)
def test_every_plain_stack_preset_round_trips(name):
    # The preset's own model is the reference: the same layers (kind, output shape, parameters) in
    # the same order, and the same total as sum(p.numel()).
    design = from_preset(name)
    assert parse(design.notation) == design
    preset, designed = models.build(name), build(design)
    assert _n_params(designed) == _n_params(preset) == design.params
    as_preset = [(r.kind, r.output_shape, r.trainable_params) for r in layer_table(preset)]
    assert [(r.kind, r.output_shape, r.trainable_params) for r in layer_table(designed)] == as_preset


def test_the_modern_lenets_notation_is_the_one_the_docs_give():
    assert from_preset("lenet5").notation == LENET5
    assert from_preset("mlp_128").notation == "dense128 relu"  # the flattening of an MLP stays implied


def test_lenet5_1998_is_refused_and_an_unknown_preset_is_the_registrys_error():
    with pytest.raises(DesignError, match="lenet5_1998 is not a plain stack") as refused:
        from_preset("lenet5_1998")
    assert refused.value.layer == "lenet5_1998"
    with pytest.raises(models.UnknownModelError):
        from_preset("lenet7")


def _map_layer(rng: np.random.Generator) -> str:
    """A layer for the maps: fields in range, the sizes such that the maps often run out."""
    kind = rng.choice(["conv", "conv", "conv", "max", "avg", "bn", "act", "drop"])
    if kind == "conv":
        token = f"conv{rng.choice([1, 2, 4, 8, 16, 32])}k{rng.integers(1, 10)}"
        token += f"s{rng.integers(2, 4)}" if rng.random() < 0.2 else ""
        token += rng.choice(["", "", f"p{rng.integers(1, 5)}", "psame"])
        return token + (f"d{rng.integers(2, 4)}" if rng.random() < 0.15 else "")
    if kind in ("max", "avg"):
        return f"{kind}{rng.integers(1, 5)}" + (f"s{rng.integers(1, 5)}" if rng.random() < 0.3 else "")
    return _vector_layer(rng, kind)


def _vector_layer(rng: np.random.Generator, kind: str | None = None) -> str:
    kind = kind or rng.choice(["dense", "dense", "bn", "act", "drop"])
    if kind == "act":
        return str(rng.choice(["relu", "tanh", "sigmoid", "stanh"]))
    if kind == "drop":
        return f"drop{rng.choice([0, 0.1, 0.25, 0.5])}"
    if kind == "dense":
        return f"dense{rng.choice([1, 7, 10, 32, 100, 1024])}"
    return str(kind)


def _random_design(rng: np.random.Generator) -> str:
    """Maps, then maybe an explicit flatten, then vectors; one in ten shuffled, so a layer lands where it cannot be."""
    tokens = [_map_layer(rng) for _ in range(rng.integers(0, 8))]
    tokens += ["flat"] if rng.random() < 0.5 else []
    tokens += [_vector_layer(rng) for _ in range(rng.integers(0, 4))]
    if rng.random() < 0.1:
        rng.shuffle(tokens)
    return " ".join(tokens)


def _conv_and_dense_flops_per_image(counter: FlopCounterMode, batch: int) -> int:
    counts = counter.get_flop_counts()["Global"]
    ops = [op for op in counts if re.search(r"convolution|addmm|\bmm\b", str(op))]
    return sum(counts[op] for op in ops) // batch


def test_500_random_designs_are_refused_by_a_layer_or_build_what_the_table_says():
    rng = np.random.default_rng(20261207)
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    built, refusals = 0, []
    for _ in range(500):
        text = _random_design(rng)
        try:
            design = parse(text)
        except DesignError as exc:
            # a sentence that names one of the design's layers (conv3, pool2...)
            assert re.fullmatch(r"(conv|pool|bn|relu|tanh|sigmoid|stanh|drop|flat|dense)\d+", exc.layer), text
            assert str(exc).startswith(exc.layer) and "\n" not in str(exc), text
            refusals.append(exc.template)
            continue
        built += 1
        assert parse(design.notation) == design, text
        table = design_summary(design)
        model = build(design).eval()
        shapes = []
        leaves = [m for m in model.modules() if next(m.children(), None) is None]
        hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape))) for m in leaves]
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(x)
        for hook in hooks:
            hook.remove()
        assert shapes == [(2, *row["output_shape"]) for row in table["layers"]], text
        assert table["total_params"] == _n_params(model) == design.params, text
        macs = sum(row["macs"] for row in table["layers"] if row["kind"] in ("conv", "linear"))
        assert 2 * macs == _conv_and_dense_flops_per_image(counter, batch=2), text
    # A mix (this seed: 361 built, 139 refused for 8 different reasons, the caps among them).
    assert built > 300 and len(refusals) > 100 and len(set(refusals)) >= 8, (built, len(refusals), set(refusals))


def test_lenet5_with_16_filters_in_c1_hand_checked():
    table = design_summary(parse(LENET5.replace("conv6k5p2", "conv16k5p2")))
    conv1 = table["layers"][0]
    # C1: 16 kernels of 5x5x1 weights + 1 bias each = 416 (LeNet-5's 6 filters: 156)
    assert conv1["name"] == "conv1" and conv1["params"] == 416
    assert conv1["formula"] == "(5x5x1 + 1) x 16 = 416"
    assert from_preset("lenet5").layers[0].params == 156
    # conv2 now reads 16 maps: (5x5x16 + 1) x 16 = 6,416 instead of (5x5x6 + 1) x 16 = 2,416
    assert table["layers"][4]["formula"] == "(5x5x16 + 1) x 16 = 6,416"
    assert table["notation"] == LENET5.replace("conv6k5p2", "conv16k5p2")


def test_seed_001s_wide_network_hand_checked():
    rows = {row["name"]: row for row in design_summary(from_preset("keras_cnn_wide"))["layers"]}
    # 28x28 kept by same padding, pooled to 14x14 then 7x7: 64 x 7 x 7 = 3,136 values into dense1
    assert rows["conv1"]["formula"] == "(5x5x1 + 1) x 32 = 832"
    assert rows["conv2"]["formula"] == "(5x5x32 + 1) x 64 = 51,264"
    assert rows["flat1"]["output_shape"] == [3136]
    assert rows["dense1"]["formula"] == "(3136 + 1) x 1024 = 3,212,288"
    assert rows["dense2"]["formula"] == "(1024 + 1) x 10 = 10,250"
    assert sum(row["params"] for row in rows.values()) == 832 + 51_264 + 3_212_288 + 10_250 == 3_274_634


def test_an_mlp_hand_checked():
    design = parse("dense128 relu")
    assert [layer.name for layer in design.layers] == ["flat1", "dense1", "relu1", "dense2"]
    # (784 + 1) x 128 = 100,480 and (128 + 1) x 10 = 1,290: mlp_128's 101,770
    assert [layer.params for layer in design.layers] == [0, 100_480, 0, 1_290]
    assert design.params == 101_770 == _n_params(models.build("mlp_128"))


def test_a_final_dense10_is_the_output_layer_and_the_flattening_is_implied():
    assert parse("dense128 relu dense10") == parse("dense128 relu") == parse("flat dense128 relu")
    assert [layer.shape for layer in parse("").layers] == [(784,), (10,)]  # the output layer alone
    hidden = parse("dense10 dense10")  # a hidden layer of 10 before the output layer
    assert [layer.name for layer in hidden.layers] == ["flat1", "dense1", "dense2"]
    assert parse(hidden.notation) == hidden


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "conv6k5 max2 conv16k5 max2 conv32k5",
            "conv3: a 5x5 kernel does not fit the 4x4 map: pad by 1 or use a 3x3 kernel",
        ),
        ("conv", "conv: write this layer as conv16k5p2: 16 filters, a 5x5 kernel, padding 2"),
        ("dense0", "dense1: units must be 1 to 1024, not 0"),
        ("maxx", "maxx: write this layer as max2: max pooling over 2x2 windows"),
        ("drop1.5", "drop1: the dropout probability must be at least 0 and below 1, not 1.5"),
        ("relu pool3", "pool3 is not a layer: the notation knows conv, max, avg"),
        ("max4 max4 max2", "pool3: a 2x2 window does not fit the 1x1 map: use a window of 1 or less"),
        ("conv4k4psame", "conv1: same padding needs an odd kernel"),
        ("conv4k9d3 conv4k3d2", "conv2: a 3x3 kernel at dilation 2 spans 5x5, more than the 4x4 map"),
        ("max4 max3 conv2k9", "conv1: a 9x9 kernel does not fit the 2x2 map: pad by 4 or use a 1x1 kernel"),
        ("dense20 conv3k3", "conv1 needs feature maps, but flat1 has flattened them: move it before flat1"),
        ("flat relu flat", "flat2: the values are already flat after flat1: remove it"),
    ],
)
def test_an_impossible_design_is_one_sentence_naming_the_layer(text, sentence):
    with pytest.raises(DesignError) as refused:
        parse(text)
    assert str(refused.value).startswith(sentence)
    assert refused.value.layer == re.match(r"\w+", sentence).group()


def test_the_caps_are_said_when_hit():
    # params: 785 x 1024 = 803,840, then 1,049,600 per dense1024: the fifth reaches 5,002,240
    with pytest.raises(DesignError, match=f"dense5: .* 5,002,240 parameters .* cap of {MAX_PARAMS:,}"):
        parse("dense1024 " * 6)
    # multiply-adds: 128 maps of 28x28 each reading 9x9x128 values: 1,040,449,536 in conv2 alone
    with pytest.raises(
        DesignError, match=f"conv2: .* multiply-adds per image here, over this machine's cap of {MAX_MACS:,}"
    ):
        parse("conv128k9psame conv128k9psame")
    # layers: 40 ReLUs, the flattening and the output layer; the 33rd layer is the first over the cap
    with pytest.raises(DesignError, match=f"relu33: a design may have at most {MAX_LAYERS} layers"):
        parse("relu " * 40)


def test_a_refusal_is_said_in_chinese_on_a_chinese_page(in_chinese):
    with pytest.raises(DesignError) as refused:
        parse("conv6k5 max2 conv16k5 max2 conv32k5")
    said = str(refused.value)
    assert said.startswith("conv3") and "卷积核" in said and "4x4" in said and "3x3" in said


def test_build_draws_from_its_generator_never_the_global_one():
    design = parse("conv4k3 bn relu drop0.5 dense16 relu")
    before = torch.get_rng_state()
    first, again = build(design, generator=torch.Generator().manual_seed(7)), build(design)
    assert torch.equal(torch.get_rng_state(), before)
    second = build(design, generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.features.conv1.weight, again.features.conv1.weight)  # seed 0 by default
    assert first.notation == design.notation and not any(m.inplace for m in first.modules() if isinstance(m, nn.ReLU))


def test_the_command_prints_the_table_and_the_json_adds_formulas_and_the_notation(capsys):
    assert main(["design", "conv16k5p2 relu max2 dense120 relu"]) == 0
    out = capsys.readouterr().out
    assert "(5x5x1 + 1) x 16 = 416" in out and "conv1" in out and "pool1" in out
    assert main(["design", "conv16k5p2 relu max2 dense120 relu", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert main(["summary", "lenet5", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) | {"notation"} == set(payload)
    assert payload["notation"] == "conv16k5p2 relu max2 flat dense120 relu"
    # (16 x 14 x 14 + 1) x 120 = 376,440 in dense1; (120 + 1) x 10 = 1,210 in the output layer
    assert [row["formula"] for row in payload["layers"]][-3:] == [
        "(3136 + 1) x 120 = 376,440",
        "",
        "(120 + 1) x 10 = 1,210",
    ]
    assert payload["total_params"] == 416 + 376_440 + 1_210


def test_the_command_refuses_an_impossible_design_in_one_line(capsys):
    assert main(["design", "conv6k5 max2 conv16k5 max2 conv32k5"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: conv3: a 5x5 kernel does not fit the 4x4 map: pad by 1 or use a 3x3 kernel\n"
