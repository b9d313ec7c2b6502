"""``python -m core design "NOTATION"``: the layer table of a network written in the design
notation (docs/reference.md), or the one sentence that says why it cannot be built."""

from __future__ import annotations

from core.architecture.design_table import design_summary
from core.commands import CliError, emit
from core.commands.summary import render
from core.models.design import DesignError, parse

HELP = 'layer table of a network written in the design notation, e.g. "conv6k5p2 relu max2 dense120 relu"'


def add_arguments(parser) -> None:
    parser.add_argument(
        "notation",
        help="layers separated by spaces: conv{F}k{K}[s{S}][p{P}|psame][d{D}], max{K}[s{S}], avg{K}[s{S}], bn, "
        "relu, tanh, sigmoid, stanh, drop{P}, flat, dense{U}; the output layer of 10 is implied",
    )


def run(args) -> int:
    try:
        design = parse(args.notation)
    except DesignError as exc:
        raise CliError(str(exc)) from None
    summary = design_summary(design)
    emit(
        args,
        summary,
        f"notation: {summary['notation'] or '(the output layer alone)'}\n" + render(summary, show_all=True),
    )
    return 0
