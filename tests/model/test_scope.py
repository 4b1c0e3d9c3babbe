"""The scope model: work that is neither BPO nor KPO is flagged, in every output format and through the API."""

import json
import re
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline import ModelError, config, load_model
from pipeline.cli import cli
from pipeline.metadata import PAIRED_MODEL
from pipeline.model import metadata_path, scope_path

# Hard cases in both directions, written for this test: the setting must not decide, the work must.
OUT_OF_SCOPE = [
    "Office Cleaner, evening shift at our contact centre. Vacuum the open-plan floors, empty the bins, wipe the "
    "headsets and desks and restock the washrooms before the morning team arrives.",
    "Security officer for a city law firm: patrol the floors, check visitors' passes at the front desk, monitor "
    "CCTV and respond to alarms. SIA licence essential.",
    "Staff nurse, acute medical ward. Assess and care for adult patients, give medicines, dress wounds and "
    "escalate deteriorating patients. NMC registration required.",
    "HGV Class 1 driver, nights. Deliver chilled goods to stores across the region; daily vehicle checks.",
]
IN_SCOPE = [
    "Clinical coder at a district hospital: read discharge summaries and assign ICD-10 and OPCS codes to each "
    "patient episode on the patient administration system.",
    "Payroll clerk at a food factory: process weekly timesheets and overtime for 400 production staff, run the "
    "payroll in Sage and answer pay queries.",
    "Inventory analyst at a distribution centre: forecast demand with statistical models, analyse stock levels "
    "and recommend reorder points to the supply planning team.",
]
NOT_A_POSTING = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit", "qwzx plmkj vbnrt yuiop",
                 "Buscamos enfermera con experiencia para el turno de noche en nuestra clínica"]  # fmt: skip


@pytest.fixture(scope="module")
def model(shipped_model_path):
    return load_model(shipped_model_path)


def test_the_shipped_model_has_its_scope_model(model):
    assert model.has_scope
    assert 0 < model.scope_threshold < 1
    assert model.scope_metadata["labels"] == list(config.SCOPE_LABELS)
    assert model.scope_metadata["model_sha256"] != model.metadata["model_sha256"]
    assert model.scope_metadata[PAIRED_MODEL] == model.metadata["model_sha256"]


def test_hard_cases_are_judged_by_the_work_not_the_setting(model):
    _, flags, reasons = model.scope(OUT_OF_SCOPE + IN_SCOPE)
    assert flags == [True] * len(OUT_OF_SCOPE) + [False] * len(IN_SCOPE)
    assert set(reasons[: len(OUT_OF_SCOPE)]) == {config.SCOPE_REASON_MODEL}


def test_text_that_is_no_job_posting_is_out_of_scope_with_its_reason(model):
    _, flags, reasons = model.scope(NOT_A_POSTING)
    assert all(flags)
    assert reasons == [config.SCOPE_REASON_TEXT] * len(NOT_A_POSTING)


def test_the_scope_flag_leaves_the_bpo_kpo_label_as_it_was(model):
    """The BPO/KPO probabilities are the same with and without the scope model beside them."""
    rows = _predict("jsonl", OUT_OF_SCOPE[:1] + IN_SCOPE[:1])
    assert [row["label"] for row in rows] == model.predict(OUT_OF_SCOPE[:1] + IN_SCOPE[:1])
    assert [row["out_of_scope"] for row in rows] == [True, False]


