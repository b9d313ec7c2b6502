"""A printable convolution worksheet: the exercise on page 1, the answer key on page 2.

One self-contained HTML file (inline CSS, no scripts, no images) that any browser prints, or
saves as PDF with its print dialog. Page 1: the settings, the input grid(s), the kernel(s) and
a blank output grid of the right shape. Page 2: the output size worked out, the filled output,
the padded input when there is padding, and the first output cell's arithmetic.

The answers are computed with :func:`core.gridmath.convolve` from the numbers as printed
(rounded to ``decimals``), so a student who uses the sheet's numbers gets the key's answers
even for a kernel like the 1/9 box blur (printed 0.11).
"""

from __future__ import annotations

import html

import numpy as np

from core import gridmath

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #000; margin: 2em; }
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


def _grid_table(values: np.ndarray, kind: str, caption: str, decimals: int, *, channel: int | None = None,
                padding_mask: np.ndarray | None = None, blank: bool = False) -> str:
    attrs = f' data-grid="{kind}"' + (f' data-channel="{channel}"' if channel is not None else "")
    rows = []
    for r, line in enumerate(values):
        cells = []
        for c, value in enumerate(line):
            css = ' class="padding"' if padding_mask is not None and padding_mask[r, c] else ""
            text = "" if blank else html.escape(gridmath.format_number(value, decimals))
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="grid"{attrs}><caption>{html.escape(caption)}</caption>'
            + "".join(rows) + "</table>")


def _size_work(n: int, k: int, stride: int, padding: int, dilation: int) -> str:
    out = gridmath.output_size(n, k, stride=stride, padding=padding, dilation=dilation)
    return (f"floor(({n} + 2×{padding} − {dilation}×({k} − 1) − 1) / {stride}) + 1 = "
            f"floor({n + 2 * padding - dilation * (k - 1) - 1} / {stride}) + 1 = {out}")


def convolution_worksheet(values: np.ndarray | list, kernel: np.ndarray | list, *, bias: float = 0.0,
                          stride: int = 1, padding: int = 0, dilation: int = 1,
                          title: str = "Convolution exercise", decimals: int = 2) -> str:
    """The worksheet as one HTML document (a string). ``values``: ``H x W`` or ``C x H x W``;
    ``kernel``: ``k x k`` or ``C x k x k``. Raises GridSettingsError when the settings cannot
    work, with the reason (as ``gridmath.convolve`` does)."""
    x = np.round(np.asarray(values, dtype=float), decimals)
    w = np.round(np.asarray(kernel, dtype=float), decimals)
    bias = round(float(bias), decimals)
    result = gridmath.convolve(x, w, bias=bias, stride=stride, padding=padding, dilation=dilation)
    x, w = (x[None] if x.ndim == 2 else x), (w[None] if w.ndim == 2 else w)
    channels, height, width = x.shape
    k = w.shape[1]
    out_h, out_w = result.output.shape

    def channel_name(c: int) -> str:
        return f" (channel {c + 1})" if channels > 1 else ""

    settings = [("Input", f"{channels}×{height}×{width}" if channels > 1 else f"{height}×{width}"),
                ("Kernel", f"{channels}×{k}×{k}" if channels > 1 else f"{k}×{k}"),
                ("Stride", str(stride)), ("Padding", str(padding)), ("Dilation", str(dilation)),
                ("Bias", gridmath.format_number(bias, decimals))]
    settings_rows = "".join(f'<tr><td>{name}</td><td data-setting="{name.lower()}">{html.escape(value)}</td></tr>'
                            for name, value in settings)
    steps = ["Work out the output's size: floor((n + 2·padding − dilation·(k − 1) − 1) / stride) + 1.",
             f"Surround the input with {padding} ring{'s' if padding > 1 else ''} of zeros." if padding else None,
             f"Place the kernel on the top-left corner; its taps are {dilation} cells apart." if dilation > 1
             else "Place the kernel on the top-left corner of the input.",
             "Multiply each input cell under the kernel by the kernel cell on it and add the products,"
             + (" over every channel," if channels > 1 else "") + " then add the bias.",
             f"Write the result in the output, then move the kernel {stride} cell{'s' if stride > 1 else ''} "
             "right; at the end of a row, go back left and move it down as far."]
    instructions = "".join(f"<li>{html.escape(s)}</li>" for s in steps if s)
    inputs = "".join(_grid_table(x[c], "input", f"Input{channel_name(c)}", decimals, channel=c)
                     for c in range(channels))
    kernels = "".join(_grid_table(w[c], "kernel", f"Kernel{channel_name(c)}", decimals, channel=c)
                      for c in range(channels))
    grids = (f'<div class="row">{inputs}{kernels}</div>' if channels == 1 else
             f'<div class="row">{inputs}</div><div class="row">{kernels}</div>')
    blank = _grid_table(np.zeros((out_h, out_w)), "output-blank", "Output", decimals, blank=True)
    size_work = [_size_work(height, k, stride, padding, dilation)]
    if width != height:
        size_work = [f"rows: {size_work[0]}", f"columns: {_size_work(width, k, stride, padding, dilation)}"]
    padded = ("".join(_grid_table(result.padded[c], "padded", f"Padded input{channel_name(c)}", decimals,
                                  channel=c, padding_mask=result.padding_mask) for c in range(channels))
              if padding else "")
    first_step = "\n".join(gridmath.describe_step(result, 0, decimals))
    title_text = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title_text}</title>
<style>{_CSS}</style>
</head>
<body>
<section class="page" id="exercise">
<h1>{title_text}</h1>
<p class="name">Name: ______________________ &nbsp; Date: ____________</p>
<table class="settings">{settings_rows}</table>
<h2>What to do</h2>
<ol>{instructions}</ol>
{grids}
<h2>Your answer</h2>
<p>Output size: ____ × ____</p>
{blank}
</section>
<section class="page" id="answers">
<h1>Answer key: {title_text}</h1>
<h2>Output size</h2>
<div class="work" data-work="size">{html.escape(chr(10).join(size_work))}</div>
<h2>Output</h2>
<div class="row">{_grid_table(result.output, "output", f"Output ({out_h}×{out_w})", decimals)}{padded}</div>
<h2>The first cell, output[0, 0], step by step</h2>
<div class="work" data-work="first-step">{html.escape(first_step)}</div>
<p>Every other cell is worked out the same way, with the kernel moved.</p>
</section>
</body>
</html>
"""
