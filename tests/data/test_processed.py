"""The processed dataset `prepare` wrote: schema, labels, balance, duplicates, leakage and neutral boilerplate."""

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from pipeline import config
from pipeline.dataset import in_scope, near_duplicate_key, read_split
from pipeline.generate import generate_postings


@pytest.fixture(scope="module")
def splits():
    return {
        name: read_split(path)
        for name, path in (("train", config.TRAIN_PATH), ("test", config.TEST_PATH), ("field", config.FIELD_PATH))
    }


def test_schema_and_label_set(splits):
    for name in ("train", "test"):
        frame = splits[name]
        assert list(frame.columns) == list(config.DATASET_COLUMNS)
        assert set(frame["label"]) == set(config.CATALOGUE_LABELS)
        assert (frame["text"].str.len() > 0).all()
        assert frame["id"].is_unique
    assert {"id", "text", "label", "area", "borderline"} <= set(splits["field"].columns)
    assert set(splits["field"]["label"]) == set(config.CATALOGUE_LABELS)


def test_classes_are_balanced_within_bounds(splits):
    for name in ("train", "test", "field"):
        share = (in_scope(splits[name])["label"] == config.KPO).mean()
        assert 0.4 <= share <= 0.6, (name, share)
        out_of_scope = (splits[name]["label"] == config.NEITHER).mean()
        assert 0.1 <= out_of_scope <= 0.4, (name, out_of_scope)


def test_no_duplicates_within_or_across_splits(splits):
    everything = splits | {"challenge": read_split(config.CHALLENGE_PATH)}
    keys = {name: frame["text"].map(near_duplicate_key) for name, frame in everything.items()}
    for name, series in keys.items():
        assert series.is_unique, name
    # The shipped model learns from the training and test splits: neither may hold a field or challenge posting.
    assert set(keys["train"]).isdisjoint(keys["test"])
    for learnt in ("train", "test"):
        for evaluated in ("field", "challenge"):
            assert set(keys[learnt]).isdisjoint(keys[evaluated]), (learnt, evaluated)


def generated(frame):
    """The generated rows of a split: a user's own labelled postings (data/raw/labelled) need no title or area."""
    return frame[frame[config.SOURCE_COLUMN] == config.SOURCE_SYNTHETIC]


def test_no_group_or_title_on_both_sides(splits):
    train, test = splits["train"], splits["test"]
    assert set(train["group"]).isdisjoint(test["group"])
    # A posting without a title shares none. The generator's titles belong to role families, dealt whole to one
    # side; the written postings' hands named jobs as they chose ("Credit Analyst" in two hands' families).
    titles = [set(generated(frame)["title"]) - {""} for frame in (train, test)]
    assert titles[0] and titles[1] and titles[0].isdisjoint(titles[1])


def test_every_area_is_trained_and_tested(splits, catalogue):
    areas = {a.area for a in catalogue.areas}
    assert set(generated(splits["train"])["area"]) == areas
    assert len(set(generated(splits["test"])["area"])) >= 0.8 * len(areas)


def test_field_set_is_hand_written_broad_and_borderline_heavy(splits):
    field = in_scope(splits["field"])
    assert len(field) >= 200
    assert field["borderline"].mean() >= 0.25
    assert field["area"].value_counts().min() >= 2
    neither = splits["field"][splits["field"]["label"] == config.NEITHER]
    assert len(neither) >= 60 and neither["area"].nunique() >= 25


def _shingles(text, n=8):
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_field_sentence_appears_in_the_catalogue(splits, catalogue):
    """The field set and the catalogue were written apart; many shared eight-word runs would mean copying.

    Stock wording (ICD-10-CM codes, monitoring experience) converges by itself, so a couple of hits are allowed;
    shared boilerplate such as equal-opportunity lines is not role content and is not checked here.
    """
    phrases = [p for a in catalogue.areas for p in a.duties + a.requirements + a.metrics + a.ways_of_working]
    phrases += [p for f in catalogue.families for p in f.duties + f.requirements]
    catalogue_shingles = set().union(*map(_shingles, phrases))
    hits = [text[:60] for text in splits["field"]["text"] if _shingles(text) & catalogue_shingles]
    assert len(hits) <= 2, hits


def test_shared_pool_alone_predicts_the_label_no_better_than_chance(catalogue):
    frame = generate_postings(catalogue, 2000, seed=11, with_neutral=True)
    neutral = frame["neutral_text"].replace("", "empty")
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2), LogisticRegression(max_iter=1000))
    accuracy = np.mean(cross_val_score(model, neutral, frame["label"], cv=5, scoring="accuracy"))
    # 2,000 balanced rows: chance is 0.5 with a standard error near 0.011.
    assert 0.45 <= accuracy <= 0.55, accuracy
