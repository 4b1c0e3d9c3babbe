"""The two decision rules on P(KPO): the label at a threshold, and the review flag in a band around it."""

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


# The array forms import numpy when called, so that the portable scorer's start-up never pays for it.
def labels_at(p_kpo, threshold: float) -> np.ndarray:
    """label_for over an array of P(KPO)."""
    import numpy as np

    return np.where(np.asarray(p_kpo) >= threshold, config.KPO, config.BPO)


def in_review_band(p_kpo, threshold: float, band: float) -> np.ndarray:
    """needs_review over an array of P(KPO)."""
    import numpy as np

    return np.abs(np.asarray(p_kpo) - threshold) < band
