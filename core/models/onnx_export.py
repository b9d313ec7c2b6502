"""A model as an ONNX file, to open in Netron (https://netron.app) and see its graph.

Uses torch's TorchScript-based exporter (``dynamo=False``): the newer dynamo exporter needs the
``onnxscript`` package, which this project does not install. The paper's own layer types
(scaled tanh, subsampling, C3's partial convolution, the RBF output) are exported as ONNX
functions, so Netron shows one ``Subsampling`` box where the paper has S2, which can be opened,
instead of a dozen anonymous arithmetic nodes. Constant folding is off so that BatchNorm stays a
visible node rather than being folded into the convolution before it.
"""

from __future__ import annotations

import copy
import io
import warnings

import onnx
import torch
from torch import nn

from core.models.lenet1998 import EuclideanRBF, PartialConv2d, ScaledTanh, Subsampling

OPSET = 17  # functions need >= 15; 17 opens in Netron and onnxruntime alike
INPUT_NAME, OUTPUT_NAME = "image", "logits"
_AS_FUNCTIONS = {ScaledTanh, Subsampling, PartialConv2d, EuclideanRBF, nn.ConstantPad2d}


def _drop_identities(model: onnx.ModelProto) -> None:
    """Remove the Identity nodes the exporter adds for shared initialisers (clutter in Netron)."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    for node in [n for n in graph.node if n.op_type == "Identity" and n.output[0] not in outputs]:
        source, alias = node.input[0], node.output[0]
        for other in graph.node:
            for i, name in enumerate(other.input):
                if name == alias:
                    other.input[i] = source
        graph.node.remove(node)


def export_onnx(model: nn.Module, *, opset: int = OPSET) -> bytes:
    """The model as ONNX bytes: input ``image`` (N x 1 x 28 x 28, normalised), output ``logits`` (N x 10).

    The batch size is left free. The caller's model is not touched (it may be shared): a copy is
    exported in eval mode on the CPU.
    """
    model = copy.deepcopy(model).cpu().eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter announces its deprecation on every call; it is chosen on purpose.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 1, 28, 28),),
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            do_constant_folding=False,
            export_modules_as_functions=_AS_FUNCTIONS,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    _drop_identities(proto)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def file_name(preset: str, checkpoint: str | None = None) -> str:
    """``lenet5.onnx`` for a checkpoint's weights, ``lenet5_untrained.onnx`` for fresh ones."""
    return f"{checkpoint}.onnx" if checkpoint else f"{preset}_untrained.onnx"
