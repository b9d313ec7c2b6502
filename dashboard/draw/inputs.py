"""/draw's input: the canvas, an uploaded picture or a test digit from MNIST, made like an MNIST
digit (``core.data.preprocess``), or one line saying why it cannot be.

A drawing can also be handed over through session state (``draw_image_override``: an RGBA/grey
array or the bytes of an image file), which is how the page's AppTest injects one.

Who cannot draw on the canvas (a keyboard, a screen reader) has "Try a test digit", beside the
input's choice and the next control after it: a random MNIST test digit (its number in session
state, ``draw_test_digit``) goes through the same preprocessing as a drawing (it is not sent to
the class: not the student's handwriting); or the upload.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import streamlit as st

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.data import preprocess
from core.data.mnist import DataNotFoundError, load_test
from core.i18n import N_, _
from dashboard.draw import send_panel
from dashboard.frame.links import BOUND

CANVAS_PX = 280
PROMPT = N_("Draw a digit in the black square (or upload a picture of one) to see what the network makes of it.")
UPLOAD_PROMPT = N_("Upload a picture of one digit to see what the network makes of it.")
SOURCES = {"Draw": N_("Draw"), "Upload a picture": N_("Upload a picture")}  # link value -> label
OVERRIDE_KEY = "draw_image_override"
TEST_DIGIT_KEY = "draw_test_digit"  # the MNIST test digit shown in the canvas's place, if any
MISSING_KEY = "_draw_test_missing"  # why there is no test digit to try (MNIST not in data/)
CANVAS_ZOOM = CANVAS_PX // 28  # a test digit blown up to the canvas's size, as if drawn there

# The canvas (streamlit-drawable-canvas 0.13, a Streamlit component in a shadow root) has a
# toolbar (upload, undo, redo, edit, reset) that shows only while a mouse is on the square, and
# that yet lies over it when hidden: 141 x 46 px from 1rem above the top right corner, i.e. the
# top 30 px of the square's right half. A touch that started there, or a mouse pressed within
# 0.2 s of entering (the toolbar moves up 0.1 s after the pointer arrives, in 0.1 s), went to the
# invisible toolbar and drew nothing; on a phone, whose finger never hovers, the toolbar stayed
# invisible and a tap in that corner pressed a button unseen. Here the toolbar always shows,
# its bottom on the square's top edge (in the space read_input keeps above the square).
TOOLBAR_CSS = """
.dc-toolbar, .dc-root:hover > .dc-toolbar, .dc-toolbar:hover, .dc-toolbar:focus-within,
.dc-toolbar[data-pinned=true] {
    top: auto; bottom: 100%; opacity: 1; transition: none;
}
"""
CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"  # the name the package registers


@functools.cache
def canvas_css() -> str:
    """The package's own stylesheet, then the toolbar's place (TOOLBAR_CSS)."""
    import streamlit_drawable_canvas

    (sheet,) = (Path(streamlit_drawable_canvas.__file__).parent / "frontend" / "build").glob("index-*.css")
    return sheet.read_text(encoding="utf-8") + TOOLBAR_CSS


class _OwnDefinition(logging.Filter):
    """Streamlit warns once when a component's definition is replaced; the canvas's is, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.args and record.args[0] == CANVAS_COMPONENT)


logging.getLogger("streamlit.components.v2.component_registry").addFilter(_OwnDefinition())


def register_canvas() -> None:
    """The canvas as the package defines it (its script, its root), with canvas_css() for its
    stylesheet. A component's stylesheet is the only one its shadow root reads, and the last
    definition of a name is the one used. Done at every run: a test's runtime is a new one."""
    st.components.v2.component(
        CANVAS_COMPONENT, js="index-*.js", css=canvas_css(), html='<div class="canvas-root"></div>', isolate_styles=True
    )


def read_canvas(stroke_width: int):
    """The canvas's RGBA picture, or None before anything is drawn."""
    from streamlit_drawable_canvas import st_canvas  # raises on import outside a running app

    register_canvas()
    result = st_canvas(
        fill_color="rgba(0, 0, 0, 0)",
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_PX,
        width=CANVAS_PX,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"draw_canvas_{st.session_state.draw_canvas_round}",
    )
    return result.image_data


def clear_canvas() -> None:
    # A new key gives a new, empty canvas; the last "sent" line described the old drawing.
    st.session_state.draw_canvas_round += 1
    st.session_state.pop(TEST_DIGIT_KEY, None)
    send_panel.forget_last()


def pick_test_digit() -> None:
    """A random digit of the MNIST test set in the canvas's place (another one each press)."""
    try:
        count = len(test_digits()[1])
    except DataNotFoundError as exc:  # said where the digit would be (a callback has no guard)
        st.session_state[MISSING_KEY] = str(exc)
        return
    st.session_state[TEST_DIGIT_KEY] = int(np.random.default_rng().integers(count))
    send_panel.forget_last()


@st.cache_resource(show_spinner=False)
def test_digits():
    """The MNIST test set (images uint8, labels), shared by every session."""
    test = load_test()
    return test.images.numpy(), test.labels.numpy()


