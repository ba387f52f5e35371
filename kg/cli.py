"""The `kg` command: a thin click shell over kg.build, kg.validate, kg.query and kg.web."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import kg
from kg.settings import EXECUTORS, STORES, Settings, SettingsError, load_settings

_OUT_OPTION = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Build folder to work on [default: out/ or setting out_dir].",
)


def _store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--store, --endpoint, --update-endpoint, --gsp: which store to load or read."""
    options = [
        click.option(
            "--store",
            type=click.Choice(STORES),
            default=None,
            help="oxigraph (embedded, out/store) or sparql (a remote SPARQL 1.1 store) [default: setting store].",
        ),
        click.option("--endpoint", "sparql_endpoint", default=None, help="Query URL of the remote store."),
        click.option(
            "--update-endpoint", "sparql_update_endpoint", default=None, help="Update URL of the remote store."
        ),
        click.option("--gsp", "sparql_gsp", default=None, help="Graph Store Protocol URL of the remote store."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _executor_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--executor, --scheduler: where extraction and validation run."""
    options = [
        click.option(
            "--executor",
            type=click.Choice(EXECUTORS),
            default=None,
            help="local (processes on this machine) or dask (a Dask cluster) [default: setting executor].",
        ),
        click.option("--scheduler", default=None, help="Address of the Dask scheduler, tcp://HOST:PORT."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    try:
        base: Settings = ctx.obj["settings"]
        return base.replace(**flags)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kg.__version__, prog_name="kg")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file [default: ./kg.toml if present].",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Turn news articles into a validated, published linked-data knowledge graph."""
    try:
        ctx.obj = {"settings": load_settings(config)}
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


@cli.command("build")
@click.option(
    "--raw",
    "raw_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of raw article files [default: raw/].",
)
@_OUT_OPTION
@click.option("--base-iri", default=None, help="Base IRI of every minted resource.")
@click.option("--allow-invalid", is_flag=True, help="Publish the build even when it has SHACL violations.")
@click.option("--force", is_flag=True, help="Build even when out/ already holds a build of the same inputs.")
@_store_options
@_executor_options
@click.pass_context
def build_command(
    ctx: click.Context,
    raw_dir: Path | None,
    out_dir: Path | None,
    base_iri: str | None,
    allow_invalid: bool,
    force: bool,
    **store: Any,
) -> None:
    """Build out/ (dumps, VoID, checksums, validation report, store) from the raw article files.
    Does nothing when out/ already holds a build of the same raw files, code and settings."""
    from kg.build import BuildError, InvalidBuildError, build
    from kg.progress import Progress, Stages

    settings = _settings(ctx, raw_dir=raw_dir, out_dir=out_dir, base_iri=base_iri, **store)
    try:
        result = build(
            settings,
            allow_invalid=allow_invalid,
            progress=Progress("kg build: extracting entities"),
            force=force,
            stages=Stages("kg build"),
            progress_for=lambda stage: Progress(
                f"kg build: {stage}", unit="parts" if stage == "validating" else "articles"
            ),
        )
    except InvalidBuildError as exc:
        click.echo(exc.report, err=True, nl=False)
        click.echo(f"kg build: error: {exc}", err=True)
        sys.exit(1)
    except (BuildError, ValueError) as exc:
        click.echo(f"kg build: error: {exc}", err=True)
        sys.exit(1)
    for problem in result.problems:
        click.echo(f"kg build: skipped {problem}", err=True)
    if result.unchanged:
        click.echo(
            f"{result.out_dir}/ is up to date: {result.articles} articles, {result.quads} quads, built from the same "
            "raw files, code and settings (--force builds again)"
        )
    else:
        click.echo(
            f"built {result.articles} articles, {result.entities} entities, {result.mentions} mentions, "
            f"{result.quads} quads into {result.out_dir}/"
            + (f" ({result.reused} articles' entities reused from the extraction cache)" if result.reused else "")
        )
    if result.validation and not result.unchanged:
        v = result.validation
        click.echo(
            f"validation: {v['violations']} violations, {v['warnings']} warnings, {v['infos']} infos "
            f"(report in {result.out_dir}/validation.json)"
        )
    if result.problems:
        click.echo(f"kg build: {len(result.problems)} file(s) could not be built", err=True)
        sys.exit(1)


@cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--shapes",
    "shapes_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of SHACL shapes [default: shapes/].",
)
@click.option(
    "--ontology",
    "ontology_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of ontology files [default: ontology/].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "turtle", "json", "junit", "github"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning", "info"]),
    default="violation",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to FILE (atomically) instead of standard output.",
)
@click.option(
    "--engine",
    type=click.Choice(["pyshacl", "turbo"]),
    default=None,
    help="SHACL engine [default: turbo when installed, else pyshacl].",
)
@click.option(
    "--jobs",
    type=int,
    default=0,
    show_default=True,
    help="Local processes for article-by-article validation of TriG/N-Quads input (0: all cores).",
)
@_OUT_OPTION
@_executor_options
@click.pass_context
def validate_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    shapes_dir: Path | None,
    ontology_dir: Path | None,
    fmt: str,
    fail_on: str,
    output: Path | None,
    engine: str | None,
    jobs: int,
    out_dir: Path | None,
    executor: str | None,
    scheduler: str | None,
) -> None:
    """Check graphs against the SHACL shapes. Exit 0 conforms, 1 does not, 2 bad input.

    PATHS are RDF files or folders; the default is the build in --out. TriG and N-Quads
    input from kg is validated one article graph at a time, in parallel.
    """
    from kg.executor import ExecutorError, executor_for
    from kg.reports import render
    from kg.validate import ValidationInputError, run_validation

    settings = _settings(
        ctx, out_dir=out_dir, shapes_dir=shapes_dir, ontology_dir=ontology_dir, executor=executor, scheduler=scheduler
    )
    inputs = list(paths) or [settings.out_dir / "kg.trig", settings.out_dir / "void.ttl"]
    try:
        with executor_for(settings, jobs) as pool:
            outcome = run_validation(inputs, settings.shapes_dir, settings.ontology_dir, engine=engine, executor=pool)
    except (ValidationInputError, ExecutorError) as exc:
        click.echo(f"kg validate: error: {exc}", err=True)
        sys.exit(2)
    report = render(outcome, fmt, fail_on=fail_on, raw_dir=settings.raw_dir)
    if output is not None:
        from kg.fileio import write_atomic

        write_atomic(output, report.encode("utf-8"))
        click.echo(report.splitlines()[0] if fmt == "text" else f"kg validate: report written to {output}", err=True)
    else:
        click.echo(report, nl=False)
    sys.exit(1 if outcome.fails(fail_on) else 0)


