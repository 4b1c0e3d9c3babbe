"""The accent strip that spares text without accents gives scikit-learn's strip_accents_unicode, to the character."""

from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import strip_accents_unicode

from pipeline.accents import strip_accents

# Each one breaks a shortcut that looked only at some of what NFKD does: marks combining with the letter before
# them, marks in an order NFKD changes, compatibility forms (ligatures, ™, ½, ℃), the Angstrom sign's ring,
# Hangul syllables (NFKD splits them with no table entry), and punctuation NFKD keeps, beside each of them.
HARD_TEXTS = [
    "• Answer “calls” – daily · 24/7",
    "re\u0301sume\u0301 • cv",
    "a\u0301\u0327 – order",
    "ﬁle Excel™ ½ ℃ №5 Å – x",
    "한국어 분석가 · 서울",
    "İstanbul – Straße",
    "\u0301 leading mark",
]


def test_hard_texts_strip_as_scikit_learn_does():
    for text in HARD_TEXTS:
        assert strip_accents(text) == strip_accents_unicode(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.sampled_from(HARD_TEXTS))
def test_any_text_strips_as_scikit_learn_does(text):
    assert strip_accents(text) == strip_accents_unicode(text)


def test_text_of_every_script_keeps_a_bounded_number_of_verdicts():
    """The cache of each character's verdict had no bound: a service sent text of every script kept an entry per
    character for good, 100 MB of it."""
    from pipeline.accents import KEPT_CHARACTERS, _kept_as_is

    every_script = "".join(chr(code) for code in range(0x80, 0x30000) if not 0xD800 <= code < 0xE000)
    strip_accents("invoices " + every_script)
    assert 0 < _kept_as_is.cache_info().currsize <= KEPT_CHARACTERS
