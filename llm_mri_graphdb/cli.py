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

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help=__doc__.splitlines()[0])
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
