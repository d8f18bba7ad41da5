"""A report that opens offline, stays small and prints cleanly on A4.

Same blocks as `aidebt_core.report.Report` (headings, text, callouts, tables), plus static SVG
charts (no plotly.js: a few kB instead of 4.6 MB), explicit page breaks between sections and
a lead summary. Print CSS keeps rows and small tables whole on a page, repeats table headers,
and wraps long cells so no table runs off the page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from aidebt_core import __version__
from aidebt_core.report import Report

SMALL_TABLE_ROWS = 18   # a table this short is kept on one page when printed
LONG_TOKEN = 24         # characters: a longer unbroken token may be wrapped anywhere

PRINT_CSS = """
*{box-sizing:border-box}
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;color:#1b1f24;max-width:1100px;
margin:2rem auto;padding:0 1.5rem;line-height:1.45}
h1{font-size:1.7rem;margin:0 0 .2rem}
h2{margin:1.6rem 0 .6rem;border-bottom:1px solid #d5dae3;padding-bottom:.25rem;font-size:1.25rem}
.meta{color:#5b6573;font-size:.9rem}
.summary{font-size:1.05rem;background:#f3f5f8;border-left:5px solid #1b1f24;padding:.8rem 1rem;
margin:1rem 0}
.callout{background:#f3f5f8;border-left:4px solid #4c78c8;padding:.6rem 1rem;margin:1rem 0}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.85rem;width:100%;
table-layout:auto}
th,td{border:1px solid #d5dae3;padding:.3rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:break-word;word-break:normal}
td.long{overflow-wrap:anywhere}
th{background:#eef1f5}
td.num{white-space:nowrap}
figure{margin:.6rem 0 1rem}figure svg{max-width:100%;height:auto}
figcaption{color:#5b6573;font-size:.85rem}
section.page{break-before:page;page-break-before:always}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:10pt}
  h1,h2,h3{break-after:avoid;page-break-after:avoid}
  table{font-size:8.5pt}
  thead{display:table-header-group}
  tr,td,th,figure,.callout,.summary,table.small{break-inside:avoid;page-break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
"""


@dataclass
class PrintableReport(Report):
    """`Report` with a lead summary, static SVG figures and page breaks between sections."""

    summary: str = ""

    def svg(self, markup: str, caption: str = "") -> PrintableReport:
        self.blocks.append(("svg", (markup, caption)))
        return self

    def styled_table(self, frame: pd.DataFrame, styles: list[list[str]],
                     float_format: str = "{:.1f}") -> PrintableReport:
        """A table with an inline CSS per cell (e.g. each score in its band's colour)."""
        self.blocks.append(("styled", (frame, float_format, styles)))
        return self

    def section(self, title: str) -> PrintableReport:
        """A heading that starts a new printed page."""
        self.blocks.append(("section", title))
        return self

    def to_html(self) -> str:
        parts, open_section = [], False
        for kind, value in self.blocks:
            if kind == "section":
                if open_section:
                    parts.append("</section>")
                parts.append(f'<section class="page"><h2>{html.escape(value)}</h2>')
                open_section = True
            elif kind == "heading":
                parts.append(f"<h2>{html.escape(value)}</h2>")
            elif kind == "text":
                parts.append(f"<p>{html.escape(value)}</p>")
            elif kind == "callout":
                parts.append(f'<div class="callout">{html.escape(value)}</div>')
            elif kind == "table":
                frame, fmt = value
                parts.append(table_html(frame, fmt))
            elif kind == "styled":
                frame, fmt, styles = value
                parts.append(table_html(frame, fmt, styles))
            elif kind == "svg":
                markup, caption = value
                cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
                parts.append(f"<figure>{markup}{cap}</figure>")
            else:                                   # a plotly figure: not in this report
                raise TypeError("PrintableReport holds static figures only; use svg().")
        if open_section:
            parts.append("</section>")
        lead = f'<div class="summary">{html.escape(self.summary)}</div>' if self.summary else ""
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width'>"
                f"<title>{html.escape(self.title)}</title><style>{PRINT_CSS}</style></head>"
                f"<body><h1>{html.escape(self.title)}</h1><p class='meta'>"
                f"{html.escape(self.subtitle)}{' · ' if self.subtitle else ''}{stamp()}</p>"
                f"{lead}{''.join(parts)}</body></html>")

    def to_markdown(self) -> str:
        blocks = [("callout", self.summary)] if self.summary else []
        for kind, value in self.blocks:
            if kind == "svg":
                blocks.append(("text", f"_[Chart: {value[1] or 'see the HTML report'}]_"))
            elif kind == "section":
                blocks.append(("heading", value))
            elif kind == "styled":
                blocks.append(("table", value[:2]))
            else:
                blocks.append((kind, value))
        return Report(self.title, self.subtitle, blocks).to_markdown()


def stamp() -> str:
    """Which aidebt made the report, and when (UTC)."""
    return f"aidebt {__version__}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def _cell(value, fmt: str) -> tuple[str, bool]:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "", False
    if isinstance(value, float):
        text = fmt.format(value)
        return ("0" + text[2:] if text.startswith("-0") and float(text) == 0 else text), True
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), True
    return str(value), False


def table_html(frame: pd.DataFrame, fmt: str = "{:.2f}",
               styles: list[list[str]] | None = None) -> str:
    """An HTML table (escaped) that wraps long cells; short tables print on one page.
    `styles` gives an inline CSS per cell (e.g. a band colour)."""
    klass = "small" if len(frame) <= SMALL_TABLE_ROWS else "long"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for j, value in enumerate(row):
            text, numeric = _cell(value, fmt)
            style = f' style="{styles[i][j]}"' if styles and styles[i][j] else ""
            # a long unbroken token (a URL) may wrap anywhere; words wrap only between words
            long = any(len(token) > LONG_TOKEN for token in text.split())
            short = numeric or (len(text) <= 10 and " " not in text)   # 2026-01-20, +2.8
            cls = ' class="num"' if short else (' class="long"' if long else "")
            cells.append(f"<td{cls}{style}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{klass}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table>")
