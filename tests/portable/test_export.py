"""The export and its conformance vectors: fresh for the shipped model, reproduced by the scorer, and checked."""

import hashlib
import json
import re
import shutil
import sys
import unicodedata

import pytest
from console import run

from pipeline import config
from pipeline.config import conformance_path
from pipeline.conformance import build_vectors, check_scorer
from pipeline.errors import ModelError
from pipeline.export import MIDDLE, PREFIX, SUFFIX, portable_path, render, split_checked
from pipeline.model import load_model, metadata_path, scope_path
from pipeline.portable import load_portable, read_export


@pytest.fixture(scope="module")
def vectors(shipped_model_path):
    path = conformance_path(shipped_model_path)
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make train` (it runs `bpo-kpo export`)")
    return json.loads(path.read_text(encoding="utf-8"))


def test_shipped_export_is_what_exporting_the_current_model_gives(shipped_model_path, tmp_path):
    model = load_model(shipped_model_path)
    fresh = tmp_path / "fresh.portable.json"
    from pipeline.export import export_model

    export_model(model, fresh)
    assert fresh.read_bytes() == portable_path(shipped_model_path).read_bytes(), "stale export: run `make train`"
    assert json.loads((tmp_path / "fresh.conformance.json").read_text()) == json.loads(
        conformance_path(shipped_model_path).read_text()
    )


def test_vectors_come_from_scikit_learn_and_the_current_model(shipped_model_path, vectors):
    model = load_model(shipped_model_path)
    assert vectors["model_sha256"] == model.metadata["model_sha256"]
    assert vectors["scope"]["model_sha256"] == model.scope_metadata["model_sha256"]
    assert vectors["scope"]["threshold"] == model.scope_threshold
    rebuilt = build_vectors(model.pipeline, model.metadata, (model.scope_pipeline, model.scope_metadata))
    assert [c["text"] for c in rebuilt["cases"]] == [c["text"] for c in vectors["cases"]]
    for case in vectors["cases"]:
        [row] = model.pipeline.predict_proba([case["text"]])  # the empty text too, which Model.predict_proba refuses
        assert case["probabilities"] == pytest.approx(dict(zip(model.labels, row, strict=True)), abs=1e-12)
        # The scope fields are those the scikit-learn path gives: Model.scope, known-word rule included.
        [p_out], [flag], [reason] = model.scope([case["text"]])
        assert case["scope"]["probabilities"][config.OUT_OF_SCOPE] == pytest.approx(p_out, abs=1e-12)
        assert (case["scope"]["out_of_scope"], case["scope"]["scope_reason"]) == (flag, reason), case["name"]


def test_vectors_cover_the_hard_cases(vectors):
    names = {case["name"] for case in vectors["cases"]}
    assert {"empty", "accents", "punctuation", "long_repeated_posting", "long_vocabulary_draw"} <= names
    assert max(len(case["text"].split()) for case in vectors["cases"]) >= 3000
    # Every outcome of the scope verdict, and the known-word rule at its edge: exactly the minimum share (not
    # flagged by the rule) and below it (flagged).
    reasons = {case["scope"]["scope_reason"] for case in vectors["cases"]}
    assert reasons == {"", config.SCOPE_REASON_MODEL, config.SCOPE_REASON_TEXT}
    by_name = {case["name"]: case["scope"] for case in vectors["cases"]}
    minimum = vectors["scope"]["scope_rules"]["min_known_share"]
    assert by_name["scope_half_known"]["known_share"] == minimum
    assert by_name["scope_half_known"]["scope_reason"] != config.SCOPE_REASON_TEXT
    assert by_name["scope_under_half_known"]["known_share"] < minimum
    assert by_name["scope_under_half_known"]["scope_reason"] == config.SCOPE_REASON_TEXT


def _portable_scope(portable):
    def scope_of(text):
        p_out, flag, reason = portable.scope.scope_verdict(text)
        probabilities = dict(zip(config.SCOPE_LABELS, (1.0 - p_out, p_out), strict=True))
        return {"probabilities": probabilities, "out_of_scope": flag, "scope_reason": reason}

    return scope_of


def test_portable_scorer_passes_the_conformance_vectors(shipped_model_path, vectors):
    portable = load_portable(shipped_model_path)
    failures = check_scorer(
        vectors,
        lambda text: dict(zip(portable.labels, portable.probabilities_of(text), strict=True)),
        _portable_scope(portable),
    )
    assert failures == []
    for case in vectors["cases"]:
        if "tokens" not in case:
            continue
        for section, expected in ((portable, case), (portable.scope, case["scope"])):
            assert [g for g in section.analyse(case["text"]) if " " not in g] == expected["tokens"], case["name"]
            columns, values = section.features(case["text"])
            got = {section.vocabulary[c]: v for c, v in zip(columns, values, strict=True)}
            assert got == pytest.approx(expected["features"], abs=vectors["feature_tolerance"]), case["name"]
        assert portable.scope.known_word_share(case["text"]) == pytest.approx(
            (case["scope"]["words"], case["scope"]["known_share"]), abs=1e-12
        )


def test_check_scorer_reports_a_wrong_scorer(shipped_model_path, vectors):
    portable = load_portable(shipped_model_path)
    right, right_scope = (
        lambda text: dict(zip(portable.labels, portable.probabilities_of(text), strict=True)),
        _portable_scope(portable),
    )
    failures = check_scorer(vectors, lambda text: {"BPO": 0.5, "KPO": 0.5}, right_scope)
    assert failures and all("expected" in f for f in failures)
    # A scorer that gets the labels right but skips the scope section, or the known-word rule, fails too.
    assert check_scorer(vectors, right) != []

    def without_rule(text):
        got = right_scope(text)
        flagged = got["probabilities"][config.OUT_OF_SCOPE] >= portable.scope.threshold
        return got | {"out_of_scope": flagged, "scope_reason": config.SCOPE_REASON_MODEL if flagged else ""}

    failures = check_scorer(vectors, right, without_rule)
    assert failures and all("scope_reason" in f or "out_of_scope" in f for f in failures)

    # Labels and flags right, P(out of scope) off by 0.01, a hundred times the tolerance: the scope section's
    # probabilities are checked, not only the verdict drawn from them.
    def shifted(text):
        got = right_scope(text)
        p_out = got["probabilities"][config.OUT_OF_SCOPE] + 0.01
        return got | {"probabilities": dict(zip(config.SCOPE_LABELS, (1.0 - p_out, p_out), strict=True))}

    failures = check_scorer(vectors, right, shifted)
    assert len(failures) >= len(vectors["cases"]) and all("(scope): P(" in f for f in failures)


def test_documented_word_characters_are_pythons(shipped_model_path):
    # docs/portable-model.md defines \w for other languages as: General_Category L* or N*, or '_'.
    word = re.compile(r"\w")
    mismatches = [
        cp
        for cp in range(sys.maxunicode + 1)
        if (word.match(chr(cp)) is not None) != (unicodedata.category(chr(cp))[0] in "LN" or cp == 0x5F)
    ]
    assert mismatches == []
    section = read_export(portable_path(shipped_model_path))["models"]["main"]
    assert section["analyser"]["unicode_version"] == unicodedata.unidata_version


@pytest.fixture()
def exported_copy(shipped_model_path, tmp_path):
    """A private copy of the shipped model, its metadata and its export, for tests that damage them."""
    scope_file = scope_path(shipped_model_path)
    for path in (shipped_model_path, metadata_path(shipped_model_path), scope_file, metadata_path(scope_file),
                 portable_path(shipped_model_path)):  # fmt: skip
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / shipped_model_path.name


def _rewrite(model_path, change):
    path = portable_path(model_path)
    document = json.loads(split_checked(path.read_bytes(), str(path)))
    change(document)
    try:
        path.write_bytes(render(document))
    except ValueError:  # a NaN, which export never writes and a hand may: wrapped as export wraps its content
        content = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        path.write_bytes(PREFIX + hashlib.sha256(content).hexdigest().encode("ascii") + MIDDLE + content + SUFFIX)


def _set(*keys, value):
    """A change that sets the field at `keys` (names, or a list's index) of an export to `value`."""

    def change(document):
        inner = document
        for key in keys[:-1]:
            inner = inner[key]
        inner[keys[-1]] = value

    return change


def _edit_json(path, **fields):
    path.write_text(json.dumps(json.loads(path.read_text()) | fields))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: portable_path(p).unlink(), "no portable model at"),
        # Told to write the export, which needs the model, or to write it over a folder: load_model's words, or the
        # folder's.
        (lambda p: [p.unlink(), portable_path(p).unlink()], "model.joblib; train one with `make train`"),
        (
            lambda p: [portable_path(p).unlink(), portable_path(p).mkdir()],
            "model.portable.json is a folder, not a portable model; move it away, then write the export there with "
            "`bpo-kpo export`",
        ),
        (lambda p: portable_path(p).write_bytes(portable_path(p).read_bytes()[:-1000]), "not a bpo-kpo portable"),
        # Valid JSON laid out anew (json.dump, jq .) was called no export at all.
        (
            lambda p: portable_path(p).write_text(json.dumps(json.loads(portable_path(p).read_bytes()), indent=2)),
            "is an export whose bytes were rewritten (reformatted",
        ),
        (
            lambda p: portable_path(p).write_bytes(portable_path(p).read_bytes().replace(b"0.", b"1.", 1)),
            "does not match its own checksum",
        ),
        (lambda p: p.write_bytes(p.read_bytes() + b"\0"), "does not match its metadata"),
        (
            lambda p: _rewrite(p, lambda d: d["models"]["main"]["source"].update(model_sha256="0" * 64)),
            "was exported from another model",
        ),
        (lambda p: _rewrite(p, lambda d: d.update(format_version=99)), "format version 99"),
        (lambda p: _rewrite(p, lambda d: d["models"]["main"].update(labels=["KPO", "BPO"])), "has labels"),
        (lambda p: _rewrite(p, lambda d: d["models"]["main"].update(threshold=1.5)), "no threshold in [0, 1]"),
        (lambda p: _rewrite(p, lambda d: d["models"]["main"]["coef"].pop()), "different lengths"),
        # The model's own metadata, which the portable scorer once never read: what load_model refuses, it refuses.
        (lambda p: metadata_path(p).unlink(), "model.joblib.json is missing"),
        (lambda p: _edit_json(metadata_path(p), threshold=0.9), "was changed after training"),
        (lambda p: metadata_path(scope_path(p)).unlink(), "model.scope.joblib.json is missing"),
        (lambda p: _edit_json(metadata_path(scope_path(p)), scope={"min_words": None}), "'scope' must be an object"),
        # The export's own decision fields, edited and re-summed: they must be the checked metadata's.
        (
            lambda p: _rewrite(p, lambda d: d["models"]["main"].update(threshold=0.9999)),
            "does not match the model's metadata (threshold 0.9999 in the export",
        ),
        (
            lambda p: _rewrite(p, lambda d: d["models"]["scope"]["scope_rules"].update(min_words=None)),
            "does not match the model's metadata (scope rule min_words null in the export",
        ),
    ],
    ids=[
        *(
            "missing",
            "no-model-nor-export",
            "export-folder",
            "truncated",
            "reformatted",
            "edited",
            "model-file",
            "other-model",
            "version",
            "labels",
            "threshold",
            "lengths",
        ),
        *("no-metadata", "edited-metadata", "no-scope-metadata", "bad-scope-rules", "export-threshold"),
        "export-scope-rule",
    ],
)
def test_contract_checks(exported_copy, damage, message):
    damage(exported_copy)
    with pytest.raises(ModelError, match=re.escape(message)):
        load_portable(exported_copy)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        # The scope section's decision fields, edited and re-summed: the scikit-learn path reads the metadata's.
        (
            lambda p: _rewrite(p, _set("models", "scope", "threshold", value=0.9999)),
            "does not match the model's metadata (threshold 0.9999 in the export",
        ),
        (
            lambda p: _rewrite(p, _set("models", "scope", "scope_rules", "min_known_share", value=0.25)),
            "does not match the model's metadata (scope rule min_known_share 0.25 in the export",
        ),
        # The scope section against the scope model file beside the model: absent, orphaned, or another model's.
        (lambda p: _rewrite(p, lambda d: d["models"].pop("scope")), "has no scope model but"),
        (
            lambda p: [path.unlink() for path in (scope_path(p), metadata_path(scope_path(p)))],
            "has a scope model but there is no",
        ),
        (
            lambda p: _rewrite(p, _set("models", "scope", "source", "model_sha256", value="0" * 64)),
            "was exported from another scope model",
        ),
    ],
    ids=["scope-threshold", "scope-min-known-share", "no-scope-section", "no-scope-model", "other-scope-model"],
)
def test_an_export_whose_scope_section_is_not_the_scope_models_is_refused(exported_copy, damage, message):
    """The scope section is held to the scope model beside the model as the main section is to the model: an edited
    and re-summed threshold or known-word share was obeyed where scikit-learn applied the metadata's, an export
    without the section dropped the out-of-scope flag, and one whose scope model was gone or another scored with a
    section no scope model file vouches for. Each is refused with a ModelError that says to re-export."""
    damage(exported_copy)
    with pytest.raises(ModelError, match=re.escape(message)) as refused:
        load_portable(exported_copy)
    assert "re-export with `bpo-kpo export`" in str(refused.value)


def test_export_holds_more_than_one_model_section(exported_copy):
    # A scope model can sit beside the label model without a new format: the primary section is the one scored.
    # The scope section of the shipped export is checked against the scope model file beside the model.
    document = json.loads(split_checked(portable_path(exported_copy).read_bytes(), "export"))
    assert set(document["models"]) == {config.PORTABLE.primary_model, config.PORTABLE.scope_model}
    portable = load_portable(exported_copy)
    assert portable.labels == config.LABELS
    assert portable.scope is not None and portable.scope.labels == config.SCOPE_LABELS


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # export --output models/model.joblib replaced the model with its JSON export.
        ("model.joblib", r"must be named NAME\.portable\.json"),
        ("model.joblib.json", r"must be named NAME\.portable\.json"),  # the metadata ends in .json too
        ("model.conformance.json", r"must be named NAME\.portable\.json"),
        ("folder.portable.json", r"is not a regular file"),
    ],
)
def test_export_writes_only_a_portable_json_file(small_model_dir, tmp_path, name, message):
    model = tmp_path / "model.joblib"
    for source in small_model_dir.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "folder.portable.json").mkdir()
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    result = run("export", "--model", model, "--output", tmp_path / name)
    assert result.returncode == 2 and re.search(message, result.stderr), result.stderr
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()} == before
    written = run("export", "--model", model, "--output", tmp_path / "mine.portable.json")
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "mine.portable.json").is_file() and (tmp_path / "mine.conformance.json").is_file()


def test_models_with_dots_in_their_names_or_of_two_formats_keep_their_own_exports(small_model_dir, tmp_path):
    """The held-out model's export wrote its vectors to model.conformance.json, over the shipped model's, and a
    skops model beside the joblib one wrote model.portable.json, over the joblib model's."""
    names = {"model.joblib": "model", "model.held-out.joblib": "model.held-out", "model.v2.joblib": "model.v2",
             "model.skops": "model.skops"}  # fmt: skip
    for model in names:
        for source in small_model_dir.iterdir():  # the small model's bytes under each name, with its metadata
            target = source.name.replace("model.joblib", model)
            (tmp_path / target).write_bytes(source.read_bytes())
        assert portable_path(tmp_path / model) == tmp_path / f"{names[model]}.portable.json"
        assert conformance_path(tmp_path / model) == tmp_path / f"{names[model]}.conformance.json"
    for model in names:
        if model != "model.skops":  # its metadata would need the skops format: the names are what is tested
            assert run("export", "--model", tmp_path / model).returncode == 0
    exported = sorted(p.name for p in tmp_path.glob("*.json") if "conformance" in p.name or "portable" in p.name)
    assert exported == sorted(f"{stem}.{kind}.json" for stem in ("model", "model.held-out", "model.v2")
                              for kind in ("conformance", "portable"))  # fmt: skip


def test_the_format_gives_the_shipped_models_own_values(shipped_model_path):
    """The format's tables show this project's values in brackets; they once said n-grams of up to three words and
    318 stop words, where the model reads up to two and drops 1,663."""
    document = (config.PROJECT_ROOT / "docs" / "portable-model.md").read_text(encoding="utf-8")
    models = read_export(portable_path(shipped_model_path))["models"]
    fields = models["main"]["analyser"] | models["main"]["weighting"]
    # unicode_version is the Python's that exported, not the model's.
    shown = {
        name: json.loads(value)
        for name, value in re.findall(r"^\| `(\w+)` \[`([^`]+)`", document, flags=re.M)
        if name != "unicode_version"
    }
    assert {"ngram_range", "lowercase", "strip_accents", "sublinear_tf", "norm"} <= set(shown)
    assert shown == {name: fields[name] for name in shown}
    counts = re.search(r"masks: ([\d,]+) in the main section, ([\d,]+) in the scope section", document)
    assert [int(count.replace(",", "")) for count in counts.groups()] == [
        len(models[name]["analyser"]["stop_words"]) for name in ("main", "scope")
    ]


def test_the_formats_example_case_is_the_shipped_vectors_own(vectors):
    """Section 5's example case is the shipped vectors' own: it once showed "accents" with 9 words, 0.777 of them known
    and no flag, where the file held 12 words, a quarter known and the unrecognised-text flag."""
    document = (config.PROJECT_ROOT / "docs" / "portable-model.md").read_text(encoding="utf-8")
    example = document.split("## 5. Conformance vectors", 1)[1].split("```", 2)[1]
    name, text = re.search(r'\{"name": "(\w+)", "text": ("[^"]*")', example).groups()
    case = next(case for case in vectors["cases"] if case["name"] == name)
    assert json.loads(text) == case["text"]
    words, share = re.search(r'"words": (\d+), "known_share": ([\d.]+),', example).groups()
    assert (int(words), float(share)) == (case["scope"]["words"], case["scope"]["known_share"])
    flag = re.search(r'"out_of_scope": (true|false),', example).group(1)
    reason = re.search(r'"scope_reason": ("[^"]*")', example).group(1)
    assert (json.loads(flag), json.loads(reason)) == (case["scope"]["out_of_scope"], case["scope"]["scope_reason"])
    main_features, scope_features = re.findall(r'"features": \{([^}]*)\}', example)
    assert re.findall(r'"(\w+)": …', main_features) == sorted(case["features"])
    assert re.findall(r'"(\w+)": …', scope_features) == sorted(case["scope"]["features"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=True), "has format version true, this bpo-kpo reads 1"),
        (lambda d: d.update(format_version="1"), 'has format version "1", this bpo-kpo reads 1'),
        (lambda d: d["models"]["main"].pop("analyser"), "'models.main.analyser' must be an object"),
        (lambda d: d["models"]["main"]["analyser"].update(stop_words=None), "'models.main.analyser.stop_words' must"),
        (lambda d: d["models"]["main"]["analyser"].update(token_pattern="("), "'models.main.analyser.token_pattern'"),
        (lambda d: d["models"]["main"].update(intercept="x"), "'models.main.intercept' must be a finite number"),
        # Shapes that loaded and then crashed every request, or scored wrong in silence (a NaN wrote invalid JSON).
        (_set("models", value=[]), "'models' must be an object of model sections"),
        (_set("models", "main", value="x"), "'models.main' must be an object"),
        (_set("primary", value=["main"]), "has no model section ['main']"),
        (_set("models", "main", "source", value="x"), "'models.main.source' must be an object"),
        (_set("models", "main", "vocabulary", value={"a": 0}), "'models.main.vocabulary' must be a list of texts"),
        (_set("models", "main", "idf", value="1.0"), "'models.main.idf' must be a list of numbers from 1 to 100"),
        (_set("models", "main", "coef", 0, value=float("nan")), "'models.main.coef' must be a list of numbers from"),
        (_set("models", "main", "intercept", value=float("nan")), "'models.main.intercept' must be a finite number"),
        (_set("models", "main", "intercept", value="0.5"), "'models.main.intercept' must be a finite number"),
        (_set("models", "main", "intercept", value=True), "'models.main.intercept' must be a finite number"),
        (_set("models", "main", "analyser", "ngram_range", value=["1", "2"]), "'models.main.analyser.ngram_range'"),
        (_set("models", "scope", "scope_rules", value=[]), "'models.scope.scope_rules' must be an object"),
        # Values out of the spec's range: an idf of 1e308 made inf / inf, NaN again; "L2" turned the norm off.
        (_set("models", "main", "idf", 0, value=1e308), "'models.main.idf' must be a list of numbers from 1 to 100"),
        (_set("models", "main", "coef", 0, value=1e300), "'models.main.coef' must be a list of numbers from -1e+06"),
        (_set("models", "main", "weighting", "norm", value="L2"), "'models.main.weighting.norm' must be \"l2\" or"),
        (_set("models", "main", "analyser", "strip_accents", value="yes"), "'models.main.analyser.strip_accents'"),
        (_set("models", "main", "weighting", "reference_dtype", value="float16"), "'models.main.weighting.reference"),
        (_set("models", "main", "analyser", "token_pattern", value=r"(\w)(\w)"), "'models.main.analyser.token_pat"),
        # A whole number too big for a float (math.isfinite raised OverflowError); metadata that is no object.
        (_set("models", "main", "intercept", value=10**400), "'models.main.intercept' must be a finite number"),
        (_set("models", "main", "metadata", value="x"), "'models.main.metadata' must be an object"),
        # The lists are checked as a whole: a bad value anywhere in one, not only first, is refused.
        (_set("models", "main", "coef", 5, value=float("nan")), "'models.main.coef' must be a list of numbers from"),
        (_set("models", "main", "coef", -1, value=float("nan")), "'models.main.coef' must be a list of numbers from"),
        (_set("models", "scope", "idf", 3, value=True), "'models.scope.idf' must be a list of numbers from 1 to 100"),
        (_set("models", "main", "idf", 3, value=10**400), "'models.main.idf' must be a list of numbers from 1 to"),
        (_set("models", "main", "coef", 3, value=-1e300), "'models.main.coef' must be a list of numbers from -1e+06"),
        (_set("models", "main", "idf", -1, value=None), "'models.main.idf' must be a list of numbers from 1 to 100"),
    ],
    ids=["version-true", "version-text", "no-analyser", "null-stop-words", "bad-pattern", "text-intercept",
         "models-list", "section-text", "primary-list", "source-text", "vocabulary-object", "idf-text", "coef-nan",
         "intercept-nan", "intercept-quoted", "intercept-true", "ngram-texts", "scope-rules-list", "idf-huge",
         "coef-huge", "norm-upper", "strip-accents-yes", "dtype-float16", "two-groups", "intercept-400-digits",
         "metadata-text", "coef-nan-inside", "coef-nan-last", "scope-idf-true-inside", "idf-400-digits-inside",
         "coef-huge-negative-inside", "idf-null-last"],
)  # fmt: skip
def test_an_export_edited_and_re_summed_into_another_shape_is_refused_in_one_line(exported_copy, change, message):
    """The checksum holds for an export edited and re-summed: a section without a field, or of the wrong kind, gave
    a KeyError, TypeError, re.error or ValueError out of load_portable; format version true passed as 1, and "1"
    was told that this bpo-kpo reads 1."""
    _rewrite(exported_copy, change)
    with pytest.raises(ModelError, match=re.escape(message)):
        load_portable(exported_copy)


def test_an_export_with_a_section_this_reader_does_not_use_loads(exported_copy):
    """The spec says a reader ignores sections it does not use; the shape check refused one."""
    _rewrite(exported_copy, _set("models", "extra", value={"foo": 1}))
    assert load_portable(exported_copy).labels == config.LABELS


def test_an_export_whose_number_has_more_digits_than_python_reads_is_not_json(exported_copy):
    """json.loads raises a plain ValueError for a whole number of over 4,300 digits, which only its JSONDecodeError
    was caught as: an unexpected error, where a damaged export is refused in one line."""
    path = portable_path(exported_copy)
    content = split_checked(path.read_bytes(), str(path)).replace(
        b'"intercept":', b'"intercept":1' + b"0" * 5000 + b',"was":', 1
    )
    path.write_bytes(PREFIX + hashlib.sha256(content).hexdigest().encode("ascii") + MIDDLE + content + SUFFIX)
    with pytest.raises(ModelError, match="is not valid JSON; re-export it"):
        load_portable(exported_copy)
