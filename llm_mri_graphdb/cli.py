"""The ``llm-mri-graphdb`` command line.

Noun groups with verbs (``neo4j start|stop|status``) and top-level verbs for
the main job (``scan``, ``report``, ``metrics``, ``query``, ``demo``). Exit
status: 0 done, 1 failed, 2 bad usage. A known failure prints one line; set
``LLM_MRI_GRAPHDB_DEBUG=1`` (or pass ``--debug``) for the traceback.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import LLMMRIError
from .scan_settings import BINNINGS, DTYPES, LIMITS, POOLINGS, REDUCERS, SITES, ScanArgumentError, check_encoding, check_scan

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="A brain scanner for language models whose scans live in Neo4j.")
neo4j_app = typer.Typer(no_args_is_help=True, help="Run a local Neo4j 5.26 + GDS server without Docker.")
app.add_typer(neo4j_app, name="neo4j")

HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Server home folder (default: ~/.cache/llm-mri-graphdb/neo4j/default).")]


def _memory_size(value: Optional[str]) -> Optional[str]:
    """Check a --heap/--pagecache size at parse time (bad usage exits 2)."""
    from .server.host import parse_size

    if value is not None:
        try:
            parse_size(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def _server(home: Path | None, bolt_port: int = 7687, http_port: int = 7474,
            heap: str | None = None, pagecache: str | None = None):
    from .server import LocalNeo4j

    return LocalNeo4j(home, bolt_port=bolt_port, http_port=http_port, heap=heap, pagecache=pagecache)


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
    heap: Annotated[Optional[str], typer.Option(callback=_memory_size, help="JVM heap, e.g. 4g (default: a quarter of the available RAM, 512m to 8g).")] = None,
    pagecache: Annotated[Optional[str], typer.Option(callback=_memory_size, help="Page cache, e.g. 2g (default: a quarter of the available RAM, 256m to 8g).")] = None,
) -> None:
    """Start a local Neo4j (downloading it from Maven Central on first use) and print its URI.

    The password is NEO4J_PASSWORD when set (a home keeps the one it was created
    with), else generated and kept in HOME/password. A small loopback server next
    to it serves the Browser guide and style; the Browser opens both on login.

    Example: llm-mri-graphdb neo4j start --bolt-port 7687 --heap 4g
    """
    server = _server(home, bolt_port, http_port, heap, pagecache)
    info = server.start()
    typer.echo(f"Neo4j {info.neo4j_version} + GDS {info.gds_version} is running (pid {info.pid}).")
    typer.echo(f"  NEO4J_URI={info.uri}")
    typer.echo(f"  Browser:  {info.http_url}/browser/  (user neo4j, password in {server.password_file})")
    typer.echo(f"  Guide:    {_guide_line(info)}")
    typer.echo(f"  Memory:   {info.memory}")


def _guide_line(info) -> str:
    if info.guide_pid is None:
        return "its server is not running: `neo4j stop`, then `neo4j start`, brings it back."
    return f"{info.guide_url}/guide.html (pid {info.guide_pid}; opens in the Browser on login, with nrag.grass)"


@neo4j_app.command("stop")
def neo4j_stop(home: HomeOpt = None) -> None:
    """Stop the local Neo4j and its guide server (only processes server.json names for this home)."""
    stopped = _server(home).stop()
    typer.echo("Neo4j stopped." if stopped else "No local Neo4j was running.")


@neo4j_app.command("status")
def neo4j_status(home: HomeOpt = None) -> None:
    """Say whether the local Neo4j runs, where, its memory, its Neo4j and GDS versions, and its guide server."""
    server = _server(home)
    info = server.info()
    if info is None:
        typer.echo(f"No local Neo4j is running from {server.home}.")
        raise typer.Exit(1)
    versions = server.versions()
    typer.echo(
        f"Running (pid {info.pid}) at {info.uri}, Browser {info.http_url}/browser/: "
        f"Neo4j {versions['neo4j']} {versions['edition']}, GDS {versions['gds']}; memory: {info.memory}."
    )
    typer.echo(f"Guide: {_guide_line(info)}")


@neo4j_app.command("reset-password")
def neo4j_reset_password(home: HomeOpt = None) -> None:
    """Make NEO4J_PASSWORD (or a new generated one) the password of the local Neo4j; data is kept.

    A running server changes it in place; otherwise the server's user database
    is rebuilt with the new password and the next `neo4j start` uses it.

    Example: NEO4J_PASSWORD=... llm-mri-graphdb neo4j reset-password
    """
    server = _server(home)
    _, restart = server.reset_password()
    typer.echo(f"Password of {server.home} reset; it is in {server.password_file}.")
    if restart:
        typer.echo(f"Start the server with `llm-mri-graphdb neo4j start --home {server.home}`.")


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


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    return Enum(name, [(v, v) for v in values], type=str)  # typer shows them as click.Choice


Site, Pooling, Reducer, Dtype, Binning = (_choices(n, v) for n, v in (
    ("Site", SITES), ("Pooling", POOLINGS), ("Reducer", REDUCERS), ("Dtype", DTYPES), ("Binning", BINNINGS)))

#: Library argument -> CLI option, for errors that name the option.
_OPTION = {"n_components": "--components", "cache_dir": "--cache"}


def _option(argument: str) -> str:
    return _OPTION.get(argument, "--" + argument.replace("_", "-"))


def _usage(exc: ScanArgumentError) -> typer.BadParameter:
    """A library argument error as click's bad usage (exit 2) naming the CLI option."""
    return typer.BadParameter(str(exc), param_hint=f"'{_option(exc.argument)}'")


