"""One unit of the journey opened: its arithmetic written out as a person computes it, from
``core.explain.journey.open_unit``: a convolution's input patches beside their kernels and each
sum, then the total plus the bias; a pooling window and its choice; a normalisation's or an
activation's formula; a dense unit's largest products; the output's softmax. Numbers are text (a
screen reader reads every one); the patches and kernels are tables named by their titles.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.explain.journey import Arithmetic
from core.grids.arithmetic import format_number
from core.i18n import _
from dashboard.figures import html_pictures
from dashboard.frame import presenter

DECIMALS = 3  # the numbers written out, and a prediction judged, to this many places


def _n(value: float) -> str:
    return format_number(value, DECIMALS)


def _signed(value: float) -> str:
    return f"({_n(value)})" if value < 0 else _n(value)


def frame(a: Arithmetic, target: str) -> list[str]:
    """One step of the player on a map: the grids this unit read, drawn here, and the lines of its
    arithmetic for the player's equation, the last one the value (the model's own beside it when
    rounding makes them differ)."""
    st.markdown(_("**{unit}**: the model computed **{value}**").format(unit=a.unit.text, value=_n(a.value)))
    if a.kind == "conv":
        _grids(a)
        return [
            _("{target} = Σ window × kernel over maps {maps}, + bias").format(
                target=target, maps=", ".join(str(i) for i in a.inputs)
            ),
            "= " + " + ".join(_signed(v) for v in (*a.sums, a.bias)),
            f"= {_n(a.computed)}",
        ]
    if a.kind == "pool":
        window = np.asarray(a.patches[0])
        st.html(html_pictures.grid_html(window, title=_("the window"), cell_px=round(36 * presenter.figure_scale())))
        if a.operation == "subsampling":
            return [
                _("{target} = (sum of the window) × coefficient + bias").format(target=target),
                f"= {_n(window.sum())} × {_signed(a.weights[0])} + {_signed(a.bias)}",
                f"= {_n(a.computed)}",
            ]
        operation = "max" if a.operation == "max" else _("mean")
        return [f"{target} = {operation}(" + ", ".join(_n(v) for v in window.ravel()) + ")", f"= {_n(a.computed)}"]
    if a.kind == "norm":
        mean, var, gamma = a.weights
        return [
            f"{target} = (x − μ) / √(σ² + ε) × γ + β",
            f"= ({_n(a.given)} − {_signed(mean)}) / √({_n(var)} + ε) × {_signed(gamma)} + {_signed(a.bias)}",
            f"= {_n(a.computed)}",
        ]
    return [f"{target} = {a.operation}({_n(a.given)})", f"= {_n(a.computed)}"]


def arithmetic(a: Arithmetic) -> None:
    """The unit's value as the model computed it, then the arithmetic that gives it, by the layer's kind."""
    st.markdown(_("**{unit}**: the model computed **{value}**").format(unit=a.unit.text, value=_n(a.value)))
    if a.kind == "conv":
        _conv(a)
    elif a.kind == "pool":
        _pool(a)
    elif a.kind == "norm":
        mean, var, gamma = a.weights
        st.markdown(
            _("({x} − {mean}) / √({var} + ε) × {gamma} + {beta} = **{result}**").format(
                x=_n(a.given), mean=_n(mean), var=_n(var), gamma=_n(gamma), beta=_n(a.bias), result=_n(a.computed)
            )
        )
    elif a.kind == "activation":
        st.markdown(
            _("{function}({x}) = **{result}**").format(function=a.operation, x=_n(a.given), result=_n(a.computed))
        )
    else:
        _dense(a)
        if a.kind == "output":
            _softmax(a)


def _grids(a: Arithmetic) -> None:
    """Each input map's window beside its kernel and their sum of products."""
    cell = round(30 * presenter.figure_scale())
    parts = []
    for read, patch, kernel, total in zip(a.inputs, a.patches, a.kernels, a.sums):
        patch, kernel = np.asarray(patch), np.asarray(kernel)
        parts.append(
            html_pictures.grids_row(
                html_pictures.grid_html(patch, title=_("input map {map}").format(map=read), cell_px=cell, decimals=1),
                html_pictures.label_html("×"),
                html_pictures.grid_html(kernel, title=_("kernel"), cell_px=cell, decimals=2, zmid=0, colorscale="RdBu"),
                html_pictures.label_html(f"= {_n(total)}"),
                gap_px=10,
                align="center",
            )
        )
    st.html("<div style='display:flex;flex-direction:column;gap:10px'>" + "".join(parts) + "</div>")


def _conv(a: Arithmetic) -> None:
    _grids(a)
    terms = " + ".join(f"({_n(s)})" if s < 0 else _n(s) for s in a.sums)
    st.markdown(
        _(
            "Each window of the maps this unit reads (rows {top} to {bottom}, columns {left} to {right}) times "
            "its kernel, summed: {terms}, plus the bias {bias} = **{result}**"
        ).format(
            top=a.window[0],
            bottom=a.window[0] + a.window[2] - 1,
            left=a.window[1],
            right=a.window[1] + a.window[3] - 1,
            terms=terms,
            bias=_n(a.bias),
            result=_n(a.computed),
        )
    )


def _pool(a: Arithmetic) -> None:
    window = np.asarray(a.patches[0])
    st.html(html_pictures.grid_html(window, title=_("the window"), cell_px=round(36 * presenter.figure_scale())))
    numbers = ", ".join(_n(v) for v in window.ravel())
    if a.operation == "max":
        line = _("max({numbers}) = **{result}**").format(numbers=numbers, result=_n(a.computed))
    elif a.operation == "average":
        line = _("mean({numbers}) = **{result}**").format(numbers=numbers, result=_n(a.computed))
    else:
        line = _("({numbers}: sum {total}) × {coefficient} + {bias} = **{result}**").format(
            numbers=numbers,
            total=_n(window.sum()),
            coefficient=_n(a.weights[0]),
            bias=_n(a.bias),
            result=_n(a.computed),
        )
    st.markdown(line)


def _dense(a: Arithmetic) -> None:
    inputs = a.extra["inputs"]
    rows = [
        {_("input"): i, _("value"): _n(x), _("weight"): _n(w), _("product"): _n(p)}
        for i, x, w, p in zip(a.inputs, inputs, a.weights, a.sums)
    ]
    caption = (
        _("The {shown} largest of its {count} terms, −(input − centre)² each (a fixed RBF centre):")
        if a.operation == "rbf"
        else _("The {shown} largest of its {count} products (input × weight):")
    )
    st.caption(caption.format(shown=len(rows), count=a.extra["count"]))
    st.dataframe(rows, hide_index=True, width="content")
    st.markdown(
        _("All {count} summed, plus the bias {bias} = **{result}**").format(
            count=a.extra["count"], bias=_n(a.bias), result=_n(a.computed)
        )
    )


def _softmax(a: Arithmetic) -> None:
    logits, exps, probabilities = a.extra["logits"], a.extra["exps"], a.extra["probabilities"]
    rows = [
        {
            _("class"): i,
            _("logit"): _n(z),
            _("exp(logit − {top})").format(top=_n(a.extra["shift"])): _n(e),
            _("probability"): f"{p:.2%}",
        }
        for i, (z, e, p) in enumerate(zip(logits, exps, probabilities))
    ]
    st.markdown(
        _(
            "**Softmax**: each class's exp(logit), divided by their sum {total} (shifted by the largest logit, {top}: the same ratios)"
        ).format(total=_n(a.extra["total"]), top=_n(a.extra["shift"]))
    )
    st.dataframe(rows, hide_index=True, width="content")