@cli.command("query")
@click.argument("query", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read the query from a file ('-' for standard input).",
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", "json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld"]),
)
@_OUT_OPTION
@_store_options
@click.pass_context
def query_command(
    ctx: click.Context, query: str | None, query_file: Any, fmt: str, out_dir: Path | None, **store: Any
) -> None:
    """Run a SPARQL query over the built store (the default graph is the union)."""
    from kg.query import QueryError, run_query, serialize_results
    from kg.store import open_store

    if (query is None) == (query_file is None):
        raise click.UsageError("give a QUERY or -f FILE (one of them)")
    text = query if query is not None else query_file.read()
    settings = _settings(ctx, out_dir=out_dir, **store)
    try:
        graph_store = open_store(settings, timeout=3600)
    except (FileNotFoundError, OSError) as exc:
        click.echo(f"kg query: error: {exc}", err=True)
        sys.exit(2)
    try:
        outcome = run_query(graph_store, text, settings.replace(query_timeout=float("inf")))
    except QueryError as exc:
        click.echo(f"kg query: error: {exc.message}", err=True)
        sys.exit(2 if exc.status < 500 else 1)
    if outcome.kind == "graph":
        from kg.output import write_graph

        click.echo(write_graph(outcome.triples, "ntriples" if fmt == "table" else fmt), nl=False)
    elif fmt == "table":
        from kg.output import text_table

        click.echo(text_table(outcome))
    elif fmt in ("json", "xml", "csv", "tsv"):
        sys.stdout.buffer.write(serialize_results(outcome, fmt))
        sys.stdout.flush()
    else:
        raise click.UsageError(f"--format {fmt} is for CONSTRUCT/DESCRIBE results")
    if outcome.truncated:
        click.echo(f"kg query: result truncated at {settings.result_limit} rows", err=True)


