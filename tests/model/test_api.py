"""The API a service embeds: clear refusals, the command line's rows in one call, and where the model is found."""

import html
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from console import jsonl, run

from pipeline import ModelError, config, load_model
from pipeline.errors import train_hint
from pipeline.model import metadata_path, save_model

TEXTS = [
    "Answer inbound customer calls and resolve billing queries to the agreed script",
    "Build credit-risk models in Python and present the findings to the board",
    "   ",
    "Coordinate vendor onboarding and review supplier contracts",
]


@pytest.mark.parametrize("method", ["predict", "predict_proba", "p_kpo", "decide"])
# bytearray and memoryview were read as lists of bytes: decide gave one error row per byte.
@pytest.mark.parametrize(
    "bare",
    ["Process supplier invoices", b"Process supplier invoices", bytearray(b"Process supplier invoices"),
     memoryview(b"Process supplier invoices")],
    ids=["str", "bytes", "bytearray", "memoryview"],
)  # fmt: skip
def test_a_bare_string_is_refused(shipped_model_path, method, bare):
    model = load_model(shipped_model_path)
    with pytest.raises(TypeError, match=r"list of texts.*\[text\]"):
        getattr(model, method)(bare)


# Each iterates without error, but not as the texts in order: a table gives its column names, so predict(frame)
# once answered one row, for the word "text"; a dict its keys; a set an order the answers cannot be matched to.
NOT_A_COLUMN_OF_TEXTS = {
    "DataFrame": (lambda: pd.DataFrame({"text": TEXTS}), r"one column of texts, got a 2-dimensional DataFrame"),
    "2-D array": (lambda: np.array([TEXTS[:2], TEXTS[2:]]), r"one column of texts, got a 2-dimensional ndarray"),
    "dict": (lambda: dict(enumerate(TEXTS)), r"got a dict, whose keys would be scored"),
    "set": (lambda: set(TEXTS), r"got a set, which has no order"),
}


@pytest.mark.parametrize("method", ["predict", "predict_proba", "p_kpo", "transform", "decide", "scope"])
@pytest.mark.parametrize("kind", NOT_A_COLUMN_OF_TEXTS)
def test_a_table_a_dict_or_a_set_is_refused(shipped_model_path, method, kind):
    make, message = NOT_A_COLUMN_OF_TEXTS[kind]
    with pytest.raises(TypeError, match=message):
        getattr(load_model(shipped_model_path), method)(make())


def test_a_column_array_or_generator_of_texts_is_scored_in_order(shipped_model_path):
    model = load_model(shipped_model_path)
    texts = [TEXTS[0], TEXTS[1], TEXTS[3]]
    expected = model.predict_proba(texts)
    frame = pd.DataFrame({"text": texts}, index=[7, 3, 5])
    for given in (frame["text"], np.array(texts), tuple(texts), (text for text in texts)):
        assert model.predict_proba(given) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "p_kpo", "transform"])
@pytest.mark.parametrize("missing", [None, 3, float("nan"), b"bytes"], ids=["None", "int", "nan", "bytes"])
def test_a_text_that_is_not_a_string_is_refused_by_its_position(shipped_model_path, method, missing):
    """None once reached scikit-learn and failed there with "'NoneType' object has no attribute 'lower'"."""
    with pytest.raises(TypeError, match=rf"every text to be a str, got {type(missing).__name__} at position 1$"):
        getattr(load_model(shipped_model_path), method)([TEXTS[0], missing])


@pytest.mark.parametrize("missing", [None, 3, float("nan"), b"bytes"], ids=["None", "int", "nan", "bytes"])
def test_a_single_text_that_is_not_a_string_is_refused_by_the_portable_scorer(shipped_model_path, missing):
    """probabilities_of(None), decision(5) and scope_verdict(None) raised a bare AttributeError ("'NoneType' object
    has no attribute 'lower'") out of the scorer's own code."""
    from pipeline.portable import load_portable

    portable = load_portable(shipped_model_path)
    methods = (portable.probabilities_of, portable.decision, portable.features, portable.analyse,
               portable.known_word_share, portable.scope.scope_verdict, portable.scope.probabilities_of)  # fmt: skip
    for method in methods:
        with pytest.raises(TypeError, match=rf"^expected the text to be a str, got {type(missing).__name__}$"):
            method(missing)


