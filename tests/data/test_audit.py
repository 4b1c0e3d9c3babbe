"""The shortcut audit: a planted word that ties one class must stop prepare; the shipped data passes."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline import config
from pipeline.audit import audit_data, class_frequencies, parse_lexicon, shortcut_message
from pipeline.cli import cli
from pipeline.errors import DataError
from pipeline.generate import generate_postings

PLANTED = "zorblaxing"


@pytest.fixture(scope="module")
def generated(catalogue):
    return generate_postings(catalogue, 600, seed=5)


def _audit(frame, lexicon):
    return audit_data(class_frequencies(frame["text"].tolist(), frame["label"].tolist(), lexicon.masked), lexicon)


def test_a_planted_word_in_one_class_is_reported_as_a_shortcut(generated, catalogue):
    planted = generated.copy()
    kpo = planted.index[planted["label"] == config.KPO][::4]
    planted.loc[kpo, "text"] = planted.loc[kpo, "text"] + f" {PLANTED} daily."
    result = _audit(planted, catalogue.lexicon)
    names = {row["feature"] for row in result["shortcuts"]}
    assert PLANTED in names
    assert PLANTED not in {row["feature"] for row in _audit(generated, catalogue.lexicon)["shortcuts"]}
    # In a quarter of one class and none of the other: no chance, and the message does not say it might be.
    assert "chance" not in shortcut_message(result)


def test_a_ratio_within_chance_of_the_limit_says_so(generated, catalogue):
    # 24 KPO postings and 5 BPO ones of 600: a ratio over 3, but its 95% interval reaches 1.7. The shortcut still
    # stops prepare (the rule is the rule); the message says more postings would tell.
    planted = generated.copy()
    kpo = planted.index[planted["label"] == config.KPO][:24]
    bpo = planted.index[planted["label"] == config.BPO][:5]
    planted.loc[kpo.union(bpo), "text"] = planted.loc[kpo.union(bpo), "text"] + f" {PLANTED} daily."
    result = _audit(planted, catalogue.lexicon)
    (row,) = [row for row in result["shortcuts"] if row["feature"] == PLANTED]
    assert row["ratio"] > 3 > row["ratio_low95"]
    assert "chance alone could give these ratios" in shortcut_message(result | {"shortcuts": [row], "n_shortcuts": 1})


def test_a_planted_word_in_both_classes_alike_is_not_a_shortcut(generated, catalogue):
    planted = generated.copy()
    planted.loc[planted.index[::3], "text"] = planted.loc[planted.index[::3], "text"] + f" {PLANTED}."
    assert PLANTED not in {row["feature"] for row in _audit(planted, catalogue.lexicon)["most_skewed"]}


def test_a_listed_function_term_may_tie_one_class(generated, catalogue):
    lexicon = parse_lexicon(
        {
            "bullets": {"kpo.legal": "legal"},
            "terms": {"kpo.legal": [PLANTED]},
            "masked": sorted(catalogue.lexicon.masked),
        },
        "test",
    )
    planted = generated.copy()
    kpo = planted.index[planted["label"] == config.KPO][::4]
    planted.loc[kpo, "text"] = planted.loc[kpo, "text"] + f" {PLANTED}."
    result = _audit(planted, lexicon)
    assert PLANTED not in {row["feature"] for row in result["shortcuts"]}
    assert any(row["feature"] == PLANTED and row["bullet"] == "kpo.legal" for row in result["most_skewed"])


def test_prepare_stops_on_a_planted_shortcut(tmp_path):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    # Distinct words per row, so that deduplication (which ignores digits) keeps every one.
    tags = ["".join("abcdefghij"[int(d)] for d in f"{i:03d}") for i in range(60)]
    rows = [{"text": f"Prepare filings for partner review {PLANTED} ref {tag}.", "label": "KPO"} for tag in tags]
    pd.DataFrame(rows).to_csv(labelled / "mine.csv", index=False)
    result = CliRunner().invoke(
        cli, ["prepare", "--n-postings", "600", "--labelled", str(labelled), "--output-dir", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "shortcut audit failed" in result.output and PLANTED in result.output
    assert not (tmp_path / "out" / "train.csv").exists()


def test_the_lexicon_refuses_ordinary_words_and_masked_terms():
    with pytest.raises(DataError, match="ordinary"):
        parse_lexicon({"bullets": {"b": "x"}, "terms": {"b": ["degree"]}, "never": ["degree"]}, "lexicon")
    with pytest.raises(DataError, match="masked"):
        parse_lexicon({"bullets": {"b": "x"}, "terms": {"b": ["payroll"]}, "masked": ["payroll"]}, "lexicon")
    with pytest.raises(DataError, match="unknown bullet"):
        parse_lexicon({"bullets": {}, "terms": {"b": ["payroll"]}}, "lexicon")


def test_the_words_real_ads_of_both_classes_use_are_never_function_terms(catalogue):
    ordinary = {"degree", "stakeholders", "strategy", "analytical", "impact", "develop", "build", "approved",
                "weekly", "team", "manage", "process", "service", "customer", "data", "technical", "schedule",
                "correct", "write", "assess", "years", "experience", "patients", "shifts", "targets",
                "commission"}  # fmt: skip
    assert not ordinary & set(catalogue.lexicon.terms)


def test_the_shipped_training_split_passes_the_audit():
    summary = json.loads(config.DATASET_SUMMARY_PATH.read_text(encoding="utf-8"))
    assert summary["shortcut_audit"]["n_shortcuts"] == 0
    assert summary["shortcut_audit"]["features_checked"] > 1000
