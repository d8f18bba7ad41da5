"""Escaped user text renders as the same text, with no link, image, tag or emphasis.

The check renders with markdown-it-py's GFM-like preset with bare-URL linkify on (an
independent CommonMark implementation), which is what Streamlit's renderer follows.
"""

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from aidebt_core.textsafe import JOINER, html_text, md, md_code, one_line

RENDER = MarkdownIt("gfm-like").render
HOSTILE = [
    "![x](http://127.0.0.1:9/p.png)",
    "[click](http://evil.example)",
    "<img src=x onerror=alert(1)>",
    "<a href='http://evil.example'>x</a>",
    "see http://evil.example/path?q=1 now",
    "**bold** _it_ ~~gone~~ `code` $x^2$",
    "| a | b |",
    ":red[alert] :material/home: :smile:",
    "a\\](http://evil.example)",
    "# heading\n- item\n> quote",
    "&lt;img src=x&gt; &amp;",
    "[x]: http://evil.example",
    "x <http://evil.example> y",
]


# What remark-gfm (Streamlit's renderer) links in the text *after* parsing, where escapes are
# gone (mdast-util-gfm-autolink-literal's patterns): the escaped text must not match them.
REMARK_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE)
REMARK_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)")


def _text_of(rendered: str) -> str:
    """The text a reader sees (the invisible word joiner dropped), after checking that no
    remark-gfm autolink pattern is left in it."""
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()
    assert not REMARK_URL.search(text) and not REMARK_EMAIL.search(text), text
    return text.replace(JOINER, "")


def _tags(rendered: str) -> set[str]:
    return set(re.findall(r"<\s*([a-zA-Z0-9]+)", rendered))


def test_the_unescaped_cases_really_are_markup():
    # guards the test itself: without md() these would render links, images and tags
    rendered = RENDER("\n\n".join(HOSTILE))
    assert {"a", "img", "strong", "em", "code", "h1"} <= _tags(rendered)
    with pytest.raises(AssertionError):  # and a backslash alone leaves remark's autolinks
        _text_of(RENDER("see http\\://evil.example and www\\.evil.example"))


@pytest.mark.parametrize("text", HOSTILE)
def test_md_renders_as_the_literal_text(text):
    rendered = RENDER(md(text))
    assert _tags(rendered) == {"p"}
    assert _text_of(rendered) == text.replace("\n", " ")


@pytest.mark.parametrize("text", HOSTILE + ["a`b``c", "```"])
def test_md_code_is_one_verbatim_code_span(text):
    # inline code is not text to remark's autolinker, so it needs no joiner
    rendered = RENDER(md_code(text))
    assert _tags(rendered) == {"p", "code"}
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()
    assert shown == text.replace("\n", " ")


def test_md_inside_markup_keeps_the_surrounding_markup():
    rendered = RENDER(f"- **{md('[a](http://evil.example)')}**")
    assert _tags(rendered) == {"ul", "li", "strong"}
    assert "href" not in rendered


TOKENS = ["http://", "https://evil.example/p.png", "www.", "@", "a@b.co", "](", "![", "[", "]",
          "<", ">", "<img src=x>", ":red[", ":material/home:", ":", "1.", "2)", "#", "-", "+",
          "=", "==", "**", "*", "__", "_", "~~", "`", "```", "$", "$$", "|", "&lt;", "&", "\\",
          " ", "x", "word", "é", "列", "🙂"]
TEXTS = st.lists(st.one_of(st.sampled_from(TOKENS),
                           st.characters(min_codepoint=32, max_codepoint=0x2FF,
                                         exclude_categories=("Cc",))),
                 min_size=1, max_size=12).map("".join).filter(lambda t: t.strip())
CONTEXTS = {  # where pages put user text: the markdown, the tags it makes, the text shown
    "inline": ("x {} y", {"p"}, "x {} y"),
    "line start": ("{}", {"p"}, "{}"),
    "list item": ("- **{}**", {"ul", "li", "strong"}, "{}"),
    "after a line": ("Column\n{}", {"p"}, "Column {}"),
    "table cell": ("| a | b |\n|---|---|\n| {} | 1 |",
                   {"table", "thead", "tbody", "tr", "th", "td"}, "a b {} 1"),
}


@pytest.mark.parametrize("context", list(CONTEXTS))
@settings(max_examples=250, deadline=None, derandomize=True, database=None)
@given(text=TEXTS)
def test_md_any_text_is_shown_as_itself_wherever_it_is_placed(context, text):
    template, markup_tags, shown = CONTEXTS[context]
    rendered = RENDER(template.format(md(text)))
    assert _tags(rendered) <= markup_tags, rendered
    assert " ".join(_text_of(rendered).split()) == " ".join(shown.format(text).split())


def test_md_leaves_ordinary_prose_alone():
    # so messages read as written (and tests can find them) wherever no markup can start
    prose = "Column 'monthly_income' of loans.csv is not binary (values 0, 1, 2); 2025-08."
    assert md(prose) == prose


def test_html_text_escapes_tags_and_quotes():
    assert html_text('<a href="http://e">x</a> & \'q\'') == \
        "&lt;a href=&quot;http://e&quot;&gt;x&lt;/a&gt; &amp; &#x27;q&#x27;"
    assert "\n" not in html_text("a\nb")


def test_one_line_shows_control_characters_as_escapes():
    assert one_line("col\nfake line\x1b[31mred\x07") == "col fake line\\x1b[31mred\\x07"
    assert one_line("naïve – ok") == "naïve – ok"


def test_defuse_figure_leaves_only_the_plots_own_tags():
    import json

    import numpy as np
    import plotly.graph_objects as go

    from aidebt_core.plots.theme import style
    from aidebt_core.textsafe import defuse_figure

    anchor = '<a href="http://evil.example/x">a</a>'
    styled = '<span style="fill:url(http://evil.example/p#f)">s</span>'
    fig = go.Figure(go.Bar(x=np.array([anchor, styled, "plain"], dtype=object),
                           y=np.array([1.5, 2.5, 3.5]), name=anchor,
                           hovertemplate="%{x}<br><b>%{y}</b><extra></extra>"))
    fig.add_annotation(text=anchor, x=0, y=0)
    fig.update_layout(xaxis_title=styled)
    text = json.dumps(defuse_figure(fig).to_plotly_json(), default=str)
    assert "<a " not in text and "<span" not in text and "&lt;a href" in text
    assert "<br><b>%{y}</b><extra></extra>" in text  # the plot's own formatting stays
    assert list(fig.data[0].y) == [1.5, 2.5, 3.5]
    titled = style(go.Figure(go.Scatter(x=[anchor], y=[1])), f"<b>{anchor}</b>")
    assert titled.layout.title.text == "<b>&lt;a href=\"http://evil.example/x\">a&lt;/a></b>"
    assert titled.data[0].x == ('&lt;a href="http://evil.example/x">a&lt;/a>',)
