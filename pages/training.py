"""/training: not built yet."""

import streamlit as st

st.title("Training")
st.info("This page will show training from the browser with live curves, run comparisons and a confusion matrix.")
