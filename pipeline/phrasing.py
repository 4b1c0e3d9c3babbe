"""English verb forms, list joining and regional wording, so one catalogue phrase fits many frames and places."""

from __future__ import annotations

import re

_VOWELS = set("aeiou")
# Two-syllable verbs stressed on the last syllable double their final consonant (submit -> submitting).
_DOUBLING = {
    "admit", "commit", "compel", "control", "equip", "forget", "begin", "occur", "omit", "patrol",
    "permit", "prefer", "refer", "regret", "submit", "transfer", "upset", "input", "output", "rebut",
}  # fmt: skip
_IRREGULAR_THIRD = {"be": "is", "have": "has", "do": "does", "go": "goes"}
_IRREGULAR_GERUND = {"be": "being", "see": "seeing", "agree": "agreeing", "lie": "lying", "tie": "tying"}
_WORD = re.compile(r"[a-z]+")
# The noun licence as each region's ads spell it ("licensed" and "licensing" are spelt alike everywhere).
_LICENCE_NOUN = re.compile(r"\b([Ll])icen[cs]e(s?)\b")
LICENCE_STEMS = {"uk": "icence", "us": "icense"}
# The UK's name for a criminal record check, as the catalogue's writers put it; other regions' ads name their own.
_UK_RECORD_CHECK = re.compile(r"\bDBS check(s?)\b")
# The UK's vocational qualifications, as the catalogue's writers name them; other regions' ads say what they are.
_UK_NVQ_AT_LEVEL = re.compile(r"\b([Aa])n NVQ Level (\d(?: or \d)?) in\b")
_UK_NVQ_IN = re.compile(r"\b([Aa])n NVQ in\b")
_UK_NVQ = re.compile(r"\bNVQ\b")
UK_VOCATIONAL_QUALIFICATION = "NVQ"


def _syllables(word: str) -> int:
    return max(1, len(re.findall(r"[aeiouy]+", word)))


def third_person(verb: str) -> str:
    """Return the third-person singular of a base-form verb: answer -> answers, process -> processes."""
    if verb in _IRREGULAR_THIRD:
        return _IRREGULAR_THIRD[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if verb.endswith("y") and len(verb) > 1 and verb[-2] not in _VOWELS:
        return verb[:-1] + "ies"
    return verb + "s"


def gerund(verb: str) -> str:
    """Return the -ing form of a base-form verb: resolve -> resolving, log -> logging, audit -> auditing."""
    if verb in _IRREGULAR_GERUND:
        return _IRREGULAR_GERUND[verb]
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith(("ee", "ye", "oe")):
        return verb + "ing"
    if verb.endswith("e") and len(verb) > 2:
        return verb[:-1] + "ing"
    if verb in _DOUBLING or (
        _syllables(verb) == 1
        and len(verb) >= 3
        and verb[-1] not in _VOWELS | set("wxy")
        and verb[-2] in _VOWELS
        and verb[-3] not in _VOWELS
    ):
        return verb + verb[-1] + "ing"
    return verb + "ing"


def starts_with_verb(phrase: str) -> bool:
    """True when a phrase starts with a lowercase word, which the catalogue convention makes a base-form verb."""
    first = phrase.split(" ", 1)[0]
    return bool(_WORD.fullmatch(first))


def inflect(phrase: str, form: str, known_verbs: frozenset[str] = frozenset()) -> str:
    """Inflect an imperative duty phrase to `form` ('base', 'third' or 'gerund').

    The first word is always a verb by convention; a later word right after "and"/"or" is inflected too when
    it is one of `known_verbs`, so "monitor queues and escalate issues" becomes "monitoring queues and
    escalating issues".
    """
    if form == "base" or not starts_with_verb(phrase):
        return phrase
    change = third_person if form == "third" else gerund
    words = phrase.split(" ")
    words[0] = change(words[0])
    for index in range(1, len(words) - 1):
        if words[index] in ("and", "or") and words[index + 1] in known_verbs:
            words[index + 1] = change(words[index + 1])
    return " ".join(words)


# Letters whose names start with a vowel sound, for acronyms read letter by letter ("an HR", "an SEO", "a UX").
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")
_CONSONANT_SOUND_STARTS = ("uni", "use", "usu", "uti", "eu", "one", "once", "ur")
_VOWEL_SOUND_STARTS = ("hour", "honest", "honour", "honor", "heir")


def indefinite(phrase: str) -> str:
    """'a' or 'an' by the sound of the first word: an HR adviser, a user researcher, an hourly role."""
    word = phrase.strip().split(" ", 1)[0].strip("(\"'")
    if not word:
        return "a"
    letters = re.sub(r"[^A-Za-z]", "", word)
    if len(letters) > 1 and letters.isupper():
        return "an" if letters[0] in _VOWEL_SOUND_LETTERS else "a"
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND_STARTS):
        return "an"
    if lower.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if lower[:1] in _VOWELS else "a"


def capitalise(text: str) -> str:
    """Upper-case the first character only, leaving acronyms and names as written."""
    return text[:1].upper() + text[1:] if text else text


def join_list(items: list[str], conjunction: str = "and", oxford: bool = False) -> str:
    """Join phrases as English prose: 'a', 'a and b', 'a, b and c'."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    comma = "," if oxford else ""
    return f"{', '.join(items[:-1])}{comma} {conjunction} {items[-1]}"


def sentence(text: str) -> str:
    """Capitalise and end with a full stop unless it already ends with punctuation."""
    text = capitalise(text.strip())
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def regional_spelling(text: str, spelling: str) -> str:
    """The text with the noun licence spelt as a region's ads spell it: licence ("uk") or license ("us")."""
    stem = LICENCE_STEMS[spelling]
    return _LICENCE_NOUN.sub(lambda match: f"{match.group(1)}{stem}{match.group(2)}", text)


def regional_record_check(text: str, record_check: str) -> str:
    """The text with a DBS check named as a region's ads name a criminal record check ("background check")."""
    return _UK_RECORD_CHECK.sub(lambda match: f"{record_check}{match.group(1)}", text)


def regional_vocational_qualification(text: str, name: str) -> str:
    """The text with an NVQ named as a region's ads name a vocational qualification: left as it is where the region
    says "NVQ", else "an NVQ Level 3 in Plumbing" reads "a Level 3 vocational qualification in Plumbing"."""
    if name == UK_VOCATIONAL_QUALIFICATION:
        return text
    text = _UK_NVQ_AT_LEVEL.sub(lambda match: f"{match.group(1)} Level {match.group(2)} {name} in", text)
    text = _UK_NVQ_IN.sub(lambda match: f"{match.group(1)} {name} in", text)
    return _UK_NVQ.sub(name, text)