def test_scoring_reads_text_exactly_as_the_saved_pipelines_do(shipped_model_path, evaluation_texts):
    """Model scores with a shallow copy of each vectorizer whose accent strip is the project's faster twin: every
    probability and feature must be the saved Pipeline's own, bit for bit, and the Pipeline as loaded unchanged."""
    model = load_model(shipped_model_path)
    texts = [text for texts in evaluation_texts.values() for text in texts]
    texts += ["Café résumé naïve — œuvre \u2022 ﬁnance ² ½ Ａｎｓｗｅｒ", "Señora año ¿qué? İstanbul ǅemal", "ascii"]
    np.testing.assert_array_equal(model.predict_proba(texts), model.pipeline.predict_proba(texts))
    scope_column = config.SCOPE_LABELS.index(config.OUT_OF_SCOPE)
    np.testing.assert_array_equal(
        model.p_out_of_scope(texts), model.scope_pipeline.predict_proba(texts)[:, scope_column]
    )
    vectorizer = model.pipeline.named_steps[config.VECTORIZER_STEP]
    assert (model.transform(texts) != vectorizer.transform(texts)).nnz == 0
    assert vectorizer.strip_accents == "unicode"
    assert model.scope_pipeline.named_steps[config.VECTORIZER_STEP].strip_accents == "unicode"


def test_an_empty_batch_gives_empty_answers(shipped_model_path):
    """A service batching requests may send none: scikit-learn refused with "Found array with 0 sample(s)"."""
    model = load_model(shipped_model_path)
    assert model.predict([]) == [] and model.decide([]) == []
    assert model.predict_proba([]).shape == (0, 2) and model.p_kpo([]).shape == (0,)
    features, scope_features = model.transform([]), model.scope_transform([])
    assert features.shape == (0, model.vocabulary_size) and features.dtype == model.transform(TEXTS[:1]).dtype
    assert scope_features.shape == (0, model.scope_transform(TEXTS[:1]).shape[1])
    assert model.score(features).shape == (0,) and model.explain(features) == []
    assert model.explain_scope(scope_features, []) == []
    p_out, flags, reasons = model.scope([])
    assert p_out.shape == (0,) and flags == [] and reasons == []


@pytest.mark.parametrize(
    ("value", "error"),
    [(None, "empty or missing text"), (float("nan"), "empty or missing text"), (pd.NA, "empty or missing text"),
     (3, "not a text but int; pass text as str"), (b"bytes", "not a text but bytes; pass text as str")],
    ids=["None", "nan", "NA", "int", "bytes"],
)  # fmt: skip
def test_decide_answers_a_text_that_is_not_a_string_with_an_error_row(shipped_model_path, value, error):
    """decide gives the command line's rows, where an empty cell gets an error row and the run goes on. A number
    or bytes were said to be empty or missing text, which they are not; None gave a bare "not iterable"."""
    model = load_model(shipped_model_path)
    rows = model.decide([TEXTS[0], value])
    assert rows[0]["label"] == "BPO" and rows[1]["error"] == error and rows[1]["label"] == ""
    with pytest.raises(TypeError, match=r"^expected a list of texts, got None$"):
        model.decide(None)
    # A number where the list goes raised "'int' object is not iterable", naming no argument.
    with pytest.raises(TypeError, match=r"^expected a list of texts, got int$"):
        model.decide(5)


def test_decide_returns_the_rows_of_the_command_line(shipped_model_path):
    model = load_model(shipped_model_path)
    for explain in (0, 3):
        rows = model.decide(TEXTS, explain=explain)
        args = ["predict", "--format", "jsonl", "--explain", str(explain), *TEXTS]
        cli_rows = jsonl(run(*args).stdout)
        assert rows == [{k: v for k, v in row.items() if k != "id"} for row in cli_rows]
    assert rows[2]["error"] and rows[2]["label"] == "" and rows[2]["p_kpo"] is None
    assert [row["label"] for row in rows if not row["error"]] == model.predict([TEXTS[0], TEXTS[1], TEXTS[3]])


