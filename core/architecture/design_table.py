"""A designed network's layer table (``summary --json``'s payload for the model a design builds,
its rows named as the design names its layers: conv1, pool1, flat1, dense1...) and where designs
start: the presets that are plain stacks, written in the notation (``from_preset``), and the source
write-ups' experiments as groups of them."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from core import models
from core.architecture.layers import summary_dict
from core.i18n import N_
from core.models.common import NUM_CLASSES
from core.models.design import Design, DesignError, LayerSpec, build, parse


def design_summary(design: Design) -> dict:
    """``summary_dict`` of ``build(design)`` with the design's layer names, ``model`` "design" and
    ``notation``. The shapes come from the model's own forward pass; a design whose worked-out
    shapes differ from them is a bug of the notation's arithmetic, raised as one."""
    payload = summary_dict(build(design))
    rows = payload["layers"]
    measured = [tuple(row["output_shape"]) for row in rows]
    worked_out = [layer.shape for layer in design.layers]
    if measured != worked_out:
        raise RuntimeError(f"{design.notation!r}: the model's shapes {measured} are not the design's {worked_out}")
    for row, layer in zip(rows, design.layers):
        row["name"] = layer.name
    return {**payload, "model": "design", "notation": design.notation}


_NOT_A_STACK = N_(
    "{layer} is not a plain stack of layers (its partial C3 and its RBF output are not layers of the notation): start from lenet5 instead"
)


def from_preset(name: str) -> Design:
    """Preset ``name`` in the notation; LeNet-5 of 1998 is refused (its partial C3 and RBF output are
    not layers of a stack); an unknown name is ``UnknownModelError``."""
    preset = models.get(name)
    config, tokens = preset.config, []
    if preset.family == "lenet":
        for k, channels in enumerate(config.channels):
            padding = f"p{config.first_padding}" if k == 0 and config.first_padding else ""
            tokens += [
                f"conv{channels}k{config.kernel_size}{padding}",
                *(["bn"] if config.batch_norm else []),
                "relu",
                "max2",
            ]
    elif preset.family == "avgpool":
        for channels in config.channels:
            tokens += [f"conv{channels}k{config.kernel_size}", *(["bn", "relu"] if config.batch_norm else []), "avg2"]
    elif preset.family == "keras":
        for filters, kernel in config.convs:
            tokens += [f"conv{filters}k{kernel}" + ("psame" if config.padding == "same" else ""), "relu", "max2"]
        tokens += [f"drop{config.dropout:g}"] if config.dropout > 0 else []
    elif preset.family != "mlp":
        raise DesignError(name, _NOT_A_STACK)
    tokens += ["flat"] if preset.family != "mlp" else []
    for units in config.hidden:
        tokens += [f"dense{units}", "relu"]
    return parse(" ".join(tokens))


# The presets a design may start from (every plain stack, in the registry's order); LeNet-5 of 1998
# stays a reference to compare with.
STARTING_POINTS = tuple(name for name in models.names() if models.get(name).family != "lenet1998")

# Each source write-up's experiment, as the presets it compares: one click starts from each.
EXPERIMENTS = (
    ("seed 000", N_("average pooling, without and with BatchNorm"), ("cnn_avgpool", "cnn_avgpool_bn")),
    (
        "seed 001",
        N_("an MLP, then a small, a wide and a deeper CNN"),
        ("mlp_784", "keras_cnn_small", "keras_cnn_wide", "keras_cnn_deeper"),
    ),
    ("seed 002", N_("an MLP of two hidden layers"), ("mlp_256_128",)),
    ("seed 003", N_("an MLP of one small hidden layer"), ("mlp_128",)),
    ("seed 004", N_("LeNet-5 with today's parts"), ("lenet5",)),
)


# --- what the page needs beside the table: memory, the change from the start, rows to edit ----------

BYTES_PER_VALUE = 4  # float32: what the models compute in


def activation_bytes(layer: LayerSpec) -> int:
    """The memory one image's output of ``layer`` takes: its values (``prod(shape)``) x 4 bytes."""
    return activation_bytes_of(layer.shape)


def activation_bytes_of(shape: tuple[int, ...]) -> int:
    return math.prod(shape) * BYTES_PER_VALUE


SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"


@dataclass(frozen=True)
class LayerChange:
    """One layer of a design against the design it started from: ``name`` in the design now ("" when
    removed), ``was`` the start's layer it stands for ("" when added), and both parameter counts."""

    name: str
    was: str
    status: str  # SAME, CHANGED, ADDED or REMOVED
    params: int
    params_before: int

    @property
    def delta(self) -> int:
        return self.params - self.params_before


def layer_changes(start: Design, now: Design) -> list[LayerChange]:
    """``now`` layer by layer against ``start``, in the order of ``now`` (a removed layer where it
    was). Layers are matched as they are written and by their output shape first, then, among the
    others, by kind (difflib's longest matching runs, both times): so a layer put in or taken out is
    one added or removed row, and the layers around it keep their partners. A matched layer has changed when its notation,
    output shape or parameters differ (more filters in conv1 change conv2's parameters too)."""
    changes: list[LayerChange] = []
    _match(list(start.layers), list(now.layers), "token", changes)
    return changes


