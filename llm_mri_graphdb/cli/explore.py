"""Reading stored runs: ``query`` (the Cypher library), ``texts``, ``path`` and ``compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..values import INT64_MAX
from .options import FormatOpt, RunArg, StoreOpt, StorePathOpt, app, open_target, print_rows, writable_folder


@app.command("query")
def query_cmd(
    name: Annotated[str | None, typer.Argument(help="A query of cypher/queries/ (omit to list them).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="k=v, repeatable.")] = None,
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Run a named query of the Cypher library and print its rows.

    Example: llm-mri-graphdb query hub_regions_per_layer --param run_id=3f2a9c0d1b2e4f5a --param top=3
    """
    from ..store import parse_params, query_names
    from ..store.cypher import bind_parameters

    if name is None:
        for q in query_names():
            typer.echo(q)
        return
    try:  # types and ranges are checked before a store is opened
        params = parse_params(list(param or []), name)
        bind_parameters(name, params)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from exc
    with open_target(store, store_path) as target:
        try:  # a label or metric the run does not have is bad usage too
            rows = target.query(name, **params)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--param") from exc
    print_rows(rows, fmt)


def _text_rows(store: str, store_path: Path | None, method: str, *args, **kwargs) -> list[dict]:
    """Rows of a store's text question; a bad region, index or label is bad usage (exit 2)."""
    with open_target(store, store_path) as target:
        try:
            return getattr(target, method)(*args, **kwargs)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc


@app.command("texts")
def texts_cmd(
    run_id: RunArg,
    region: Annotated[str, typer.Argument(help="Region name layer_x_y, e.g. 6_3_4.")],
    label: Annotated[str | None, typer.Option("--label", help="Only texts of this label.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, max=INT64_MAX, help="Rows to print.")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, max=INT64_MAX, help="Rows to skip first.")] = 0,
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """List the texts in one region of a grid run, in corpus order.

    Example: llm-mri-graphdb texts 3f2a9c0d1b2e4f5a 6_3_4 --label pos --limit 10
    """
    print_rows(
        _text_rows(store, store_path, "region_texts", run_id, region, label=label, limit=limit, offset=offset), fmt
    )


@app.command("path", context_settings={"ignore_unknown_options": True})  # `path RUN -1`: -1 is an index
def path_cmd(
    run_id: RunArg,
    text_idx: Annotated[int, typer.Argument(help="The text's position in the corpus (-1: the last).")],
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Show where one text goes: its region at every layer with the region's label counts.

    Example: llm-mri-graphdb path 3f2a9c0d1b2e4f5a 17
    """
    print_rows(_text_rows(store, store_path, "text_path", run_id, text_idx), fmt)


@app.command("compare")
def compare_cmd(
    run_a: Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")],
    run_b: Annotated[str, typer.Argument(help="Another run of the same corpus (or RUN_A again).")],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder; the page goes to OUT/compare_RUN_A_RUN_B/.")
    ] = Path("reports"),
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    permutations: Annotated[
        int,
        typer.Option("--permutations", min=0, help="Permutations for the null of debiased CKA, e.g. 100 (0: none)."),
    ] = 100,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Resamples for the stability of best matches, e.g. 100 (0: none).")
    ] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the permutations and resamples, e.g. 0.")] = 0,
) -> None:
    """Compare the layers of two runs of one corpus (CKA, debiased CKA with its null, AMI), store and report it.

    Example: llm-mri-graphdb compare 3f2a9c0d1b2e4f5a 9b8c7d6e5f4a3b2c --out reports
    """
    import warnings

    from llm_mri_graphdb.errors import OutputError
    from llm_mri_graphdb.report.compare import write_comparison_report

    from ..store.alignment import compare_runs

    writable_folder(out, "--out")  # before anything is computed or stored
    with open_target(store, store_path) as target, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the notes are printed below, once
        result = compare_runs(
            target, run_a, run_b, save=True, n_permutations=permutations, n_bootstrap=bootstrap, random_state=seed
        )
    for note in result.notes:
        typer.echo(f"Note: {note}", err=True)
    a, b = result.names
    for measure, label in (("cka_debiased", "debiased CKA"), ("cka", "CKA"), ("ami", "AMI")):
        if getattr(result, measure) is not None:
            pairs = ", ".join(f"{i}->{j}" for i, j in enumerate(result.best(measure)))
            typer.echo(f"Best {label} match of each layer of {a} in {b}: {pairs}")
    try:
        page = write_comparison_report(result, out)
    except OutputError as exc:
        raise OutputError(
            exc.path,
            exc.cause,
            f"alignment of {run_a} and {run_b} stored; writing {exc.path} failed: "
            f"{exc.cause}; `llm-mri-graphdb compare {run_a} {run_b}` writes it "
            "again.",
        ) from exc
    typer.echo(f"Report: {page}")
