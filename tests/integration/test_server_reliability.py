"""Issue 22, the server manager: concurrent starts on one home, its own JVM only, CORS, secret-free children.

``test_parallel_starts_on_one_home_make_one_server`` starts a JVM of its own
(512m heap) on a temporary home; the other tests use the session's server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from neo4j import GraphDatabase

from llm_mri_graphdb.errors import ServerError
from llm_mri_graphdb.server import LocalNeo4j, free_port, port_is_free, runs_home
from llm_mri_graphdb.server.browser import guides_of

CLI = [sys.executable, "-m", "llm_mri_graphdb.cli"]


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _java_of(home: Path) -> list[int]:
    """Pids of every live Java process serving ``home``."""
    return [p.pid for p in psutil.process_iter() if runs_home(p.pid, home)]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _preflight(http_url: str, origin: str) -> str | None:
    """The Access-Control-Allow-Origin header the HTTP API answers a CORS preflight from ``origin`` with."""
    request = urllib.request.Request(
        f"{http_url}/db/neo4j/tx/commit",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Access-Control-Allow-Origin")


def test_parallel_starts_on_one_home_make_one_server(tmp_path):
    """Finding 1 and 9: four `neo4j start` at once on a fresh home; one JVM, reported by all, stopped by `stop`."""
    home = tmp_path / "home"
    bolt, http = free_port(), free_port()
    password = "parallel-" + os.urandom(6).hex()
    env = {**os.environ, "NEO4J_PASSWORD": password}
    start = (
        "neo4j",
        "start",
        "--home",
        str(home),
        "--bolt-port",
        str(bolt),
        "--http-port",
        str(http),
        "--heap",
        "512m",
        "--pagecache",
        "128m",
    )
    procs = [_cli(*start, env=env) for _ in range(4)]
    try:
        outs = [proc.communicate(timeout=400) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0, 0, 0], [err for _, err in outs]
        pids = {int(re.search(r"is running \(pid (\d+)\)", out).group(1)) for out, _ in outs}
        java = _java_of(home)
        assert len(pids) == 1 and java == list(pids), (pids, java)
        server = LocalNeo4j(home, bolt_port=bolt, http_port=http)
        info = server.info()
        assert info is not None and info.pid in pids
        assert len(guides_of(home)) == 1 and guides_of(home) == [info.guide_pid]

        status = subprocess.run(
            [*CLI, "neo4j", "status", "--home", str(home)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=120,
        )
        assert status.returncode == 0 and f"pid {info.pid}" in status.stdout, status.stderr
        with GraphDatabase.driver(info.uri, auth=("neo4j", password)) as driver:
            driver.verify_connectivity()

        # a start with another password on the now-created home: one line, nothing started, the server unchanged
        other = subprocess.run(
            [*CLI, *start],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**env, "NEO4J_PASSWORD": "another-password"},
        )
        assert other.returncode == 1 and "NEO4J_PASSWORD is not the password of the Neo4j home" in other.stderr
        assert _java_of(home) == [info.pid]

        # finding 9: no child inherits NEO4J_PASSWORD; the HTTP API trusts only the Browser's own origin
        assert "NEO4J_PASSWORD" not in _environ(info.pid) and "NEO4J_PASSWORD" not in _environ(info.guide_pid)
        assert _preflight(info.http_url, "http://evil.example") != "*"
        assert _preflight(info.http_url, "http://evil.example") != "http://evil.example"
        assert _preflight(info.http_url, f"http://127.0.0.1:{http}") == f"http://127.0.0.1:{http}"

        stop = subprocess.run(
            [*CLI, "neo4j", "stop", "--home", str(home)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=120,
        )
        assert stop.returncode == 0 and "Neo4j stopped." in stop.stdout, stop.stderr
        assert _java_of(home) == [] and guides_of(home) == []
        assert port_is_free(bolt) and port_is_free(http)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for pid in _java_of(home) + guides_of(home):
            os.kill(pid, 9)


def test_bolt_wait_accepts_only_its_own_jvm(tmp_path, local_neo4j):
    """Finding 1: a server of another home answering on the port (with the same password) is not ours."""
    info = local_neo4j.info()
    impostor = LocalNeo4j(tmp_path / "home", bolt_port=local_neo4j.bolt_port, http_port=local_neo4j.http_port)
    impostor.home.mkdir()
    impostor.password_file.write_text(local_neo4j.password() + "\n")
    not_java = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = time.monotonic()
        with pytest.raises(ServerError, match=r"did not answer on bolt://127\.0\.0\.1:\d+ within 3s"):
            impostor._wait_for_bolt(not_java, info, timeout=3)
        assert time.monotonic() - started >= 3
    finally:
        not_java.kill()
        not_java.wait()
    assert local_neo4j.is_running()  # the timeout's stop() never touched the other home's server
