"""The ``llm-mri-graphdb`` command line.

Noun groups with verbs (``neo4j start|stop|status``) and top-level verbs for
the main job (``scan``, ``report``, ``metrics``, ``query``, ``demo``). Exit
status: 0 done, 1 failed, 2 bad usage. A known failure prints one line; set
``LLM_MRI_GRAPHDB_DEBUG=1`` (or pass ``--debug``) for the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import LLMMRIError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="A brain scanner for language models whose scans live in Neo4j.")
neo4j_app = typer.Typer(no_args_is_help=True, help="Run a local Neo4j 5.26 + GDS server without Docker.")
app.add_typer(neo4j_app, name="neo4j")

HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Server home folder (default: ~/.cache/llm-mri-graphdb/neo4j/default).")]


def _server(home: Path | None, bolt_port: int = 7687, http_port: int = 7474, heap: str = "1g"):
    from .server import LocalNeo4j

    return LocalNeo4j(home, bolt_port=bolt_port, http_port=http_port, heap=heap)


@neo4j_app.command("install")
def neo4j_install() -> None:
    """Fetch Neo4j, the Browser and GDS from Maven Central into the local cache (once)."""
    from .server import ensure_distribution

    dist = ensure_distribution()
    typer.echo(f"Neo4j {dist.neo4j_version} + GDS {dist.gds_version} jars are in {dist.root}.")


@neo4j_app.command("start")
def neo4j_start(
    home: HomeOpt = None,
    bolt_port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = 7687,
    http_port: Annotated[int, typer.Option(help="HTTP (Browser) port on 127.0.0.1.")] = 7474,
    heap: Annotated[str, typer.Option(help="JVM heap, e.g. 1g or 4g.")] = "1g",
) -> None:
    """Start a local Neo4j (downloading it from Maven Central on first use) and print its URI.

    Example: llm-mri-graphdb neo4j start --bolt-port 7687
    """
    server = _server(home, bolt_port, http_port, heap)
    info = server.start()
    typer.echo(f"Neo4j {info.neo4j_version} + GDS {info.gds_version} is running (pid {info.pid}).")
    typer.echo(f"  NEO4J_URI={info.uri}")
    typer.echo(f"  Browser:  {info.http_url}/browser/  (user neo4j, password in {server.password_file})")


@neo4j_app.command("stop")
def neo4j_stop(home: HomeOpt = None) -> None:
    """Stop the local Neo4j cleanly."""
    stopped = _server(home).stop()
    typer.echo("Neo4j stopped." if stopped else "No local Neo4j was running.")


@neo4j_app.command("status")
def neo4j_status(home: HomeOpt = None) -> None:
    """Say whether the local Neo4j runs, where, and its Neo4j and GDS versions."""
    server = _server(home)
    info = server.info()
    if info is None:
        typer.echo(f"No local Neo4j is running from {server.home}.")
        raise typer.Exit(1)
    versions = server.versions()
    typer.echo(
        f"Running (pid {info.pid}) at {info.uri}, Browser {info.http_url}/browser/: "
        f"Neo4j {versions['neo4j']} {versions['edition']}, GDS {versions['gds']}."
    )


runs_app = typer.Typer(no_args_is_help=True, help="List and remove stored runs.")
app.add_typer(runs_app, name="runs")

StoreOpt = Annotated[str, typer.Option("--store", help="auto (Neo4j when configured or started, else embedded), neo4j, or memory.")]
StorePathOpt = Annotated[Optional[Path], typer.Option("--store-path", help="Folder of the embedded store (default ~/.cache/llm-mri-graphdb/runs).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder; files go to OUT/RUN_ID/.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]


def _store(kind: str, path: Path | None):
    from .pipeline import open_store

    return open_store(kind, memory_path=path)


def _print_rows(rows: list[dict], fmt: str) -> None:
    import json

    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    if fmt != "table":
        raise typer.BadParameter(f"--format must be table or json; got {fmt!r}.")
    if not rows:
        typer.echo("(no rows)")
        return
    import pandas as pd

    with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
        typer.echo(pd.DataFrame(rows).to_string(index=False))


@app.command("scan")
def scan_cmd(
    model: Annotated[str, typer.Argument(help="Hub id, model folder, or .gguf file.")],
    corpus: Annotated[Path, typer.Argument(help="CSV, JSONL, Parquet, a folder of label sub-folders, or a saved dataset.")],
    text_column: Annotated[str, typer.Option(help="Column holding the texts.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding the labels.")] = "label",
    site: Annotated[str, typer.Option(help="hidden (residual stream), mlp, or attention.")] = "hidden",
    pooling: Annotated[str, typer.Option(help="auto, first, mean, or last.")] = "auto",
    reducer: Annotated[str, typer.Option(help="pca, svd, or umap.")] = "pca",
    components: Annotated[int, typer.Option(help="2 gives a grid NRAG; more gives a component NRAG.")] = 2,
    gridsize: Annotated[int, typer.Option(help="Cells per axis of each layer's grid.")] = 10,
    threshold: Annotated[float, typer.Option(help="Spearman threshold of component NRAGs.")] = 0.3,
    random_state: Annotated[int, typer.Option(help="Seed of the reducer and the probes.")] = 42,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, or mps.")] = "auto",
    dtype: Annotated[Optional[str], typer.Option(help="float32 (CPU default), bfloat16 or float16 (GPU).")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 32,
    max_length: Annotated[Optional[int], typer.Option(help="Truncate texts to this many tokens.")] = None,
    cache: Annotated[Optional[Path], typer.Option(help="Activation cache folder (none by default).")] = None,
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help="Run the probing evaluation.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    ray: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="Extract on Ray: local (a cluster on this machine), auto (the one of `ray start`), or ray://host:10001.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Ray workers (model replicas); default one per GPU, else one per node.")] = None,
    out: OutOpt = Path("reports"),
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Scan a model on a labelled corpus, store the run, write figures, metrics and the report.

    Example: llm-mri-graphdb scan ./model corpus.csv --text-column text --label-column label --gridsize 10
    """
    from .pipeline import scan

    if not corpus.exists():
        raise typer.BadParameter(f"corpus file {corpus} does not exist.", param_hint="CORPUS")
    if workers is not None and ray is None:
        raise typer.BadParameter("--workers sets the Ray workers; add --ray local (or --ray auto).", param_hint="--workers")
    with _store(store, store_path) as target:
        result = scan(model, corpus, text_column=text_column, label_column=label_column, site=site,
                      pooling=pooling, reducer=reducer, n_components=components, gridsize=gridsize,
                      threshold=threshold, random_state=random_state, device=device, dtype=dtype,
                      batch_size=batch_size, max_length=max_length, cache_dir=cache, store=target, out=out,
                      probe=probe, progress=not quiet, engine="local" if ray is None else "ray",
                      ray_address=None if ray in (None, "local") else ray, num_workers=workers)
        where = type(target).__name__
    typer.echo(f"Stored run {result.run_id} in {where}.")
    typer.echo(f"Report: {result.report}")


