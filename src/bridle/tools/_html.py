"""HTML to readable plain text with the standard library's `html.parser`.

Scripts, styles and other non-content elements are dropped; block elements
become line breaks, headings get `#` marks, list items `- `, links keep their
target as `text (url)`, and `<pre>` keeps its whitespace. This is for a model to
read, not a faithful renderer: tables become lines of cells separated by ` | `.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

SKIP = {"script", "style", "noscript", "template", "svg", "iframe", "object"}
BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside",
    "ul", "ol", "table", "tr", "blockquote", "form", "figure", "dl", "dt", "dd",
    "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "title",
}  # fmt: skip
# Blocks that start a new line but need no blank line after them.
TIGHT = {"li", "tr", "br", "dt", "dd", "title"}
PRE_MARK = "\x01"  # starts each line that came from <pre>, whose spacing is kept


class _TextParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.href: str | None = None
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skip_depth += 1
            return
        if tag == "title":
            self.in_title = True
        if tag in BLOCK:
            self.out.append("\n")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("- ")
        elif tag == "pre":
            self.pre_depth += 1
            self.out.append(PRE_MARK)
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("#", "javascript:")):
                self.href = urljoin(self.base_url, href)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "title":
            self.in_title = False
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.href:
            self.out.append(f" ({self.href})")
            self.href = None
        if tag in BLOCK and tag not in TIGHT:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.in_title:
            self.title += data
            return
        if self.pre_depth:
            self.out.append(data.replace("\n", "\n" + PRE_MARK))
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str, base_url: str = "") -> tuple[str, str]:
    """Return (title, text) for an HTML document."""
    parser = _TextParser(base_url)
    parser.feed(html)
    parser.close()
    lines = [
        line[1:].rstrip() if line.startswith(PRE_MARK) else line.strip()
        for line in "".join(parser.out).split("\n")
    ]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(parser.title.split()), text
