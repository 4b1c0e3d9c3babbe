"""The bpo-kpo command line: thin commands that parse options, read and write files, and call the stages."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
import traceback
from dataclasses import asdict, replace
from pathlib import Path

import click

from pipeline import config
from pipeline.errors import BpoKpoError, DataError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class Group(click.Group):
    """A click group that turns the project's errors into one `Error:` line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("Error: interrupted; no output file was left behind", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as error:  # every failure ends in one line; --debug shows the traceback
            if (ctx.obj or {}).get("debug"):
                traceback.print_exc()
            if isinstance(error, BpoKpoError):
                message = str(error)
            elif isinstance(error, OSError):
                message = f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}"
            else:
                message = f"unexpected {type(error).__name__}: {error} (rerun with --debug for details)"
            click.echo(f"Error: {message}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(version=None, package_name="bpo-kpo", prog_name="bpo-kpo", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Classify job postings as BPO (business process) or KPO (knowledge process) outsourcing work.

    Stages: prepare -> train -> evaluate; then predict. Every command runs with no options, using the
    project's default paths. Results go to stdout, messages to stderr.
    """
    ctx.obj = {"debug": debug}


def path_option(*names: str, default: Path, help: str):
    """A file or folder option with a default shown in --help; relative paths are taken from the working folder."""
    return click.option(*names, type=click.Path(path_type=Path), default=default, show_default=True, help=help)


# The --model option of every command that reads a model.
model_option = path_option(
    "--model", "model_path", default=config.MODEL_PATH, help="Model file (its metadata sits beside it as .json)."
)


def _say(message: str) -> None:
    click.echo(message, err=True)


# -- prepare ---------------------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--seed",
    type=int,
    default=config.PREPARE.seed,
    show_default=True,
    help="Random seed of the generator and the split.",
)
@click.option(
    "--n-postings",
    type=click.IntRange(min=10),
    default=config.PREPARE.n_postings,
    show_default=True,
    help="Number of postings to generate.",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=config.PREPARE.test_size,
    show_default=True,
    help="Share of role families held out for test.",
)
@click.option(
    "--borderline-share",
    type=click.FloatRange(0, 1),
    default=config.PREPARE.borderline_share,
    show_default=True,
    help="Share of postings drawn from grey-zone role families.",
)
@path_option("--catalogue", "catalogue_dir", default=config.CATALOGUE_DIR, help="Folder of catalogue JSON files.")
@path_option(
    "--labelled",
    "labelled_dir",
    default=config.USER_LABELLED_DIR,
    help="Folder of your own labelled postings (CSV/JSONL with text, label).",
)
@path_option(
    "--field",
    "field_dir",
    default=config.FIELD_DIR,
    help="Folder of the hand-written field set (evaluated, never trained on).",
)
@path_option(
    "--output-dir",
    default=config.PROCESSED_DIR,
    help="Where train.csv, test.csv, field.csv and summary.json are written.",
)
def prepare(seed, n_postings, test_size, borderline_share, catalogue_dir, labelled_dir, field_dir, output_dir) -> None:
    """Build the labelled dataset from data/raw into train, test and field splits."""
    from pipeline.catalogue import breadth_counts, load_catalogue
    from pipeline.dataset import build_dataset, load_field_set, load_user_postings, summarise
    from pipeline.files import atomic_path, write_text_atomic

    params = config.PrepareParams(
        seed=seed, n_postings=n_postings, test_size=test_size, borderline_share=borderline_share
    )
    catalogue = load_catalogue(catalogue_dir)
    splits = build_dataset(catalogue, params, load_user_postings(labelled_dir), load_field_set(field_dir))
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in splits.items():
        with atomic_path(output_dir / f"{name}.csv") as temporary:
            frame.to_csv(temporary, index=False, lineterminator="\n")
    summary = {"params": asdict(params), "breadth": breadth_counts(catalogue), "splits": summarise(splits)}
    write_text_atomic(output_dir / config.DATASET_SUMMARY_PATH.name, json.dumps(summary, indent=2) + "\n")
    click.echo("breadth: " + ", ".join(f"{k}={v}" for k, v in summary["breadth"].items()))
    for name, counts in summary["splits"].items():
        click.echo(f"{name:>5}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


# -- train -----------------------------------------------------------------------------------------------------
@cli.command()
@path_option("--data", "data_path", default=config.TRAIN_PATH, help="Training split written by prepare.")
@path_option(
    "--model",
    "model_path",
    default=config.MODEL_PATH,
    help="Where to write the model; metadata goes beside it as .json.",
)
@click.option(
    "--format",
    "model_format",
    type=click.Choice(config.MODEL_FORMATS),
    default="joblib",
    show_default=True,
    help="joblib, or skops for models that cross a trust boundary.",
)
@click.option("--seed", type=int, default=config.TRAIN.seed, show_default=True, help="Random seed.")
@click.option(
    "--ngram-max",
    type=click.IntRange(1, 4),
    default=config.TRAIN.ngram_max,
    show_default=True,
    help="Longest word n-gram.",
)
@click.option(
    "--min-df",
    type=click.IntRange(min=1),
    default=config.TRAIN.min_df,
    show_default=True,
    help="Ignore n-grams in fewer postings than this.",
)
@click.option(
    "--c",
    "C",
    type=click.FloatRange(0, min_open=True),
    default=config.TRAIN.C,
    show_default=True,
    help="Inverse regularisation strength of the logistic regression.",
)
@click.option(
    "--class-weight",
    type=click.Choice(["none", "balanced"]),
    default=str(config.TRAIN.class_weight).lower(),
    show_default=True,
    help="Class weighting of the logistic regression.",
)
@click.option(
    "--calibration",
    type=click.Choice(config.CALIBRATION_METHODS),
    default=config.TRAIN.calibration,
    show_default=True,
    help="Calibrate probabilities on grouped folds (sigmoid), or not.",
)
@click.option("--jobs", type=int, default=2, show_default=True, help="Processes for the cross-validation.")
def train(data_path, model_path, model_format, seed, ngram_max, min_df, C, class_weight, calibration, jobs) -> None:
    """Fit the TF-IDF + logistic-regression Pipeline and save it with its metadata."""
    from pipeline.dataset import read_split
    from pipeline.model import save_model
    from pipeline.train import train_model

    params = replace(
        config.TRAIN,
        seed=seed,
        ngram_max=ngram_max,
        min_df=min_df,
        C=C,
        class_weight=None if class_weight == "none" else class_weight,
        calibration=calibration,
    )
    frame = read_split(data_path)
    _say(f"training on {len(frame)} postings from {data_path}")
    started = time.perf_counter()
    pipeline, metadata = train_model(frame, params, n_jobs=jobs)
    metadata["training_data"]["path"] = _relative(data_path)
    validation = metadata["metrics"]["validation_grouped_cv"]
    threshold, review_band = metadata["threshold"], metadata["review_band"]
    model_path.parent.mkdir(parents=True, exist_ok=True)
    saved = save_model(pipeline, model_path, metadata, model_format)
    _say(f"trained in {time.perf_counter() - started:.1f}s; wrote {model_path} ({model_path.stat().st_size:,} bytes)")
    click.echo(
        f"validation (grouped CV on held-out families): accuracy {validation['accuracy']:.3f}, "
        f"macro-F1 {validation['macro_f1']:.3f}, ECE {validation['ece']:.3f}; "
        f"threshold {threshold:.2f}, review band ±{review_band:.2f}; sha256 {saved['model_sha256'][:12]}"
    )


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(config.PROJECT_ROOT))
    except ValueError:
        return str(path)


# -- tune ------------------------------------------------------------------------------------------------------
@cli.command()
@path_option("--data", "data_path", default=config.TRAIN_PATH, help="Training split written by prepare.")
@path_option("--output", default=config.TUNING_PATH, help="Where to write every configuration's grouped-CV score.")
@click.option("--jobs", type=int, default=-1, show_default=True, help="Processes for the search (-1: all cores).")
def tune(data_path, output, jobs) -> None:
    """Search TF-IDF and logistic-regression parameters by grouped cross-validation."""
    from pipeline.dataset import read_split
    from pipeline.files import write_text_atomic
    from pipeline.train import params_from_search, tune_parameters

    frame = read_split(data_path)
    n_configs = 1
    for values in config.TUNING_GRID.values():
        n_configs *= len(values)
    _say(f"searching {n_configs} configurations x {config.TRAIN.cv_folds} grouped folds on {len(frame)} postings")
    result = tune_parameters(frame, config.TRAIN, n_jobs=jobs)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output, json.dumps(result, indent=2) + "\n")
    for row in result["results"][:10]:
        click.echo(f"{row['mean_macro_f1']:.4f} ± {row['std_macro_f1']:.4f}  {row['params']}")
    best = params_from_search(result["best"], config.TRAIN)
    changed = {k: v for k, v in asdict(best).items() if getattr(config.TRAIN, k) != v}
    _say(f"wrote {output}; to adopt the best, set in pipeline/config.py TrainParams: {changed or 'nothing to change'}")


# -- evaluate --------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@click.option(
    "--data",
    "data_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Labelled CSV/JSONL file(s) to score; default: the test split and the field set.",
)
@click.option("--text-column", default=config.TEXT_COLUMN, show_default=True, help="Column holding the posting.")
@click.option("--label-column", default=config.LABEL_COLUMN, show_default=True, help="Column holding BPO/KPO.")
@click.option(
    "--by",
    "by",
    multiple=True,
    help="Report metrics per value of this column too (repeatable); 'length' buckets by word count.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A readable report, or every metric as JSON on stdout.",
)
@click.option(
    "--min-macro-f1",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when any evaluated set's macro-F1 is below this.",
)
@path_option("--output", default=None, help="Also write the metrics JSON here.")
@path_option("--plots", "plots_dir", default=None, help="Also write the five PNG plots into this folder.")
def evaluate(
    model_path, data_paths, text_column, label_column, by, output_format, min_macro_f1, output, plots_dir
) -> None:
    """Score labelled postings and report per-class metrics and the confusion matrix."""
    from pipeline.evaluate import format_report
    from pipeline.files import write_text_atomic
    from pipeline.model import load_model
    from pipeline.readers import read_labelled
    from pipeline.report import default_evaluation_sets, evaluate_sets, label_scores, score_sets

    model = load_model(model_path)
    if data_paths:
        sets = {str(p): read_labelled(p, text_column, label_column) for p in data_paths}
    else:
        sets = default_evaluation_sets()
    p_kpo = score_sets(model, sets)
    results = evaluate_sets(model, sets, p_kpo, by)
    if plots_dir:
        from pipeline.plots import write_plots
        from pipeline.report import top_ngrams

        write_plots(plots_dir, results, label_scores(sets, p_kpo), top_ngrams(model))
    if output:
        write_text_atomic(output, json.dumps(results, indent=2) + "\n")
    if output_format == "json":
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo("\n\n".join(format_report(name, metrics) for name, metrics in results.items()))
    if min_macro_f1 is not None:
        below = {name: m["macro_f1"] for name, m in results.items() if m["macro_f1"] < min_macro_f1}
        if below:
            raise BpoKpoError(
                "macro-F1 below --min-macro-f1 "
                + f"{min_macro_f1}: "
                + ", ".join(f"{k} {v:.3f}" for k, v in below.items())
            )


# -- report ---------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@path_option("--output", default=config.METRICS_PATH, help="Where to write every metric of every evaluation set.")
@path_option("--errors", "errors_path", default=config.ERRORS_PATH, help="Where to write the misclassified rows.")
@path_option("--plots", "plots_dir", default=config.PLOTS_DIR, help="Folder for the PNG plots.")
@path_option("--model-card", "card_path", default=config.MODEL_CARD_PATH, help="Where to write the model card.")
def report(model_path, output, errors_path, plots_dir, card_path) -> None:
    """Evaluate the test split and field set; write metrics, errors, plots and the model card (make train)."""
    from pipeline.evaluate import format_report, format_summary
    from pipeline.files import atomic_path, write_text_atomic
    from pipeline.model import load_model
    from pipeline.model_card import render_model_card
    from pipeline.plots import write_plots
    from pipeline.report import (
        default_evaluation_sets,
        error_table,
        evaluate_sets,
        label_scores,
        score_sets,
        top_ngrams,
    )

    model = load_model(model_path)
    sets = default_evaluation_sets()
    p_kpo = score_sets(model, sets)
    results = {"validation": model.metrics["validation_grouped_cv"]} | evaluate_sets(model, sets, p_kpo)
    errors = error_table(model, sets, p_kpo)
    ngrams = top_ngrams(model)
    write_plots(plots_dir, {name: results[name] for name in sets}, label_scores(sets, p_kpo), ngrams)
    with atomic_path(errors_path) as temporary:
        errors.to_csv(temporary, index=False, lineterminator="\n")
    write_text_atomic(output, json.dumps(results, indent=2) + "\n")
    write_text_atomic(card_path, render_model_card(model.metadata, results, errors, ngrams))
    click.echo("\n\n".join(format_report(name, metrics) for name, metrics in results.items()))
    click.echo("\nsummary (accuracy of borderline and clear-cut postings where the set marks them):")
    click.echo(format_summary(results))
    _say(f"wrote {output}, {errors_path} ({len(errors)} rows), {card_path} and plots in {plots_dir}")


# -- export ----------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@path_option(
    "--output",
    default=None,
    help="Where to write the portable model; default: beside the model as .portable.json.",
)
def export(model_path, output) -> None:
    """Write the model as portable JSON, and its conformance vectors, for scorers in any language (make train)."""
    from pipeline.export import export_model
    from pipeline.model import load_model

    if output is not None and not output.parent.is_dir():
        raise DataError(f"output folder {output.parent} does not exist; create it first")
    written, vectors = export_model(load_model(model_path), output)
    _say(f"wrote {written} ({written.stat().st_size:,} bytes) and {vectors}")


# -- predict ---------------------------------------------------------------------------------------------------
@cli.command()
@click.argument("texts", nargs=-1)
@click.option("--input", "input_path", default=None, help="CSV, JSONL or TXT file (one posting per line); - for stdin.")
@click.option(
    "--input-format",
    type=click.Choice(config.INPUT_FORMATS),
    default=None,
    help="Input format; default: from the file suffix, txt for stdin.",
)
@click.option(
    "--text-column",
    "text_columns",
    multiple=True,
    default=(config.TEXT_COLUMN,),
    show_default=True,
    help="Column(s) holding the posting; repeat to join several, e.g. title and description.",
)
@click.option("--id-column", default=None, help="Column passed through as the id; default: the row number.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(config.OUTPUT_FORMATS),
    default=None,
    help="Output format; default: table on a terminal, else jsonl (or from --output's suffix).",
)
@click.option(
    "--output", type=click.Path(path_type=Path), default=None, help="Write results here (atomically) instead of stdout."
)
@model_option
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="P(KPO) at which the label becomes KPO; default: the model's tuned value.",
)
@click.option(
    "--review-band",
    type=click.FloatRange(0, 0.5),
    default=None,
    help="needs_review when P(KPO) is this close to the threshold; default: the model's tuned value.",
)
@click.option(
    "--explain",
    type=click.IntRange(min=0),
    default=config.PREDICT.explain,
    show_default=True,
    help="Add the K n-grams that pushed each posting most toward its label.",
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes (-1: all cores).")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=config.PREDICT.chunk_size,
    show_default=True,
    help="Postings read and scored at a time.",
)
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Input encoding.")
@click.option("--sep", default=None, help="CSV separator; default: detected from the header.")
@click.option(
    "--on-error",
    type=click.Choice(["row", "fail"]),
    default="row",
    show_default=True,
    help="A posting with no text: keep its row with an error field, or stop with exit 1.",
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@click.option(
    "--engine",
    type=click.Choice(config.ENGINES),
    default="auto",
    show_default=True,
    help="portable: the JSON export, no scikit-learn (fast start); sklearn: the Pipeline (fastest on large "
    "files, --jobs); auto: portable for arguments and small files when its export matches the model.",
)
def predict(
    texts,
    input_path,
    input_format,
    text_columns,
    id_column,
    output_format,
    output,
    model_path,
    threshold,
    review_band,
    explain,
    jobs,
    chunk_size,
    encoding,
    sep,
    on_error,
    quiet,
    engine,
) -> None:
    """Label postings given as arguments, or every row of a file or stdin.

    One output row per input row, in input order, with its id, label, p_bpo, p_kpo and needs_review.
    """
    if texts and input_path:
        raise click.UsageError("give postings as arguments or --input, not both")
    if not texts and not input_path:
        raise click.UsageError("give postings as arguments, or --input FILE (- for stdin)")
    if jobs == 0 or jobs < -1:
        raise click.BadParameter("must be a positive number or -1", param_hint="--jobs")
    jobs = (os.cpu_count() or 1) if jobs == -1 else jobs
    if output is not None and not output.parent.is_dir():
        raise DataError(f"output folder {output.parent} does not exist; create it first")
    if engine == "portable" and jobs > 1:
        raise click.UsageError("--jobs needs --engine sklearn (or auto); the portable scorer runs in one process")
    output_format = output_format or _default_output_format(output)
    with _startup():
        from pipeline.engines import open_engine, small_input
        from pipeline.predict import FORMATTERS, ScoreOptions, output_fields
        from pipeline.readers import Chunk, iter_chunks

        prefer_portable = jobs == 1 and (bool(texts) or small_input(input_path))
        model = open_engine(engine, model_path, prefer_portable, on_fallback=_say)
    options = ScoreOptions(
        threshold=model.threshold if threshold is None else threshold,
        review_band=model.review_band if review_band is None else review_band,
        explain=explain,
    )
    if texts:
        chunks = iter([Chunk(ids=[str(i + 1) for i in range(len(texts))], texts=[t.strip() or None for t in texts])])
    else:
        chunks = iter_chunks(input_path, input_format, tuple(text_columns), id_column, chunk_size, encoding, sep)
    formatter = FORMATTERS[output_format](output_fields(options))
    progress = _Progress(enabled=bool(input_path) and not quiet and sys.stderr.isatty())
    results = model.score_chunks(chunks, options, formatter, jobs)

    def write_all(handle) -> None:
        handle.write(formatter.header())
        for scored in results:
            if on_error == "fail" and scored.first_error_id is not None:
                raise DataError(f"row with id {scored.first_error_id} has no text to score (--on-error fail)")
            handle.write(scored.text)
            handle.flush()
            progress.update(scored.rows)

    if output is None:
        write_all(sys.stdout)
    else:
        from pipeline.files import atomic_writer

        with atomic_writer(output, "w", encoding="utf-8", newline="") as handle:
            write_all(handle)
    progress.done()


# -- serve -----------------------------------------------------------------------------------------------------
@cli.command()
@model_option
@click.option(
    "--engine",
    type=click.Choice(config.ENGINES),
    default="auto",
    show_default=True,
    help="portable: the JSON export; sklearn: the Pipeline; auto: portable when its export matches the model.",
)
@click.option("--host", default=config.SERVE.host, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=config.SERVE.port, show_default=True, help="Port.")
def serve(model_path, engine, host, port) -> None:
    """Serve the model over HTTP: POST /predict, GET /health, GET /model, OpenAPI docs at /docs.

    The model is loaded and checked once, at start. SIGTERM or Ctrl-C finish open requests, then stop.
    """
    try:
        from pipeline.serve import serve as run_service
    except ImportError:
        raise BpoKpoError("serve needs the optional extra: pip install 'bpo-kpo[serve]'") from None
    from pipeline.engines import open_engine

    scorer = open_engine(engine, model_path, on_fallback=_say)
    _say(f"serving {model_path} with the {scorer.name} engine on http://{host}:{port} (docs at /docs)")
    run_service(scorer, host, port)


@contextlib.contextmanager
def _startup():
    """Import scikit-learn and load the model with the cyclic garbage collector paused.

    Start-up makes over 100,000 tracked objects (modules, classes, functions) that live until exit, and
    collecting them while they are made, and again at exit, only rescans them: a quarter of a second of a
    one-posting command. Once loaded they are frozen out of later collections, so streaming a large file never
    rescans them, and forked workers leave the pages holding them shared.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _default_output_format(output: Path | None) -> str:
    if output is not None:
        return "csv" if output.suffix.lower() == ".csv" else "jsonl"
    return "table" if sys.stdout.isatty() else "jsonl"


class _Progress:
    """Rows done and rows per second on stderr, redrawn in place, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.rows = 0
        self.started = time.perf_counter()
        self.last = 0.0

    def update(self, rows: int) -> None:
        self.rows += rows
        now = time.perf_counter()
        if self.enabled and now - self.last > 0.2:
            self.last = now
            rate = self.rows / max(now - self.started, 1e-9)
            sys.stderr.write(f"\r{self.rows:,} rows  {rate:,.0f} rows/s")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            sys.stderr.write(f"\r{self.rows:,} rows in {elapsed:.1f}s\n")


def main() -> None:  # pragma: no cover - the console-script entry point, exercised through subprocess tests
    cli(prog_name="bpo-kpo")
