"""The controls of /convolution: which input grid and which kernel, grids the student types,
stride / padding / dilation, and the output-size formula with the chosen numbers in it.

Each returns plain values (numpy arrays, numbers, names); every widget's key is the name of its
URL parameter where it is kept in the link (``bind="query-params"``). An option's value is its
English name (marked ``N_``, what the tests and the English links use); the student reads it in
the session's language (``format_func=labels()``), and the link holds that label.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core import i18n
from core.data.mnist import DataNotFoundError, load_test
from core.grids import gridmath, presets
from core.grids.gridmath import GridSettingsError
from core.i18n import N_, _, current_language
from core.models import checkpoints
from dashboard.convolution.numbered_draw import numbered_draw
from dashboard.frame import presenter
from dashboard.frame.links import BOUND

MNIST_PATCH, TYPED = N_("MNIST digit patch"), N_("Type your own")
VERTICAL_EDGE, RANDOM = N_("Vertical edge"), N_("Random whole numbers")
# The trained LeNet-5's first layer (C1) has six kernels: each option's name is in the catalogue, so
# that a link naming one opens in either language (a seventh, were there one, would be built).
LENET_KERNELS = (
    N_("LeNet-5 C1 kernel 1"),
    N_("LeNet-5 C1 kernel 2"),
    N_("LeNet-5 C1 kernel 3"),
    N_("LeNet-5 C1 kernel 4"),
    N_("LeNet-5 C1 kernel 5"),
    N_("LeNet-5 C1 kernel 6"),
)


def lenet_kernel_name(i: int) -> str:
    """The English name (the option's value) of kernel ``i`` (from 0) of the trained LeNet-5's C1."""
    return LENET_KERNELS[i] if i < len(LENET_KERNELS) else f"LeNet-5 C1 kernel {i + 1}"


def labels():
    """An options' ``format_func``: an English name in the language of the run that draws the
    widget (fixed then, so that the label does not depend on who later asks, e.g. AppTest)."""
    return i18n.translations(current_language()).gettext


@st.cache_resource(show_spinner=False)
def _test_digits() -> np.ndarray | None:
    try:
        return load_test().images.numpy()
    except DataNotFoundError:
        return None


def test_digits() -> np.ndarray | None:
    """The MNIST test images (uint8), or None when MNIST is not in ``data/``."""
    with st.spinner(_("Loading the MNIST test digits...")):
        return _test_digits()


@st.cache_resource(show_spinner=False)
def lenet_first_layer(folder: str, stamp: float | None, language: str):
    """Cached per checkpoint file version (``stamp``: its modification time) and per language
    (the reason when there is none is a sentence)."""
    return presets.trained_first_layer("lenet5", folder)


def trained_kernels():
    folder = Path(checkpoints.DEFAULT_DIR)
    path = folder / "lenet5.pt"
    return lenet_first_layer(str(folder), path.stat().st_mtime if path.is_file() else None, current_language())


def impossible(what: str, exc: GridSettingsError) -> None:
    """One line saying why these settings cannot work (``what``, translated: "Cannot pool", "Impossible")."""
    st.error(_("{what}: {reason}.").format(what=what, reason=exc), icon=":material/block:")


def geometry_controls(prefix: str, column) -> tuple[int, int, int]:
    """Stride, padding and dilation (folded away in presenter mode), in ``column``."""
    with column:
        stride = st.slider(_("Stride"), 1, 3, 1, key=f"{prefix}_stride", bind=BOUND)
        padding = st.slider(_("Padding"), 0, 2, 0, key=f"{prefix}_padding", bind=BOUND)
        with presenter.secondary(_("Dilation")):
            dilation = st.slider(_("Dilation"), 1, 2, 1, key=f"{prefix}_dilation", bind=BOUND)
    return stride, padding, dilation


def output_shape_calculator(n: int, k: int, stride: int, padding: int, dilation: int) -> bool:
    """The formula with these numbers in it (an ``n``×``n`` input, a ``k``×``k`` kernel); False
    (and the reason) when it cannot work."""
    formula = r"\left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
    label = _("output size")
    try:
        size = gridmath.output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        st.latex(rf"\text{{{label}}} = {formula}")
        impossible(_("Impossible"), exc)
        return False
    st.latex(
        rf"\text{{{label}}} = {formula} = \left\lfloor \frac{{{n} + 2\cdot{padding} - {dilation}({k}-1) - 1}}"
        rf"{{{stride}}} \right\rfloor + 1 = {size}"
    )
    sentence = _(
        "The {n}×{n} input gives a <b>{size}×{size}</b> output (n={n}, k={k}, padding p={padding}, "
        "dilation d={dilation}, stride s={stride})."
    ).format(n=n, size=size, k=k, padding=padding, dilation=dilation, stride=stride)
    st.markdown(f"<div style='text-align:center'>{sentence}</div>", unsafe_allow_html=True)
    return True


def typed_grid(label: str, initial: np.ndarray, key: str) -> np.ndarray:
    """An editable grid of numbers; an emptied cell comes back as NaN, which core reports."""
    st.caption(label)
    columns = {str(c): st.column_config.NumberColumn(str(c + 1), width=44) for c in range(initial.shape[1])}
    edited = st.data_editor(
        pd.DataFrame(initial, columns=list(columns)), key=key, hide_index=True, column_config=columns, width="content"
    )
    return edited.to_numpy(dtype=float)


def input_grid(prefix: str, digits: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The single-channel input chosen by the student, and a one-line description."""
    choices = ([MNIST_PATCH] if digits is not None else []) + [VERTICAL_EDGE, RANDOM, TYPED]
    choice = st.selectbox(_("Input"), choices, format_func=labels(), key=f"{prefix}_input", bind=BOUND)
    # One key for every input, so that the size is one URL parameter; it keeps its value when
    # the input changes.
    size = st.slider(
        _("Input size"), 3, gridmath.MAX_SIDE, 8 if choice == MNIST_PATCH else 6, key=f"{prefix}_size", bind=BOUND
    )
    if choice == MNIST_PATCH:
        index = st.number_input(
            _("Test digit number"), 0, len(digits) - 1, 0, key=f"{prefix}_digit", width=220, bind=BOUND
        )
        return (
            presets.mnist_patch(digits[index], size),
            _("the middle of test digit #{index}, brightness 0-9").format(index=index),
        )
    if choice == VERTICAL_EDGE:
        return presets.vertical_edge(size), _("a bright left half beside a dark right half")
    if choice == RANDOM:
        # A numbered draw, kept in the URL: a shared link shows everyone the same numbers.
        seed = numbered_draw(f"{prefix}_seed", button_key=f"{prefix}_reroll", in_url=True)
        return presets.random_integers((size, size), seed), _("random whole numbers 0-9")
    return typed_grid(
        _("Type the input (click a cell):"), presets.vertical_edge(size), f"{prefix}_typed_input_{size}"
    ), _("your numbers")


def kernel_choice(prefix: str) -> tuple[np.ndarray, float, str]:
    """The kernel (a preset, one of the trained LeNet-5's first layer, or typed), its bias and
    its name (as the student reads it)."""
    layer, why_not = trained_kernels()
    lenet = [lenet_kernel_name(i) for i in range(len(layer.kernels))] if layer else []
    choice = st.selectbox(
        _("Kernel"), list(presets.KERNELS) + lenet + [TYPED], format_func=labels(), key=f"{prefix}_kernel", bind=BOUND
    )
    if not layer:
        st.caption(why_not)
    if choice in presets.KERNELS:
        kernel, bias = presets.KERNELS[choice], 0.0
    elif choice in lenet:
        i = lenet.index(choice)
        kernel, bias = layer.kernels[i], float(layer.biases[i])
        st.caption(
            _("Learned by the trained `lenet5` (test accuracy {accuracy:.2%}).").format(accuracy=layer.test_accuracy)
            if layer.test_accuracy is not None
            else _("Learned by the trained `lenet5`.")
        )
    else:
        k = st.slider(_("Kernel size"), *gridmath.KERNEL_RANGE, 3, key=f"{prefix}_ksize", bind=BOUND)
        initial = np.zeros((k, k))
        initial[k // 2, k // 2] = 1
        kernel, bias = typed_grid(_("Type the kernel:"), initial, f"{prefix}_typed_kernel_{k}"), 0.0
    with presenter.secondary(_("Bias")):
        bias = st.number_input(_("Bias"), value=round(bias, 4), step=0.5, format="%g", key=f"{prefix}_bias_{choice}")
    return kernel, float(bias), _(choice)
