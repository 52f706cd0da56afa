"""The one Neo4j without GDS of a test run, shared by every test that needs a server of its own.

The session's GDS server (``tests/conftest.py``) is the first JVM of a run;
this is the second and last. It runs the same Neo4j 5.26 jars with an empty
plugins folder, and is started with a password holding spaces, quotes, ``#``
and a backslash while every process's command line is watched: the tests read
what the watch saw. Its teardown is the CLI's ``neo4j stop``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import psutil
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.server import Distribution, LocalNeo4j, ensure_distribution, free_port


@dataclass
class CommandLineWatch:
    """Every command line seen while watching, checked for a secret."""

    secret: str
    seen_secret: list[str] = field(default_factory=list)
    seen_admin_tool: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _poll(self) -> None:
        while not self._stop.is_set():
            for proc in psutil.process_iter(["cmdline"]):
                line = " ".join(proc.info["cmdline"] or [])
                if self.secret in line:
                    self.seen_secret.append(line)
                if "set-initial-password" in line:
                    self.seen_admin_tool += 1
            self._stop.wait(0.02)

    def __enter__(self) -> CommandLineWatch:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class PlainServer:
    server: LocalNeo4j
    password: str
    watch: CommandLineWatch


@pytest.fixture(scope="session")
def plain_server(tmp_path_factory):
    """A started Neo4j 5.26 without GDS (the run's second and last JVM), stopped through the CLI."""
    full = ensure_distribution()
    root = tmp_path_factory.mktemp("no-gds-dist")
    (root / "lib").symlink_to(full.lib)
    (root / "plugins").mkdir()
    server = LocalNeo4j(
        tmp_path_factory.mktemp("no-gds-home"),
        bolt_port=free_port(),
        http_port=free_port(),
        heap="512m",
        pagecache="128m",
        distribution=Distribution(root, full.neo4j_version, "none"),
    )
    password = 'plain "pass" #' + os.urandom(6).hex() + " \\end"
    with CommandLineWatch(password) as watch:
        server.start(password=password)
    try:
        yield PlainServer(server, password, watch)
    finally:
        code = main(["neo4j", "stop", "--home", str(server.home)])
        assert code == 0 and not server.is_running()
        assert main(["neo4j", "status", "--home", str(server.home)]) == 1


@pytest.fixture()
def plain_neo4j(plain_server):
    """Connection settings of the Neo4j without GDS (read fresh: a test may reset its password)."""
    return plain_server.server.settings()


@pytest.fixture(scope="module")
def store(neo4j_settings):
    """A Neo4jStore on the session's GDS server, one per test module."""
    from llm_mri_graphdb.store import Neo4jStore

    with Neo4jStore.from_settings(neo4j_settings) as opened:
        yield opened
