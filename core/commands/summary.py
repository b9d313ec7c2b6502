"""``python -m core summary MODEL``: the per-layer table, as the 1998 paper counts."""

from __future__ import annotations

from core import models
from core.architecture import layers
from core.architecture.notation import shape_text
from core.commands import CliError, emit

HELP = "per-layer table of a preset: output shape, parameters, connections, multiply-adds"

# Rows that change nothing a slide needs: shown with --all.
_QUIET_KINDS = ("activation", "dropout", "flatten")


def add_arguments(parser) -> None:
    parser.add_argument("model", help="preset name (see `python -m core models`)")
    parser.add_argument(
        "--all", action="store_true", help="also list activations, dropout and flatten (always in --json)"
    )


def render(summary: dict, *, show_all: bool = False) -> str:
    """The human table for ``summary_dict``'s payload."""
    rows = [r for r in summary["layers"] if show_all or r["kind"] not in _QUIET_KINDS]
    header = ("layer", "kind", "output", "params", "fixed", "connections", "MACs", "parameters as")
    table = [header] + [
        (
            r["name"],
            r["kind"],
            shape_text(r["output_shape"]),
            f"{r['trainable_params']:,}",
            f"{r['fixed']:,}" if r["fixed"] else "",
            f"{r['connections']:,}",
            f"{r['macs']:,}",
            r["formula"],
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    right = {3, 4, 5, 6}

    def fmt(line) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))]
        return "  ".join(cells).rstrip()

    out = [f"{summary['model']}: input 1@28×28", fmt(header), "  ".join("-" * w for w in widths)]
    out += [fmt(line) for line in table[1:]]
    out.append("")
    out.append(
        f"trainable parameters {summary['total_trainable_params']:,}"
        + (f", fixed values {summary['total_fixed']:,}" if summary["total_fixed"] else "")
        + f", connections {summary['total_connections']:,}, MACs {summary['total_macs']:,}"
    )
    if summary["total_batchnorm_params"]:
        out.append(
            f"  of which BatchNorm scale/shift {summary['total_batchnorm_params']:,}; "
            f"conv + fully connected layers alone {summary['total_weighted_layer_params']:,}"
        )
    for r in summary["layers"]:
        if "dense_params" in r:
            out.append(
                f"  {r['name']} reads only some input maps; with every map connected it would "
                f"have {r['dense_params']:,} parameters and {r['dense_connections']:,} connections"
            )
    return "\n".join(out)


def run(args) -> int:
    try:
        summary = layers.summary_dict(args.model)
    except models.UnknownModelError as exc:
        raise CliError(str(exc)) from None
    emit(args, summary, render(summary, show_all=args.all))
    return 0
