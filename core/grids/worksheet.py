"""A printable convolution worksheet: the exercise on page 1, the answer key on page 2.

One self-contained HTML file (inline CSS, no scripts, no images) that any browser prints, or
saves as PDF with its print dialog. Page 1: the settings, the input grid(s), the kernel(s) and
a blank output grid of the right shape. Page 2: the output size worked out, the filled output,
the padded input when there is padding, and the first output cell's arithmetic.

The answers are computed with :func:`core.grids.gridmath.convolve` from the numbers as printed
(rounded to ``decimals``), so a student who uses the sheet's numbers gets the key's answers
even for a kernel like the 1/9 box blur (printed 0.11).
"""

from __future__ import annotations

import html

import numpy as np

from core.grids import arithmetic, gridmath
from core.i18n import _, current_language, ngettext

_CSS = """
body { font-family: "DejaVu Sans", Arial, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #000;
       margin: 2em; }
h1 { font-size: 20pt; margin: 0 0 0.3em; }
h2 { font-size: 14pt; margin: 1em 0 0.3em; }
p, li, td { font-size: 12pt; }
.page { break-after: page; page-break-after: always; }
.page:last-of-type { break-after: auto; page-break-after: auto; }
.row { display: flex; flex-wrap: wrap; gap: 2.5em; align-items: flex-start; }
table.grid { border-collapse: collapse; }
table.grid td { border: 1.5px solid #222; min-width: 2.4em; height: 2.4em; padding: 0 0.2em; text-align: center;
                font-size: 13pt; font-family: "DejaVu Sans Mono", monospace; }
table.grid td.padding { background: #e6e6e6; color: #666; }
table.grid caption { caption-side: top; text-align: left; font-size: 11pt; padding-bottom: 0.2em; }
table.settings td { padding: 0.1em 1em 0.1em 0; }
.name { margin: 0.5em 0 1em; font-size: 12pt; }
.work { font-family: "DejaVu Sans Mono", monospace; font-size: 11pt; line-height: 1.7;
        white-space: pre-wrap; }
@media print {
  body { margin: 0; }
  @page { size: A4; margin: 15mm; }
  table.grid td.padding { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _grid_table(
    values: np.ndarray,
    kind: str,
    caption: str,
    decimals: int,
    *,
    channel: int | None = None,
    padding_mask: np.ndarray | None = None,
    blank: bool = False,
) -> str:
    attrs = f' data-grid="{kind}"' + (f' data-channel="{channel}"' if channel is not None else "")
    rows = []
    for r, line in enumerate(values):
        cells = []
        for c, value in enumerate(line):
            css = ' class="padding"' if padding_mask is not None and padding_mask[r, c] else ""
            text = "" if blank else html.escape(arithmetic.format_number(value, decimals))
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="grid"{attrs}><caption>{html.escape(caption)}</caption>' + "".join(rows) + "</table>"


def _size_work(n: int, k: int, stride: int, padding: int, dilation: int) -> str:
    out = gridmath.output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    return (
        f"floor(({n} + 2×{padding} − {dilation}×({k} − 1) − 1) / {stride}) + 1 = "
        f"floor({n + 2 * padding - dilation * (k - 1) - 1} / {stride}) + 1 = {out}"
    )


def convolution_worksheet(
    values: np.ndarray | list,
    kernel: np.ndarray | list,
    *,
    bias: float = 0.0,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    title: str | None = None,
    decimals: int = 2,
) -> str:
    """The worksheet as one HTML document (a string), in the session's language. ``values``:
    ``H x W`` or ``C x H x W``; ``kernel``: ``k x k`` or ``C x k x k``; ``title``: "Convolution
    exercise" unless given. Raises GridSettingsError when the settings cannot work, with the
    reason (as ``gridmath.convolve`` does)."""
    title = _("Convolution exercise") if title is None else title
    x = np.round(np.asarray(values, dtype=float), decimals)
    w = np.round(np.asarray(kernel, dtype=float), decimals)
    bias = round(float(bias), decimals)
    result = gridmath.convolve(x, w, bias=bias, stride=stride, padding=padding, dilation=dilation)
    x, w = (x[None] if x.ndim == 2 else x), (w[None] if w.ndim == 2 else w)
    channels, height, width = x.shape
    k = w.shape[1]
    out_h, out_w = result.output.shape

    def caption(one: str, each: str, c: int) -> str:
        """A grid's caption: ``one`` for a single channel, ``each`` (naming channel c) for several."""
        return each.format(channel=c + 1) if channels > 1 else one

    # (label, data-setting, value): the data-setting names stay English (a test reads them).
    settings = [
        (_("Input"), "input", f"{channels}×{height}×{width}" if channels > 1 else f"{height}×{width}"),
        (_("Kernel"), "kernel", f"{channels}×{k}×{k}" if channels > 1 else f"{k}×{k}"),
        (_("Stride"), "stride", str(stride)),
        (_("Padding"), "padding", str(padding)),
        (_("Dilation"), "dilation", str(dilation)),
        (_("Bias"), "bias", arithmetic.format_number(bias, decimals)),
    ]
    settings_rows = "".join(
        f'<tr><td>{html.escape(label)}</td><td data-setting="{name}">{html.escape(value)}</td></tr>'
        for label, name, value in settings
    )
    steps = [
        _("Work out the output's size: floor((n + 2·padding − dilation·(k − 1) − 1) / stride) + 1."),
        ngettext(
            "Surround the input with {n} ring of zeros.", "Surround the input with {n} rings of zeros.", padding
        ).format(n=padding)
        if padding
        else None,
        _("Place the kernel on the top-left corner; its taps are {n} cells apart.").format(n=dilation)
        if dilation > 1
        else _("Place the kernel on the top-left corner of the input."),
        _(
            "Multiply each input cell under the kernel by the kernel cell on it and add the products, over every "
            "channel, then add the bias."
        )
        if channels > 1
        else _(
            "Multiply each input cell under the kernel by the kernel cell on it and add the products, then add "
            "the bias."
        ),
        ngettext(
            "Write the result in the output, then move the kernel {n} cell right; at the end of a row, go "
            "back left and move it down as far.",
            "Write the result in the output, then move the kernel {n} cells right; at the end of a row, go "
            "back left and move it down as far.",
            stride,
        ).format(n=stride),
    ]
    instructions = "".join(f"<li>{html.escape(s)}</li>" for s in steps if s)
    inputs = "".join(
        _grid_table(x[c], "input", caption(_("Input"), _("Input (channel {channel})"), c), decimals, channel=c)
        for c in range(channels)
    )
    kernels = "".join(
        _grid_table(w[c], "kernel", caption(_("Kernel"), _("Kernel (channel {channel})"), c), decimals, channel=c)
        for c in range(channels)
    )
    grids = (
        f'<div class="row">{inputs}{kernels}</div>'
        if channels == 1
        else f'<div class="row">{inputs}</div><div class="row">{kernels}</div>'
    )
    blank = _grid_table(np.zeros((out_h, out_w)), "output-blank", _("Output"), decimals, blank=True)
    size_work = [_size_work(height, k, stride, padding, dilation)]
    if width != height:
        size_work = [
            _("rows: {work}").format(work=size_work[0]),
            _("columns: {work}").format(work=_size_work(width, k, stride, padding, dilation)),
        ]
    padded = (
        "".join(
            _grid_table(
                result.padded[c],
                "padded",
                caption(_("Padded input"), _("Padded input (channel {channel})"), c),
                decimals,
                channel=c,
                padding_mask=result.padding_mask,
            )
            for c in range(channels)
        )
        if padding
        else ""
    )
    first_step = "\n".join(arithmetic.describe_step(result, 0, decimals))
    title_text = html.escape(title)
    words = {
        key: html.escape(text)
        for key, text in (
            ("name", _("Name: ______________________")),
            ("date", _("Date: ____________")),
            ("todo", _("What to do")),
            ("answer", _("Your answer")),
            ("size", _("Output size: ____ × ____")),
            ("key", _("Answer key: {title}").format(title=title)),
            ("size_head", _("Output size")),
            ("output", _("Output")),
            ("first", _("The first cell, output[0, 0], step by step")),
            ("rest", _("Every other cell is worked out the same way, with the kernel moved.")),
        )
    }
    output_caption = _("Output ({height}×{width})").format(height=out_h, width=out_w)
    language = "zh-CN" if current_language() == "zh" else "en"
    return f"""<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title_text}</title>
<style>{_CSS}</style>
</head>
<body>
<section class="page" id="exercise">
<h1>{title_text}</h1>
<p class="name">{words["name"]} &nbsp; {words["date"]}</p>
<table class="settings">{settings_rows}</table>
<h2>{words["todo"]}</h2>
<ol>{instructions}</ol>
{grids}
<h2>{words["answer"]}</h2>
<p>{words["size"]}</p>
{blank}
</section>
<section class="page" id="answers">
<h1>{words["key"]}</h1>
<h2>{words["size_head"]}</h2>
<div class="work" data-work="size">{html.escape(chr(10).join(size_work))}</div>
<h2>{words["output"]}</h2>
<div class="row">{_grid_table(result.output, "output", output_caption, decimals)}{padded}</div>
<h2>{words["first"]}</h2>
<div class="work" data-work="first-step">{html.escape(first_step)}</div>
<p>{words["rest"]}</p>
</section>
</body>
</html>
"""
