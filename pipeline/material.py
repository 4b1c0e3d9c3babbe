"""Split the catalogue into what names a job's function and what both classes share, by the function lexicon."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pipeline import config
from pipeline.audit import Lexicon, analyser
from pipeline.catalogue import Area, Catalogue, Family

# A family keeps at least this many of its own duties even when fewer name a function term, so that every
# posting still says what the job is.
MIN_FUNCTION_DUTIES = 3
# A word used in fewer catalogue phrases than this is specific vocabulary ("retaining walls", "fare rules"):
# a phrase holding one stays with its family even when the lexicon does not list the word, because such words
# are too rare to become shortcuts and too telling to hand to the other class.
SPECIFIC_WORD_PHRASES = 3


@dataclass(frozen=True)
class FamilyMaterial:
    """The phrases of one family (and its area) that carry its function."""

    duties: tuple[str, ...]
    area_duties: tuple[str, ...]
    requirements: tuple[str, ...]
    tools: tuple[str, ...]
    metrics: tuple[str, ...]
    ways_of_working: tuple[str, ...]


@dataclass(frozen=True)
class SharedMaterial:
    """Phrases that name no function: drawn for both classes at the same rate."""

    duties: tuple[str, ...]
    requirements: tuple[str, ...]
    tools: tuple[str, ...]
    metrics: tuple[str, ...]
    ways_of_working: tuple[str, ...]


@dataclass(frozen=True)
class PhraseJudge:
    """Decides whether a catalogue phrase names a function: by the lexicon, or by holding a specific word."""

    lexicon: Lexicon
    analyse: object
    specific_words: frozenset[str]

    def names_function(self, phrase: str) -> bool:
        if self.lexicon.mentions_function(phrase, self.analyse):
            return True
        return any(token in self.specific_words for token in self.analyse(phrase))


def phrase_judge(catalogue: Catalogue) -> PhraseJudge:
    """A judge whose specific words are those in fewer than SPECIFIC_WORD_PHRASES phrases of the catalogue."""
    analyse = analyser()
    counts: dict[str, int] = {}
    for phrase in _all_phrases(catalogue):
        for token in set(analyse(phrase)):
            counts[token] = counts.get(token, 0) + 1
    specific = frozenset(t for t, n in counts.items() if n < SPECIFIC_WORD_PHRASES and not t.isdigit())
    return PhraseJudge(catalogue.lexicon, analyse, specific)


def _all_phrases(catalogue: Catalogue):
    for area in catalogue.areas:
        yield from area.duties + area.requirements + area.tools + area.metrics + area.ways_of_working
        for family in area.families:
            yield from family.titles + family.duties + family.requirements + family.tools


def split_phrases(phrases: tuple[str, ...], judge: PhraseJudge) -> tuple[list[str], list[str]]:
    """(phrases that name a function, phrases that do not)."""
    function, plain = [], []
    for phrase in phrases:
        (function if judge.names_function(phrase) else plain).append(phrase)
    return function, plain


def build_material(catalogue: Catalogue) -> tuple[Mapping[str, FamilyMaterial], SharedMaterial]:
    """Each family's function material, and the shared pools made of every phrase that names no function.

    A catalogue phrase without a function term says nothing about which class the job is in, so leaving it
    with its family would only teach the model the writer's habits; it joins the shared pool instead.
    """
    # Kept by the catalogue's whole content (its dataclasses' repr, every field shown): a process that generates
    # again (tune, the seeds benchmark, the tests) sorts the same phrases once, and an edited catalogue anew.
    key = repr(catalogue)
    if key not in _BUILT:
        if len(_BUILT) >= _MOST_KEPT:
            _BUILT.pop(next(iter(_BUILT)))
        by_family, shared = _build_material(catalogue)
        _BUILT[key] = (MappingProxyType(by_family), shared)
    return _BUILT[key]


_BUILT: dict[str, tuple[Mapping[str, FamilyMaterial], SharedMaterial]] = {}
_MOST_KEPT = 4


def _build_material(catalogue: Catalogue) -> tuple[dict[str, FamilyMaterial], SharedMaterial]:
    judge = phrase_judge(catalogue)
    shared: dict[str, list[str]] = {key: [] for key in ("duties", "requirements", "tools", "metrics", "ways")}
    by_family: dict[str, FamilyMaterial] = {}
    for area in catalogue.areas:
        if area.label not in config.LABELS:
            # Out-of-scope work keeps every phrase: handing a nurse's duties to the shared pool would put them
            # into office postings. Its areas take from the shared pools and never give to them.
            for family in area.families:
                by_family[family.family] = _whole_family(family, area)
            continue
        area_parts = {}
        for key, phrases in (
            ("duties", area.duties),
            ("requirements", area.requirements),
            ("tools", area.tools),
            ("metrics", area.metrics),
            ("ways", area.ways_of_working),
        ):
            function, plain = split_phrases(phrases, judge)
            area_parts[key] = function
            shared[key].extend(plain)
        for family in area.families:
            by_family[family.family] = _family_material(family, area_parts, shared, judge)
    if catalogue.register is not None:
        shared["duties"].extend(catalogue.register.lists["neutral_duties"])
    shared["duties"].extend(catalogue.neutral["generic_duties"])
    shared["requirements"].extend(catalogue.neutral["generic_requirements"])
    return by_family, SharedMaterial(
        duties=_unique(shared["duties"]),
        requirements=_unique(shared["requirements"]),
        tools=_unique(shared["tools"]),
        metrics=_unique(shared["metrics"]),
        ways_of_working=_unique(shared["ways"]),
    )


def _family_material(family: Family, area_parts: dict, shared: dict, judge: PhraseJudge) -> FamilyMaterial:
    duties, plain_duties = split_phrases(family.duties, judge)
    missing = max(0, MIN_FUNCTION_DUTIES - len(duties))
    duties, plain_duties = duties + plain_duties[:missing], plain_duties[missing:]
    requirements, plain_requirements = split_phrases(family.requirements, judge)
    tools, plain_tools = split_phrases(family.tools, judge)
    shared["duties"].extend(plain_duties)
    shared["requirements"].extend(plain_requirements)
    shared["tools"].extend(plain_tools)
    return FamilyMaterial(
        duties=tuple(duties),
        area_duties=tuple(area_parts["duties"]),
        requirements=tuple(requirements) + tuple(area_parts["requirements"]),
        tools=tuple(tools) + tuple(area_parts["tools"]),
        metrics=tuple(area_parts["metrics"]),
        ways_of_working=tuple(area_parts["ways"]),
    )


def _whole_family(family: Family, area: Area) -> FamilyMaterial:
    return FamilyMaterial(
        duties=family.duties,
        area_duties=area.duties,
        requirements=family.requirements + area.requirements,
        tools=family.tools + area.tools,
        metrics=area.metrics,
        ways_of_working=area.ways_of_working,
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