def test_decide_reads_html_as_its_text_as_the_command_line_does(shipped_model_path):
    """A service passing a description as its board exported it (tags, references, escaped once more) gets the
    rows of the text; markup alone gets an error row, as an empty text does."""
    model = load_model(shipped_model_path)
    styled = '<p style="margin: 0px; text-align: left;"><span style="font-size: 11pt;">{}</span></p>'
    exported = [styled.format(TEXTS[0].replace(" and ", " &amp; ")), html.escape(styled.format(TEXTS[1]))]
    rows = model.decide([*exported, "<p>&nbsp;</p>"], explain=3)
    assert rows[:2] == model.decide([TEXTS[0].replace(" and ", " & "), TEXTS[1]], explain=3)
    assert rows[2]["error"] == "no text once its HTML markup and web links are removed" and rows[2]["p_kpo"] is None


def test_decide_scores_a_large_batch_a_slice_at_a_time(shipped_model_path, monkeypatch):
    """decide held every posting's words at once: 100,000 postings took 1.5 GB, where predict, a chunk at a time,
    takes 200 MB. It now scores slices of predict's chunk size, and the rows are those of one call over all."""
    from pipeline import predict

    model = load_model(shipped_model_path)
    batch = TEXTS * 5
    whole = model.decide(batch, explain=2)
    sizes, score_texts = [], predict.score_texts

    def counted(model, texts, options):
        sizes.append(len(texts))
        return score_texts(model, texts, options)

    monkeypatch.setattr(predict, "score_texts", counted)
    monkeypatch.setattr(config, "PREDICT", replace(config.PREDICT, chunk_size=6))
    assert model.decide(batch, explain=2) == whole
    assert sizes == [6, 6, 6, 2]


def test_decide_applies_a_given_threshold_and_band(shipped_model_path):
    model = load_model(shipped_model_path)
    rows = model.decide(TEXTS[:2], threshold=0.0)
    assert [row["label"] for row in rows] == ["KPO", "KPO"]
    p_kpo = rows[0]["p_kpo"]
    assert model.decide(TEXTS[:1], threshold=p_kpo, review_band=0.01)[0]["needs_review"] is True
    assert model.decide(TEXTS[:1], threshold=p_kpo + 0.02, review_band=0.01)[0]["needs_review"] is False
    assert model.decide([]) == []


# What the command line and the service refuse as they parse their options, the API refuses too: a threshold of 2
# or NaN once labelled every posting BPO without a word, a band of 5 sent every posting to review, and explain=2.5
# failed inside a slice.
IMPOSSIBLE_OPTIONS = [
    ({"threshold": 2}, r"threshold must be a number from 0 to 1, not 2$"),
    ({"threshold": float("nan")}, r"threshold must be a number from 0 to 1, not nan$"),
    ({"threshold": "0.5"}, r"threshold must be a number from 0 to 1, not '0.5'$"),
    ({"review_band": 5}, r"review_band must be a number from 0 to 0.5, not 5$"),
    ({"scope_threshold": True}, r"scope_threshold must be a number from 0 to 1, not True$"),
    ({"explain": -1}, r"explain must be a whole number of at least 0, not -1$"),
    ({"explain": 2.5}, r"explain must be a whole number of at least 0, not 2.5$"),
]


@pytest.mark.parametrize(("options", "message"), IMPOSSIBLE_OPTIONS)
def test_decide_refuses_an_impossible_option_by_name(shipped_model_path, options, message):
    with pytest.raises(ValueError, match=message):
        load_model(shipped_model_path).decide(TEXTS[:2], **options)


def test_every_threshold_the_api_takes_is_checked_and_numpy_numbers_are_numbers(shipped_model_path):
    model = load_model(shipped_model_path)
    with pytest.raises(ValueError, match=r"threshold must be a number from 0 to 1, not -1$"):
        model.predict(TEXTS[:2], threshold=-1)
    with pytest.raises(ValueError, match=r"threshold must be a number from 0 to 1, not 1.5$"):
        model.scope(TEXTS[:2], threshold=1.5)
    # A cut read from an array is a numpy scalar, not a float: it is as good a number.
    assert [row["label"] for row in model.decide(TEXTS[:2], threshold=np.float32(0.0))] == ["KPO", "KPO"]
    assert [len(row["explanation"]) for row in model.decide(TEXTS[:2], explain=np.int64(2))] == [2, 2]


