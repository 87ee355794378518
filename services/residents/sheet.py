"""A printable sheet of an estate's QR codes: one code per active link, the place written
under it, six to an A4 page. A self-contained HTML file (SVG codes made by segno)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import segno

_STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 0; color: #111; }
h1 { font-size: 16pt; margin: 0 0 6mm; }
.sheet { display: grid; grid-template-columns: 1fr 1fr; gap: 8mm; }
.code { border: 1px dashed #999; padding: 5mm; text-align: center; break-inside: avoid; }
.code svg { width: 55mm; height: 55mm; }
.ask { font-size: 13pt; font-weight: bold; margin: 0 0 2mm; }
.place { font-size: 15pt; font-weight: bold; margin: 2mm 0 0; }
.url { font-size: 7pt; color: #555; word-break: break-all; margin: 1mm 0 0; }
@media print { h1 { display: none; } }
"""


@dataclass(frozen=True, slots=True)
class SheetCode:
    label: str  # the place, written under the code
    url: str


def code_svg(url: str) -> str:
    """The QR code of `url` as inline SVG (error correction M: a scuffed notice still reads)."""
    svg: str = segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)
    return svg


def _cell(code: SheetCode) -> str:
    return (f'<div class="code"><p class="ask">扫码报修</p>{code_svg(code.url)}'
            f'<p class="place">{escape(code.label)}</p>'
            f'<p class="url">{escape(code.url)}</p></div>')


def render_sheet(estate_name: str, codes: Sequence[SheetCode]) -> str:
    cells = "\n".join(_cell(code) for code in codes)
    title = escape(f"{estate_name} 报修二维码")
    return (f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{_STYLE}</style></head>"
            f'<body><h1>{title}（{len(codes)} 个）</h1><div class="sheet">\n{cells}\n'
            f"</div></body></html>\n")
