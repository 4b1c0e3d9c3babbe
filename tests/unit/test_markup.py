"""Postings exported as HTML are read as their text, without web links; other text, brackets and all, is untouched."""

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import markup
from pipeline.markup import is_html, plain_text

DUTIES = "Answer inbound calls & resolve billing queries\nLog every ticket in Zendesk"


@pytest.mark.parametrize(
    "exported",
    [
        "<p>Answer <b>inbound</b> calls &amp; resolve billing queries</p><ul><li>Log every ticket in Zendesk</li></ul>",
        '<div style="font-size: 14px;"><p style="margin: 0px;">Answer inbound calls &amp; resolve billing queries'
        "&nbsp;</p><p>Log every ticket in&nbsp;Zendesk<br/></p></div>",
        # Escaped once more, as some exports and feeds deliver a description, then twice.
        html.escape("<p>Answer inbound calls &amp; resolve billing queries</p><p>Log every ticket in Zendesk</p>"),
        html.escape(
            html.escape("<p>Answer inbound calls &amp; resolve billing queries<br>Log every ticket in Zendesk")
        ),
        "<style>p { color: red }</style><script>track()</script><P>Answer inbound calls &#38; resolve billing "
        "queries</P>\n\n<P>Log every ticket in Zendesk</P>",
    ],
    ids=["tags", "styled", "escaped", "escaped-twice", "hidden-and-upper-case"],
)
def test_html_is_read_as_the_text_it_shows(exported):
    assert is_html(exported)
    assert plain_text(exported) == DUTIES


@pytest.mark.parametrize(
    "text",
    [
        "Pay <£30k, <5 years' experience, a 2<3 ratio & R&D; see the MITRE ATT&CK; framework",
        "Q&A sessions with <your team>, <br-less> notes and a <p-value> test",
        "  Indented\n\n\nlines   with  spaces  ",
    ],
)
def test_text_without_markup_comes_back_exactly(text):
    """A bracket or an ampersand that is no HTML ("ATT&CK;" ends like a reference; "<p-value>" is no tag) keeps the
    text as written, spacing and all: plain postings score exactly as before."""
    assert not is_html(text)
    assert plain_text(text) is text


@given(st.text(alphabet=st.characters(blacklist_characters="<&")))
def test_no_bracket_or_ampersand_means_no_change(text):
    assert plain_text(text) is text


@pytest.mark.parametrize("markup_only", ["<p><br></p>", "&nbsp;", "<div>&nbsp; </div>", "&lt;p&gt;&lt;/p&gt;"])
def test_markup_alone_leaves_no_text(markup_only):
    assert not plain_text(markup_only).strip()


def test_a_reference_alone_is_read_and_the_rest_kept():
    assert plain_text("Procter &amp; Gamble: payroll &#8211; weekly") == "Procter & Gamble: payroll – weekly"


@pytest.mark.parametrize(
    ("posting", "read"),
    [
        (
            "Answer inbound calls.\nApply at https://careers.acme.com/jobs/8841?utm_source=linkedin",
            "Answer inbound calls.\nApply at ",
        ),
        ("Answer inbound calls (see WWW.acme.com/careers) daily", "Answer inbound calls (see ) daily"),
        (
            '<p>Answer inbound calls</p><p><a href="https://acme.com/apply">Apply here</a></p>',
            "Answer inbound calls\nApply here",
        ),
        ("https://acme.com/jobs/8841", ""),
    ],
)
def test_web_links_are_left_out(posting, read):
    """An apply link's words ("jobs", "utm_source=linkedin") weighed as a duty's would: appended to the field and
    challenge postings, one flipped 3.4% of their labels. A bare domain or an e-mail address is a name and stays."""
    assert plain_text(posting) == read


def test_a_bare_domain_or_an_email_address_stays():
    text = "Send your CV to jobs@acme.com or see acme.com/careers; awww. is a word"
    assert plain_text(text) is text


@pytest.mark.parametrize(
    "prose",
    [
        "We are hiring a <Title> to join our finance team in <City>. You will reconcile accounts.",
        "<Head of Payroll> Run monthly payroll for 2,000 staff and supervise data entry clerks",
        "Tag management specialist (<script>, <noscript>): design the measurement strategy",
        "Front-end developer: build UIs with <div>, <canvas> and <svg>; fix <title> and <meta> tags",
        "Use a<b and c>d in code reviews",
    ],
)
def test_prose_that_names_a_tag_keeps_every_word(prose):
    """Text is HTML by a closing tag, a line break or an attribute, not by a word in angle brackets: a template's
    <Title> and the rest of its sentence were cut, and an unclosed <script> or <Head ...> hid the whole posting."""
    assert plain_text(prose) is prose