def test_decide_takes_the_length_limit_it_applies_and_names_it_as_the_api_does(shipped_model_path):
    """decide refused a text over 1,000,000 characters, with no way to raise the limit, and pointed the caller at
    --max-text-chars, an option of the command line."""
    model = load_model(shipped_model_path)
    long_text = "Process supplier invoices in SAP. " * 30
    refused = model.decide([long_text], max_text_chars=100)[0]
    assert refused["label"] == "" and refused["error"] == "text longer than 100 characters (max_text_chars)"
    scored = model.decide([long_text], max_text_chars=len(long_text))[0]
    assert scored["error"] is None and scored["label"] == model.predict([long_text])[0]
    with pytest.raises(ValueError, match=r"max_text_chars must be a whole number of at least 1, not 0$"):
        model.decide([long_text], max_text_chars=0)


def test_explanations_refuse_labels_flags_or_k_that_do_not_fit_the_rows(shipped_model_path):
    """Two rows explained with one label came back as one list, the second row gone; 'kpo' was read as BPO."""
    model = load_model(shipped_model_path)
    features = model.transform(TEXTS[:2])
    assert len(model.explain(features, ["BPO", "KPO"], k=2)) == 2
    with pytest.raises(ValueError, match=r"labels has 1 item\(s\) for 2 row\(s\) of features; give one per row$"):
        model.explain(features, ["KPO"], k=2)
    for unordered in ({"BPO", "KPO"}, {"KPO": 0, "BPO": 1}, np.array([["BPO"], ["KPO"]])):
        with pytest.raises(ValueError, match=r"labels must be a list with one item per row of features, not a "):
            model.explain(features, unordered, k=2)
    with pytest.raises(ValueError, match=r"labels must be BPO or KPO, not 'kpo'$"):
        model.explain(features, ["BPO", "kpo"], k=2)
    with pytest.raises(ValueError, match=r"k must be a whole number of at least 0, not -2$"):
        model.explain(features, k=-2)
    with pytest.raises(ValueError, match=r"k must be a whole number of at least 0, not -2$"):
        model.top_ngrams(-2)
    scope_features = model.scope_transform(TEXTS[:2])
    assert len(model.explain_scope(scope_features, [False, True], k=2)) == 2
    with pytest.raises(ValueError, match=r"flags has 1 item\(s\) for 2 row\(s\)"):
        model.explain_scope(scope_features, [False], k=2)
    with pytest.raises(ValueError, match=r"flags must be true or false, one per row, not 'yes'$"):
        model.explain_scope(scope_features, [False, "yes"], k=2)
    # The other model's features: plausible n-grams of the wrong words came back.
    with pytest.raises(ValueError, match=r"features have [\d,]+ columns, and the model reads .*scope_transform"):
        model.explain_scope(features, [False, True], k=2)
    for labels in (["BPO", "KPO"], None):  # without labels, scikit-learn's own message came first
        with pytest.raises(ValueError, match=r"features have [\d,]+ columns, and the model reads"):
            model.explain(scope_features, labels, k=2)
    # score too, where scikit-learn's own message named its LogisticRegression; and rows given as a list, where
    # `'list' object has no attribute 'shape'` came out of the middle of the project's code.
    with pytest.raises(ValueError, match=r"features have [\d,]+ columns, and the model reads"):
        model.score(scope_features)
    for method in (model.score, lambda rows: model.explain(rows, k=2)):
        with pytest.raises(TypeError, match=r"^features must be the matrix Model.transform returns .*, not a list$"):
            method([[0.1, 0.2]])


def test_bare_joblib_route_with_the_stored_threshold_gives_the_model_labels(shipped_model_path):
    """What the README shows for services without the package: the stored threshold, not predict's 0.5."""
    pipeline = joblib.load(shipped_model_path)
    meta = json.loads(metadata_path(shipped_model_path).read_text())
    model = load_model(shipped_model_path)
    # Texts whose P(KPO) lies between 0.5 and the tuned threshold are where the two routes differ.
    rng = np.random.default_rng(0)
    words = " ".join(TEXTS).split()
    texts = [" ".join(rng.choice(words, 12)) for _ in range(400)]
    p_kpo = pipeline.predict_proba(texts)[:, list(pipeline.classes_).index("KPO")]
    labels = np.where(p_kpo >= meta["threshold"], "KPO", "BPO")
    assert labels.tolist() == model.predict(texts)