def _predict(output_format, texts, *extra, model_path=None):
    args = ["predict", "--format", output_format, *extra, *texts]
    if model_path is not None:
        args[1:1] = ["--model", str(model_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    if output_format == "jsonl":
        return [json.loads(line) for line in result.stdout.splitlines()]
    return result.stdout


def test_every_format_carries_the_scope_fields():
    texts = [OUT_OF_SCOPE[0], IN_SCOPE[0]]
    rows = _predict("jsonl", texts)
    assert all(set(config.SCOPE_FIELDS) <= set(row) for row in rows)
    assert [row["out_of_scope"] for row in rows] == [True, False]
    assert 0 <= rows[1]["p_out_of_scope"] < rows[0]["p_out_of_scope"] <= 1
    header, first, second = _predict("csv", texts).splitlines()
    columns = header.split(",")
    assert set(config.SCOPE_FIELDS) <= set(columns)
    position = columns.index("out_of_scope")
    assert first.split(",")[position] == "true" and second.split(",")[position] == "false"
    table = _predict("table", texts)
    assert "out of scope" in table.splitlines()[1] and "out of scope" not in table.splitlines()[2]


def test_the_scope_threshold_option_overrides_the_tuned_value():
    assert _predict("jsonl", IN_SCOPE[:1])[0]["out_of_scope"] is False
    flagged = _predict("jsonl", IN_SCOPE[:1], "--scope-threshold", "0")[0]
    assert flagged["out_of_scope"] is True and flagged["scope_reason"] == config.SCOPE_REASON_MODEL


def _copy_models(tmp_path, shipped_model_path):
    for source in (shipped_model_path, scope_path(shipped_model_path)):
        for path in (source, metadata_path(source)):
            shutil.copy(path, tmp_path / path.name)
    return tmp_path / shipped_model_path.name


def test_a_tampered_scope_model_is_refused(tmp_path, shipped_model_path):
    model_path = _copy_models(tmp_path, shipped_model_path)
    scope_file = scope_path(model_path)
    scope_file.write_bytes(scope_file.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match=r"model\.scope\.joblib does not match its metadata"):
        load_model(model_path)
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_path), "x"])
    assert result.exit_code == 1 and "does not match its metadata" in result.output


def test_a_scope_model_without_its_file_or_metadata_is_refused(tmp_path, shipped_model_path):
    model_path = _copy_models(tmp_path, shipped_model_path)
    scope_path(model_path).unlink()
    with pytest.raises(ModelError, match=r"no model at .*model\.scope\.joblib"):
        load_model(model_path)
    model_path = _copy_models(tmp_path, shipped_model_path)
    metadata_path(scope_path(model_path)).unlink()
    with pytest.raises(ModelError, match=r"model\.scope\.joblib\.json is missing"):
        load_model(model_path)


def test_a_scope_model_from_another_training_is_refused(tmp_path, shipped_model_path):
    """A whole, untampered scope model beside a model it was not trained with (a training stopped between writing
    the two, or a file copied in) was loaded with it, and its flags given as the pair's."""
    model_path = _copy_models(tmp_path, shipped_model_path)
    held_out_scope = scope_path(config.held_out_model_path(shipped_model_path))
    for source, target in (
        (held_out_scope, scope_path(model_path)),
        (metadata_path(held_out_scope), metadata_path(scope_path(model_path))),
    ):
        shutil.copy(source, target)
    with pytest.raises(ModelError, match=r"model\.scope\.joblib was trained with another model than .*model\.joblib"):
        load_model(model_path)
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_path), "x"])
    assert result.exit_code == 1 and "was trained with another model" in result.output


def test_without_a_scope_model_rows_carry_no_scope_fields(tmp_path, shipped_model_path):
    model_path = _copy_models(tmp_path, shipped_model_path)
    scope_path(model_path).unlink()
    metadata_path(scope_path(model_path)).unlink()
    assert not load_model(model_path).has_scope
    rows = _predict("jsonl", IN_SCOPE[:1], model_path=model_path)
    assert not set(config.SCOPE_FIELDS) & set(rows[0])


def test_the_service_api_gives_the_same_scope_fields_as_the_command_line(model):
    rows = model.decide([OUT_OF_SCOPE[0], IN_SCOPE[0], ""])
    assert [row["out_of_scope"] for row in rows] == [True, False, None]
    assert rows[0]["scope_reason"] == config.SCOPE_REASON_MODEL and rows[1]["scope_reason"] == ""
    cli_rows = _predict("jsonl", [OUT_OF_SCOPE[0], IN_SCOPE[0]])
    for api_row, cli_row in zip(rows[:2], cli_rows, strict=True):
        assert {k: v for k, v in cli_row.items() if k != "id"} == api_row


