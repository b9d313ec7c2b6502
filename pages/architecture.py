"""/architecture: not built yet."""

import streamlit as st

st.title("Architecture")
st.info("This page will show each network's layers, shapes and parameter counts, and LeNet-5 as in the 1998 paper.")
