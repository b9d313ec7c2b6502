"""``python -m core models``: the presets with their parameter counts."""

from __future__ import annotations

from core import models
from core.architecture import layers
from core.commands import emit

HELP = "list the model presets with their parameter counts"


def add_arguments(parser) -> None:
    """No options besides --json."""


def preset_rows() -> list[dict]:
    """One plain dict per preset, in registry order, with the counts of ``core.architecture.layers``."""
    out = []
    for name in models.names():
        preset = models.PRESETS[name]
        total = layers.totals(layers.layer_table(name))
        out.append(
            {
                "name": name,
                "family": preset.family,
                "source": preset.source,
                "title": preset.title,
                "description": preset.description,
                "is_cnn": preset.is_cnn,
                "trainable_params": total["trainable_params"],
                "fixed": total["fixed"],
                "connections": total["connections"],
                "macs": total["macs"],
            }
        )
    return out


def run(args) -> int:
    rows = preset_rows()
    table = [("model", "trainable", "fixed", "MACs", "from", "what")]
    table += [
        (
            r["name"],
            f"{r['trainable_params']:,}",
            f"{r['fixed']:,}",
            f"{r['macs']:,}",
            r["source"].split(",")[0],
            r["title"],
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(c.rjust(w) if i in (1, 2, 3) else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
        for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("\nper-layer table: python -m core summary MODEL")
    emit(args, rows, "\n".join(lines))
    return 0
