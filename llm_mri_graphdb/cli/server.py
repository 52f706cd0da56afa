"""``llm-mri-graphdb neo4j install|start|stop|status|reset-password``: a local Neo4j + GDS without Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import HomeOpt, app

neo4j_app = typer.Typer(no_args_is_help=True, help="Run a local Neo4j 5.26 + GDS server without Docker.")
app.add_typer(neo4j_app, name="neo4j")


def _memory_size(value: str | None) -> str | None:
    """Check a --heap/--pagecache size at parse time (bad usage exits 2)."""
    from ..server.host import parse_size

    if value is not None:
        try:
            parse_size(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def _server(
    home: Path | None,
    bolt_port: int = 7687,
    http_port: int = 7474,
    heap: str | None = None,
    pagecache: str | None = None,
):
    from ..server import LocalNeo4j

    return LocalNeo4j(home, bolt_port=bolt_port, http_port=http_port, heap=heap, pagecache=pagecache)


@neo4j_app.command("install")
def neo4j_install() -> None:
    """Fetch Neo4j, the Browser and GDS from Maven Central into the local cache (once)."""
    from ..server import ensure_distribution

    dist = ensure_distribution()
    typer.echo(f"Neo4j {dist.neo4j_version} + GDS {dist.gds_version} jars are in {dist.root}.")


@neo4j_app.command("start")
def neo4j_start(
    home: HomeOpt = None,
    bolt_port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = 7687,
    http_port: Annotated[int, typer.Option(help="HTTP (Browser) port on 127.0.0.1.")] = 7474,
    heap: Annotated[
        str | None,
        typer.Option(
            callback=_memory_size, help="JVM heap, e.g. 4g (default: a quarter of the available RAM, 512m to 8g)."
        ),
    ] = None,
    pagecache: Annotated[
        str | None,
        typer.Option(
            callback=_memory_size, help="Page cache, e.g. 2g (default: a quarter of the available RAM, 256m to 8g)."
        ),
    ] = None,
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