@pytest.mark.parametrize("linked", ["model file", "model file and metadata"])
@pytest.mark.parametrize("engine", ["sklearn", "portable"])
def test_a_model_path_that_is_a_link_reads_the_files_beside_its_target(tmp_path, shipped_model_path, linked, engine):
    """A service that links current.joblib to a release: with the model file linked alone, its metadata was
    "missing; retrain"; with the metadata linked too, the scope model was left out and no row was flagged."""
    link = tmp_path / "current.joblib"
    link.symlink_to(shipped_model_path)
    if linked == "model file and metadata":
        metadata_path(link).symlink_to(metadata_path(shipped_model_path))
    assert load_model(link).has_scope
    texts = [OUT_OF_SCOPE[0], IN_SCOPE[0]]
    through_link = _predict("jsonl", texts, "--engine", engine, model_path=link)
    assert through_link == _predict("jsonl", texts, "--engine", engine, model_path=shipped_model_path)
    assert [row["out_of_scope"] for row in through_link] == [True, False]


def test_load_portable_reads_the_export_beside_a_links_target(tmp_path, shipped_model_path):
    """load_portable looked beside the link: `no portable model at current.portable.json; write it with bpo-kpo
    export`, though load_model and `predict --engine portable` loaded the same path."""
    from pipeline.export import portable_path
    from pipeline.portable import load_portable

    link = tmp_path / "current.joblib"
    link.symlink_to(shipped_model_path)
    through_link, direct = load_portable(link), load_portable(shipped_model_path)
    assert through_link.path == portable_path(shipped_model_path)
    assert through_link.scope is not None
    assert [through_link.scope.scope_verdict(text) for text in OUT_OF_SCOPE + IN_SCOPE] == [
        direct.scope.scope_verdict(text) for text in OUT_OF_SCOPE + IN_SCOPE
    ]


def test_a_linked_model_is_the_model_it_names_for_every_command(tmp_path, shipped_model_path, catalogue):
    """Three commands read the files beside the link, not beside the model: evaluate missed the held-out model and
    refused the test split; an --output naming the model's metadata through the link overwrote it; and train wrote
    the model through the link but its metadata and scope model beside it, so neither path loaded again."""
    from pipeline.generate import generate_postings

    link = tmp_path / "current.joblib"
    link.symlink_to(shipped_model_path)
    learnt = tmp_path / "learnt.csv"  # postings of the test split, which the shipped model learnt from
    pd.read_csv(config.TEST_PATH).head(20).to_csv(learnt, index=False)
    scored = CliRunner().invoke(cli, ["evaluate", "--model", str(link), "--data", str(learnt)])
    assert scored.exit_code == 0 and "scored by model.held-out.joblib" in scored.output, scored.output
    guarded = CliRunner().invoke(
        cli, ["predict", "--model", str(link), "--output", str(metadata_path(shipped_model_path)), "Answer calls"]
    )
    assert guarded.exit_code == 2 and "is one of the model's own files" in guarded.output, guarded.output
    release = tmp_path / "release"
    release.mkdir()
    trained_link = tmp_path / "serving.joblib"
    trained_link.symlink_to(release / "model.joblib")
    data = tmp_path / "small.csv"
    generate_postings(catalogue, 120, seed=3, n_out_of_scope=40).to_csv(data, index=False)
    trained = CliRunner().invoke(cli, ["train", "--data", str(data), "--model", str(trained_link), "--cv-folds", "3"])
    assert trained.exit_code == 0, trained.output
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("serving")) == ["serving.joblib"]
    assert load_model(trained_link).has_scope and load_model(release / "model.joblib").has_scope


def test_a_dangling_model_link_is_named_with_its_target(tmp_path):
    """It said "no model at .../nothere.joblib; train one", a path the user never typed. load_model and load_portable
    name the target, which is the file they look for; load_portable said there was no portable model at
    .../nothere.portable.json and to write it with bpo-kpo export, which then found no model."""
    from pipeline.portable import load_portable

    link, target = tmp_path / "current.joblib", tmp_path / "release" / "nothere.joblib"
    link.symlink_to(target)
    result = CliRunner().invoke(cli, ["predict", "--model", str(link), "Answer calls"])
    assert result.exit_code == 2
    assert f"'{link}' is a link to '{target}', which does not exist" in result.output
    for loader in (load_model, load_portable):
        with pytest.raises(ModelError, match=re.escape(f"no model at {target}; train one with `make train`")):
            loader(link)
