"""Small helpers shared by the pages (thin: all computation lives in ``core``)."""

from __future__ import annotations

import contextlib
import functools
import html
import json
import logging
import os

import streamlit as st
import torch

from core import device, models
from core.i18n import _
from core.models import checkpoints
from core.models.init import seeded
from core.training import names as model_names
from dashboard.figures import palettes, plots
from dashboard.frame import language, roles
from dashboard.frame.links import BOUND, markdown_text

_LOG = logging.getLogger(__name__)
PRESENTER_KEY = "presenter"
PRESENTER_SCALE = 1.3  # figures and grids, for the back of a classroom
# Larger type (Streamlit sizes its text in rem: a larger root font grows all of it), larger
# headings, and a main column that uses the whole projector width.
PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-left: 2.5rem; padding-right: 2.5rem;
  padding-top: 3rem; }
h1 { font-size: 2.9rem !important; }
h2 { font-size: 2.2rem !important; }
h3 { font-size: 1.7rem !important; }
[data-testid="stMetricValue"] { font-size: 3.4rem; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 0.95rem; }
</style>"""


# --- every page: readable captions, a visible focus, text only a screen reader gets ------------------
SR_ONLY = "cnnx-sr-only"  # visually hidden, read by screen readers
CAPTION_TEXT = "#5e5e5e"  # 6.5:1 on white, 5.8:1 on the sidebar's grey (#f0f2f6)
FOCUS_RING = "#a8293a"  # the theme's primary colour: 6.9:1 on white
LIVE_REGION = "cnnx-live"
# Streamlit fades a caption with opacity 0.6, which takes the inline code in it to 2.9:1 (the text
# itself to 4.8:1): the same look as a colour keeps the caption's code at its own contrast.
# A block holding only hidden text takes no room (positioned, it leaves the column's flex gaps).
# The keyboard's focus is a ring in the theme's colour on every control; a toggle's, checkbox's
# or radio's own input is invisible, so the ring goes round the whole control.
PAGE_CSS = f"""<style>
[data-testid="stCaptionContainer"] {{ opacity: 1; color: {CAPTION_TEXT}; }}
.{SR_ONLY} {{ position: absolute !important; width: 1px !important; height: 1px !important; padding: 0 !important;
  margin: -1px !important; overflow: hidden !important; clip: rect(0, 0, 0, 0) !important;
  clip-path: inset(50%) !important; white-space: nowrap !important; border: 0 !important; }}
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > .{SR_ONLY}) {{ position: absolute; width: 0;
  height: 0; overflow: hidden; pointer-events: none; }}
:is(a, button, input, textarea, summary, [role="tab"], [role="slider"], [role="switch"], [role="radio"],
  [role="checkbox"], [role="option"], [role="combobox"]):focus-visible {{ outline: 3px solid {FOCUS_RING} !important;
  outline-offset: 2px; }}
label:has(input[type="checkbox"]:focus-visible), label:has(input[type="radio"]:focus-visible) {{
  outline: 3px solid {FOCUS_RING}; outline-offset: 2px; border-radius: 4px; }}
</style>"""
# One live region for the whole page, made once and kept outside Streamlit's elements: a region
# redrawn with its text is not announced by every screen reader, one whose text changes is.
_LIVE_JS = (
    f"let r = document.getElementById('{LIVE_REGION}'); if (!r) {{ r = document.createElement('div'); "
    f"r.id = '{LIVE_REGION}'; r.className = '{SR_ONLY}'; r.setAttribute('role', 'status'); "
    "r.setAttribute('aria-live', 'polite'); r.setAttribute('aria-atomic', 'true'); "
    "document.body.appendChild(r); }"
)


def _js_string(text: str) -> str:
    """``text`` as a JavaScript string literal that is safe inside a ``<script>`` element."""
    return json.dumps(text).replace("<", "\\u003c")


def hidden_html(text: str) -> str:
    """``text`` as HTML that only a screen reader reads (for ``st.html``): it takes no room."""
    return f'<p class="{SR_ONLY}">{html.escape(text)}</p>'


def describe(text: str, container=st) -> None:
    """A picture's description, right after it, for a screen reader only (``hidden_html``)."""
    container.html(hidden_html(text))


