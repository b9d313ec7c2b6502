"""/draw: not built yet."""

import streamlit as st

st.title("Draw")
st.info("This page will show your own digit through the network: preprocessing, prediction, feature maps and saliency.")
