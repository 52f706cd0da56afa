"""The main job: ``scan``, ``demo``, ``report``, ``metrics`` and ``analyze``.

Above 400 lines: ``scan`` and ``demo`` declare every option of a scan (extraction, reduction, grid,
statistics, probe, store, output), one typer parameter a line; the work itself is in ``pipeline``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer

from ..scan_settings import (
    BINNINGS,
    DTYPES,
    LIMITS,
    POOLINGS,
    REDUCERS,
    SITES,
    ScanArgumentError,
    check_encoding,
    check_scan,
)
from .options import (
    FormatOpt,
    OutOpt,
    StoreOpt,
    StorePathOpt,
    app,
    choices,
    one_line_warnings,
    open_target,
    print_rows,
    usage_error,
    writable_folder,
)

if TYPE_CHECKING:  # typer builds the choices at run time; a checker sees their str values
    Site = str
    Pooling = str
    Reducer = str
    Dtype = str
    Binning = str
else:
    Site, Pooling, Reducer, Dtype, Binning = (
        choices(n, v)
        for n, v in (
            ("Site", SITES),
            ("Pooling", POOLINGS),
            ("Reducer", REDUCERS),
            ("Dtype", DTYPES),
            ("Binning", BINNINGS),
        )
    )


class _ScanSettings(TypedDict):
    """The arguments ``scan`` shares with :func:`~llm_mri_graphdb.scan_settings.check_scan`."""

    site: str
    pooling: str
    reducer: str
    binning: str
    dtype: str | None
    n_components: int
    gridsize: int
    threshold: float
    random_state: int
    device: str
    batch_size: int
    max_length: int | None
    allow_large: bool
    fdr: float


@app.command("scan")
def scan_cmd(
    model: Annotated[str, typer.Argument(help="Hub id, model folder, or .gguf file.")],
    corpus: Annotated[
        Path, typer.Argument(help="CSV, JSONL, Parquet, a folder of label sub-folders, or a saved dataset.")
    ],
    text_column: Annotated[str, typer.Option(help="Column holding the texts.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column holding the labels.")] = "label",
    site: Annotated[Site, typer.Option(help="hidden (residual stream), mlp, or attention.")] = "hidden",
    pooling: Annotated[
        Pooling,
        typer.Option(
            help="auto: the model's sentence-transformers pooling, else mean (encoders) or mean_skip_first (decoders: position 0 is the attention sink)."
        ),
    ] = "auto",
    reducer: Annotated[
        Reducer, typer.Option(case_sensitive=False, help="Reducer fitted once per layer on all texts.")
    ] = "pca",
    components: Annotated[
        int, typer.Option(min=2, help=f"2 gives a grid NRAG; more a component NRAG (<= {LIMITS['n_components']}).")
    ] = 2,
    gridsize: Annotated[
        int, typer.Option(min=1, help=f"Cells per axis of each layer's grid (<= {LIMITS['gridsize']}).")
    ] = 10,
    threshold: Annotated[float, typer.Option(min=-1.0, max=1.0, help="Spearman threshold of component NRAGs.")] = 0.3,
    fdr: Annotated[
        float,
        typer.Option(
            help="Component NRAGs, in (0, 1]: edges must also pass Benjamini-Hochberg on their Spearman p-values at this false discovery rate (1: no correction)."
        ),
    ] = 0.05,
    binning: Annotated[
        Binning, typer.Option(help="Grid cells of equal width, or of equal counts (quantile).")
    ] = "width",
    random_state: Annotated[int, typer.Option(min=0, help="Seed of the reducer and the probes.")] = 42,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N, or mps.")] = "auto",
    dtype: Annotated[
        Dtype | None,
        typer.Option(
            help="float32 (default); bfloat16 (any device; 2-3x faster on CPUs with AMX-BF16/AVX512-BF16, see docs/precision.md); float16 on a GPU; auto: float32 until bfloat16 is shown equivalent (docs/precision.md)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help=f"Texts per forward pass (<= {LIMITS['batch_size']}).")] = 32,
    max_length: Annotated[
        int | None, typer.Option(min=1, help="Truncate texts to this many tokens (default: the model's limit).")
    ] = None,
    allow_large: Annotated[
        bool,
        typer.Option(
            "--allow-large", help="Lift the upper bounds of --gridsize, --components, --batch-size and --max-length."
        ),
    ] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV/TSV/JSONL corpus, e.g. latin-1.")] = "utf-8",
    cache: Annotated[Path | None, typer.Option(help="Activation cache folder (none by default).")] = None,
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help="Run the probing evaluation.")] = True,
    probe_random_weights: Annotated[
        bool,
        typer.Option(
            "--probe-random-weights", help="Also probe the same architecture with random weights (a second extraction)."
        ),
    ] = False,
    probe_bow: Annotated[bool, typer.Option("--probe-bow", help="Also probe a bag of words of the texts.")] = False,
    probe_mdl: Annotated[
        bool, typer.Option("--probe-mdl", help="Also the online-code MDL of every layer (Voita & Titov 2020).")
    ] = False,
    texts: Annotated[
        bool, typer.Option("--texts/--no-texts", help="Store the texts with the run (for `texts` and `path`).")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Extract on Ray: local (a cluster on this machine), auto (the one of `ray start`), or ray://host:10001.",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Ray workers (model replicas); default one per GPU, else one per node.")
    ] = None,
    permutations: Annotated[
        int, typer.Option(min=0, help="Label permutations of the metric statistics' null (0: none).")
    ] = 200,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Stratified bootstrap resamples of the metric intervals (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the permutations and the bootstrap.")] = 0,
    out: OutOpt = Path("reports"),
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Scan a model on a labelled corpus, store the run, write figures, metrics and the report.

    Every option is checked before the model is loaded; bad usage exits 2.

    Example: llm-mri-graphdb scan ./model corpus.csv --text-column text --label-column label --gridsize 10
    """
    from ..pipeline import scan

    def value(choice: str | None) -> str | None:  # the str of a choice Enum member
        return getattr(choice, "value", choice)

    settings = _ScanSettings(
        site=str(value(site)),
        pooling=str(value(pooling)),
        reducer=str(value(reducer)),
        binning=str(value(binning)),
        dtype=value(dtype),
        n_components=components,
        gridsize=gridsize,
        threshold=threshold,
        random_state=random_state,
        device=device,
        batch_size=batch_size,
        max_length=max_length,
        allow_large=allow_large,
        fdr=fdr,
    )
    try:
        check_scan(**settings)  # cheap: before the store is opened or anything read
        check_encoding(encoding)
        if not corpus.exists():
            raise typer.BadParameter(f"corpus file {corpus} does not exist.", param_hint="'CORPUS'")
        if workers is not None and ray is None:
            raise typer.BadParameter(
                "--workers sets the Ray workers; add --ray local (or --ray auto).", param_hint="'--workers'"
            )
        with open_target(store, store_path) as target, one_line_warnings():
            result = scan(
                model,
                corpus,
                text_column=text_column,
                label_column=label_column,
                cache_dir=cache,
                store=target,
                out=out,
                probe=probe,
                progress=not quiet,
                encoding=encoding,
                texts=texts,
                probe_random_weights=probe_random_weights,
                probe_bag_of_words=probe_bow,
                probe_mdl=probe_mdl,
                engine="local" if ray is None else "ray",
                ray_address=None if ray in (None, "local") else ray,
                num_workers=workers,
                permutations=permutations,
                bootstrap=bootstrap,
                seed=seed,
                **settings,
            )
            where = type(target).__name__
    except ScanArgumentError as exc:
        raise usage_error(exc) from exc
    typer.echo(
        f"Stored run {result.run_id} in {where}: {result.nrag.n_layers} layers, {result.nrag.n_regions} "
        f"regions; pooling {result.nrag.settings.get('pooling')}, degenerate layers: "
        f"{list(result.nrag.degenerate_layers or []) or 'none'}."
    )
    typer.echo(f"Report: {result.report}")


