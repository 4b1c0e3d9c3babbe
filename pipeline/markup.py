"""The words of a posting as boards, applicant-tracking systems and feeds export it: HTML read, web links left out."""

from __future__ import annotations

import html
import re
from html.entities import html5

# Elements a posting's markup uses. Only these count as tags, so that plain text with an angle bracket ("pay
# <£30k", "<5 years") is never taken for markup and never loses a word.
_ELEMENTS = (
    "a|abbr|address|article|aside|b|big|blockquote|body|br|caption|center|cite|code|col|colgroup|dd|del|div|dl|dt|em|"
    "figcaption|figure|font|footer|h[1-6]|header|hr|html|i|img|ins|label|li|main|mark|nav|ol|p|pre|q|s|section|small|"
    "span|strike|strong|sub|sup|table|tbody|td|tfoot|th|thead|tr|u|ul"
)
# What makes a text HTML, rather than prose that names a tag ("a <Title> to join", "<div>, <canvas> and <svg>",
# "<Head of Payroll>"): a closing tag, a line break, or a tag with an attribute. Each sign is short, so finding one
# takes time in proportion to the text, whatever it holds.
_SIGNS = rf"<(?:/(?:{_ELEMENTS})\s*>|br\s*/?>|(?:{_ELEMENTS})\s+[\w:-]+\s*=)"
_HTML_SIGN = re.compile(_SIGNS, re.IGNORECASE)
# The same signs escaped once or twice more, as some exports and feeds deliver a description
# (&lt;p style=&quot;...&quot;&gt;, &amp;lt;/p&amp;gt;).
_ESCAPED_SIGN = re.compile(_SIGNS.replace("<", "&(?:amp;)?lt;").replace(">", "&(?:amp;)?gt;"), re.IGNORECASE)
# A tag of those elements, attributes and all (a quoted value may hold '>'); quoted values are bounded so that an
# unclosed quote costs a bounded look, not the rest of the text.
_TAG = re.compile(rf"</?((?:{_ELEMENTS}))\b(?:[^<>\"']|\"[^\"<]{{0,2000}}\"|'[^'<]{{0,2000}}')*/?>", re.IGNORECASE)
# Elements that end a line of text where they open or close; the others (b, span, a...) sit inside a line.
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
))  # fmt: skip
# Spans whose content is no text of the posting, each left out only where it is closed: a comment, a style sheet,
# a script.
_HIDDEN = re.compile(r"<!--|<(script|style)\b", re.IGNORECASE)
# A character reference with its semicolon. HTML also reads some names without one ("&reg", "&sect"), which would
# make "Legal&regulatory" "Legal®ulatory": only a name HTML knows, ended by its semicolon, is read.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Rounds of reading: a wrapper tag around a description escaped twice over takes four.
_MOST_ROUNDS = 4
# A web address: with its scheme, or starting www. (a bare domain, "acme.com", is a name and stays).
_LINK = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def has_markup(text: str) -> bool:
    """Whether the text is HTML (escaped or not) or holds a character reference such as &amp;."""
    if "<" not in text and "&" not in text:  # most postings: no search at all
        return False
    return bool(_HTML_SIGN.search(text) or _ESCAPED_SIGN.search(text) or _has_reference(text))


def _has_reference(text: str) -> bool:
    return any(_reference_read(match) != match.group() for match in _REFERENCE.finditer(text))


def plain_text(text: str) -> str:
    """The text a posting shows, without its HTML or its web links. HTML: tags of common elements removed (a line
    break where a block such as a paragraph or a list item ends), closed comments, scripts and style sheets left
    out, character references read (&amp; is &, &nbsp; a space), runs of spaces made one. Links (https://...,
    www....) are left out: an apply link's words ("jobs", "utm_source=linkedin") are no evidence of the work, yet
    weigh as a duty's words would. A text with neither comes back exactly as it was, so plain postings score as they
    always did, and prose that names a tag ("<div> and <canvas>") keeps it."""
    if has_markup(text):
        text = _text_of_html(text)
    if "://" in text or "www." in text or "WWW." in text:
        text = _LINK.sub("", text)
    return text


def _text_of_html(text: str) -> str:
    for _ in range(_MOST_ROUNDS):
        if _HTML_SIGN.search(text):
            text = _TAG.sub(_tag_replacement, _without_hidden(text))
        elif _ESCAPED_SIGN.search(text):
            text = _REFERENCE.sub(_reference_read, text)  # one level of escaping: the next round sees the tags
        else:
            break
    text = _REFERENCE.sub(_reference_read, text)
    text = _SPACES.sub(" ", text.replace("\xa0", " "))
    return _BLANK_LINES.sub("\n", text).strip()


def _tag_replacement(match: re.Match) -> str:
    return "\n" if match.group(1).lower() in _BLOCKS else ""


def _reference_read(match: re.Match) -> str:
    """The character a reference stands for; the reference as written when HTML knows no such name."""
    reference = match.group()
    if reference.startswith("&#"):
        return html.unescape(reference)
    return html5.get(reference[1:], reference)


def _without_hidden(text: str) -> str:
    """The text without its closed comments, scripts and style sheets, in one pass forward: a span with no end is
    left as it is, and the search never goes back, so a text of many openings costs no more than its length."""
    lowered = text.lower()
    kept, position = [], 0
    while (start := _HIDDEN.search(text, position)) is not None:
        element = start.group(1)
        end = lowered.find("-->" if element is None else f"</{element.lower()}", start.end())
        after = end + 3 if element is None or end == -1 else text.find(">", end) + 1
        if end == -1 or after == 0:  # no end: the rest is kept as written
            break
        kept.append(text[position : start.start()])
        position = after
    kept.append(text[position:])
    return "".join(kept)
