"""The decision rules: the label at a threshold, the review flag in a band around it, and the scope verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline import config

if TYPE_CHECKING:
    import numpy as np


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