def test_skops_and_joblib_models_in_one_folder_keep_their_own_metadata(tiny_pipeline, tmp_path):
    """The README's `train --format skops --model models/model.skops` must not touch the joblib model."""
    joblib_path = tmp_path / "model.joblib"
    save_model(tiny_pipeline, joblib_path, {"params": {}, "threshold": 0.5})
    before = metadata_path(joblib_path).read_bytes()
    save_model(tiny_pipeline, tmp_path / "model.skops", {"params": {}, "threshold": 0.4}, model_format="skops")
    assert metadata_path(tmp_path / "model.skops") == tmp_path / "model.skops.json"
    assert metadata_path(joblib_path) == tmp_path / "model.joblib.json"
    assert metadata_path(joblib_path).read_bytes() == before
    assert load_model(joblib_path).metadata["format"] == "joblib"
    skops_model = load_model(tmp_path / "model.skops")
    assert skops_model.metadata["format"] == "skops" and skops_model.threshold == 0.4
    assert skops_model.predict(TEXTS[:2]) == load_model(joblib_path).predict(TEXTS[:2], threshold=0.4)


def test_model_from_the_environment_variable(model_copy, tmp_path, monkeypatch):
    monkeypatch.setenv(config.MODEL_ENV_VAR, str(model_copy))
    assert load_model().path == model_copy
    # The console script, run from an unrelated folder, reads the same variable; --model still wins.
    result = run("predict", "--format", "jsonl", "Answer calls", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert jsonl(result.stdout)[0]["p_kpo"] == load_model(model_copy).decide(["Answer calls"])[0]["p_kpo"]
    monkeypatch.setenv(config.MODEL_ENV_VAR, str(tmp_path / "nowhere.joblib"))
    missing = run("predict", "Answer calls", cwd=tmp_path)
    assert missing.returncode == 1
    assert "nowhere.joblib" in missing.stderr and config.MODEL_ENV_VAR in missing.stderr
    assert run("predict", "--model", str(model_copy), "Answer calls").returncode == 0


def test_messages_outside_a_checkout_do_not_send_people_to_a_makefile_they_lack(tmp_path, monkeypatch):
    assert train_hint() == "`make train`"
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)  # an installed package: no Makefile beside it
    assert "in a checkout of bpo-kpo" in train_hint()
    with pytest.raises(ModelError, match=r"in a checkout of bpo-kpo, or pass --model \(or set BPO_KPO_MODEL\)"):
        load_model(tmp_path / "missing.joblib")


def test_a_scope_threshold_without_a_scope_model_is_refused(small_model_dir):
    """The command line and the service refuse it; decide ignored it, even at 5."""
    model = load_model(small_model_dir / "model.joblib")
    assert not model.has_scope
    for scope_threshold in (0.5, 5):
        with pytest.raises(ValueError, match=r"^scope_threshold needs the scope model beside the model; this model"):
            model.decide(["Answer calls"], scope_threshold=scope_threshold)
    assert model.decide(["Answer calls"])[0]["label"] in config.LABELS


