"""core.architecture.diagram and core.architecture.views: the /architecture page's numbers, from the models."""

import pytest
import torch

from core import models
from core.architecture import diagram
from core.architecture import views as av

# Table I of LeCun et al. 1998, read column by column: C3 map -> the S2 maps it reads.
PAPER_TABLE_I = [
    {0, 1, 2},
    {1, 2, 3},
    {2, 3, 4},
    {3, 4, 5},
    {4, 5, 0},
    {5, 0, 1},
    {0, 1, 2, 3},
    {1, 2, 3, 4},
    {2, 3, 4, 5},
    {3, 4, 5, 0},
    {4, 5, 0, 1},
    {5, 0, 1, 2},
    {0, 1, 3, 4},
    {1, 2, 4, 5},
    {0, 2, 3, 5},
    {0, 1, 2, 3, 4, 5},
]


def test_lenet5_1998_stages_are_the_papers_figure_2():
    stages = diagram.stages("lenet5_1998")
    # Fig. 2: INPUT 32x32, C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120, F6 84, OUTPUT 10.
    assert [(s.name, s.caption) for s in stages] == [
        ("INPUT", "1@32×32"),
        ("C1", "6@28×28"),
        ("S2", "6@14×14"),
        ("C3", "16@10×10"),
        ("S4", "16@5×5"),
        ("C5", "120@1×1"),
        ("F6", "84"),
        ("OUTPUT", "10"),
    ]
    ops = [s.operation for s in stages[1:]]
    assert ops[1] == "2x2 subsampling" and ops[-1] == "Gaussian connections"
    assert ops[4] == "5x5 convolution (= full connection)"  # C5's 5x5 kernel covers S4's 5x5 maps
    assert stages[1].after == ("scaled tanh",) and stages[3].trainable_params == 1516


def test_lenet5_1998_stages_in_chinese_say_input_and_output_in_chinese(in_chinese):
    stages = diagram.stages("lenet5_1998")
    # The paper's letters stay (C1 ... F6); its two words are the reader's: 输入, 输出.
    assert [s.name for s in stages] == ["输入", "C1", "S2", "C3", "S4", "C5", "F6", "输出"]
    assert stages[1].operation == "5x5 卷积"


def test_the_diagram_is_html_text_that_wraps():
    from dashboard.architecture import figures

    stages = diagram.stages("lenet5_1998")
    drawn = figures.network_html(stages, label="LeNet-5")
    # One list item per stage and per arrow between two (8 + 7), in a list that wraps on a narrow
    # screen; every name and operation is text in it (a screen reader reads it, a browser wraps it).
    assert drawn.count("<li ") == 15 and "flex-wrap:wrap" in drawn
    assert all(s.name in drawn and s.operation in drawn for s in stages)
    assert "<svg" not in drawn and "<text" not in drawn  # the boxes carry no words


def test_modern_lenet_stages_fold_elementwise_layers():
    stages = diagram.stages("lenet5")
    assert [s.name for s in stages] == ["input", "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3"]
    assert stages[1].after == ("BatchNorm", "ReLU") and stages[1].operation == "5x5 convolution, padding 2"
    assert stages[5].operation == "flatten, full connection"


@pytest.mark.parametrize("name", models.names())
def test_every_preset_has_stages_ending_in_ten_units(name):
    stages = diagram.stages(name)
    assert stages[0].operation == "" and stages[-1].shape == (10,)
    # The stages carry every trainable parameter of layers with weights.
    model = models.build(name)
    bn = sum(
        p.numel()
        for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        for p in m.parameters()
    )
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert sum(s.trainable_params for s in stages) == total - bn


def test_comparison_numbers_come_from_the_models():
    by_aspect = {d.aspect: d for d in av.lenet_comparison()}
    # The paper: 60,000 trainable parameters; the modern LeNet: 61,706 in conv + dense layers.
    assert (by_aspect["parameters"].paper, by_aspect["parameters"].modern) == ("60,000", "61,706")
    assert (by_aspect["C3 / conv2"].paper, by_aspect["C3 / conv2"].modern) == ("1,516", "2,416")
    assert "(5x5x6 + 1) x 16 = 2,416" in by_aspect["C3 / conv2"].sentence
    assert "840" in by_aspect["output"].paper and "850" in by_aspect["output"].modern
    assert by_aspect["connections"].paper == "340,908"  # the paper's 340,908 connections


def test_connection_grid_is_table_i():
    c3 = av.partial_conv(models.build("lenet5_1998"))
    grid = av.connection_grid(c3)
    assert grid.shape == (6, 16) and grid.sum() == 60  # 60 kernels of 5x5
    assert [set(grid[:, j].nonzero()[0].tolist()) for j in range(16)] == PAPER_TABLE_I
    assert av.partial_conv(models.build("lenet5")) is None


def test_map_arithmetic_and_total():
    c3 = av.partial_conv(models.build("lenet5_1998"))
    first = av.map_arithmetic(c3, 0, (10, 10))
    # Map 0 reads S2 maps 0, 1, 2: 3 x 25 + 1 = 76 parameters; 100 outputs x 76 = 7,600 connections.
    assert first.inputs == (0, 1, 2) and first.params == 76 and first.connections == 7600
    assert av.map_arithmetic(c3, 15, (10, 10)).params == 151
    assert av.partial_conv_total(c3) == "6 x (3x5x5 + 1) + 9 x (4x5x5 + 1) + 1 x (6x5x5 + 1) = 456 + 909 + 151 = 1,516"
    with pytest.raises(ValueError):
        av.map_arithmetic(c3, 16, (10, 10))


def test_conv_anatomy_and_filter_kernels():
    model = models.build("lenet5")
    conv1, conv2 = av.conv_anatomy(model)
    assert conv2.weight_shape == (16, 6, 5, 5) and conv2.in_shape == (6, 14, 14)
    assert conv2.filters == 16 and conv2.kernels == 96  # 16 filters x 6 kernels
    assert conv1.kernels_per_filter == (1,) * 6
    channels, kernels = av.filter_kernels(model, "features.conv2", 3)
    assert channels == list(range(6))
    assert torch.equal(torch.from_numpy(kernels), model.features.conv2.weight[3].detach())

    paper = models.build("lenet5_1998")
    c3 = {a.name: a for a in av.conv_anatomy(paper)}["c3"]
    assert c3.kernels == 60 and c3.kernels_per_filter[:6] == (3,) * 6 and c3.kernels_per_filter[15] == 6
    channels, kernels = av.filter_kernels(paper, "c3", 12)
    assert channels == [0, 1, 3, 4] and kernels.shape == (4, 5, 5)  # Table I, column 12
    assert torch.equal(torch.from_numpy(kernels), paper.c3.dense_weight()[12, [0, 1, 3, 4]].detach())
    assert av.conv_anatomy(models.build("mlp_128")) == []
