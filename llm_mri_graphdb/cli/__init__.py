"""The ``llm-mri-graphdb`` command line.

Noun groups with verbs (``neo4j start|stop|status``, ``runs ls|rm|gc``) and
top-level verbs: the main job in :mod:`.scan` (``scan``, ``demo``, ``report``,
``metrics``, ``analyze``), reading stored runs in :mod:`.explore` (``query``,
``texts``, ``path``, ``compare``), the server in :mod:`.server`, the runs in
:mod:`.runs`; :mod:`.options` holds what they share. Exit
status: 0 done, 1 failed, 2 bad usage. A known failure prints one line; set
``LLM_MRI_GRAPHDB_DEBUG=1`` (or pass ``--debug``) for the traceback.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import LLMMRIError
from ..scan_settings import ScanArgumentError
from . import explore, runs, scan, server, statistics  # noqa: F401, I001 - each registers its commands on `app`, in --help's order
from .options import app, one_line, option_name

__all__ = ["app", "main"]


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
        typer.echo(f"Error: {one_line(message)}{hint}", err=True)
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
            typer.echo(f"Error: {option_name(exc.argument)}: {one_line(exc)}", err=True)
            return 2
        if isinstance(exc, (LLMMRIError, ValueError, FileNotFoundError)):
            typer.echo(f"Error: {one_line(exc)}", err=True)
        else:
            typer.echo(f"Error: {type(exc).__name__}: {one_line(exc)} (rerun with --debug for the traceback)", err=True)
        return 1
    return code if isinstance(code, int) else 0