@cli.command("serve")
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@click.option("--base-iri", default=None, help="Base IRI the build was made with.")
@click.option(
    "--server",
    type=click.Choice(["granian", "waitress"]),
    default=None,
    help="WSGI server [default: granian]; waitress is pure Python, one process.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes with --server granian [default: 1]."
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log a line per request to standard error [default: on].",
)
@click.option(
    "--get",
    "get_path",
    default=None,
    metavar="PATH",
    help="Print the response to one GET of PATH and exit, without a server.",
)
@click.option("--accept", default="text/html", show_default=True, help="Accept header for --get.")
@_OUT_OPTION
@_store_options
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    base_iri: str | None,
    server: str | None,
    workers: int | None,
    access_log: bool | None,
    get_path: str | None,
    accept: str,
    out_dir: Path | None,
    **store: Any,
) -> None:
    """Serve pages, content negotiation, SPARQL and dumps with a production WSGI server."""
    from kg.web.server import get, serve

    settings = _settings(
        ctx,
        host=host,
        port=port,
        base_iri=base_iri,
        server=server,
        workers=workers,
        access_log=access_log,
        out_dir=out_dir,
        **store,
    )
    try:
        if get_path is not None:
            status, headers, body = get(settings, get_path, accept)
            click.echo(f"HTTP {status}", err=True)
            for name, value in headers.items():
                click.echo(f"{name}: {value}", err=True)
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
            sys.exit(0 if status < 400 else 1)
        serve(settings)
    except (FileNotFoundError, OSError) as exc:
        click.echo(f"kg serve: error: {exc}", err=True)
        sys.exit(2)


@cli.command("eval")
@click.argument("gold", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--baseline/--no-baseline", default=False, help="Also score the bare spaCy model on the gold texts, for comparison."
)
@_OUT_OPTION
@click.pass_context
def eval_command(ctx: click.Context, gold: Path, fmt: str, baseline: bool, out_dir: Path | None) -> None:
    """Score the build's entities and mentions against GOLD annotations (JSON or NIF)."""
    from kg.evaluate import (
        GoldError,
        evaluate,
        format_text,
        load_gold,
        predictions_from_store,
        raw_model_predictions,
    )
    from kg.extract.entities import SpacyExtractor
    from kg.store.oxigraph import STORE_DIR, OxigraphStore

    settings = _settings(ctx, out_dir=out_dir)
    try:
        gold_docs = load_gold(gold)
        store = OxigraphStore(settings.out_dir / STORE_DIR)
    except (GoldError, FileNotFoundError, OSError) as exc:
        click.echo(f"kg eval: error: {exc}", err=True)
        sys.exit(2)
    results = {"kg": evaluate(gold_docs, predictions_from_store(store))}
    if baseline:
        nlp = SpacyExtractor(settings.spacy_model).nlp
        results["spaCy model alone"] = evaluate(gold_docs, raw_model_predictions(gold_docs, nlp))
    if fmt == "json":
        click.echo(json.dumps({k: v.as_dict() for k, v in results.items()}, indent=2))
    else:
        click.echo("\n".join(format_text(v, title=k) for k, v in results.items()), nl=False)
    if results["kg"].documents == 0:
        click.echo("kg eval: no gold document matched an article of the build", err=True)
        sys.exit(1)


@cli.command("info")
@_OUT_OPTION
@click.pass_context
def info_command(ctx: click.Context, out_dir: Path | None) -> None:
    """One status line about the build in --out."""
    settings = _settings(ctx, out_dir=out_dir)
    manifest_path = settings.out_dir / "build.json"
    if not manifest_path.is_file():
        click.echo(f"kg info: no build in {settings.out_dir}/ (run `kg build`)", err=True)
        sys.exit(1)
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    click.echo(
        f"kg {kg.__version__}: build {m['build']} of {m['finished']}: {m['articles']} articles, "
        f"{m['entities']} entities, {m['mentions']} mentions, {m['quads']} quads, "
        f"{len(m['problems'])} skipped file(s), base {m['base_iri']}"
    )


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point. SIGTERM (kill, a CI timeout, systemd stop) ends kg the way
    Ctrl-C does: cleanup runs, worker processes are stopped and a build's staging folder is
    removed, instead of the process vanishing and leaving its workers running."""
    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="kg")


if __name__ == "__main__":
    main()