def _match(before: list[LayerSpec], after: list[LayerSpec], by: str, changes: list[LayerChange]) -> None:
    key = (lambda layer: (layer.token, layer.shape)) if by == "token" else (lambda layer: layer.kind)
    matcher = difflib.SequenceMatcher(None, [key(a) for a in before], [key(b) for b in after], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and by == "token":
            _match(before[i1:i2], after[j1:j2], "kind", changes)
            continue
        pairs = list(zip(before[i1:i2], after[j1:j2]))
        for old, new in pairs:
            same = (old.token, old.shape, old.params) == (new.token, new.shape, new.params)
            changes.append(LayerChange(new.name, old.name, SAME if same else CHANGED, new.params, old.params))
        changes += [LayerChange("", old.name, REMOVED, 0, old.params) for old in before[i1 + len(pairs) : i2]]
        changes += [LayerChange(new.name, "", ADDED, new.params, 0) for new in after[j1 + len(pairs) : j2]]


# The stack as a table of rows to edit: one row per layer written in the notation (the implied
# flattening and the output layer left out, as the notation leaves them), each field a column.
FIELDS = ("kind", "size", "kernel", "stride", "padding", "dilation", "p")
KINDS = ("conv", "max", "avg", "bn", "relu", "tanh", "sigmoid", "stanh", "drop", "flat", "dense")
PADDINGS = ("0", "1", "2", "3", "4", "same")
# What a field left empty stands for, per kind: a new row's first numbers.
DEFAULTS = {"conv": {"size": 8, "kernel": 3}, "max": {"size": 2}, "avg": {"size": 2}, "dense": {"size": 64}}
DEFAULT_P = 0.25


def editable_rows(design: Design) -> list[dict]:
    """The layers the notation writes, as rows of :data:`FIELDS` (None where a field does not apply)."""
    tokens = design.notation.split()
    written = len(tokens) - (tokens[-1:] == [f"dense{NUM_CLASSES}"])  # a written output layer is no row
    body = list(design.layers[:-1])  # the output layer is always there
    if len(body) > written:  # a leading flattening the notation leaves implied (an MLP)
        body = body[1:]
    rows = []
    for layer in body:
        row = dict.fromkeys(FIELDS)
        row["kind"] = layer.kind
        if layer.kind == "conv":
            row.update(
                size=layer.size,
                kernel=layer.kernel,
                stride=layer.stride,
                padding=str(layer.padding),
                dilation=layer.dilation,
            )
        elif layer.kind in ("max", "avg"):
            row.update(size=layer.size, stride=layer.stride)
        elif layer.kind == "dense":
            row["size"] = layer.size
        elif layer.kind == "drop":
            row["p"] = layer.p
        rows.append(row)
    return rows


def _number(value, default):
    """A cell's number: ``default`` for an empty one (None, NaN, "")."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return default
    return value


def filled(row: dict) -> dict:
    """``row`` with every field its kind uses filled in (an empty one takes the kind's default), as
    numbers of the field's type: ints, the padding as text, the dropout as a float."""
    kind = row.get("kind") or ""
    defaults = DEFAULTS.get(kind, {})
    size = int(_number(row.get("size"), defaults.get("size", 0)))
    return {
        "kind": kind,
        "size": size,
        "kernel": int(_number(row.get("kernel"), defaults.get("kernel", 0))),
        "stride": int(_number(row.get("stride"), size if kind in ("max", "avg") else 1)),
        "padding": str(_number(row.get("padding"), "0")),
        "dilation": int(_number(row.get("dilation"), 1)),
        "p": float(_number(row.get("p"), DEFAULT_P)),
    }


def row_token(row: dict) -> str:
    """One row in the notation's canonical spelling; an empty field takes the kind's default, a row
    without a kind is ""."""
    if (row.get("kind") or "") not in KINDS:
        return str(row.get("kind") or "")
    values = filled(row)
    padding = values.pop("padding")
    return LayerSpec(**values, padding=padding if padding == "same" else int(float(padding))).token


def rows_notation(rows: list[dict]) -> str:
    """The notation of rows to edit; a last row of ``dense10`` is a hidden layer, so the output
    layer is then written after it (the notation reads a final ``dense10`` as the output layer)."""
    tokens = [token for token in map(row_token, rows) if token]
    if tokens and tokens[-1] == f"dense{NUM_CLASSES}":
        tokens.append(tokens[-1])
    return " ".join(tokens)


def readable_rows(text: str) -> list[dict]:
    """The rows of a notation that cannot be built as a whole: each layer that can be read on its own
    (followed by a ReLU, so that no token is taken for the output layer or an implied flattening);
    a token that cannot be read has no row."""
    rows = []
    for token in text.replace(",", " ").lower().split():
        try:
            rows += editable_rows(parse(f"{token} relu"))[:1]
        except DesignError:
            continue
    return rows