def announce(text: str) -> None:
    """Have a screen reader say ``text`` (politely, after what it is saying) each time it
    changes: the page's live region takes it. Nothing shows on screen."""
    script = f"(() => {{ {_LIVE_JS} r.textContent = {_js_string(text)}; }})();"
    st.html(
        f'<span class="{SR_ONLY}" data-announced="{html.escape(text)}"></span><script>{script}</script>',
        unsafe_allow_javascript=True,
    )


def move_focus(selector: str, token: str) -> None:
    """Put the keyboard's focus on the element ``selector`` finds (waiting up to 3 s for it to be
    drawn), once for each new ``token``: e.g. on the next guess after a reveal, whose own field
    is new and would otherwise leave the focus nowhere."""
    script = (
        f"(() => {{ const t0 = Date.now(); const go = () => {{ const e = document.querySelector("
        f"{_js_string(selector)}); if (e) {{ e.focus(); }} else if (Date.now() - t0 < 3000) "
        "{ requestAnimationFrame(go); } }; go(); })();"
    )
    st.html(
        f'<span class="{SR_ONLY}" data-focus="{html.escape(token)}"></span><script>{script}</script>',
        unsafe_allow_javascript=True,
    )


@functools.cache
def configure_torch() -> int:
    """Once per server process: torch's threads per operation (``core.device.shared_threads``)."""
    threads = device.shared_threads()
    torch.set_num_threads(threads)
    return threads


def sidebar() -> None:
    """The sidebar every page shares: presenter mode (kept in the URL as ``?presenter=true``),
    which device computes, which server process answers (behind HAProxy) and the teacher's role."""
    with st.sidebar:
        language.switch()
        st.toggle(
            _("Presenter mode"),
            key=PRESENTER_KEY,
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
                    device=device.describe(device.pick_device()), index=index, count=count
                )
            )
        else:
            st.caption(_("Compute: **{device}**").format(device=device.describe(device.pick_device())))
        if roles.is_teacher():
            st.caption(
                _(
                    ":material/school: **Teacher**: you can start and stop training, hide class digits and "
                    "manage class sessions."
                )
            )
        # The page's live region, there before anything is announced.
        st.html(
            f'<span class="{SR_ONLY}"></span><script>(() => {{ {_LIVE_JS} }})();</script>', unsafe_allow_javascript=True
        )
    st.html(PAGE_CSS)
    if presenter():
        st.html(PRESENTER_CSS)


def presenter() -> bool:
    """Whether presenter mode is on (the sidebar switch; off on a page run on its own)."""
    return bool(st.session_state.get(PRESENTER_KEY, False))


def palette(kind: str) -> palettes.Palette:
    """The colour map for ``kind`` (image, activation, signed, input, count, answer) in the
    current mode: colour-blind-safe ones in presenter mode."""
    return palettes.palette(kind, presenter=presenter())


def figure_scale() -> float:
    """How much larger figures and grids are drawn: 1, or ``PRESENTER_SCALE`` in presenter mode."""
    return PRESENTER_SCALE if presenter() else 1.0


CHART_CONFIG = {"displayModeBar": False}  # a lesson's figures are looked at, not edited


def plotly_chart(fig, *, key: str, container=st, description: str | None = None, **options):
    """``st.plotly_chart`` as every page draws a figure: enlarged in presenter mode, without
    plotly's mode bar (``config`` overrides), at its own size when ``width="content"``; right
    after it, for a screen reader, ``description`` (what the figure shows), else its title."""
    options.setdefault("config", CHART_CONFIG)
    title = fig.layout.title.text
    shown = container.plotly_chart(plots.enlarged(fig, figure_scale()), key=key, **options)
    if description or title:
        describe(description or title, container)
    return shown


def chart(fig, key: str, description: str | None = None, **options):
    """A figure at its own size (most of the lesson's figures are drawn to a size)."""
    return plotly_chart(fig, key=key, width="content", description=description, **options)


def secondary(label: str):
    """Where a page puts its secondary controls: in place, or in presenter mode folded into a
    closed expander. Either way the widgets run, so their values and URL bindings are kept."""
    return st.expander(label, icon=":material/tune:") if presenter() else st.container()


def checkpoint_names() -> list[str]:
    """Every checkpoint with a readable record, looked at afresh so new ones appear without a restart."""
    return checkpoints.names()


