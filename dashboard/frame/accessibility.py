"""What makes every page usable without a mouse or without eyes: readable captions, a visible
keyboard focus, text only a screen reader gets (a picture's description), the page's one live
region (what is announced) and moving the focus."""

from __future__ import annotations

import html
import json

import streamlit as st

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


def js_string(text: str) -> str:
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
    script = f"(() => {{ {_LIVE_JS} r.textContent = {js_string(text)}; }})();"
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
        f"{js_string(selector)}); if (e) {{ e.focus(); }} else if (Date.now() - t0 < 3000) "
        "{ requestAnimationFrame(go); } }; go(); })();"
    )
    st.html(
        f'<span class="{SR_ONLY}" data-focus="{html.escape(token)}"></span><script>{script}</script>',
        unsafe_allow_javascript=True,
    )


def live_region() -> None:
    """Make the page's live region, before anything is announced (the sidebar does, on every page)."""
    st.html(
        f'<span class="{SR_ONLY}"></span><script>(() => {{ {_LIVE_JS} }})();</script>', unsafe_allow_javascript=True
    )
