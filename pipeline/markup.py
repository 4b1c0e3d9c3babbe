"""The words of a posting as boards, applicant-tracking systems and feeds export it: HTML read, web links left out."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Elements a posting's markup uses. Only these count as tags, so that plain text with an angle bracket ("pay
# <£30k", "<5 years") is never taken for markup and never loses a word.
_ELEMENTS = (
    "a|abbr|address|article|aside|b|big|blockquote|body|br|caption|center|cite|code|col|colgroup|dd|del|div|dl|dt|em|"
    "figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|img|ins|label|li|link|main|mark|meta|nav|ol|p|pre|q|s|"
    "script|section|small|span|strike|strong|style|sub|sup|table|tbody|td|tfoot|th|thead|time|title|tr|u|ul"
)
_TAG = re.compile(rf"</?(?:{_ELEMENTS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
# The same tags escaped once more, as some exports and feeds deliver a description (&lt;p style=&quot;...&quot;&gt;).
_ESCAPED_TAG = re.compile(rf"&lt;/?(?:{_ELEMENTS})(?:\s(?:(?!&gt;).){{0,2000}})?/?&gt;", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
# A description escaped twice (&amp;lt;p&amp;gt;) takes two rounds; more than that is no export we know.
_MOST_UNESCAPES = 3
# Elements that end a line of text where they open or close; the others (b, span, a...) sit inside a line.
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
))  # fmt: skip
# Elements whose content is no text of the posting.
_HIDDEN = frozenset({"script", "style", "head", "title"})
# A web address: with its scheme, or starting www. (a bare domain, "acme.com", is a name and stays).
_LINK = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def has_markup(text: str) -> bool:
    """Whether the text holds HTML tags or character references, escaped or not."""
    if "<" not in text and "&" not in text:  # most postings: no search at all
        return False
    return bool(_TAG.search(text) or _ESCAPED_TAG.search(text) or _has_reference(text))


def _has_reference(text: str) -> bool:
    """Whether the text holds a character reference HTML knows: "ATT&CK;" ends like one and is a name."""
    return any(html.unescape(match) != match for match in _ENTITY.findall(text))


def plain_text(text: str) -> str:
    """The text a posting shows, without its HTML or its web links. HTML: character references read (&amp; is &,
    &nbsp; a space), tags removed, a line break where a block (a paragraph, a list item, a line break) ends, runs of
    spaces made one. Links (https://..., www....) are left out: an apply link's words ("jobs", "utm_source=linkedin")
    are no evidence of the work, yet weigh as words of a duty would. A text with neither comes back exactly as it
    was, so plain postings score as they always did."""
    if has_markup(text):
        text = _text_of_html(text)
    if "://" in text or "www." in text or "WWW." in text:
        text = _LINK.sub("", text)
    return text


def _text_of_html(text: str) -> str:
    for _ in range(_MOST_UNESCAPES):
        if not (_ESCAPED_TAG.search(text) or _has_reference(text)) or _TAG.search(text):
            break
        text = html.unescape(text)
    if _TAG.search(text):
        reader = _TextReader()
        reader.feed(text)
        reader.close()
        text = "".join(reader.parts)
    text = _SPACES.sub(" ", text.replace("\xa0", " "))
    return _BLANK_LINES.sub("\n", text).strip()


class _TextReader(HTMLParser):
    """Collects the text of an HTML fragment, a line break at each block's edge (HTMLParser reads references)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)
