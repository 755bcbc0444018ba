"""Safe Markdown for notes: CommonMark (markdown-it-py) with raw HTML off, then an allowlist sanitizer (nh3).

Links get ``rel="noopener noreferrer"`` and only http(s)/mailto URLs survive; images are dropped (a note must
not make the browser fetch anything). The HTML is built for the owner, per request, and never stored.
"""

import re

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


_TASK = re.compile(r"^\[([ xX])\]\s+")
TASK_OPEN, TASK_DONE = "☐", "☑"


def plain_text(markdown_text: str) -> str:
    """The words of a note as a reader sees them, without Markdown's syntax: for search snippets.

    Emphasis, links, headings, quotes and tables become their text (a link its words, an image its alt text),
    code its content, and a list item's task box ``[ ]`` / ``[x]`` becomes ☐ / ☑. Blocks are separated by new
    lines. Raw HTML is not interpreted (it stays text, as in the rendered note).
    """
    out: list[str] = []
    in_item = False
    for token in _md.parse(markdown_text):
        if token.type == "list_item_open":
            in_item = True
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if in_item:
                text = _TASK.sub(lambda m: (TASK_OPEN if m.group(1) == " " else TASK_DONE) + " ", text, count=1)
                in_item = False  # only the item's first line can hold its box
            out.append(text)
        elif token.type in ("fence", "code_block"):
            out.append(token.content)
        if token.type in ("th_close", "td_close"):
            out.append(" ")
        elif (token.block and token.nesting == -1) or token.type in ("fence", "code_block", "hr"):
            out.append("\n")
    return re.sub(r"[ \t]*\n\s*", "\n", "".join(out)).strip()


def _inline_text(children) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []) or child.content)
    return "".join(parts)
