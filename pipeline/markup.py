"""The words of a posting as boards, applicant-tracking systems and feeds export it: HTML read, web links left out."""

from __future__ import annotations

import html
import re
from html.entities import html5

# Elements whose tags a posting's HTML uses, Word's and Outlook's exports included; a namespaced name (<o:p>,
# <v:shape>) is one of Word's. Only these count as tags, so that text with an angle bracket ("pay <£30k",
# "<5 years", "<jobs@acme.com>") keeps it.
_ELEMENTS = (
    "a|abbr|address|article|aside|b|base|big|blockquote|body|br|button|caption|center|cite|code|col|colgroup|dd|del|"
    "div|dl|dt|em|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|label|li|link|"
    "main|mark|meta|nav|nobr|noscript|ol|option|p|pre|q|s|script|section|select|small|span|strike|strong|style|sub|sup|"
    "svg|table|tbody|td|template|textarea|tfoot|th|thead|title|tr|u|ul|wbr|[a-z][a-z0-9]*:[a-z][a-z0-9]*"
)
# What makes a text HTML, rather than prose that names a tag ("a <Title> to join", "<div>, <canvas> and <svg>",
# "<Head of Payroll>"): a closing tag, a line break, or a tag with an attribute. Each sign is short, so finding one
# takes time in proportion to the text, whatever it holds.
_HTML_SIGN = re.compile(rf"<(?:/(?:{_ELEMENTS})\s*>|br\s*/?>|(?:{_ELEMENTS})\s+[\w:-]+\s*=)", re.IGNORECASE)
# A description escaped once or twice more, as some exports and feeds deliver it: text that starts with an escaped
# tag (&lt;p style=&quot;...&quot;&gt;, &amp;lt;div&amp;gt;), alone or as the content of a wrapper's tags. Escaped
# tags further on are text the posting shows ("semantic &lt;section&gt; and &lt;br&gt; tags").
_ESCAPED_START = re.compile(rf"\s*&(?:amp;)?lt;/?(?:{_ELEMENTS})\b", re.IGNORECASE)
# A tag of those elements, attributes and all (a quoted value may hold '>'). A value's quotes end at the next '<',
# so that an unclosed quote costs no more than the text up to the next tag.
_TAG = re.compile(rf"</?((?:{_ELEMENTS}))\b(?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*/?>", re.IGNORECASE)
# <!DOCTYPE html>, and the conditional markers of Word's lists (<![if !supportLists]>, <![endif]>).
_DECLARATION = re.compile(r"<![^<>]*>")
# Elements that end a line of text where they open or close; the others (b, span, a...) sit inside a line.
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
))  # fmt: skip
# Spans whose content is no text of the posting, each left out only where it is closed: a comment (Word's
# conditional ones too), the head with its title and metadata, a script, a style sheet.
_HIDDEN = re.compile(r"<!--|<(head|script|style|title|noscript|template)\b", re.IGNORECASE)
_HIDDEN_ENDS = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in
                ("head", "script", "style", "title", "noscript", "template")}  # fmt: skip
# A character reference with its semicolon. HTML also reads some names without one ("&reg", "&sect"), which would
# make "Legal&regulatory" "Legal®ulatory": only a name HTML knows, ended by its semicolon, is read.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Outside HTML, only the references exports write into plain text: "&sum;" in a C programmer's posting is code.
_COMMON_REFERENCE = re.compile(
    r"&(?:amp|lt|gt|quot|apos|nbsp|rsquo|lsquo|rdquo|ldquo|ndash|mdash|hellip|bull|pound|euro|#[0-9]{1,7}|"
    r"#[xX][0-9a-fA-F]{1,6});"
)
# Rounds of reading: a wrapper tag around a description escaped twice over takes four.
_MOST_ROUNDS = 4
# Characters a browser shows as nothing inside a word (a soft hyphen, a zero-width space): read, they split it.
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b")
# A web address: with its scheme, or starting www. (a bare domain, "acme.com", is a name and stays).
_LINK = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def is_html(text: str) -> bool:
    """Whether the text is HTML, escaped or not (a closing tag, a line break, a tag with an attribute)."""
    return ("<" in text and bool(_HTML_SIGN.search(text))) or ("&" in text and bool(_ESCAPED_START.match(text)))


def plain_text(text: str) -> str:
    """The text a posting shows, without its HTML or its web links.

    HTML: tags of common elements removed (a line break where a block such as a paragraph or a list item ends),
    closed comments, head, scripts and style sheets left out, character references read (&amp; is &, &nbsp; a
    space), soft hyphens dropped, runs of spaces made one. Outside HTML, only the references exports write into
    plain text are read (&amp;, &nbsp;, &rsquo;...). Links (https://..., www....) are left out: an apply link's
    words ("jobs", "utm_source=linkedin") are no evidence of the work, yet weigh as a duty's words would. Any other
    text comes back exactly as it was, so plain postings score as they always did.
    """
    if is_html(text):
        text = _text_of_html(text)
    elif "&" in text:
        text = _COMMON_REFERENCE.sub(_reference_read, text).replace("\xa0", " ")
    return _LINK.sub("", text) if _may_hold_a_link(text) else text


def _may_hold_a_link(text: str) -> bool:
    """Whether a link may be in the text: every one holds "://" or "www." in some case. Scoring reads every posting
    through here, and looking for the two first is six times faster than the pattern's search of every word."""
    return "://" in text or "www." in text.lower()


def _text_of_html(text: str) -> str:
    for _ in range(_MOST_ROUNDS):
        if _HTML_SIGN.search(text):
            text = _TAG.sub(_tag_replacement, _DECLARATION.sub("", _without_hidden(text)))
        if not _ESCAPED_START.match(text):
            break
        text = _REFERENCE.sub(_reference_read, text)  # one level of escaping: the next round sees the tags
    text = _REFERENCE.sub(_reference_read, text).translate(_INVISIBLE)
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
    """The text without its closed comments, heads, scripts and style sheets, in one pass forward: a span with no
    end is left as it is, and the search never goes back, so a text of many openings costs no more than its
    length. Positions are found in the text itself (a lower-cased copy can be longer: 'İ' is two characters)."""
    kept, position = [], 0
    while (start := _HIDDEN.search(text, position)) is not None:
        element = start.group(1)
        if element is None:
            end = text.find("-->", start.end())
            after = -1 if end == -1 else end + 3
        else:
            found = _HIDDEN_ENDS[element.lower()].search(text, start.end())
            after = -1 if found is None else found.end()
        if after == -1:  # no end: the rest is kept as written
            break
        kept.append(text[position : start.start()])
        position = after
    kept.append(text[position:])
    return "".join(kept)