@app.command("demo")
def demo_cmd(
    out: OutOpt = Path("reports"),
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, or mps.")] = "auto",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Scan the bundled demo corpus with the packaged MiniLM model and write the report.

    Example: llm-mri-graphdb neo4j start && llm-mri-graphdb demo
    """
    from .pipeline import demo_corpus_path, demo_model_path, scan

    with _store(store, store_path) as target:
        where = type(target).__name__
        typer.echo(f"Scanning the demo corpus with MiniLM-L6 into {where} ...")
        result = scan(str(demo_model_path()), demo_corpus_path(), device=device, corpus_name="llm-mri-graphdb-demo",
                      store=target, out=out, progress=not quiet)
    m = result.metrics["all"]
    typer.echo(f"Stored run {result.run_id}: {result.nrag.n_layers} layers, {result.nrag.n_regions} regions, "
               f"labels {', '.join(result.nrag.label_names)}; density {m['density']:.4f}, "
               f"mean degree {m['mean_degree']:.3f}.")
    typer.echo(f"Report: {result.report}")


@app.command("report")
def report_cmd(run_id: Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")],
               out: OutOpt = Path("reports"), store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Write one self-contained HTML report of a stored run.

    Example: llm-mri-graphdb report 3f2a9c0d1b2e4f5a --out reports
    """
    from .pipeline import report_run

    with _store(store, store_path) as target:
        path = report_run(target, run_id, out=out)
    typer.echo(f"Report: {path}")


@app.command("metrics")
def metrics_cmd(run_id: Annotated[str, typer.Argument(help="A stored run id.")],
                label: Annotated[Optional[list[str]], typer.Option("--label", help="Restrict to these labels (repeat).")] = None,
                store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Print the metrics of a stored run as JSON (GDS on Neo4j, in-process on the embedded store).

    Example: llm-mri-graphdb metrics 3f2a9c0d1b2e4f5a --label animals
    """
    import json

    with _store(store, store_path) as target:
        result = target.metrics(run_id, label or None)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command("query")
def query_cmd(name: Annotated[Optional[str], typer.Argument(help="A query of cypher/queries/ (omit to list them).")] = None,
              param: Annotated[Optional[list[str]], typer.Option("--param", help="k=v, repeatable.")] = None,
              fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Run a named query of the Cypher library and print its rows.

    Example: llm-mri-graphdb query hub_regions_per_layer --param run_id=3f2a9c0d1b2e4f5a --param top=3
    """
    from .store import parse_params, query_names

    if name is None:
        for q in query_names():
            typer.echo(q)
        return
    params = parse_params(list(param or []), name)
    with _store(store, store_path) as target:
        rows = target.query(name, **params)
    _print_rows(rows, fmt)


@runs_app.command("ls")
def runs_ls(fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """List stored runs (model, corpus, settings, status)."""
    with _store(store, store_path) as target:
        rows = target.runs()
    _print_rows(rows, fmt)


@runs_app.command("rm")
def runs_rm(run_id: Annotated[str, typer.Argument(help="The run to delete.")],
            yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted.")] = False,
            store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Delete one run and its regions and edges."""
    with _store(store, store_path) as target:
        target.read(run_id)  # RunNotFound when it is not there
        if dry_run:
            typer.echo(f"Would delete run {run_id}.")
            return
        if not yes and not typer.confirm(f"Delete run {run_id}?"):
            raise typer.Abort()
        target.delete(run_id)
    typer.echo(f"Deleted run {run_id}.")


@runs_app.command("export")
def runs_export(run_id: Annotated[str, typer.Argument(help="The run to export.")],
                folder: Annotated[Path, typer.Argument(help="Folder to write regions.csv, edges.csv, nrag.json into.")],
                store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Export one run as CSV files (any store), for another database or `runs import`.

    Example: llm-mri-graphdb runs export 3f2a9c0d1b2e4f5a exports/3f2a9c0d1b2e4f5a
    """
    with _store(store, store_path) as target:
        target.read(run_id).to_csv(folder)
    typer.echo(f"Exported run {run_id} to {folder}.")


@runs_app.command("import")
def runs_import(folders: Annotated[list[Path], typer.Argument(help="Folders written by `runs export`.")],
                store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Bulk-import exported runs into the store (each replaces the run of the same id).

    Example: llm-mri-graphdb runs import exports/* --store neo4j
    """
    from .nrag import NRAG

    nrags = [NRAG.from_csv(folder) for folder in folders]  # read all first: a bad folder stores nothing
    with _store(store, store_path) as target:
        for folder, nrag in zip(folders, nrags):
            typer.echo(f"Imported {folder} as run {target.write(nrag)}.")


def main(argv: list[str] | None = None) -> int:
    """Entry point: map known failures to one line and exit 1; bad usage exits 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("LLM_MRI_GRAPHDB_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="llm-mri-graphdb")  # click handles usage errors: exit 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, (LLMMRIError, ValueError, FileNotFoundError)):
            typer.echo(f"Error: {exc}", err=True)
        else:
            typer.echo(f"Error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
