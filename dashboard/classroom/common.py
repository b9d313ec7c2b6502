"""What the /class page's panels share: the class store, the teacher's actions (checked where
they act) and a row of digits as pictures with a line under each."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.entry import Entry
from core.data.views import upscale_nearest
from core.i18n import _
from dashboard.figures import html_pictures
from dashboard.frame import presenter, roles

DENIED = "_wall_denied"  # session state: the line saying why a teacher's action was not done
TILE_ZOOM = 3  # a digit in a row of pictures: 28 px shown as 84 px, crisp squares


def open_store() -> class_store.ClassStore | None:
    """The class store, its notices said as warnings; None (and one error line) when it cannot open."""
    try:
        store = class_store.store()
    except StoreError as exc:
        st.error(_("The class wall cannot open its database: {reason}").format(reason=exc), icon=":material/database:")
        return None
    for notice in store.notices:
        st.warning(_(notice), icon=":material/database:")  # Deferred: made outside any session
    return store


def remembered_entry(store: class_store.ClassStore, key: str) -> Entry | None:
    """The class digit whose id session state keeps under ``key`` (a click on a grid); None, and
    the id forgotten, when there is none or it has been deleted since."""
    entry_id = st.session_state.get(key)
    if entry_id is None:
        return None
    try:
        return store.entry(entry_id)
    except StoreError:
        st.session_state.pop(key, None)
        return None


def teacher_action(what: str, action, *args) -> None:
    """Run ``action`` only for the teacher: a crafted request from a student does nothing but
    leave a line saying so (``what`` is already in the session's language)."""
    refused = roles.teacher_action(what, action, *args)
    if refused:
        st.session_state[DENIED] = refused


def show_denied() -> None:
    """The line a refused action left, once."""
    denied = st.session_state.pop(DENIED, None)
    if denied:
        st.warning(denied, icon=":material/lock:")


def only_teacher_caption(teacher: bool, what: str) -> None:
    """Under a control a student sees disabled: the one line saying who may use it."""
    if not teacher:
        st.caption(roles.only_teacher(what))


def digits_row(images: Sequence[np.ndarray], captions: Sequence[str], alts: Sequence[str]) -> None:
    """Class digits as one block of pictures, each with its line under it (one element, however many)."""
    side = round(28 * TILE_ZOOM * presenter.figure_scale())
    tiles = [upscale_nearest(np.asarray(image, dtype=np.uint8), TILE_ZOOM) for image in images]
    st.html(html_pictures.tiles_html(tiles, captions, alts, tile_px=side))
