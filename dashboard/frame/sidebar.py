"""The sidebar every page shares: the language, presenter mode, which device computes and which
server process answers, the teacher's role; and the page-wide CSS it brings."""

from __future__ import annotations

import os

import streamlit as st

from core import device
from core.i18n import _
from dashboard.frame import accessibility, language, presenter, roles
from dashboard.frame.links import BOUND


def draw() -> None:
    """The sidebar every page shares: presenter mode (kept in the URL as ``?presenter=true``),
    which device computes, which server process answers (behind HAProxy) and the teacher's role."""
    with st.sidebar:
        language.switch()
        st.toggle(
            _("Presenter mode"),
            key=presenter.PRESENTER_KEY,
            bind=BOUND,
            help=_(
                "For a projector: larger type and figures, colour-blind-safe colour maps, secondary "
                "settings folded away. Kept in the link, so a shared link opens the same way."
            ),
        )
        replica = os.environ.get("CNN_EXPLAINER_REPLICA", "")
        if "/" in replica:
            index, count = replica.split("/", 1)
            st.caption(
                _("Compute: **{device}** · server process {index} of {count}").format(
                    device=device.device_name(device.pick_device()), index=index, count=count
                )
            )
        else:
            st.caption(_("Compute: **{device}**").format(device=device.device_name(device.pick_device())))
        if roles.is_teacher():
            st.caption(
                _(
                    ":material/school: **Teacher**: you can start and stop training, hide class digits and "
                    "manage class sessions."
                )
            )
        accessibility.live_region()
    st.html(accessibility.PAGE_CSS)
    if presenter.is_on():
        st.html(presenter.PRESENTER_CSS)