@app.command("demo")
def demo_cmd(
    out: OutOpt = Path("reports"),
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N, or mps.")] = "auto",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    texts: Annotated[
        bool, typer.Option("--texts/--no-texts", help="Store the texts with the run (for `texts` and `path`).")
    ] = True,
    permutations: Annotated[
        int, typer.Option(min=0, help="Label permutations of the metric statistics' null (0: none).")
    ] = 200,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Stratified bootstrap resamples of the metric intervals (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the permutations and the bootstrap.")] = 0,
) -> None:
    """Scan the bundled demo corpus with the packaged MiniLM model and write the report.

    Example: llm-mri-graphdb neo4j start && llm-mri-graphdb demo
    """
    from ..pipeline import demo_corpus_path, demo_model_path, scan

    try:
        check_scan(device=device)
    except ScanArgumentError as exc:
        raise usage_error(exc) from exc
    with open_target(store, store_path) as target, one_line_warnings():
        where = type(target).__name__
        typer.echo(f"Scanning the demo corpus with MiniLM-L6 into {where} ...")
        result = scan(
            str(demo_model_path()),
            demo_corpus_path(),
            device=device,
            corpus_name="llm-mri-graphdb-demo",
            store=target,
            out=out,
            progress=not quiet,
            texts=texts,
            permutations=permutations,
            bootstrap=bootstrap,
            seed=seed,
        )
    m = result.metrics["all"]
    typer.echo(
        f"Stored run {result.run_id}: {result.nrag.n_layers} layers, {result.nrag.n_regions} regions, "
        f"labels {', '.join(result.nrag.label_names)}; density {m['density']:.4f}, "
        f"mean degree {m['mean_degree']:.3f}; pooling {result.nrag.settings.get('pooling')}, "
        f"degenerate layers: {list(result.nrag.degenerate_layers or []) or 'none'}."
    )
    typer.echo(f"Report: {result.report}")