@pytest.mark.parametrize(
    ("exported", "read"),
    [
        # In HTML, only common elements' tags go: an address in angle brackets is no tag.
        ("Email: <jobs@acme.com>, <p>Payroll</p>", "Email: <jobs@acme.com>,\nPayroll"),
        ("Knowledge of &lt;div&gt; and CSS layout", "Knowledge of <div> and CSS layout"),
        # A description escaped inside a real wrapper: the wrapper's tags once stopped the reading there.
        (
            '<div class="jd">&lt;p style=&quot;margin:0&quot;&gt;Payroll clerk&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Process '
            "invoices&lt;/li&gt;&lt;/ul&gt;</div>",
            "Payroll clerk\nProcess invoices",
        ),
        # HTML reads "&reg" and "&sect" without their semicolon: "Legal®ulatory reporting", "public§or audits".
        ("Legal&regulatory reporting,&nbsp;public&sector audits", "Legal&regulatory reporting, public&sector audits"),
        ("<p>A masters&degree; Sales&copywriting</p>", "A masters&degree; Sales&copywriting"),
        (
            '<p>Intro</p><!-- <p>old</p> --><script>var a = "<p>";</script><p title="a>b">Duties</p>',
            "Intro\nDuties",
        ),
        # An unclosed script or comment hides nothing: its tag goes, the text after it stays.
        ("<p>Ask about our <script> policy, <!-- not a comment</p>", "Ask about our policy, <!-- not a comment"),
    ],
)
def test_html_reading_keeps_what_is_text(exported, read):
    assert plain_text(exported) == read


WORD_EXPORT = (
    '<html><head><meta http-equiv=Content-Type content="text/html; charset=windows-1252"><meta name=Generator '
    'content="Microsoft Word 15"><title>Job description</title><style>p.MsoNormal {margin: 0}</style></head>'
    "<body lang=EN-GB><p class=MsoNormal><![if !supportLists]>· <![endif]>Nail technician, busy salon<o:p></o:p></p>"
    "<!--[if gte mso 9]><xml><w:WordDocument></w:WordDocument></xml><![endif]--></body></html>"
)


@pytest.mark.parametrize(
    ("exported", "read"),
    [
        # Word's head, metadata, title, conditional markers and <o:p> were read as words ("content", "meta"), and
        # flipped the scope verdict of 22 of the field set's 360 postings exported so.
        (WORD_EXPORT, "· Nail technician, busy salon"),
        ("<!DOCTYPE html><html><body><p>Duties</p></body></html>", "Duties"),
        # A capital dotted I is two characters lower-cased: positions found in a lower-cased copy cut the duties.
        ("<p>İŞ İLANI</p><style>p {}</style><p>Muhasebe uzmanı</p><!-- x --><p>Answer calls</p>",
         "İŞ İLANI\nMuhasebe uzmanı\nAnswer calls"),
        # A long attribute value (an inline image) was once left in the text, and the posting not recognised.
        ('<p><img src="data:image/png;base64,' + "A" * 5000 + '" alt="logo"></p><p>Answer calls</p>', "Answer calls"),
        ("<p>Process supp&shy;lier in<wbr>voices</p>", "Process supplier invoices"),
        ("<p>Front-end: semantic &lt;section&gt;, &lt;/div&gt; and &lt;br&gt; tags</p>",
         "Front-end: semantic <section>, </div> and <br> tags"),
    ],
)  # fmt: skip
def test_exports_from_word_and_other_tools_read_as_a_browser_shows_them(exported, read):
    assert plain_text(exported) == read


@pytest.mark.parametrize(
    "text", ["C role: pointers, e.g. int *p = &sum; and q = &num; then  \n\n  done", "Plug&play; World&cup; Ops&not;"]
)
def test_outside_html_only_the_references_exports_write_are_read(text):
    """Any reference HTML knows made a text markup, its spaces rewritten and "&sum;" in C code read as "∑"."""
    assert plain_text(text) is text


def test_a_link_is_found_in_any_case():
    assert plain_text("Apply at Www.Acme.com/jobs today") == "Apply at  today"


@given(
    st.lists(
        st.sampled_from(["www.", "WwW.", "http://", "HTTPS://", "fTp://", "ſ://", "www", "://", ".", " ", "é", "("])
        | st.text(max_size=6),
        max_size=12,
    ).map("".join)
)
def test_the_search_for_links_is_skipped_only_where_the_pattern_finds_none(text):
    """Text without "://" or "www." in any case skips the pattern's search: it must be text the pattern finds no
    link in, whatever the case, the scheme or the characters around."""
    assert markup._may_hold_a_link(text) or markup._LINK.search(text) is None
