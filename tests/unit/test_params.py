"""One declaration per parameter: its default, its option, its file entry and its line in the README."""

from __future__ import annotations

import dataclasses
import json
import re

import click
import pandas as pd
import pytest
from click.testing import CliRunner
from console import run

from pipeline import cli, config, params
from pipeline.errors import DataError
from pipeline.options import given_params, param_options

# The groups a command takes options for.
COMMAND_GROUPS = {"prepare": config.PrepareParams, "train": config.TrainParams}


@pytest.fixture()
def params_dir(tmp_path, monkeypatch):
    """Parameter files in a folder of the test's own, read afresh."""
    monkeypatch.setattr(config, "PARAMS_DIR", tmp_path)
    config.group_params.cache_clear()
    yield tmp_path
    config.group_params.cache_clear()


def option_of(command: click.Command, name: str) -> click.Option:
    return next(p for p in command.params if p.name == name)


@pytest.mark.parametrize("command", COMMAND_GROUPS)
def test_every_parameter_of_a_stage_is_an_option_named_and_described_by_its_declaration(command):
    group = COMMAND_GROUPS[command]
    options = cli.cli.commands[command]
    for spec in params.settable(group):
        option = option_of(options, spec.name)
        assert option.opts == ["--" + spec.name.lower().replace("_", "-")]
        assert option.help.startswith(spec.metadata["help"])
    # What train fills in itself is no option.
    hidden = {f.name for f in dataclasses.fields(group)} - {f.name for f in params.settable(group)}
    assert not hidden & {p.name for p in options.params}


@pytest.mark.parametrize("command", COMMAND_GROUPS)
def test_no_option_given_means_the_declared_defaults(command, params_dir):
    group = COMMAND_GROUPS[command]
    context = cli.cli.commands[command].make_context(command, [])
    values = {spec.name: context.params[spec.name] for spec in params.settable(group)}
    assert given_params(group(), values) == group()
    assert getattr(config, command.upper()) == group()


def test_an_option_overrides_the_file_which_overrides_the_declaration(params_dir):
    @dataclasses.dataclass(frozen=True)
    class Toy:
        """Parameters of a toy stage."""

        size: int = config.param(3, "How many.", low=1)
        rate: float = config.param(0.5, "How fast.", low=0, high=1)
        weight: str | None = config.param("balanced", "Weighting.", choices=("balanced", None))
        words: tuple[str, ...] = config.param(("a", "b"), "Words.")
        smooth: bool = config.param(True, "Smooth.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "PARAM_GROUPS", {**config.PARAM_GROUPS, "TOY": Toy})

        @click.command()
        @param_options(Toy)
        def toy(**values):
            click.echo(repr(given_params(config.TOY, values)))

        runner = CliRunner()
        assert runner.invoke(toy, []).output.strip() == repr(Toy())
        assert "[default: 3]" in runner.invoke(toy, ["--help"]).output
        (params_dir / "toy.toml").write_text('size = 7\nweight = "none"\nwords = ["x"]\nsmooth = false\n')
        config.group_params.cache_clear()
        assert runner.invoke(toy, []).output.strip() == repr(Toy(size=7, weight=None, words=("x",), smooth=False))
        assert "[default: 7]" in runner.invoke(toy, ["--help"]).output
        given = runner.invoke(toy, ["--size", "9", "--weight", "balanced", "--words", "p, q", "--smooth"])
        assert given.output.strip() == repr(Toy(size=9, weight="balanced", words=("p", "q"), smooth=True))
        refused = runner.invoke(toy, ["--rate", "2"])
        assert refused.exit_code == 2 and "must be from 0 to 1, not '2'" in refused.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("C = 0\n", r"train\.toml: C must be above 0, not 0; fix it, or delete the line to use the default 0\.25"),
        ("c = 1.0\n", r"train\.toml: no parameter named c; TrainParams has seed, ngram_max"),
        ("masked_words = ['x']\n", r"no parameter named masked_words"),
        ("class_weight = 'even'\n", r"class_weight must be one of balanced, none, not 'even'"),
        ("ngram_max = 2.5\n", r"ngram_max must be a whole number, not 2\.5"),
        ("sublinear_tf = 'maybe'\n", r"sublinear_tf must be true or false"),
        ("C = \n", r"train\.toml is not valid TOML"),
    ],
)
def test_a_wrong_parameter_file_is_refused_naming_the_file_the_entry_and_the_fix(params_dir, text, message):
    (params_dir / "train.toml").write_text(text)
    with pytest.raises(DataError, match=message):
        params.load_params(config.TrainParams, params_dir / "train.toml")


