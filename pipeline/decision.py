"""The decision rules (the label at a threshold, the review band, the scope verdict) and checks of their inputs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from numbers import Integral, Real
from typing import TYPE_CHECKING

from pipeline import config

if TYPE_CHECKING:
    import numpy as np


def check_cut(name: str, value, high: float = 1.0) -> float:
    """`value` as a float when it is a number from 0 to `high`; otherwise a ValueError naming the option. The
    command line and the service check their options as they parse them; a caller of the Python API passes them
    straight in, and a threshold of 2 or NaN once labelled every posting alike without a word."""
    if isinstance(value, bool) or not isinstance(value, Real) or not (math.isfinite(value) and 0 <= value <= high):
        raise ValueError(f"{name} must be a number from 0 to {high:g}, not {value!r}")
    return float(value)


def check_count(name: str, value, low: int = 0) -> int:
    """`value` when it is a whole number of at least `low`; otherwise a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")
    return int(value)


def text_list(texts, allow_missing: bool = False) -> list:
    """The texts as a list. Refused: what iterating would not give as the texts in order (a bare string gives its
    characters, a table or a dict its column names or keys, a set no order to match the answers to)."""
    kind = type(texts).__name__
    if texts is None:  # it raised "'NoneType' object is not iterable", naming no argument
        raise TypeError("expected a list of texts, got None")
    if isinstance(texts, str | bytes | bytearray | memoryview):
        raise TypeError(f"expected a list of texts, got a single {kind}; wrap it in a list: [text]")
    if getattr(texts, "ndim", 1) != 1:
        raise TypeError(f"expected one column of texts, got a {texts.ndim}-dimensional {kind}; "
                        "pass the column, e.g. frame['text']")  # fmt: skip
    if isinstance(texts, Mapping):
        raise TypeError(f"expected a list of texts, got a {kind}, whose keys would be scored; pass list(d.values())")
    if not isinstance(texts, Iterable):  # it raised "'int' object is not iterable", naming no argument
        raise TypeError(f"expected a list of texts, got {kind}")
    if isinstance(texts, AbstractSet):
        raise TypeError(f"expected a list of texts, got a {kind}, which has no order to match the answers to; "
                        "pass a list")  # fmt: skip
    texts = list(texts)
    if not allow_missing:
        # A loop, not next(..., None): None is itself a text to refuse.
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"expected every text to be a str, got {type(text).__name__} at position {position}")
    return texts


def one_text(text) -> str:
    """A single text, refused by its type when it is no str, as text_list refuses an item of a list: None or a
    number met str's own methods and raised a bare AttributeError ('NoneType' object has no attribute 'lower')."""
    if not isinstance(text, str):
        raise TypeError(f"expected the text to be a str, got {type(text).__name__}")
    return text


def posting_texts(texts) -> list[str]:
    """The texts as a list (text_list), each with something to score: an empty or blank text got a label and a
    probability, which a service then stored as a verdict on no posting."""
    texts = text_list(texts)
    for position, text in enumerate(texts):
        if not text.strip():
            raise ValueError(
                f"the text at position {position} is empty or blank: there is no posting to score; decide() gives "
                "such a text a row with an error"
            )
    return texts


def label_for(p_kpo: float, threshold: float) -> str:
    """KPO where P(KPO) reaches the threshold, BPO below it."""
    return config.KPO if p_kpo >= threshold else config.BPO


def needs_review(p_kpo: float, threshold: float, band: float) -> bool:
    """True where P(KPO) lies closer to the threshold than `band`: the postings a person should look at."""
    return abs(p_kpo - threshold) < band


def scope_verdict(words: int, known_share: float, p_out: float, threshold: float, rules: dict) -> tuple[bool, str]:
    """Out of scope, and why: text the vocabulary barely knows is no job posting (the model's probability means
    little there); otherwise the scope model's P(out of scope) against the threshold."""
    if words < rules["min_words"] or known_share < rules["min_known_share"]:
        return True, config.SCOPE_REASON_TEXT
    if p_out >= threshold:
        return True, config.SCOPE_REASON_MODEL
    return False, ""


# The array forms import numpy when called, so that the portable scorer's start-up never pays for it.
def labels_at(p_kpo, threshold: float) -> np.ndarray:
    """label_for over an array of P(KPO)."""
    import numpy as np

    return np.where(np.asarray(p_kpo) >= threshold, config.KPO, config.BPO)


def in_review_band(p_kpo, threshold: float, band: float) -> np.ndarray:
    """needs_review over an array of P(KPO)."""
    import numpy as np

    return np.abs(np.asarray(p_kpo) - threshold) < band
