"""Safe Markdown for notes: CommonMark (markdown-it-py) with raw HTML off, then an allowlist sanitizer (nh3).

Links get ``rel="noopener noreferrer"`` and only http(s)/mailto URLs survive; images are dropped (a note must
not make the browser fetch anything). The HTML is built for the owner, per request, and never stored.
"""

import nh3
from markdown_it import MarkdownIt

_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render(markdown_text: str) -> str:
    html = _md.render(markdown_text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
