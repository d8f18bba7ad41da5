"""Show text a user (or a data file, or another machine) supplied as text, never as markup.

Column names, category values, model names, notes and imported red flags end up in Streamlit
markdown (`st.markdown`, `st.caption`, `st.error`, metric labels...), in Plotly titles (which
render a subset of HTML, links included) and on the terminal. A column called
`![x](http://host/p.png)` must not make every viewer's browser fetch that image, nor
`[click](http://evil.example)` become a live link. Every such place goes through one of:

- `md(text)`: for markdown. The characters that can start markup anywhere in a line are
  backslash-escaped (CommonMark renders an escaped punctuation character as itself): brackets
  (links, images), `*` `_` `~` (emphasis), backticks, `<` `>` `&` (HTML, autolinks, entities),
  `|` (tables), `$` (math), `:` (Streamlit's `:color[...]`, `:material/...:` and emoji, and
  the `http:` of bare-URL autolinks), `@` and `www.` (e-mail and www autolinks); and the ones
  that matter only at the start of a line (`#`, `-`, `+`, `=`, `1.`) when the text starts with
  them. Line breaks become spaces so a name cannot start a heading or a list. Ordinary
  punctuation (`.`, `,`, `'`, `-` inside words) is left alone, so messages read as written.
- `md_code(text)`: the text as an inline code span (shown verbatim, in monospace).
- `html_text(text)`: for HTML and Plotly labels (`<`, `>`, `&`, quotes as entities).
- `one_line(text)`: for the terminal and one-line error messages (control characters shown as
  escapes, so a name cannot move the cursor or forge a second line).
"""

from __future__ import annotations

import html
import re

# `_` between two letters/digits (monthly_income) cannot emphasise, so it is left alone.
_INLINE_SPECIAL = re.compile(r"([\\`*{}\[\]<>&|$~:@]|(?<![^\W_])_|_(?![^\W_]))")
_WWW = re.compile(r"(?i)\b(www)\.")
_LINE_START = re.compile(r"^([#+=>-]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_BACKTICK_RUNS = re.compile(r"`+")


def md(text: object) -> str:
    """`text` escaped so that Streamlit markdown shows it literally, on one line. Outer
    whitespace is dropped: it would not show, and it stops `**...**` around the text from
    being bold (or makes an indented code block)."""
    flat = _LINE_BREAKS.sub(" ", str(text)).strip()
    escaped = _WWW.sub(r"\1\\.", _INLINE_SPECIAL.sub(r"\\\1", flat))
    return _LINE_START.sub(_escape_line_start, escaped, count=1)


def _escape_line_start(match: re.Match) -> str:
    marker = match.group(1)
    if marker[0].isdigit():  # "1." / "1)" would start an ordered list: escape the dot
        return f"{marker}\\"
    return f"\\{marker}"


def md_code(text: object) -> str:
    """`text` as a markdown inline code span: verbatim, whatever backticks it holds."""
    flat = _LINE_BREAKS.sub(" ", str(text))
    fence = "`" * (max((len(run) for run in _BACKTICK_RUNS.findall(flat)), default=0) + 1)
    return f"{fence} {flat} {fence}"  # the padding spaces are stripped by the renderer


def html_text(text: object) -> str:
    """`text` for HTML or a Plotly title/label: tags and entities shown, not interpreted."""
    return html.escape(_LINE_BREAKS.sub(" ", str(text)), quote=True)


def one_line(text: object) -> str:
    """`text` on one line for a terminal: line breaks as spaces, control characters escaped."""
    flat = str(text).replace("\r\n", "\n").replace("\n", " ")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), flat)
