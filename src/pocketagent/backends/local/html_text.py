"""The readable text of an HTML mail body, for `read_email` and the mail search.

A small `html.parser.HTMLParser` subclass rather than a regex: script and style content
is dropped, block elements (paragraphs, divs, line breaks, list items, table rows,
headings) become line breaks, character references are decoded, and whitespace is
collapsed the way a browser would. The parser is lenient: malformed markup still gives
text, never an exception.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is not text a reader sees.
_HIDDEN = frozenset({"script", "style", "template", "title", "head", "noscript"})
# Elements that start and end on their own line.
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
# Blocks that read as paragraphs: a blank line around them.
_PARAGRAPHS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"])
_CELLS = frozenset({"td", "th"})
_LINE_BREAK = 1  # block boundaries: newlines wanted; adjacent ones merge (</li><li> is one break)
_PARAGRAPH_BREAK = 2


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str | int] = []  # text, or a block boundary's number of newlines
        self._hidden: list[str] = []  # open hidden elements, innermost last
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden.clear()  # a <head> or <title> never closed ends where the body starts
        elif tag in _HIDDEN:
            self._hidden.append(tag)
        elif tag == "br":
            self.pieces.append("\n")  # not merged: two <br> are a blank line
        elif tag in _BLOCKS:
            self._block_break(_PARAGRAPH_BREAK if tag in _PARAGRAPHS else _LINE_BREAK)
            self._pre += tag == "pre"
        elif tag in _CELLS:
            self.pieces.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN:  # <br/>, <hr/>; a self-closed <script/> hides nothing
            self.handle_starttag(tag, attrs)
            if tag in _BLOCKS:
                self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            if tag in self._hidden:  # close it and anything left open inside it
                del self._hidden[self._hidden.index(tag) :]
        elif tag in _BLOCKS:
            self._block_break(_PARAGRAPH_BREAK if tag in _PARAGRAPHS else _LINE_BREAK)
            self._pre = max(0, self._pre - (tag == "pre"))
        elif tag in _CELLS:
            self.pieces.append(" ")

    def _block_break(self, newlines: int) -> None:
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, int):
            self.pieces[-1] = max(last, newlines)
        else:
            self.pieces.append(newlines)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:  # preformatted: its line breaks are kept
            self.pieces.append("\n".join(re.sub(r"\s+", " ", line) for line in data.splitlines()))
        else:
            self.pieces.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """The text a reader sees in `markup`: no tags, scripts or styles, one line per block,
    at most one blank line in a row, entities decoded ("&amp;" → "&")."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except (AssertionError, ValueError):  # pathological markup: keep what was read so far
        pass
    text = "".join("\n" * piece if isinstance(piece, int) else piece for piece in extractor.pieces)
    lines = [" ".join(line.split()) for line in text.split("\n")]  # also turns &nbsp; into a space
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n ")
