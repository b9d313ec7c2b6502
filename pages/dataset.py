"""/dataset: not built yet."""

import streamlit as st

st.title("Dataset")
st.info("This page will show the MNIST images: sample grids, class counts, mean images, one digit's pixel values.")
