"""/convolution: not built yet."""

import streamlit as st

st.title("Convolution")
st.info("This page will show convolution and pooling animated step by step on small grids.")
