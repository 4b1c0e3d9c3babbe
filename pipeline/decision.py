"""The two decision rules on P(KPO): the label at a threshold, and the review flag in a band around it."""

from __future__ import annotations

import numpy as np

from pipeline import config


def labels_at(p_kpo, threshold: float) -> np.ndarray:
    """KPO where P(KPO) reaches the threshold, BPO below it."""
    return np.where(np.asarray(p_kpo) >= threshold, config.KPO, config.BPO)


def in_review_band(p_kpo, threshold: float, band: float) -> np.ndarray:
    """True where P(KPO) lies closer to the threshold than `band`: the postings a person should look at."""
    return np.abs(np.asarray(p_kpo) - threshold) < band
