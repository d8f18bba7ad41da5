"""Show text a user (or a data file, or another machine) supplied as text, never as markup.

Column names, category values, model names, notes and imported red flags end up in Streamlit
markdown (`st.markdown`, `st.caption`, `st.error`, metric labels...), in Plotly titles (which
render a subset of HTML, links included) and on the terminal. A column called
`![x](http://host/p.png)` must not make every viewer's browser fetch that image, nor
`[click](http://evil.example)` become a live link. Every such place goes through one of:

- `md(text)`: for markdown. The characters that can start markup anywhere in a line are
  backslash-escaped (CommonMark renders an escaped punctuation character as itself): brackets
  (links, images), `*` `_` `~` (emphasis), backticks, `<` `>` `&` (HTML, autolinks, entities),
  `|` (tables), `$` (math), `:` (Streamlit's `:color[...]`, `:material/...:` and emoji); bare
  URLs, `www.` and e-mail addresses get an invisible word joiner that stops autolinking (see
  JOINER); and the ones
  that matter only at the start of a line (`#`, `-`, `+`, `=`, `1.`) when the text starts with
  them. Line breaks become spaces so a name cannot start a heading or a list. Ordinary
  punctuation (`.`, `,`, `'`, `-` inside words) is left alone, so messages read as written.
- `md_code(text)`: the text as an inline code span (shown verbatim, in monospace).
- `html_text(text)`: for HTML and Plotly labels (`<`, `>`, `&`, quotes as entities).
- `defuse_figure(fig)`: for Plotly figures, whose titles, tick labels, legends and hover text
  render a subset of HTML including `<a href>` links and `<span style>`: every `<` that does
  not open one of the few bare tags the plots use themselves (`<br>`, `<b>`, `<i>`, ...)
  becomes `&lt;`, in layout and trace text alike. `aidebt_core.plots.theme.style` applies it.
- `one_line(text)`: for the terminal and one-line error messages (control characters shown as
  escapes, so a name cannot move the cursor or forge a second line).
"""

from __future__ import annotations

import html
import re

# `_` between two letters/digits (monthly_income) cannot emphasise, so it is left alone.
_INLINE_SPECIAL = re.compile(r"([\\`*{}\[\]<>&|$~:@]|(?<![^\W_])_|_(?![^\W_]))")
# Streamlit's renderer (remark-gfm) turns bare URLs and e-mail addresses into links *after*
# parsing, on the unescaped text, so a backslash cannot stop it: an invisible WORD JOINER
# (U+2060) inside `://`, after `www` and after `@` breaks the patterns it looks for.
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)|(@)")
_LINE_START = re.compile(r"^([#+=>-]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_BACKTICK_RUNS = re.compile(r"`+")


def md(text: object) -> str:
    """`text` escaped so that Streamlit markdown shows it literally, on one line. Outer
    whitespace is dropped: it would not show, and it stops `**...**` around the text from
    being bold (or makes an indented code block)."""
    flat = _LINE_BREAKS.sub(" ", str(text)).strip()
    escaped = _AUTOLINK.sub(_join, _INLINE_SPECIAL.sub(r"\\\1", flat))
    return _LINE_START.sub(_escape_line_start, escaped, count=1)


def _join(match: re.Match) -> str:
    return JOINER.join(part for part in match.groups() if part is not None) + (
        JOINER if match.group(5) else "")


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


# The bare tags aidebt's own plots write (and Plotly's <extra> for hover boxes); any other
# `<` (an <a href>, a <span style>) in a figure is shown as text.
_PLOT_TAG = re.compile(r"<(?!/?(?:br|b|i|em|sup|sub|extra)\s*/?>)", re.IGNORECASE)


def defuse_plot_text(text: str) -> str:
    """`text` for a Plotly label: only aidebt's own bare formatting tags stay markup."""
    return _PLOT_TAG.sub("&lt;", text)


def defuse_figure(fig):
    """The figure (changed in place, and returned) with every text defused; numeric data is
    left as it is. Works on any plotly Figure without importing plotly here."""
    # Only the parts holding a text that changes are written back: re-setting a whole layout
    # (with its template) re-validates all of it, which cost ~50 ms per figure on every rerun.
    for trace in fig.data:
        plain = trace.to_plotly_json()
        if _needs_defusing(plain):
            trace.update(_defused(plain), overwrite=True)
    layout = fig.layout.to_plotly_json()
    changed = {key: _defused(value) for key, value in layout.items() if _needs_defusing(value)}
    if changed:
        fig.layout.update(changed, overwrite=True)
    return fig


def _needs_defusing(value) -> bool:
    """Whether `_defused(value)` would change any text in `value`."""
    if isinstance(value, str):
        return "<" in value and defuse_plot_text(value) != value
    if isinstance(value, dict):
        return any(_needs_defusing(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_needs_defusing(item) for item in value)
    if getattr(value, "dtype", None) is not None and value.dtype.kind in "OUS":
        return _needs_defusing(value.tolist())
    return False


def _defused(value):
    if isinstance(value, str):
        return defuse_plot_text(value) if "<" in value else value
    if isinstance(value, dict):
        return {key: _defused(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_defused(item) for item in value)
    if getattr(value, "dtype", None) is not None and value.dtype.kind in "OUS":
        return _defused(value.tolist())  # text held in a numpy array: labels, categories
    return value
