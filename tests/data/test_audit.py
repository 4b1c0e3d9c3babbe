"""The shortcut audit: a planted word that ties one class must stop prepare; the shipped data passes."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline import config
from pipeline.audit import (
    audit_data,
    audit_pipeline,
    audit_user_postings,
    beyond_chance,
    class_frequencies,
    features_brought,
    model_shortcut_message,
    parse_lexicon,
    shortcut_message,
)
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
    (tmp_path / "none").mkdir()  # no written postings: the planted word is the one to find
    result = CliRunner().invoke(cli, ["prepare", "--n-postings", "600", "--labelled", str(labelled), "--output-dir",
                                      str(tmp_path / "out"), "--written", str(tmp_path / "none")])  # fmt: skip
    assert result.exit_code == 1
    assert "shortcut audit failed" in result.output and PLANTED in result.output
    # The word is the user's own: they were sent to the generator's pools, and not told of --allow-shortcuts.
    assert f"mostly from your postings in {labelled} (" in result.output and f"'{PLANTED}'" in result.output
    assert "--allow-shortcuts reports them without stopping" in result.output
    assert not (tmp_path / "out" / "train.csv").exists()


HABIT = "Apply to Quorvane Partners."


@pytest.fixture(scope="module")
def users_postings(catalogue):
    """Twelve KPO and twelve BPO postings of a user's, drawn apart from `generated`."""
    drawn = generate_postings(catalogue, 200, seed=6)
    return {label: drawn.loc[drawn["label"] == label, "text"].head(12).tolist() for label in (config.KPO, config.BPO)}


def _user_audit(generated, kpo, bpo, lexicon):
    texts, labels = [*kpo, *bpo], [config.KPO] * len(kpo) + [config.BPO] * len(bpo)
    in_scope = generated[generated["label"] != config.NEITHER]
    frequencies = class_frequencies(
        in_scope["text"].tolist() + texts, in_scope["label"].tolist() + labels, lexicon.masked
    )
    return audit_user_postings(features_brought(frequencies, texts, lexicon), len(texts))


def test_a_habit_of_a_users_postings_in_one_class_is_named(generated, users_postings, catalogue):
    """Twelve postings are far under the data audit's share, yet the model learns "quorvane" as a KPO word."""
    kpo = [f"{text} {HABIT}" for text in users_postings[config.KPO]]
    result = _user_audit(generated, kpo, users_postings[config.BPO], catalogue.lexicon)
    assert [(row["feature"], row["toward"], row["df_user"]) for row in result["shortcuts"]] == [
        ("quorvane", config.KPO, 12),
        ("quorvane partners", config.KPO, 12),
    ]


def test_a_habit_shared_by_both_classes_of_a_users_postings_is_no_shortcut(generated, users_postings, catalogue):
    kpo, bpo = users_postings[config.KPO], users_postings[config.BPO]
    both = [f"{text} {HABIT}" for text in kpo[:6]] + kpo[6:], [f"{text} {HABIT}" for text in bpo[:6]] + bpo[6:]
    result = _user_audit(generated, *both, catalogue.lexicon)
    assert result["features_brought"] >= 2 and result["n_shortcuts"] == 0


def test_prepare_warns_of_a_habit_of_the_users_postings_and_goes_on(tmp_path, users_postings):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    rows = [{"text": f"{text} {HABIT}", "label": config.KPO} for text in users_postings[config.KPO]]
    rows += [{"text": text, "label": config.BPO} for text in users_postings[config.BPO]]
    pd.DataFrame(rows).to_csv(labelled / "mine.csv", index=False)
    out = tmp_path / "out"
    (tmp_path / "none").mkdir()  # at this size the written postings' own words would cross the audit's share
    result = CliRunner().invoke(cli, ["prepare", "--n-postings", "300", "--labelled", str(labelled),
                                      "--output-dir", str(out), "--written", str(tmp_path / "none")])  # fmt: skip
    assert result.exit_code == 0, result.output
    # An empty --written folder is named, as a full one is: the run said nothing of what it left out.
    assert f"written postings in {tmp_path / 'none'}: none, so the BPO/KPO postings are generated ones alone" in (
        result.output
    )
    assert "audit of your postings" in result.output
    assert "Warning: your postings in" in result.output and "'quorvane' (KPO x" in result.output
    summary = json.loads((out / config.DATASET_SUMMARY_PATH.name).read_text(encoding="utf-8"))
    assert summary["user_postings_audit"]["shortcuts"][0]["feature"] == "quorvane"


