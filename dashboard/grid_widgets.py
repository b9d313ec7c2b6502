"""The controls of /convolution: which input grid and which kernel, grids the student types,
stride / padding / dilation, and the output-size formula with the chosen numbers in it.

Each returns plain values (numpy arrays, numbers, names); every widget's key is the name of its
URL parameter where it is kept in the link (``bind="query-params"``).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core import checkpoints, gridmath, gridpresets
from core.data import DataNotFoundError, load_test
from core.gridmath import GridSettingsError
from dashboard import ui
from dashboard.links import BOUND
from dashboard.numbered_draw import numbered_draw


@st.cache_resource(show_spinner="Loading the MNIST test digits...")
def test_digits() -> np.ndarray | None:
    """The MNIST test images (uint8), or None when MNIST is not in ``data/``."""
    try:
        return load_test().images.numpy()
    except DataNotFoundError:
        return None


@st.cache_resource(show_spinner=False)
def lenet_first_layer(folder: str, stamp: float | None):
    """Cached per checkpoint file version (``stamp``: its modification time)."""
    return gridpresets.trained_first_layer("lenet5", folder)


def trained_kernels():
    folder = Path(checkpoints.DEFAULT_DIR)
    path = folder / "lenet5.pt"
    return lenet_first_layer(str(folder), path.stat().st_mtime if path.is_file() else None)


def impossible(what: str, exc: GridSettingsError) -> None:
    """One line saying why these settings cannot work (``what``: "Cannot pool", "Impossible")."""
    st.error(f"{what}: {exc}.", icon=":material/block:")


def geometry_controls(prefix: str, column) -> tuple[int, int, int]:
    """Stride, padding and dilation (folded away in presenter mode), in ``column``."""
    with column:
        stride = st.slider("Stride", 1, 3, 1, key=f"{prefix}_stride", bind=BOUND)
        padding = st.slider("Padding", 0, 2, 0, key=f"{prefix}_padding", bind=BOUND)
        with ui.secondary("Dilation"):
            dilation = st.slider("Dilation", 1, 2, 1, key=f"{prefix}_dilation", bind=BOUND)
    return stride, padding, dilation


def output_shape_calculator(n: int, k: int, stride: int, padding: int, dilation: int) -> bool:
    """The formula with these numbers in it (an ``n``×``n`` input, a ``k``×``k`` kernel); False
    (and the reason) when it cannot work."""
    formula = r"\left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
    try:
        size = gridmath.output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    except GridSettingsError as exc:
        st.latex(rf"\text{{output size}} = {formula}")
        impossible("Impossible", exc)
        return False
    st.latex(rf"\text{{output size}} = {formula} = \left\lfloor \frac{{{n} + 2\cdot{padding} - {dilation}({k}-1) - 1}}"
             rf"{{{stride}}} \right\rfloor + 1 = {size}")
    st.markdown(f"<div style='text-align:center'>The {n}×{n} input gives a <b>{size}×{size}</b> output "
                f"(n={n}, k={k}, padding p={padding}, dilation d={dilation}, stride s={stride}).</div>",
                unsafe_allow_html=True)
    return True


def typed_grid(label: str, initial: np.ndarray, key: str) -> np.ndarray:
    """An editable grid of numbers; an emptied cell comes back as NaN, which core reports."""
    st.caption(label)
    columns = {str(c): st.column_config.NumberColumn(str(c + 1), width=44) for c in range(initial.shape[1])}
    edited = st.data_editor(pd.DataFrame(initial, columns=list(columns)), key=key, hide_index=True,
                            column_config=columns, width="content")
    return edited.to_numpy(dtype=float)


def input_grid(prefix: str, digits: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The single-channel input chosen by the student, and a one-line description."""
    choices = (["MNIST digit patch"] if digits is not None else []) + \
        ["Vertical edge", "Random whole numbers", "Type your own"]
    choice = st.selectbox("Input", choices, key=f"{prefix}_input", bind=BOUND)
    # One key for every input, so that the size is one URL parameter; it keeps its value when
    # the input changes.
    size = st.slider("Input size", 3, gridmath.MAX_SIDE, 8 if choice == "MNIST digit patch" else 6,
                     key=f"{prefix}_size", bind=BOUND)
    if choice == "MNIST digit patch":
        index = st.number_input("Test digit number", 0, len(digits) - 1, 0, key=f"{prefix}_digit", width=220,
                                bind=BOUND)
        return gridpresets.mnist_patch(digits[index], size), f"the middle of test digit #{index}, brightness 0-9"
    if choice == "Vertical edge":
        return gridpresets.vertical_edge(size), "a bright left half beside a dark right half"
    if choice == "Random whole numbers":
        # A numbered draw, kept in the URL: a shared link shows everyone the same numbers.
        seed = numbered_draw(f"{prefix}_seed", button_key=f"{prefix}_reroll", in_url=True)
        return gridpresets.random_integers((size, size), seed), "random whole numbers 0-9"
    return typed_grid("Type the input (click a cell):", gridpresets.vertical_edge(size),
                      f"{prefix}_typed_input_{size}"), "your numbers"


def kernel_choice(prefix: str) -> tuple[np.ndarray, float, str]:
    """The kernel (a preset, one of the trained LeNet-5's first layer, or typed), its bias and
    its name."""
    layer, why_not = trained_kernels()
    lenet = [f"LeNet-5 C1 kernel {i + 1}" for i in range(len(layer.kernels))] if layer else []
    choice = st.selectbox("Kernel", list(gridpresets.KERNELS) + lenet + ["Type your own"], key=f"{prefix}_kernel",
                          bind=BOUND)
    if not layer:
        st.caption(why_not)
    if choice in gridpresets.KERNELS:
        kernel, bias = gridpresets.KERNELS[choice], 0.0
    elif choice in lenet:
        i = lenet.index(choice)
        kernel, bias = layer.kernels[i], float(layer.biases[i])
        st.caption(f"Learned by the trained `lenet5` (test accuracy {layer.test_accuracy:.2%})."
                   if layer.test_accuracy is not None else "Learned by the trained `lenet5`.")
    else:
        k = st.slider("Kernel size", *gridmath.KERNEL_RANGE, 3, key=f"{prefix}_ksize", bind=BOUND)
        initial = np.zeros((k, k))
        initial[k // 2, k // 2] = 1
        kernel, bias = typed_grid("Type the kernel:", initial, f"{prefix}_typed_kernel_{k}"), 0.0
    with ui.secondary("Bias"):
        bias = st.number_input("Bias", value=round(bias, 4), step=0.5, format="%g", key=f"{prefix}_bias_{choice}")
    return kernel, float(bias), choice
