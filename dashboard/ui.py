"""Small helpers shared by the pages (thin: all computation lives in ``core``)."""

from __future__ import annotations

import functools

import streamlit as st

from core import device


@functools.cache
def device_label() -> str:
    return device.describe(device.pick_device())


def sidebar() -> None:
    """The sidebar every page shares: which device computes."""
    with st.sidebar:
        st.caption(f"Compute: **{device_label()}**")
