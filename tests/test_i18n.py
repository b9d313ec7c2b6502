"""The Chinese interface (issue 18): a complete, consistent catalogue, every page in Chinese, and
each session in its own language.

The catalogue is checked against the code as it is now (pybabel's extraction run here), so a
string marked in the code without a translation fails; the glossary (locale/glossary.tsv) holds
the terms Chinese courses and the seed write-ups use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from core import i18n, models
from core.data import preprocess
from core.data.mnist import load_test
from core.explain.attributions import METHODS
from core.models import checkpoints
from core.training import recipes
from tests.harness import ROOT, open_page, run_page, screenshot, wait_idle

PO = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def app_pages() -> dict[str, str]:
    """Every page of the navigation (dashboard/app.py's st.Page calls): its script's name -> the
    path a browser opens ("" for the default page)."""
    import ast

    pages = {}
    for call in ast.walk(ast.parse((ROOT / "dashboard" / "app.py").read_text())):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "Page":
            options = {k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)}
            script = Path(call.args[0].value).stem
            pages[script] = "" if options.get("default") else options.get("url_path", script)
    return pages


PAGES = list(app_pages())
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%[sd]|%\([a-z_]+\)[sd]")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")


def extracted() -> dict:
    """Every message marked in core, dashboard and pages, as pybabel extracts it (babel.cfg)."""
    found = {}
    for folder in ("core", "dashboard", "pages"):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found[message if isinstance(message, str) else tuple(message)] = f"{folder}/{filename}"
    return found


@pytest.fixture(scope="module")
def catalog():
    with open(PO, "rb") as handle:
        return read_po(handle, locale="zh_CN")


@dataclass(frozen=True)
class Term:
    """One row of locale/glossary.tsv (its header says what each column means)."""

    spellings: tuple[str, ...]  # the English term's spellings (none: only the forbidden words are checked)
    chinese: str
    forbidden: tuple[str, ...]
    short: str = ""  # may stand for the term right after a number or a placeholder (5 轮)
    senses: tuple[str, ...] = ()  # Chinese words of another sense of the English word (筛选 for the wall's filters)

    def in_english(self, english: str) -> bool:
        """Whether ``english`` (placeholders and `code` taken out) has the term, as a word."""
        text = re.sub(r"`[^`]*`", " ", PLACEHOLDER.sub("", english))
        return any(re.search(rf"\b{re.escape(spelling)}(s|es)?\b", text, re.IGNORECASE) for spelling in self.spellings)

    def said_in(self, chinese: str) -> bool:
        """Whether ``chinese`` says the term: in full, in its short form in a count, or in another sense."""
        return (
            self.chinese in chinese
            or any(sense in chinese for sense in self.senses)
            or bool(self.short and re.search(rf"(\d|\}})\s*{re.escape(self.short)}", chinese))
        )


def glossary() -> list[Term]:
    def listed(text: str, separator: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split(separator) if part.strip())

    rows = []
    for line in (ROOT / "locale" / "glossary.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            english, chinese, forbidden, short, senses = (line.split("\t") + [""] * 4)[:5]
            rows.append(Term(listed(english, "|"), chinese, listed(forbidden, ","), short, listed(senses, ",")))
    return rows


def translated(catalog, msgid) -> list[str]:
    message = catalog.get(msgid)
    if message is None:
        return []
    return [s for s in (message.string if isinstance(message.string, tuple) else (message.string,))]


def test_every_marked_string_has_a_translation_and_none_is_fuzzy(catalog):
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in extracted().items()
        if not all(translated(catalog, msgid)) or not translated(catalog, msgid)
    ]
    assert missing == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


def test_no_message_is_in_the_catalogue_twice():
    # Entries are appended by hand: a second entry of one msgid is silently merged by Babel (one of
    # the two translations is lost) and refused by GNU msgfmt.
    raw = PO.read_text(encoding="utf-8")
    ids = [
        "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))
        for block in re.findall(r'^msgid ((?:"(?:[^"\\]|\\.)*"\n?)+)', raw, re.MULTILINE)
    ]
    assert [msgid for msgid in set(ids) if msgid and ids.count(msgid) > 1] == []


def test_placeholders_are_the_same_in_both_languages(catalog):
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                wrong.append((ids[0], string))
    assert wrong == []


def test_one_term_for_one_concept(catalog):
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        chinese = message.string if isinstance(message.string, str) else " ".join(message.string)
        for term in glossary():
            for synonym in term.forbidden:
                if synonym in chinese:
                    problems.append(f"{english!r}: {synonym} (say {term.chinese})")
            if term.in_english(english) and not term.said_in(chinese):
                problems.append(f"{english!r}: no {term.chinese} for {term.spellings[0]!r} in {chinese!r}")
    assert problems == []


def test_every_number_of_the_english_is_in_the_chinese(catalog):
    # A figure copied wrong (a sources' 0.8%, 7x12 bitmaps, ε = 0.007) is a wrong claim in one
    # language only. Said in words instead: 2-D is 二维, 100% is 百分之百.
    in_words = {"2": "二维", "100": "百分之百"}
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        english = PLACEHOLDER.sub(" ", message.id if isinstance(message.id, str) else message.id[-1])
        for chinese in message.string if isinstance(message.string, tuple) else (message.string,):
            text = PLACEHOLDER.sub(" ", chinese)
            wrong += [
                (number, english, chinese)
                for number in re.findall(r"\d+(?:[.,]\d+)*", english)
                if number not in text and in_words.get(number, "\0") not in text
            ]
    assert wrong == []


def test_the_glossarys_rules_hold_what_they_say():
    terms = {term.chinese: term for term in glossary()}
    epoch, filters, points = terms["训练轮次"], terms["滤波器"], terms["百分点"]
    assert epoch.in_english("{epochs} epochs") and not epoch.in_english("`epochs` {epoch}")
    assert epoch.said_in("{name}，{epochs} 轮") and epoch.said_in("第 3 轮") and epoch.said_in("5 个训练轮次")
    assert not epoch.said_in("每一轮")  # 轮 alone, not in a count, is not the term
    assert filters.said_in("筛选条件") and not filters.said_in("过滤条件")
    assert points.in_english("{points:+.2f} pts") and not points.said_in("{points:+.2f} 点")


def test_the_glossary_holds_the_issues_terms():
    terms = {term.chinese for term in glossary()}
    for term in (
        "卷积",
        "卷积核",
        "特征图",
        "池化",
        "最大池化",
        "平均池化",
        "下采样",
        "步长",
        "填充",
        "膨胀",
        "感受野",
        "全连接",
        "激活函数",
        "批归一化",
        "学习率",
        "训练轮次",
        "批大小",
        "混淆矩阵",
        "显著图",
        "积分梯度",
        "遮挡",
        "对抗",
        # and the terms the interface uses besides
        "滤波器",
        "通道",
        "偏置",
        "权重",
        "展平",
        "隐藏层",
        "多层感知机",
        "损失",
        "交叉熵",
        "准确率",
        "错误率",
        "优化器",
        "动量",
        "权重衰减",
        "学习率调度",
        "标签平滑",
        "数据增广",
        "过拟合",
        "训练集",
        "测试集",
        "验证集",
        "检查点",
        "微调",
        "随机种子",
        "独热编码",
        "归一化",
        "置信度",
        "归因",
        "扰动",
    ):
        assert term in terms, term


def test_the_sources_are_named_as_sources(catalog):
    # "seed 000" is the source write-up numbered 000, not a random seed: 原文 000.
    wrong = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for number in re.findall(r"\bseed (\d{3})\b", ids[0] or "", re.IGNORECASE):
            wrong += [(ids[0], string) for string in strings if f"原文 {number}" not in string]
        wrong += [(ids[0], string) for string in strings if re.search(r"\bseed \d{3}\b", string or "", re.I)]
    assert wrong == []


def test_a_source_shown_on_a_page_is_named_as_a_source(in_chinese):
    # The records and presets name their sources "seed 004": on a page, 原文 004.
    assert recipes.source_name("seed 004, LeCun et al. 1998") == "原文 004、LeCun 等 1998"
    i18n.set_language_source(lambda: None)
    assert recipes.source_name("seed 004, LeCun et al. 1998") == "seed 004, LeCun et al. 1998"


def test_an_attribution_method_is_named_in_chinese_with_its_english_name():
    zh = i18n.translations("zh")
    names = {key: zh.gettext(method.title) for key, method in METHODS.items()}
    assert names["saliency"] == "显著图（Saliency）", names
    for key, method in METHODS.items():
        assert CJK.search(names[key]) and names[key].endswith(f"（{method.title}）"), (key, names[key])


def test_the_image_librarys_own_words_never_reach_a_page(in_chinese):
    from tests.harness import black_1bit_png

    # 30,000 x 30,000 = 900,000,000 pixels: over twice PIL's MAX_IMAGE_PIXELS, so PIL refuses it
    # itself, in English ("could be decompression bomb DOS attack").
    with pytest.raises(preprocess.ImageTooLargeError) as refused:
        preprocess.from_bytes(black_1bit_png(30_000, 30_000, rows=1))
    said = str(refused.value)
    assert said == "图片有 900,000,000 个像素，超过了 25,000,000 的上限：请换一张小一些的数字图片", said


def test_the_class_databases_notices_are_said_in_the_readers_language(tmp_path, in_chinese):
    from core.classroom import db

    path = tmp_path / "class.sqlite"
    path.write_bytes(b"not SQLite at all " * 100)  # SQLite: "file is not a database"
    notice = db.ClassDatabase(path).notices[0]
    assert "could not be read (the file is not a database)" in notice  # English where no session is (logs)
    aside = next(tmp_path.glob("class.sqlite.corrupt-*")).name
    assert i18n._(notice) == (
        f"无法读取班级数据库 class.sqlite（这个文件不是数据库）：它已原样移到一旁，改名为 {aside}，并新建了一个数据库。"
    )


def test_the_class_databases_refusals_are_said_in_the_language_of_the_page_that_shows_them(tmp_path, monkeypatch):
    import sqlite3
    from contextlib import closing

    from core.classroom import db, schema
    from tests.harness import speak_chinese

    newer = tmp_path / "newer.sqlite"  # a file of schema 99, as a later version would write it
    with closing(sqlite3.connect(newer)) as connection:
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (99)")
        connection.commit()
    with pytest.raises(db.StoreError) as too_new:
        db.ClassDatabase(newer)
    store = db.ClassDatabase(tmp_path / "class.sqlite")
    store.read_only = True  # as a file this server cannot write is opened
    with pytest.raises(db.StoreUnavailable) as read_only:
        with store.transaction(write=True):
            pass
    # Made where no session is (a shared store, the command line): English, with the file and the numbers.
    assert str(too_new.value).startswith(f"{newer} was written by a newer version of this dashboard (schema 99, ")
    speak_chinese(monkeypatch)  # then shown on a Chinese page
    assert str(too_new.value) == (
        f"{newer} 由更新版本的仪表盘写入（数据库结构 99，本版本读取 {schema.SCHEMA_VERSION}）：请更新代码，或把 {db.DB_ENV} 设为另一个文件"
    )
    assert str(read_only.value) == (
        f"班级数据库 {tmp_path / 'class.sqlite'} 是只读的：无法保存新的内容（画数字仍然可用；老师可以修改文件权限）"
    )


def test_the_command_line_and_threads_stay_english():
    assert i18n.current_language() == "en"  # no session here: the command line's case
    assert i18n._("Home") == "Home"


# --- every page, in Chinese -----------------------------------------------------------------------


def opened(page: str, language: str, **state) -> AppTest:
    at = run_page(page, {"lang": language}, timeout=180, **state)
    assert not at.exception, at.exception
    assert not [e.value for e in at.error if "could not be shown" in e.value or "无法显示" in e.value]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_in_chinese_with_a_chinese_title(page):
    seven = load_test().images[0].numpy().repeat(10, 0).repeat(10, 1)
    at = opened(page, "zh", draw_image_override=seven)
    assert at.title and CJK.search(at.title[0].value), [t.value for t in at.title]
    english = opened(page, "en", draw_image_override=seven)
    assert not CJK.search(english.title[0].value)


def test_a_link_made_in_chinese_opens_an_english_session_on_the_same_view():
    zh_label = i18n.translations("zh").gettext("Compare runs")
    assert zh_label != "Compare runs"
    at = run_page("training", {"training_tab": zh_label, "lang": "en"})
    assert not at.exception
    assert not [w.value for w in at.warning if w.value.startswith("This link's")]
    assert at.session_state["training_tab"] == "Compare runs"


# --- in Chromium: the visible text, two sessions, the switch ---------------------------------------

# What is the same in both languages: model and checkpoint names, layer and module names, Captum's
# method names, units and symbols. Streamlit's own widget texts cannot be translated (README).
# Each as it shows -> how Streamlit 1.67's bundle writes it (a template where it fills in a value).
STREAMLIT_WORDING = {
    "Drag and drop a file here": "`Drag and drop a file here`",
    "Upload": "`Upload`",
    "200MB per file": "} per file`",
    "Choose an option": "`Choose an option`",
    "Choose options": "`Choose options`",
    "No results": "`No results`",
    "Press Enter to apply": "`Press Enter to ${",
    "Download as CSV": "`Download as CSV`",
    "Fullscreen": "`Fullscreen`",
    "Running...": "`Running...`",
    "Page not found": "`Page not found`",
}
STREAMLIT_OWN = (*STREAMLIT_WORDING, "Drag and drop files here", "Deploy", "Stop")


def test_readme_quotes_streamlits_own_texts_as_this_streamlit_writes_them():
    import streamlit

    bundle = "".join(
        path.read_text(errors="ignore")
        for path in (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js")
    )
    readme = " ".join((ROOT / "README.md").read_text().split())
    for shown, written in STREAMLIT_WORDING.items():
        assert written in bundle, (shown, written)
        assert f'"{shown}"' in readme, shown
    for older in ("Drag and drop file here", "Browse files", "Limit 200MB per file"):  # Streamlit's wording before
        assert older not in bundle and older not in readme, older


def neutral_words() -> list[str]:
    words = set(models.names()) | {i.name for i in checkpoints.list_checkpoints()}
    words |= {m.title for m in METHODS.values()} | set(STREAMLIT_OWN)
    words |= {
        "CNN",
        "MNIST",
        "LeNet-5",
        "LeNet",
        "ReLU",
        "BatchNorm",
        "Captum",
        "ONNX",
        "Netron",
        "PyTorch",
        "Keras",
        "LeCun",
        "SGD",
        "Adam",
        "AdamW",
        "FGSM",
        "RBF",
        "tanh",
        "softmax",
        "PNG",
        "JPEG",
        "CSV",
        "HTML",
        "IDX",
        "px",
        "ms",
        "lr",
        "ε",
    }
    return sorted(words, key=len, reverse=True)


def layer_names() -> list[str]:
    """The layers' own names in the networks (features.conv1, c1_act, classifier.fc2_relu, pad)."""
    names = {name for preset in models.names() for name, _module in models.build(preset).named_modules() if name}
    return sorted(names, key=len, reverse=True)


# Not English: an author's et al. (a source is 原文 000 in Chinese), a link, the paper's own labels (Table I,
# INPUT, OUTPUT, the X of its connection table), an English term glossed after its Chinese one
# (独热（one-hot）, 显著图（Saliency）), and arithmetic: x between numbers is "times" (6x3, 60 x 5 x 5), a
# in tanh(2a/3), n=5 and s=2 in the formula's sentence.
NOTATION = re.compile(
    r"\bet al\.|\b[a-z] ?= ?\d|https?://\S+|表 I\b|\b(INPUT|OUTPUT|X)\b|\(2[ax]/3\)"
    r"|(?<=[\d)])\s?[xX]\s?(?=[\d(])|(?<=[\u4e00-\u9fff])（[A-Za-z][A-Za-z ×-]*）"
)


# The text a reader sees in the page's main part (innerText of the page as laid out: nothing
# hidden, a line between blocks). Left out: formulas, code, pictures, what is hidden from readers,
# the file uploader's own instructions, and Material icons, which are ligatures ("download",
# "check") drawn as a symbol, not words.
VISIBLE_TEXT = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const left = [...main.querySelectorAll('.katex, code, pre, svg, [aria-hidden="true"], '
                                         + '[data-testid="stFileUploaderDropzoneInstructions"]'),
                ...[...main.querySelectorAll('span, i')].filter(e => getComputedStyle(e).fontFamily.includes('Material'))];
  const style = document.createElement('style');
  style.textContent = '[data-left-out] { display: none !important; }';
  left.forEach(e => e.setAttribute('data-left-out', ''));
  document.head.appendChild(style);
  const text = main.innerText;
  style.remove();
  left.forEach(e => e.removeAttribute('data-left-out'));
  return text;
}"""


def letters(text: str) -> tuple[int, int, list[str]]:
    """(Chinese characters, Latin letters, the Latin words) once names, layer names and units are out."""
    for word in neutral_words():
        text = text.replace(word, " ")
    layers = "|".join(re.escape(name) for name in layer_names())
    text = re.sub(rf"(?<![A-Za-z0-9_.])(?:{layers})(?![A-Za-z0-9_])", " ", text)
    # ... and a designed network's (core.models.design names each layer by kind and position: dense2, flat1)
    text = re.sub(
        r"\b[A-Z]\d+\b|\b(conv|pool|bn|relu|fc|c|s|f|dense|flat|drop|tanh|sigmoid|stanh)\d+\b|\bfc\d+_relu\b",
        " ",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(NOTATION, " ", text)
    return len(CJK.findall(text)), len(LATIN.findall(text)), re.findall(r"[A-Za-z][A-Za-z'-]*", text)


def chinese_share(tab) -> tuple[float, list[str]]:
    cjk, latin, words = letters(tab.evaluate(VISIBLE_TEXT))
    return cjk / max(cjk + latin, 1), words


STREAMLITS_LABELS = """() => ({
  lang: document.documentElement.lang,
  skip: [...document.querySelectorAll('[data-testid="stSkipToContent"]')].map(e => e.textContent),
  help: [...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label'))
                                                     .filter(l => l === 'Help' || l.startsWith('Help for '))})"""


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_browser_each_page_in_chinese_is_chinese(streamlit_server, browser, page):
    """Each page at ?lang=zh, and each of its tabs: at least 95% of the letters a reader sees are
    Chinese, once the names of models, layers, methods and units are left out (NOTATION); at
    ?lang=en, none are. Streamlit's own screen-reader labels are Chinese too."""
    path = app_pages()[page]
    shares, english_left = {}, {}
    for language in ("zh", "en"):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        tab = context.new_page()
        open_page(tab, f"{streamlit_server.url}/{path}?lang={language}")
        screenshot(tab, f"i18n_{page}_{language}")
        shares[language], english_left[language] = chinese_share(tab)
        if language == "zh":
            tabs = tab.locator("[data-testid='stMain'] [role='tab']")
            for index in range(1, tabs.count()):  # the first is the one measured above
                name = tabs.nth(index).inner_text()
                tabs.nth(index).click()
                wait_idle(tab)
                shares[name], english_left[name] = chinese_share(tab)
            # Streamlit's skip link and its "Help for <label>" on each help icon (dashboard.frame.language)
            expect(tab.locator("[data-testid='stSkipToContent']")).to_have_text("跳到主要内容")
            labels = tab.evaluate(STREAMLITS_LABELS)
            assert labels["lang"] == "zh-CN" and labels["help"] == [], labels
        context.close()
    english = shares.pop("en")
    assert {view: share for view, share in shares.items() if share < 0.95} == {}, (
        shares,
        {view: words[:80] for view, words in english_left.items() if shares.get(view, 1) < 0.95},
    )
    assert english == 0.0, english_left["en"][:80]


@pytest.mark.browser
def test_browser_two_sessions_in_two_languages_and_the_switch_keeps_the_settings(streamlit_server, browser):
    chinese = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    english = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    zh_tab, en_tab = chinese.new_page(), english.new_page()
    # Padding 1, stride 2, the 3x3 Sharpen kernel on a 5x5 input: floor((5 + 2 - 2 - 1) / 2) + 1 = 3.
    link = "/convolution?conv_input=Random+whole+numbers&conv_size=5&conv_kernel=Sharpen&conv_stride=2&conv_padding=1"
    open_page(zh_tab, streamlit_server.url + link)  # no ?lang: the browser's language decides
    open_page(en_tab, streamlit_server.url + link)
    zh_title = zh_tab.locator("h1").first.inner_text()
    assert CJK.search(zh_title) and not CJK.search(en_tab.locator("h1").first.inner_text())
    # (waited for: on a busy machine the page's second run, with the link's settings, may still be drawing)
    expect(en_tab.locator("body")).to_contain_text(
        "The 5×5 input gives a 3×3 output (n=5, k=3, padding p=1, dilation d=1, stride s=2)", timeout=15_000
    )
    # The English student switches to Chinese: the page turns Chinese, the lesson's settings stay.
    en_tab.locator("[data-testid='stSidebar'] button", has_text="中文").click()
    expect(en_tab.locator("h1").first).to_have_text(zh_title, timeout=15_000)
    assert "lang=zh" in en_tab.url and "conv_stride=2" in en_tab.url and "conv_padding=1" in en_tab.url
    expect(en_tab.locator("body")).to_contain_text(
        "5×5 的输入得到 3×3 的输出（n=5，k=3，填充 p=1，膨胀 d=1，步长 s=2）"
    )
    # ...and the other session is still English.
    en_again = english.new_page()
    open_page(en_again, streamlit_server.url + "/convolution?lang=en")
    assert not CJK.search(en_again.locator("h1").first.inner_text())
    assert CJK.search(zh_tab.locator("h1").first.inner_text())
    chinese.close()
    english.close()
