"""Self-contained HTML and Markdown reports from headings, text, tables and plotly figures.

The HTML embeds plotly.js once, inline, so a report opens offline and can be mailed; raw rows
never go in, only aggregated tables and figures built from results.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go

from aidebt_core import __version__

_CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;color:#1b1f24;max-width:1100px;
margin:2rem auto;padding:0 1.5rem;line-height:1.5}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #e3e7ee;
padding-bottom:.3rem}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #e3e7ee;padding:.35rem .6rem;text-align:left}th{background:#f3f5f8}
.meta{color:#5b6573;font-size:.9rem}.callout{background:#f3f5f8;border-left:4px solid #1f6feb;
padding:.6rem 1rem;margin:1rem 0}
"""


@dataclass
class Report:
    """Collects blocks in order; `to_html()` and `to_markdown()` render the same content."""

    title: str
    subtitle: str = ""
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str) -> Report:
        self.blocks.append(("heading", text))
        return self

    def text(self, text: str) -> Report:
        self.blocks.append(("text", text))
        return self

    def callout(self, text: str) -> Report:
        self.blocks.append(("callout", text))
        return self

    def table(self, frame: pd.DataFrame, float_format: str = "{:.4g}") -> Report:
        self.blocks.append(("table", (frame, float_format)))
        return self

    def figure(self, fig: go.Figure, caption: str = "") -> Report:
        self.blocks.append(("figure", (fig, caption)))
        return self

    def to_html(self) -> str:
        parts, plotly_included = [], False
        for kind, value in self.blocks:
            if kind == "heading":
                parts.append(f"<h2>{html.escape(value)}</h2>")
            elif kind == "text":
                parts.append(f"<p>{html.escape(value)}</p>")
            elif kind == "callout":
                parts.append(f'<div class="callout">{html.escape(value)}</div>')
            elif kind == "table":
                frame, fmt = value
                parts.append(_format(frame, fmt).to_html(index=False, escape=True, border=0))
            else:
                fig, caption = value
                parts.append(fig.to_html(full_html=False, include_plotlyjs=not plotly_included,
                                         config={"displaylogo": False}))
                plotly_included = True
                if caption:
                    parts.append(f'<p class="meta">{html.escape(caption)}</p>')
        body = "\n".join(parts)
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><p class='meta'>{html.escape(self.subtitle)}"
                f"{' · ' if self.subtitle else ''}{_stamp()}</p>{body}</body></html>")

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        if self.subtitle:
            lines += [f"_{self.subtitle}_", ""]
        lines += [f"_{_stamp()}_", ""]
        for kind, value in self.blocks:
            if kind == "heading":
                lines += [f"## {value}", ""]
            elif kind == "text":
                lines += [str(value), ""]
            elif kind == "callout":
                lines += [f"> {value}", ""]
            elif kind == "table":
                frame, fmt = value
                lines += [_markdown_table(_format(frame, fmt)), ""]
            else:
                fig, caption = value
                title = fig.layout.title.text or "figure"
                lines += [f"_[Chart: {caption or title} — see the HTML report]_", ""]
        return "\n".join(lines)


def _stamp() -> str:
    return f"aidebt {__version__}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def _format(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else fmt.format(v))
    return out


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