def show_test_digit(index: int) -> np.ndarray:
    """Test digit ``index`` where the canvas was, said what it is; returns it at the canvas's size."""
    images, labels = test_digits()
    picture = np.kron(images[index], np.ones((CANVAS_ZOOM, CANVAS_ZOOM), dtype=np.uint8))
    st.image(
        picture,
        width=CANVAS_PX,
        output_format="PNG",
        alt=_("MNIST test digit #{index}, a handwritten {label}").format(index=index, label=int(labels[index])),
    )
    st.caption(
        _(
            "MNIST test digit #{index} (its label: {label}), made ready for the network as a drawing is. "
            "Clear to draw your own."
        ).format(index=index, label=int(labels[index]))
    )
    return picture


def read_input():
    """(picture, where from): an array, the bytes of a file, or None, and "canvas" / "upload"."""
    override = st.session_state.get(OVERRIDE_KEY)
    if override is not None:
        return override, "canvas"
    labels = {value: _(label) for value, label in SOURCES.items()}  # in this session's language
    # The choice of input, and beside it the keyboard's way in: the next Tab after the choice is
    # a test digit, before the canvas (whose own toolbar takes three more).
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="draw_input_row"):
        source = (
            st.segmented_control(
                _("Input"),
                list(SOURCES),
                default="Draw",
                format_func=labels.get,
                key="draw_source",
                label_visibility="collapsed",
                bind=BOUND,
            )
            or "Draw"
        )
        if source == "Draw":
            st.button(
                _("Try a test digit"),
                key="draw_try_test",
                on_click=pick_test_digit,  # no icon: one line
                help=_(
                    "No mouse or pen at hand? A random handwritten digit of the MNIST test set goes "
                    "through the same steps as a drawing."
                ),
            )
    if source == "Draw":
        # The canvas's own toolbar (undo, redo, edit, reset) is right above the square's top
        # right corner (TOOLBAR_CSS): the space keeps that free, and the app's controls go below
        # the square.
        st.space("medium")
        canvas_spot = st.container()
        # One row under the square, whatever the screen: Clear, the pen (folded), the hint.
        with st.container(horizontal=True, vertical_alignment="center", key="draw_controls"):
            st.button(_("Clear"), icon=":material/delete:", key="draw_clear", on_click=clear_canvas)
            with st.popover(_("Pen"), icon=":material/edit:"):
                stroke = st.slider(_("Stroke width (px)"), 8, 40, 20, key="draw_stroke")
            st.caption(_("Undo, redo: above the square's top right corner."))
        with canvas_spot:
            missing = st.session_state.pop(MISSING_KEY, None)
            if missing:
                st.warning(missing, icon=":material/error:")
            index = st.session_state.get(TEST_DIGIT_KEY)
            if index is not None:
                return show_test_digit(int(index)), "test"
            image = read_canvas(stroke)
        return image, "canvas"
    upload = st.file_uploader(
        _("A picture of one digit (PNG or JPEG; dark on light or light on dark)"),
        type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
        key="draw_upload",
    )
    return (upload.getvalue() if upload is not None else None), "upload"


def challenge_note() -> None:
    """While the teacher's "fool the network" challenge is on (a setting of the class store, the
    same for every page and server process), one line under the drawing says so and what to do.
    Read at each run of the page: it shows at the next stroke after the teacher turns it on,
    under the square, so the square does not move under the finger."""
    try:
        on = class_store.store().challenge_on()
    except StoreError:
        return  # nothing can be sent either, and the Send panel says why
    if on:
        st.info(
            _("**Fool the network** is on: draw a digit the network reads wrong and send it with the digit you meant."),
            icon=":material/psychology_alt:",
        )


def refusal(error: preprocess.PreprocessError) -> tuple[str, str]:
    """What /draw says of a picture it cannot use, and how (``warning`` or ``error``): the same
    words for a file on /draw and a photo of paper on /class."""
    message = str(error)
    if isinstance(error, preprocess.EmptyImageError):
        return "warning", _("Nothing to read in this picture: {reason}.").format(reason=message)
    if isinstance(error, preprocess.TooLittleInkError):
        return "warning", _(
            "Too little ink: {reason}. A digit fills most of the square, like the ones in MNIST."
        ).format(reason=message.removeprefix(_("too little ink: ")))
    return "error", _("This file cannot be used: {reason}.").format(reason=message[:1].lower() + message[1:])


def preprocess_input(picture, origin: str) -> preprocess.Preprocessed | None:
    """The MNIST-style digit, or None after saying (without raising) why there is none."""
    if picture is None:
        st.info(_(UPLOAD_PROMPT) if origin == "upload" else _(PROMPT), icon=":material/draw:")
        return None
    try:
        if isinstance(picture, (bytes, bytearray, memoryview)):
            return preprocess.from_bytes(bytes(picture))
        return preprocess.from_array(np.asarray(picture))
    except preprocess.PreprocessError as exc:
        if isinstance(exc, preprocess.EmptyImageError) and origin != "upload":
            st.info(_(PROMPT), icon=":material/draw:")  # an empty canvas is waiting for a digit
            return None
        kind, line = refusal(exc)
        icons = {"warning": ":material/image:", "error": ":material/error:"}
        getattr(st, kind)(line, icon=icons[kind])
    return None