def test_a_written_parameter_file_reads_back_the_same_values(params_dir):
    chosen = dataclasses.replace(
        config.TrainParams(), C=0.5, class_weight=None, stop_words_kept=("call",), sublinear_tf=False, max_df=1.0
    )
    path = params_dir / "train.toml"
    path.write_text(params.format_params(config.TrainParams, dataclasses.asdict(chosen)))
    assert params.load_params(config.TrainParams, path) == chosen
    # Only what differs from the declaration is written.
    written = re.findall(r"^(\w+) =", path.read_text(), flags=re.M)
    assert written == ["max_df", "sublinear_tf", "stop_words_kept", "C", "class_weight"]


def test_the_project_parameter_files_name_only_declared_parameters():
    for name, group in config.PARAM_GROUPS.items():
        path = config.params_path(name)
        assert path.is_file(), path
        params.load_params(group, path)  # raises on any unknown or wrong entry


def parameter_table(group: type) -> str:
    rows = ["| parameter | default | what it sets |", "|---|---|---|"]
    for spec in params.settable(group):
        extent = params.describe_range(spec)
        rows.append(
            f"| `{spec.name}` | `{params.param_word(spec.default)}` | {spec.metadata['help']}"
            + (f" ({extent})" if extent else "")
            + " |"
        )
    return "\n".join(rows)


def test_the_readme_lists_every_parameter_as_declared():
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    for name, group in config.PARAM_GROUPS.items():
        assert parameter_table(group) in readme, f"README table of {config.params_path(name).name} is out of date"


def test_tune_apply_writes_the_winner_into_the_train_parameter_file(params_dir, monkeypatch):
    import pipeline.dataset
    import pipeline.train

    frame = pd.DataFrame({config.TEXT_COLUMN: ["Answer calls", "Build models"], config.LABEL_COLUMN: ["BPO", "KPO"]})
    row = {"params": {"clf__C": 0.5, "tfidf__ngram_range": [1, 2]}, "area_macro_f1": 0.8, "area_std": 0.01,
           "form_macro_f1": 0.9, "form_std": 0.01}  # fmt: skip
    monkeypatch.setattr(pipeline.dataset, "read_split", lambda path: frame)
    monkeypatch.setattr(pipeline.train, "tune_parameters", lambda *a, **k: {"best": row, "rule": "r", "results": [row]})
    (params_dir / "train.toml").write_text("max_iter = 3000\n")
    config.group_params.cache_clear()
    output = params_dir / "tuning.json"
    data = str(params_dir / "train.csv")  # read_split is replaced above: no file needed
    shown = CliRunner().invoke(cli.cli, ["tune", "--data", data, "--output", str(output)])
    assert shown.exit_code == 0, shown.output
    assert "--apply" in shown.output and "pipeline/config.py" not in shown.output
    assert params.load_params(config.TrainParams, params_dir / "train.toml").C == config.TrainParams().C
    # Written to stdout, the search's JSON is all stdout holds: the table of the best goes to stderr.
    on_stdout = run("tune", "--data", data, "--output", "-")
    assert on_stdout.returncode == 0 and json.loads(on_stdout.stdout)["best"] == row
    assert "chosen (r)" in on_stdout.stderr and "wrote standard output; chosen changes" in on_stdout.stderr
    applied = CliRunner().invoke(cli.cli, ["tune", "--data", data, "--output", str(output), "--apply"])
    assert applied.exit_code == 0, applied.output
    written = params.load_params(config.TrainParams, params_dir / "train.toml")
    # The winner, and what the file set before, kept.
    assert written == dataclasses.replace(config.TrainParams(), C=0.5, ngram_max=2, max_iter=3000)


def test_a_broken_scope_file_stops_train_before_any_model_is_written(params_dir):
    (params_dir / "scope.toml").write_text("C = 0\n")
    data, model = params_dir / "mine.csv", params_dir / "out" / "model.joblib"
    rows = [("Answer inbound calls", "BPO"), ("Build risk models", "KPO"), ("Ward nurse on nights", "NEITHER")] * 6
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(data, index=False)
    result = CliRunner().invoke(cli.cli, ["train", "--data", str(data), "--model", str(model), "--min-df", "1"])
    assert result.exit_code == 1
    assert "scope.toml: C must be above 0" in result.output
    # Not the BPO/KPO model alone, beside no scope model or an older one.
    assert not model.exists()
