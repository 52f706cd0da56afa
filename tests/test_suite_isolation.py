"""The suite never reaches a user's database: not through NEO4J_URI, not through a local server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.errors import StoreUnavailable
from llm_mri_graphdb.pipeline import open_store
from llm_mri_graphdb.settings import Neo4jSettings, cache_home, neo4j_settings
from llm_mri_graphdb.store import MemoryStore, Neo4jStore

from .conftest import SESSION_HOME, USER_JAR_CACHE, USER_NEO4J_VARIABLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


class Listener:
    """A loopback TCP port that counts the clients that connect to it (and hangs up on them)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            client.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_suite_hides_user_settings_and_shares_only_the_jar_cache():
    assert not set(USER_NEO4J_VARIABLES) & set(os.environ)
    assert neo4j_settings() is None
    assert cache_home() == SESSION_HOME and SESSION_HOME.is_dir()
    assert (cache_home() / "neo4j-dist").resolve() == USER_JAR_CACHE.resolve()


def test_store_choice_in_the_suite_is_the_embedded_store(tmp_path, capsys):
    """Run by the test below in a child session whose environment names a user's database."""
    assert isinstance(open_store("auto", memory_path=tmp_path), MemoryStore)
    assert main(["runs", "ls", "--store-path", str(tmp_path / "cli"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_listener_counts_a_neo4j_client():
    """The trap works: a real driver that is pointed at the listener is seen."""
    with Listener() as trap:
        with pytest.raises(StoreUnavailable, match=f"cannot reach Neo4j at bolt://127.0.0.1:{trap.port}"):
            Neo4jStore.from_settings(Neo4jSettings(uri=f"bolt://127.0.0.1:{trap.port}", password="x"))
    assert trap.connections >= 1


def test_suite_never_connects_to_neo4j_uri_or_a_local_server(tmp_path):
    with Listener() as trap:
        uri = f"bolt://127.0.0.1:{trap.port}"
        user_home = tmp_path / "user-home"  # a server `llm-mri-graphdb neo4j start` left running
        (user_home / "neo4j" / "default").mkdir(parents=True)
        (user_home / "neo4j" / "default" / "server.json").write_text(
            json.dumps(
                {
                    "uri": uri,
                    "http_url": "http://127.0.0.1:1",
                    "pid": os.getpid(),
                    "neo4j_version": "5.26.0",
                    "gds_version": "2.13.0",
                }
            )
        )
        (user_home / "neo4j" / "default" / "password").write_text("user-secret\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_MRI_TEST_")}
        env.update(
            NEO4J_URI=uri,
            NEO4J_USER="neo4j",
            NEO4J_PASSWORD="user-secret",
            NEO4J_DATABASE="neo4j",
            LLM_MRI_GRAPHDB_HOME=str(user_home),
        )
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/test_suite_isolation.py::test_suite_hides_user_settings_and_shares_only_the_jar_cache",
                "tests/test_suite_isolation.py::test_store_choice_in_the_suite_is_the_embedded_store",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-3000:]
    assert "2 passed" in child.stdout
    assert trap.connections == 0
    assert not list(user_home.glob("runs*"))  # nor wrote into the user's home
