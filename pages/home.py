"""Home: what the dashboard teaches, in what order, and which checkpoints are present."""

import streamlit as st

from core import checkpoints

st.title("How a convolutional network reads a digit")
st.markdown(
    """
This dashboard takes a real network apart on MNIST, the 70,000 handwritten digits that
LeNet-5 was built for in 1998. Walk through it in this order:

1. **Dataset**: what the network is given: 28x28 grey images, their labels, their statistics.
2. **Convolution**: one filter sliding over a small grid, step by step, then pooling.
3. **Architecture**: how layers stack into LeNet-5 and its cousins, and where every parameter goes.
4. **Draw a digit**: your own digit through the network: what it sees, what it predicts, and why.
5. **Training**: train a network from the browser and watch it learn.
"""
)

st.subheader("Pretrained checkpoints")
found = checkpoints.list_checkpoints()
if found:
    st.table(
        [{"checkpoint": c.name, "model": c.preset, "test accuracy": f"{c.test_accuracy:.2%}"
          if c.test_accuracy is not None else "-", "epochs": c.epochs} for c in found],
    )
else:
    st.info("No checkpoints yet: run `make checkpoints` (or `python -m core train lenet5`).")