def test_a_model_that_cannot_be_read_raises_model_error_from_both_loaders(small_portable_model_dir, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    """load_model and load_portable let an OSError out (a name too long for the file system, a file the service's
    user may not read), so a service that catches ModelError at start-up, as the README says to, crashed."""
    from pipeline.portable import load_portable

    too_long = tmp_path / ("a" * 300 + ".joblib")
    for loader in (load_model, load_portable):
        with pytest.raises(ModelError, match=r"cannot read .*a{300}\.(joblib|portable\.json): File name too long"):
            loader(too_long)
    folder = tmp_path / "copy"
    shutil.copytree(small_portable_model_dir, folder)
    unreadable = metadata_path(folder / "model.joblib")
    read_text = Path.read_text

    def denied(path, *args, **kwargs):  # what a user without read permission gets (root reads every file)
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    for loader in (load_model, load_portable):
        with pytest.raises(ModelError, match=r"cannot read .*model\.joblib\.json: Permission denied"):
            loader(folder / "model.joblib")


@pytest.mark.parametrize("value", [5, b"models/model.joblib", ["models/model.joblib"]], ids=["int", "bytes", "list"])
def test_a_model_path_that_is_no_path_is_named_by_both_loaders(value):
    """`load_model(5)` raised Path's own "expected str, bytes or os.PathLike object, not int", naming no argument."""
    from pipeline.portable import load_portable

    for loader in (load_model, load_portable):
        with pytest.raises(TypeError, match=rf"^expected the model file's path as a str or os.PathLike, got "
                                            rf"{type(value).__name__}$"):  # fmt: skip
            loader(value)


def test_load_portable_reads_the_model_the_environment_names(small_portable_model_dir, monkeypatch):
    """With no path, load_model took $BPO_KPO_MODEL and load_portable the project's model: two models."""
    from pipeline.portable import load_portable

    monkeypatch.setenv(config.MODEL_ENV_VAR, str(small_portable_model_dir / "model.joblib"))
    assert load_portable().metadata["model_sha256"] == load_model().metadata["model_sha256"]
    assert load_model().path == small_portable_model_dir / "model.joblib"


def test_a_model_variable_set_empty_is_refused_by_both_loaders(monkeypatch):
    """BPO_KPO_MODEL set but empty was taken for unset: a service that meant to name its model loaded the checkout's
    own, as the command line did before it refused the same."""
    from pipeline.portable import load_portable

    monkeypatch.setenv(config.MODEL_ENV_VAR, "")
    for loader in (load_model, load_portable):
        with pytest.raises(ModelError, match=f"{config.MODEL_ENV_VAR} is set but empty: name the model file"):
            loader()


@pytest.mark.parametrize("name", ["", ".", "/"])
def test_a_model_path_with_no_file_name_is_refused_by_both_loaders(name, tmp_path, monkeypatch):
    """load_portable made its export's name from the model's first: '/' and '' raised pathlib's bare
    `ValueError: PosixPath('/') has an empty name`, where load_model said it is a folder."""
    from pipeline.portable import load_portable

    monkeypatch.chdir(tmp_path)  # '' and '.': a folder with no model in it, wherever the tests run
    folder = re.escape(str(Path(name)))
    for loader in (load_model, load_portable):
        with pytest.raises(
            ModelError, match=rf"^{folder} is a folder, not a model file; pass a model file \(NAME\.joblib\)$"
        ):
            loader(name)


def test_a_model_built_around_a_pipeline_checks_its_labels(shipped_model_path):
    """Model(pipeline, metadata), to serve a changed Pipeline (README): labels listed in another order than the
    classes inverted every probability, and a scope model given as the BPO/KPO one scored as one."""
    from pipeline.model import Model

    model = load_model(shipped_model_path)
    text = ["Process supplier invoices in SAP against purchase orders"]
    for pipeline, meta, scope in (
        (model.pipeline, {**model.metadata, "labels": ["KPO", "BPO"]}, None),
        (model.scope_pipeline, model.scope_metadata, None),
        (model.pipeline, model.metadata, (model.pipeline, model.metadata)),
    ):
        with pytest.raises(ModelError, match=r"^Model: the (scope )?pipeline must be fitted with the classes_"):
            Model(pipeline, meta, scope=scope)
    # Metadata without labels takes the Pipeline's; the decision rule's defaults apply.
    bare = Model(model.pipeline, {})
    assert bare.decide(text)[0]["label"] == model.decide(text)[0]["label"] == "BPO"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_a_blank_text_gets_no_probability(shipped_model_path, blank):
    """predict gave an empty posting the label BPO, which a service then stored; decide gives it an error row."""
    model = load_model(shipped_model_path)
    texts = ["Answer inbound customer calls", blank]
    from pipeline.portable import load_portable

    portable = load_portable(shipped_model_path)
    for method in (model.predict, model.predict_proba, model.p_kpo, portable.predict, portable.predict_proba,
                   portable.p_positive):  # fmt: skip
        with pytest.raises(ValueError, match=r"^the text at position 1 is empty or blank: there is no posting"):
            method(texts)
    assert model.decide(texts)[1]["error"] == "empty or missing text"