@pytest.mark.parametrize(
    ("habit", "options", "named"),
    [
        (HABIT, (), ("'quorvane' (KPO x", "'partners' (KPO x")),
        # Stop words the model reads: counted with the default stop list, they tied neither class.
        ("Yours ours.", ("--stop-words", "none"), ("'yours' (KPO x", "'yours ours' (KPO x")),
    ],
)
def test_train_warns_of_a_habit_its_model_learnt_and_goes_on(generated, tmp_path, habit, options, named):
    """train --data reads files prepare never audited: a company's name in every KPO posting of one's own file
    becomes one of the model's heaviest KPO words, and train says so, with the model written."""
    planted = generated[generated["label"] != config.NEITHER].head(160).copy()
    kpo = planted["label"] == config.KPO
    planted.loc[kpo, "text"] = planted.loc[kpo, "text"] + f" {habit}"
    planted[["text", "label"]].to_csv(tmp_path / "mine.csv", index=False)
    model = tmp_path / "model.joblib"
    result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path / "mine.csv"), "--model", str(model),
                                      "--cv-folds", "2", *options])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert model.is_file()
    (warning,) = [line for line in result.output.splitlines() if "heaviest features" in line]
    assert warning.startswith("Warning: ") and all(name in warning for name in named), warning


def test_the_model_audit_names_the_class_a_word_is_frequent_in_and_counts_the_features_there_are():
    """'join' (of "Join Quorvane today." in every KPO posting) weighed toward BPO and was called a BPO word, and a
    model of 30 n-grams was said to have 200 heaviest."""
    from pipeline.audit import Lexicon, audit_weights

    frequencies = pd.DataFrame({"feature": ["join", "join quorvane"], "ratio": [5.6, 151.0],
                                "ratio_low95": [4.0, 90.0], "toward": ["KPO", "KPO"]})  # fmt: skip
    lexicon = Lexicon(bullets={}, terms={})
    result = audit_weights(np.array(["join", "join quorvane"]), np.array([-3.16, 9.0]), frequencies, lexicon)
    assert result["top_k"] == 2
    assert "'join' (KPO x5.6, weight -3.16)" in model_shortcut_message(beyond_chance(result), result["top_k"])


def test_the_model_audit_of_train_names_no_word_that_ties_a_class_by_chance(generated, catalogue):
    """Fitted on 500 generated postings, the model's heavy words include some that one class has more often by
    chance (ratio over 3, interval reaching below it): train's warning would name dozens on any small file."""
    from pipeline.train import fit

    frame = generated[generated["label"] != config.NEITHER]
    masked = tuple(sorted(catalogue.lexicon.masked))  # as train fits it: the lexicon's masked words unread
    pipeline, _ = fit(frame, replace(config.TRAIN, cv_folds=2, calibration="none", masked_words=masked))
    audit = audit_pipeline(pipeline, frame, catalogue.lexicon)
    assert audit["n_shortcuts"] > 0 and all(record["ratio"] > 3 for record in audit["shortcuts"])
    assert beyond_chance(audit) == [r for r in audit["shortcuts"] if r["ratio_low95"] > 3] == []


def test_the_shortcut_message_counts_the_users_words_among_every_shortcut_not_the_first_listed():
    """The audit's record lists 40 shortcuts: 45 of a user's among 46 were counted as 40, and the one that is not
    theirs lost its advice. With --allow-shortcuts the warning said "failed" and told the user to pass it."""
    every = [f"word{i}" for i in range(46)]
    listed = [{"feature": f, "toward": config.KPO, "ratio": 9.0, "ratio_low95": 5.0} for f in every[:40]]
    result = {"shortcuts": listed, "n_shortcuts": 46, "max_ratio": 3.0}
    message = shortcut_message(result, shortcuts=every, yours=frozenset(every[1:]), folder="labelled")
    assert "45 of them come mostly from your postings in labelled ('word1', " in message
    assert "Balance the others through the shared pools" in message
    assert message.endswith("; --allow-shortcuts reports them without stopping")
    warning = shortcut_message(result, shortcuts=every, yours=frozenset(every), folder="labelled", allowed=True)
    assert warning.startswith("shortcut audit found: 46 words") and "--allow-shortcuts" not in warning
    assert "Balance" not in warning


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
