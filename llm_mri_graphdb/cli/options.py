"""What the commands share: the root app, option types, the store to open, and row printing."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..scan_settings import ScanArgumentError

if TYPE_CHECKING:
    from ..store.base import Store

__all__ = [
    "app",
    "HomeOpt",
    "StoreOpt",
    "StorePathOpt",
    "OutOpt",
    "FormatOpt",
    "RunArg",
    "open_target",
    "print_rows",
    "choices",
    "option_name",
    "usage_error",
    "one_line",
    "one_line_warnings",
]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="A brain scanner for language models whose scans live in Neo4j.",
)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="Server home folder (default: ~/.cache/llm-mri-graphdb/neo4j/default).")
]
StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        help="auto (Neo4j when configured or started, else embedded), neo4j, or local (the embedded store; memory, its former name, warns).",
    ),
]
StorePathOpt = Annotated[
    Path | None,
    typer.Option("--store-path", help="Folder of the embedded store (default ~/.cache/llm-mri-graphdb/runs)."),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder; files go to OUT/RUN_ID/.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
RunArg = Annotated[str, typer.Argument(help="A stored run id (see `runs ls`).")]


def open_target(kind: str, path: Path | None) -> Store:
    """The store a command reads or writes (:func:`llm_mri_graphdb.pipeline.open_store`)."""
    from ..pipeline import open_store

    return open_store(kind, memory_path=path)


def print_rows(rows: list[dict], fmt: str) -> None:
    """Rows as an aligned table or as JSON."""
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


def choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """An Enum of ``values``, which typer shows and checks as a choice."""
    # typeshed types the functional API's result as a member, not a class
    return Enum(name, [(v, v) for v in values], type=str)  # type: ignore[return-value]


#: Library argument -> CLI option, for errors that name the option.
_OPTION = {"n_components": "--components", "cache_dir": "--cache"}


def option_name(argument: str) -> str:
    """The CLI option of a library argument (``n_components`` -> ``--components``)."""
    return _OPTION.get(argument, "--" + argument.replace("_", "-"))


def usage_error(exc: ScanArgumentError) -> typer.BadParameter:
    """A library argument error as click's bad usage (exit 2) naming the CLI option."""
    return typer.BadParameter(str(exc), param_hint=f"'{option_name(exc.argument)}'")


def one_line(text: object) -> str:
    """``text`` with its whitespace runs (newlines included) folded to single spaces."""
    return " ".join(str(text).split())


def one_line_warnings():
    """A context in which a library warning prints as one line on stderr: ``warning: <message>``."""
    import contextlib
    import warnings

    @contextlib.contextmanager
    def context():
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            previous = warnings.showwarning
            warnings.showwarning = lambda message, *args, **kwargs: typer.echo(f"warning: {message}", err=True)
            try:
                yield
            finally:
                warnings.showwarning = previous

    return context()


def writable_folder(folder, option: str):
    """``folder`` once it is proven to take a file (:func:`~llm_mri_graphdb.files.check_writable`); bad usage
    (exit 2) naming ``option`` otherwise, before a store is opened or anything computed."""
    from ..errors import OutputError
    from ..files import check_writable

    try:
        return check_writable(folder, option)
    except OutputError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from exc
