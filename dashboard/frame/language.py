"""The interface's language, per browser session: English or 中文.

``?lang=zh`` / ``?lang=en`` in the link decides (the sidebar switch writes it, so a teacher's
shared link opens in the class's language); without it, the browser's language
(``st.context.locale``: any ``zh*`` gives Chinese), else English; a ``lang`` that is neither is
named on the page (``dashboard.frame.links``) and the browser decides. The switch is not a bound
widget: a bound one would write its label (``中文``) into the link, not the code. Each session's text is looked up
in its own language (``core.i18n``): one student's switch never changes another's page.
"""

from __future__ import annotations

import functools
import json

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from core import i18n
from dashboard.frame import links
from dashboard.frame.links import BOUND

KEY = "lang"
NAMES = {"en": "English", "zh": "中文"}


def from_browser() -> str:
    """``zh`` for a browser whose language is any Chinese, else ``en``."""
    locale = st.context.locale
    return "zh" if isinstance(locale, str) and locale.lower().startswith("zh") else "en"


def current() -> str:
    """This session's language: the link's ``lang`` (which the switch writes), else the browser's."""
    chosen = st.query_params.get(KEY)
    return chosen if chosen in NAMES else from_browser()


_RUN_LANGUAGE = "_cnn_explainer_language"  # on the run's context: (the run it was read in, the language)


def _session_language() -> str | None:
    """The running session's language, read once per script run: a page translates hundreds of
    strings a run, and reading the link each time was a tenth of a /draw run's time (py-spy).
    A run is told apart by the context's cursors, which Streamlit replaces at each run's start."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    run, language = getattr(ctx, _RUN_LANGUAGE, (None, None))
    if run is not ctx.cursors:
        language = current()
        setattr(ctx, _RUN_LANGUAGE, (ctx.cursors, language))
    return language


@functools.cache
def connect() -> None:
    """Once per process: core.i18n asks this session's language for every string it translates."""
    i18n.set_language_source(_session_language)


_SHOWN = "_lang_shown"  # the language of this session's last run


def carry_over() -> None:
    """Before any widget: give labels kept from the other language this session's language.

    A link made in one language holds labels of that language (Streamlit keeps a bound widget's
    label in the URL): on a session's first run they are read in its own language. When a student
    switches language, tabs (whose value is their label, :func:`tabs`) keep their choice; other
    widgets hold option values, not labels, and keep theirs by themselves.
    """
    now, before = current(), st.session_state.get(_SHOWN)
    if KEY in st.query_params and st.query_params.get(KEY) not in NAMES:  # ?lang=fr: said, not swallowed
        links.refuse(KEY, st.query_params.get_all(KEY), NAMES[now])
    if before is None:  # the first run: the link, as it was opened
        for key in list(st.query_params):
            if key in (KEY, "teacher"):
                continue
            values = st.query_params.get_all(key)
            labels = [i18n.relabel(value, now) for value in values]
            if labels != values:
                links.rewrite(key, labels)
    elif before != now:
        for key in _LABEL_KEYS & set(st.session_state):
            value = st.session_state[key]
            if isinstance(value, str):
                st.session_state[key] = i18n.relabel(value, now)
    st.session_state[_SHOWN] = now


_LABEL_KEYS: set[str] = set()  # widgets whose value is a label (tabs): relabelled on a switch


def tabs(labels: list[str], *, key: str, **options):
    """``st.tabs`` with translated labels bound to the URL, whose choice survives a switch of
    language. ``labels`` are English (marked with ``N_``); the tabs come back in their order."""
    _LABEL_KEYS.add(key)
    return st.tabs([i18n._(label) for label in labels], key=key, bind=BOUND, **options)


# Streamlit's own labels for screen readers, in the page's language: the skip link and each help
# icon's "Help for <label>" (Streamlit has no setting for them). Also the page's lang, which picks
# a screen reader's voice. Kept by a MutationObserver, once a frame at most; back to English on a switch.
_STREAMLIT_LABELS_JS = """(() => {
  const w = window, doc = document, zh = %(zh)s;
  doc.documentElement.lang = zh ? "zh-CN" : "en";
  w.__cnnxChinese = zh;
  if (w.__cnnxRelabel) { w.__cnnxRelabel(); return; }
  const skip = %(skip)s, help = %(help)s, helpFor = %(help_for)s;
  const relabel = () => {
    const chinese = w.__cnnxChinese;
    doc.querySelectorAll('[data-testid="stSkipToContent"]').forEach(link => {
      if (chinese && link.textContent !== skip) { link.dataset.cnnxEn = link.textContent; link.textContent = skip; }
      else if (!chinese && link.dataset.cnnxEn) { link.textContent = link.dataset.cnnxEn; delete link.dataset.cnnxEn; }
    });
    doc.querySelectorAll('[aria-label]').forEach(element => {
      const label = element.getAttribute("aria-label");
      if (chinese && (label === "Help" || label.startsWith("Help for "))) {
        element.dataset.cnnxEn = label;
        element.dataset.cnnxZh = label === "Help" ? help : helpFor.replace("{label}", label.slice(9));
        element.setAttribute("aria-label", element.dataset.cnnxZh);
      } else if (!chinese && element.dataset.cnnxEn) {  // unless Streamlit has written a new one since
        if (label === element.dataset.cnnxZh) { element.setAttribute("aria-label", element.dataset.cnnxEn); }
        delete element.dataset.cnnxEn;
        delete element.dataset.cnnxZh;
      }
    });
  };
  let queued = false;
  w.__cnnxRelabel = () => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; relabel(); }); }
  };
  new MutationObserver(w.__cnnxRelabel).observe(doc.body, {subtree: true, childList: true, attributes: true,
                                                             attributeFilter: ["aria-label"]});
  relabel();
})();"""


def streamlit_labels() -> None:
    """Streamlit's own screen-reader labels in this session's language (nothing shows on screen)."""
    script = _STREAMLIT_LABELS_JS % {
        "zh": "true" if current() == "zh" else "false",
        "skip": json.dumps(i18n._("Skip to main content")),
        "help": json.dumps(i18n._("Help")),
        "help_for": json.dumps(i18n._("Help for {label}")),
    }
    st.html(
        f'<span data-testid="cnnx-labels" style="display:none"></span><script>{script}</script>',
        unsafe_allow_javascript=True,
    )


_SWITCH = "_lang_switch"


def _switched() -> None:
    chosen = st.session_state.get(_SWITCH)
    setattr(get_script_run_ctx(), _RUN_LANGUAGE, (None, None))  # this run speaks the new language
    if chosen in NAMES:
        st.query_params[KEY] = chosen
    else:
        st.query_params.pop(KEY, None)


def switch() -> None:
    """The sidebar's language switch, showing the link's ``lang`` (nothing chosen: the browser
    decides); a choice goes into the link as ``?lang=zh`` or ``?lang=en``."""
    chosen = st.query_params.get(KEY)
    st.session_state[_SWITCH] = chosen if chosen in NAMES else None
    st.segmented_control(
        "Language · 语言",
        list(NAMES),
        format_func=NAMES.get,
        key=_SWITCH,
        on_change=_switched,
        help=i18n._("中文 / English. Kept in the link, so a shared link opens in the same language."),
    )
    streamlit_labels()
