"""``llm-mri-graphdb runs ls|rm|gc|export|import``: the stored runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .options import FormatOpt, StoreOpt, StorePathOpt, app, open_target, print_rows, writable_folder

if TYPE_CHECKING:
    from ..store.base import Store

runs_app = typer.Typer(no_args_is_help=True, help="List and remove stored runs.")
app.add_typer(runs_app, name="runs")


@runs_app.command("ls")
def runs_ls(
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Also list versions an interrupted write or delete left behind.")
    ] = False,
) -> None:
    """List stored runs (model, corpus, settings, status).

    Example: llm-mri-graphdb runs ls --all
    """
    with open_target(store, store_path) as target:
        rows = target.runs(all=all_)
    print_rows(rows, fmt)


@runs_app.command("rm")
def runs_rm(
    run_id: Annotated[str, typer.Argument(help="The run (or leftover version, see `runs ls --all`) to delete.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted.")] = False,
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Delete one run and its regions and edges, or a leftover version.

    Example: llm-mri-graphdb runs rm 3f2a9c0d1b2e4f5a --yes
    """
    from ..errors import RunNotFound

    with open_target(store, store_path) as target:
        if run_id not in {row["run_id"] for row in target.runs(all=True)}:
            raise RunNotFound(
                f"run_id must name a stored run or leftover version; got {run_id!r} "
                "(see `llm-mri-graphdb runs ls --all`)."
            )
        if dry_run:
            typer.echo(f"Would delete run {run_id}.")
            return
        if not yes and not typer.confirm(f"Delete run {run_id}?"):
            raise typer.Abort()
        target.delete(run_id)
    typer.echo(f"Deleted run {run_id}.")


@runs_app.command("gc")
def runs_gc(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted.")] = False,
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Delete the versions interrupted writes or deletes left behind (never a complete run).

    A version a live writer still renews its lease on (a scan writing now, Neo4j store) is skipped and named.
    Example: llm-mri-graphdb runs gc --yes
    """
    with open_target(store, store_path) as target:
        leased = {row["version"] for row in getattr(target, "leased_versions", list)()}
        left = [row for row in target.runs(all=True) if row.get("status") != "complete"]
        collect = [row for row in left if row["run_id"] not in leased]
        if leased:
            typer.echo(
                f"Skipping {len(leased)} version(s) being written now (their writer's lease is fresh): "
                f"{', '.join(sorted(leased))}."
            )
        if not collect:
            typer.echo("Nothing to collect: no leftover versions.")
            return
        names = ", ".join(row["run_id"] for row in collect)
        if dry_run:
            typer.echo(f"Would delete {len(collect)} leftover version(s): {names}.")
            return
        if not yes and not typer.confirm(f"Delete {len(collect)} leftover version(s) ({names})?"):
            raise typer.Abort()
        removed = target.gc()
    typer.echo(f"Deleted {len(removed)} leftover version(s): {', '.join(r['version'] for r in removed)}.")


@runs_app.command("export")
def runs_export(
    run_id: Annotated[str, typer.Argument(help="The run to export.")],
    folder: Annotated[
        Path, typer.Argument(help="Folder to write regions.csv, edges.csv, nrag.json and texts.csv into.")
    ],
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Export one run as CSV files (any store), with its texts when it was stored with them,
    for another database or `runs import`.

    Example: llm-mri-graphdb runs export 3f2a9c0d1b2e4f5a exports/3f2a9c0d1b2e4f5a
    """
    writable_folder(folder, "FOLDER")
    with open_target(store, store_path) as target:
        nrag = target.read(run_id)
        nrag.to_csv(folder, _stored_texts(target, run_id) if nrag.text_labels is not None else None)
    typer.echo(f"Exported run {run_id} to {folder}.")


@runs_app.command("import")
def runs_import(
    folders: Annotated[list[Path], typer.Argument(help="Folders written by `runs export`.")],
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Bulk-import exported runs into the store (each replaces the run of the same id).

    Example: llm-mri-graphdb runs import exports/* --store neo4j
    """
    from llm_mri_graphdb.nrag.io import read_texts
    from llm_mri_graphdb.nrag.model import NRAG

    # read all first: a bad folder stores nothing
    exported = [(NRAG.from_csv(folder), read_texts(folder)) for folder in folders]
    with open_target(store, store_path) as target:
        for folder, (nrag, texts) in zip(folders, exported):
            typer.echo(f"Imported {folder} as run {target.write(nrag, texts=texts)}.")


def _stored_texts(target: Store, run_id: str) -> list[str] | None:
    """The run's texts, or None when it was stored without them."""
    try:
        return target.texts(run_id)
    except ValueError:
        return None
