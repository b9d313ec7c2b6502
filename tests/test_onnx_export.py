"""core.models.onnx_export: the exported graph computes what the torch model computes."""

import numpy as np
import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator

from core import models
from core.models.onnx_export import export_onnx, file_name


@pytest.mark.parametrize("name", ["lenet5_1998", "lenet5", "mlp_128"])
def test_onnx_matches_torch(name):
    torch.manual_seed(0)
    model = models.build(name).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    proto = onnx.load_from_string(export_onnx(model))
    x = torch.randn(3, 1, 28, 28)  # a batch of 3 although exported with 1: the batch axis is free
    (out,) = ReferenceEvaluator(proto).run(None, {"image": x.numpy()})
    with torch.no_grad():
        expected = model(x).numpy()
    assert out.shape == (3, 10)
    # torch is the reference; float32 sums of a few hundred terms agree to ~1e-5 relative.
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched


def test_graph_reads_like_the_paper():
    proto = onnx.load_from_string(export_onnx(models.build("lenet5_1998")))
    ops = [node.op_type for node in proto.graph.node]
    # The paper's own layers are single ONNX functions, so Netron shows C1 -> S2 -> C3 ... as boxes.
    assert ops == [
        "ConstantPad2d",
        "Conv",
        "ScaledTanh",
        "Subsampling",
        "ScaledTanh",
        "PartialConv2d",
        "ScaledTanh",
        "Subsampling",
        "ScaledTanh",
        "Conv",
        "ScaledTanh",
        "Flatten",
        "Gemm",
        "ScaledTanh",
        "EuclideanRBF",
    ]
    modern = [n.op_type for n in onnx.load_from_string(export_onnx(models.build("lenet5"))).graph.node]
    assert "BatchNormalization" in modern and "Identity" not in modern  # BN kept, not folded


def test_file_name():
    assert file_name("lenet5") == "lenet5_untrained.onnx"
    assert file_name("lenet5", "lenet5_best") == "lenet5_best.onnx"