@app.command("scan")
def scan_cmd(
    model: Annotated[str, typer.Argument(help="Hub id, model folder, or .gguf file.")],
    corpus: Annotated[Path, typer.Argument(help="CSV, JSONL, Parquet, a folder of label sub-folders, or a saved dataset.")],
    text_column: Annotated[str, typer.Option(help="Column holding the texts.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding the labels.")] = "label",
    site: Annotated[Site, typer.Option(help="hidden (residual stream), mlp, or attention.")] = "hidden",
    pooling: Annotated[Pooling, typer.Option(help="auto: last for decoders, first (CLS) for encoders.")] = "auto",
    reducer: Annotated[Reducer, typer.Option(case_sensitive=False, help="Reducer fitted once per layer on all texts.")] = "pca",
    components: Annotated[int, typer.Option(min=2, help=f"2 gives a grid NRAG; more a component NRAG (<= {LIMITS['n_components']}).")] = 2,
    gridsize: Annotated[int, typer.Option(min=1, help=f"Cells per axis of each layer's grid (<= {LIMITS['gridsize']}).")] = 10,
    threshold: Annotated[float, typer.Option(min=-1.0, max=1.0, help="Spearman threshold of component NRAGs.")] = 0.3,
    binning: Annotated[Binning, typer.Option(help="Grid cells of equal width, or of equal counts (quantile).")] = "width",
    random_state: Annotated[int, typer.Option(min=0, help="Seed of the reducer and the probes.")] = 42,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N, or mps.")] = "auto",
    dtype: Annotated[Optional[Dtype], typer.Option(help="float32 (CPU default); bfloat16 or float16 on a GPU.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help=f"Texts per forward pass (<= {LIMITS['batch_size']}).")] = 32,
    max_length: Annotated[Optional[int], typer.Option(min=1, help="Truncate texts to this many tokens (default: the model's limit).")] = None,
    allow_large: Annotated[bool, typer.Option("--allow-large", help="Lift the upper bounds of --gridsize, --components, --batch-size and --max-length.")] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV/TSV/JSONL corpus, e.g. latin-1.")] = "utf-8",
    cache: Annotated[Optional[Path], typer.Option(help="Activation cache folder (none by default).")] = None,
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help="Run the probing evaluation.")] = True,
    texts: Annotated[bool, typer.Option("--texts/--no-texts", help="Store the texts with the run (for `texts` and `path`).")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    ray: Annotated[Optional[str], typer.Option(metavar="ADDRESS", help="Extract on Ray: local (a cluster on this machine), auto (the one of `ray start`), or ray://host:10001.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Ray workers (model replicas); default one per GPU, else one per node.")] = None,
    out: OutOpt = Path("reports"),
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Scan a model on a labelled corpus, store the run, write figures, metrics and the report.

    Every option is checked before the model is loaded; bad usage exits 2.

    Example: llm-mri-graphdb scan ./model corpus.csv --text-column text --label-column label --gridsize 10
    """
    from .pipeline import scan

    values = {v: getattr(x, "value", x) for v, x in
              (("site", site), ("pooling", pooling), ("reducer", reducer), ("binning", binning), ("dtype", dtype))}
    settings = dict(**values, n_components=components, gridsize=gridsize, threshold=threshold,
                    random_state=random_state, device=device, batch_size=batch_size, max_length=max_length,
                    allow_large=allow_large)
    try:
        check_scan(**settings)  # cheap: before the store is opened or anything read
        check_encoding(encoding)
        if not corpus.exists():
            raise typer.BadParameter(f"corpus file {corpus} does not exist.", param_hint="'CORPUS'")
        if workers is not None and ray is None:
            raise typer.BadParameter("--workers sets the Ray workers; add --ray local (or --ray auto).",
                                     param_hint="'--workers'")
        with _store(store, store_path) as target:
            result = scan(model, corpus, text_column=text_column, label_column=label_column, cache_dir=cache,
                          store=target, out=out, probe=probe, progress=not quiet, encoding=encoding, texts=texts,
                          engine="local" if ray is None else "ray",
                          ray_address=None if ray in (None, "local") else ray, num_workers=workers, **settings)
            where = type(target).__name__
    except ScanArgumentError as exc:
        raise _usage(exc) from exc
    typer.echo(f"Stored run {result.run_id} in {where}.")
    typer.echo(f"Report: {result.report}")


@app.command("demo")
def demo_cmd(
    out: OutOpt = Path("reports"),
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N, or mps.")] = "auto",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    texts: Annotated[bool, typer.Option("--texts/--no-texts", help="Store the texts with the run (for `texts` and `path`).")] = True,
) -> None:
    """Scan the bundled demo corpus with the packaged MiniLM model and write the report.

    Example: llm-mri-graphdb neo4j start && llm-mri-graphdb demo
    """
    from .pipeline import demo_corpus_path, demo_model_path, scan

    try:
        check_scan(device=device)
    except ScanArgumentError as exc:
        raise _usage(exc) from exc
    with _store(store, store_path) as target:
        where = type(target).__name__
        typer.echo(f"Scanning the demo corpus with MiniLM-L6 into {where} ...")
        result = scan(str(demo_model_path()), demo_corpus_path(), device=device, corpus_name="llm-mri-graphdb-demo",
                      store=target, out=out, progress=not quiet, texts=texts)
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
                save: Annotated[bool, typer.Option("--save", help="Also save them on the run (Neo4j); read-only otherwise.")] = False,
                store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Print the metrics of a stored run as JSON (computed in Neo4j, or in process on the embedded store).

    Example: llm-mri-graphdb metrics 3f2a9c0d1b2e4f5a --label animals
    """
    import json

    from .nrag import resolve_labels

    with _store(store, store_path) as target:
        if label:
            names = target.read(run_id).label_names  # RunNotFound for an unknown run
            try:
                resolve_labels(names, list(label))
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="'--label'") from exc
        result = target.metrics(run_id, label or None, save=save)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command("query")
def query_cmd(name: Annotated[Optional[str], typer.Argument(help="A query of cypher/queries/ (omit to list them).")] = None,
              param: Annotated[Optional[list[str]], typer.Option("--param", help="k=v, repeatable.")] = None,
              fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Run a named query of the Cypher library and print its rows.

    Example: llm-mri-graphdb query hub_regions_per_layer --param run_id=3f2a9c0d1b2e4f5a --param top=3
    """
    from .store import parse_params, query_names
    from .store.cypher import bind_parameters

    if name is None:
        for q in query_names():
            typer.echo(q)
        return
    try:  # types and ranges are checked before a store is opened
        params = parse_params(list(param or []), name)
        bind_parameters(name, params)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from exc
    with _store(store, store_path) as target:
        rows = target.query(name, **params)
    _print_rows(rows, fmt)


RunArg = Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")]


def _text_rows(store: str, store_path: Path | None, method: str, *args, **kwargs) -> list[dict]:
    """Rows of a store's text question; a bad region, index or label is bad usage (exit 2)."""
    with _store(store, store_path) as target:
        try:
            return getattr(target, method)(*args, **kwargs)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc


@app.command("texts")
def texts_cmd(run_id: RunArg, region: Annotated[str, typer.Argument(help="Region name layer_x_y, e.g. 6_3_4.")],
              label: Annotated[Optional[str], typer.Option("--label", help="Only texts of this label.")] = None,
              limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to print.")] = 20,
              offset: Annotated[int, typer.Option("--offset", min=0, help="Rows to skip first.")] = 0,
              fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """List the texts in one region of a grid run, in corpus order.

    Example: llm-mri-graphdb texts 3f2a9c0d1b2e4f5a 6_3_4 --label pos --limit 10
    """
    _print_rows(_text_rows(store, store_path, "region_texts", run_id, region, label=label, limit=limit,
                           offset=offset), fmt)


@app.command("path")
def path_cmd(run_id: RunArg, text_idx: Annotated[int, typer.Argument(help="The text's position in the corpus.")],
             fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Show where one text goes: its region at every layer with the region's label counts.

    Example: llm-mri-graphdb path 3f2a9c0d1b2e4f5a 17
    """
    _print_rows(_text_rows(store, store_path, "text_path", run_id, text_idx), fmt)


@runs_app.command("ls")
def runs_ls(fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None,
            all_: Annotated[bool, typer.Option("--all", help="Also list versions an interrupted write or delete left behind.")] = False) -> None:
    """List stored runs (model, corpus, settings, status).

    Example: llm-mri-graphdb runs ls --all
    """
    with _store(store, store_path) as target:
        rows = target.runs(all=all_)
    _print_rows(rows, fmt)


@runs_app.command("rm")
def runs_rm(run_id: Annotated[str, typer.Argument(help="The run (or leftover version, see `runs ls --all`) to delete.")],
            yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted.")] = False,
            store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Delete one run and its regions and edges, or a leftover version.

    Example: llm-mri-graphdb runs rm 3f2a9c0d1b2e4f5a --yes
    """
    from .errors import RunNotFound

    with _store(store, store_path) as target:
        if run_id not in {row["run_id"] for row in target.runs(all=True)}:
            raise RunNotFound(f"run_id must name a stored run or leftover version; got {run_id!r} "
                              "(see `llm-mri-graphdb runs ls --all`).")
        if dry_run:
            typer.echo(f"Would delete run {run_id}.")
            return
        if not yes and not typer.confirm(f"Delete run {run_id}?"):
            raise typer.Abort()
        target.delete(run_id)
    typer.echo(f"Deleted run {run_id}.")


@runs_app.command("gc")
def runs_gc(yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted.")] = False,
            store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Delete the versions interrupted writes or deletes left behind (never a complete run).

    Run it when no other scan is writing to the same store: a write in progress is unpublished too.
    Example: llm-mri-graphdb runs gc --yes
    """
    with _store(store, store_path) as target:
        left = [row for row in target.runs(all=True) if row.get("status") != "complete"]
        if not left:
            typer.echo("Nothing to collect: no leftover versions.")
            return
        names = ", ".join(row["run_id"] for row in left)
        if dry_run:
            typer.echo(f"Would delete {len(left)} leftover version(s): {names}.")
            return
        if not yes and not typer.confirm(f"Delete {len(left)} leftover version(s) ({names})?"):
            raise typer.Abort()
        removed = target.gc()
    typer.echo(f"Deleted {len(removed)} leftover version(s): {', '.join(r['version'] for r in removed)}.")


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


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@app.command("analyze")
def analyze_cmd(
    run_id: Annotated[str, typer.Argument(help="A stored run id.")],
    algorithms: Annotated[Optional[str], typer.Option(
        "--algorithms", help="Comma-separated among louvain,leiden,pagerank,betweenness (default: all the store runs).")]
    = None,
    label: Annotated[Optional[list[str]], typer.Option("--label", help="Restrict to these labels (repeat).")] = None,
    save: Annotated[bool, typer.Option("--save", help="Write communities and centrality onto the regions (Neo4j).")]
    = False,
    fmt: FormatOpt = "table", store: StoreOpt = "auto", store_path: StorePathOpt = None,
) -> None:
    """Find a run's circuits (communities across layers) and central regions; read-only unless --save.

    Example: llm-mri-graphdb analyze 3f2a9c0d1b2e4f5a --algorithms louvain,pagerank --save
    """
    import json

    from .analysis import check_algorithms

    try:
        algos = None if algorithms is None else check_algorithms(algorithms)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--algorithms") from exc
    if fmt not in ("table", "json"):
        raise typer.BadParameter(f"--format must be table or json; got {fmt!r}.", param_hint="--format")
    with _store(store, store_path) as target:
        result = target.analyze(run_id, algos, label or None, save=save)
    if fmt == "json":
        typer.echo(json.dumps({k: v for k, v in result.items() if k != "membership"}, indent=2, default=str))
        return
    for algo, found in result["communities"].items():
        typer.echo(f"{algo}: {found['n_communities']} communities, modularity {found['modularity']:.4f}; circuits:")
        _print_rows([{k: v for k, v in row.items() if k != "label_counts"} for row in found["circuits"]], "table")
    for algo, rows in result["centrality"].items():
        typer.echo(f"{algo}: top regions per layer")
        _print_rows(rows, "table")


@app.command("compare")
def compare_cmd(run_a: Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")],
                run_b: Annotated[str, typer.Argument(help="Another run of the same corpus (or RUN_A again).")],
                out: Annotated[Path, typer.Option("--out", help="Output folder; the page goes to OUT/compare_RUN_A_RUN_B/.")] = Path("reports"),
                store: StoreOpt = "auto", store_path: StorePathOpt = None) -> None:
    """Compare the layers of two runs of one corpus (CKA, AMI), store the alignment and write its report.

    Example: llm-mri-graphdb compare 3f2a9c0d1b2e4f5a 9b8c7d6e5f4a3b2c --out reports
    """
    import warnings

    from .compare_report import write_comparison_report
    from .store.alignment import compare_runs

    with _store(store, store_path) as target, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the notes are printed below, once
        result = compare_runs(target, run_a, run_b, save=True)
    for note in result.notes:
        typer.echo(f"Note: {note}", err=True)
    a, b = result.names
    for measure in ("cka", "ami"):
        if getattr(result, measure) is not None:
            pairs = ", ".join(f"{i}->{j}" for i, j in enumerate(result.best(measure)))
            typer.echo(f"Best {measure.upper()} match of each layer of {a} in {b}: {pairs}")
    typer.echo(f"Report: {write_comparison_report(result, out)}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: every failure is one line on stderr; exit 0 done, 1 failure, 2 bad usage.

    Bad usage (an option out of its allowed values, a corpus too small for the
    options) names the option and exits 2; a known failure (unreadable corpus
    or model, unreachable store, unknown run) exits 1. ``--debug`` or
    ``LLM_MRI_GRAPHDB_DEBUG=1`` re-raises with the traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("LLM_MRI_GRAPHDB_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    if debug:  # library loggers (the neo4j driver's retries among them) are silent otherwise
        import logging

        logging.basicConfig(level=logging.INFO)
    try:
        code = app(args=args, prog_name="llm-mri-graphdb", standalone_mode=False)
    except typer.TyperException as exc:  # click's errors (typer vendors click): usage errors exit 2
        message = exc.format_message()
        if message.startswith("Usage:"):  # a group called without a command: its help
            typer.echo(message, err=True)
            return exc.exit_code
        ctx = getattr(exc, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if exc.exit_code == 2 and ctx is not None else ""
        typer.echo(f"Error: {_one_line(message)}{hint}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, ScanArgumentError):
            typer.echo(f"Error: {_option(exc.argument)}: {_one_line(exc)}", err=True)
            return 2
        if isinstance(exc, (LLMMRIError, ValueError, FileNotFoundError)):
            typer.echo(f"Error: {_one_line(exc)}", err=True)
        else:
            typer.echo(f"Error: {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the traceback)", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
