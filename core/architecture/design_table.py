"""A designed network's layer table: ``summary --json``'s payload for the model a design builds,
its rows named as the design names its layers (conv1, pool1, flat1, dense1...), and its notation."""

from __future__ import annotations

from core.architecture.layers import summary_dict
from core.models.design import Design, build


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