@app.command("report")
def report_cmd(
    run_id: Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")],
    out: OutOpt = Path("reports"),
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    permutations: Annotated[
        int, typer.Option(min=0, help="Label permutations of the metric statistics' null (0: none).")
    ] = 200,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Stratified bootstrap resamples of the metric intervals (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the permutations and the bootstrap.")] = 0,
    sensitivity: Annotated[
        bool, typer.Option("--sensitivity", help="Add the settings-sensitivity panel (needs the run's --cache entry).")
    ] = False,
) -> None:
    """Write one self-contained HTML report of a stored run.

    Example: llm-mri-graphdb report 3f2a9c0d1b2e4f5a --out reports
    """
    from ..pipeline import report_run

    writable_folder(out, "--out")
    with open_target(store, store_path) as target:
        try:
            path = report_run(
                target,
                run_id,
                out=out,
                permutations=permutations,
                bootstrap=bootstrap,
                seed=seed,
                sensitivity=sensitivity,
            )
        except ValueError as exc:
            if "activation" not in str(exc):
                raise
            raise typer.BadParameter(str(exc), param_hint="'--sensitivity'") from exc
    typer.echo(f"Report: {path}")


@app.command("metrics")
def metrics_cmd(
    run_id: Annotated[str, typer.Argument(help="A stored run id.")],
    label: Annotated[list[str] | None, typer.Option("--label", help="Restrict to these labels (repeat).")] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Also save them on the run (Neo4j); read-only otherwise.")
    ] = False,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference",
            help="Also print the metrics that are constant or an identity on this kind of run (llm_mri's full set).",
        ),
    ] = False,
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Print the metrics of a stored run as JSON (computed in Neo4j, or in process on the embedded store).

    Example: llm-mri-graphdb metrics 3f2a9c0d1b2e4f5a --label animals
    """
    import json

    from llm_mri_graphdb.analysis.quality import default_metrics
    from llm_mri_graphdb.nrag.model import resolve_labels

    with open_target(store, store_path) as target:
        if label:
            names = target.read(run_id).label_names  # RunNotFound for an unknown run
            try:
                resolve_labels(names, list(label))
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="'--label'") from exc
        result = target.metrics(run_id, label or None, save=save)
        if not reference:
            kind = next((r["kind"] for r in target.runs() if r["run_id"] == run_id), "grid")
            result = default_metrics(result, kind)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command("analyze")
def analyze_cmd(
    run_id: Annotated[str, typer.Argument(help="A stored run id.")],
    algorithms: Annotated[
        str | None,
        typer.Option(
            "--algorithms",
            help="Comma-separated among louvain,leiden,pagerank,betweenness (default: all the store runs).",
        ),
    ] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Restrict to these labels (repeat).")] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Write communities and centrality onto the regions (Neo4j).")
    ] = False,
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Find a run's cross-layer communities and central regions; read-only unless --save.

    Example: llm-mri-graphdb analyze 3f2a9c0d1b2e4f5a --algorithms louvain,pagerank --save
    """
    import json

    from llm_mri_graphdb.analysis.communities import check_algorithms

    try:
        algos = None if algorithms is None else check_algorithms(algorithms)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--algorithms") from exc
    if fmt not in ("table", "json"):
        raise typer.BadParameter(f"--format must be table or json; got {fmt!r}.", param_hint="--format")
    with open_target(store, store_path) as target:
        result = target.analyze(run_id, algos, label or None, save=save)
        if "louvain" in result["algorithms"]:
            from ..analysis import community_evidence

            result["evidence"] = community_evidence(target.read(run_id), label or None)
    if fmt == "json":
        if "evidence" in result:
            result["evidence"] = {
                **result["evidence"],
                "consensus": {k: v for k, v in result["evidence"]["consensus"].items() if k != "membership"},
            }
        typer.echo(json.dumps({k: v for k, v in result.items() if k != "membership"}, indent=2, default=str))
        return
    for algo, found in result["communities"].items():
        typer.echo(
            f"{algo}: {found['n_communities']} communities, modularity {found['modularity']:.4f}; "
            "cross-layer communities:"
        )
        print_rows(
            [{k: v for k, v in row.items() if k != "label_counts"} for row in found["cross_layer_communities"]], "table"
        )
    evidence = result.get("evidence")
    if evidence:
        null = evidence["null"]
        typer.echo(
            f"louvain over {evidence['n_seeds']} seeds: modularity {evidence['modularity_mean']:.4f} "
            f"(SD {evidence['modularity_sd']:.4f}), mean pairwise AMI {evidence['mean_pairwise_ami']:.3f}, "
            f"{evidence['consensus']['n_communities']} consensus communities; "
            + (
                f"shuffled-texts null {null['modularity_mean']:.4f} ± {null['modularity_sd']:.4f}, z = {null['z']:.1f}."
                if null
                else "no null (the run has no text paths)."
            )
        )
    for algo, rows in result["centrality"].items():
        typer.echo(f"{algo}: top regions per layer")
        print_rows(rows, "table")