@st.cache_resource(max_entries=32, show_spinner=False)  # a spinner's text would be fixed in one language
def _load_cached(name: str, sha256: str) -> tuple[torch.nn.Module, dict]:
    # Keyed by the file's hash too, so a checkpoint retrained under the same name is reloaded.
    model, info = checkpoints.load(name)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, info.record


@st.cache_resource(show_spinner=False)
def fresh_model(name: str) -> torch.nn.Module:
    """The preset as initialised with seed 0 (a generator of its own, never torch's global one),
    shared by every session: read only, as :func:`load_model`'s."""
    return models.build(name, generator=seeded(0)).eval()


def load_model(name: str) -> tuple[torch.nn.Module, dict]:
    """A verified checkpoint, shared by every session: NEVER train it or add hooks to it in
    place; use a copy first (``core.models.copies``: what core itself does).

    Raises ``checkpoints.CheckpointError`` with a message fit for ``st.error``.
    """
    info = checkpoints.read_info(name)
    return _load_cached(name, info.record["sha256"])


_URL_HOLDER = "cnnx-url-"  # the key prefix of a container that only holds a link's value
# Such a container takes no room and is read by no one: its widget only keeps the value in the link.
_URL_HOLDER_CSS = (
    f'<style>[class*="st-key-{_URL_HOLDER}"], [data-testid="stLayoutWrapper"]:has(> '
    f'[class*="st-key-{_URL_HOLDER}"]) {{ display: none !important; }}</style>'
)


def _follow(key: str, shown_key: str) -> None:
    st.session_state[key] = st.session_state[shown_key]


def named_selectbox(
    label: str, options: list[str], *, shown, key: str, index: int = 0, container=st, bind: str | None = None
) -> str:
    """A selectbox whose options read as ``shown(option)`` while its value stays the option.

    With ``bind="query-params"`` the link keeps the option itself under ``key``
    (``?draw_model=lenet5_1998``): Streamlit writes a bound selectbox's shown text in the link,
    so a selectbox of the options, not drawn, is the one bound under ``key`` (its value is
    ``st.session_state[key]``, and a link's unusable value is named as for any widget) and the
    one drawn (``key + "_shown"``) follows it.
    """
    if bind is None:
        return container.selectbox(label, options, index=index, key=key, format_func=shown)
    container.html(_URL_HOLDER_CSS)
    with container.container(key=f"{_URL_HOLDER}{key}"):
        chosen = st.selectbox(label, options, index=index, key=key, bind=bind)
    shown_key = f"{key}_shown"
    st.session_state[shown_key] = chosen
    container.selectbox(label, options, key=shown_key, format_func=shown, on_change=_follow, args=(key, shown_key))
    return chosen


def checkpoint_picker(
    label: str, *, key: str, default: str = "lenet5", container=st, bind: str | None = None
) -> str | None:
    """A selectbox over the present checkpoints (default ``lenet5``); None when there are none.

    Each is listed by a short name with its own name in brackets, shipped ones first, then the
    reproductions of the sources, those trained here and the class's (``core.training.names``);
    under the picker, the chosen one's group and what it is in one line. The value is the
    checkpoint's own name, and so is the link's with ``bind="query-params"`` (:func:`named_selectbox`).
    """
    names = checkpoint_names()
    if not names:
        container.warning(_("No checkpoints yet: run `make checkpoints` or train one on the Training page."))
        return None
    described = {m.name: m for m in model_names.for_names(names)}
    options = list(described)
    index = options.index(default) if default in options else 0

    def shown(name: str) -> str:
        return described[name].label if name in described else name

    chosen = named_selectbox(label, options, shown=shown, key=key, index=index, container=container, bind=bind)
    if chosen in described:
        container.caption(markdown_text(described[chosen].about))
    return chosen


def one_line(exc: BaseException) -> str:
    """An exception as one readable line: its message (its first line), else its class name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def guarded(what: str):
    """Run one section of a page; whatever it raises is said in one line (``what`` could not be
    shown, and why) and the rest of the page is still drawn. The traceback goes to the server's
    log, never to the page. Streamlit's own reruns and stops are not exceptions and pass through.
    """
    try:
        yield
    except Exception as exc:  # the point: no traceback on a page, whatever a section hits
        _LOG.exception("%s failed", what)
        st.error(
            _("{what} could not be shown: {reason}").format(what=what, reason=one_line(exc)), icon=":material/error:"
        )
