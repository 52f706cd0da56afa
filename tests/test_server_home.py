"""The local server manager without a JVM: config, home mode, memory, password handling, stale pids."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.errors import ServerError
from llm_mri_graphdb.server import GDS_PROCEDURES, Distribution, LocalNeo4j, free_port, password_command, server_memory

GIB = 1 << 30
CYPHER = Path(__file__).resolve().parent.parent / "cypher"
_GDS_NAME = re.compile(r"\bgds(?:\.[A-Za-z]\w*)+")


def called_gds_names(root: Path = CYPHER) -> set[str]:
    """Every ``gds.*`` procedure or function the project's Cypher calls (all Cypher lives under ``cypher/``)."""
    return {name for file in root.rglob("*.cypher") for name in _GDS_NAME.findall(file.read_text())}


def allowlisted(name: str, patterns=GDS_PROCEDURES) -> bool:
    """Whether ``name`` is matched by an entry of ``patterns`` (exact, or a ``prefix.*`` glob)."""
    return any(name == p or (p.endswith(".*") and name.startswith(p[:-1])) for p in patterns)


@pytest.fixture()
def fake_dist(tmp_path):
    """Paths of a distribution; nothing here runs Java."""
    return Distribution(tmp_path / "dist", "5.26.0", "2.13.0")


@pytest.fixture()
def unrelated_pid():
    """A live process that is not Neo4j."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _stale_home(tmp_path, pid: int) -> LocalNeo4j:
    home = tmp_path / "home"
    home.mkdir()
    (home / "server.json").write_text(
        json.dumps(
            {
                "pid": pid,
                "uri": "bolt://127.0.0.1:1",
                "http_url": "http://127.0.0.1:2",
                "neo4j_version": "5.26.0",
                "gds_version": "2.13.0",
            }
        )
    )
    return LocalNeo4j(home)


def test_configure_makes_home_private_and_writes_loopback_config(tmp_path, fake_dist):
    old = os.umask(0o022)
    try:
        server = LocalNeo4j(tmp_path / "new-home", bolt_port=17687, http_port=17474)
        conf = server.configure(fake_dist, server_memory("1g", "256m")) / "neo4j.conf"
    finally:
        os.umask(old)
    assert server.home.stat().st_mode & 0o777 == 0o700
    settings = dict(line.split("=", 1) for line in conf.read_text().splitlines() if not line.startswith("#"))
    assert settings["server.bolt.listen_address"] == "127.0.0.1:17687"
    assert settings["server.http.listen_address"] == "127.0.0.1:17474"
    assert settings["server.default_listen_address"] == "127.0.0.1"
    assert settings["dbms.security.auth_enabled"] == "true"
    assert settings["server.memory.heap.max_size"] == "1g"
    assert settings["server.memory.pagecache.size"] == "256m"


def test_configure_allowlists_named_gds_procedures_only(tmp_path, fake_dist):
    server = LocalNeo4j(tmp_path / "home")
    conf = (server.configure(fake_dist, server_memory("1g", "256m")) / "neo4j.conf").read_text()
    allow = conf.split("dbms.security.procedures.allowlist=")[1].splitlines()[0].split(",")
    unrestricted = conf.split("dbms.security.procedures.unrestricted=")[1].splitlines()[0].split(",")
    assert allow == unrestricted == list(GDS_PROCEDURES)
    assert "gds.*" not in allow
    # every name the project's Cypher calls, read from cypher/ (a new statement calling a GDS procedure the
    # allowlist misses fails here; tests/integration/test_neo4j_server.py checks the real server loads them)
    called = called_gds_names()
    assert {"gds.version", "gds.graph.project", "gds.graph.drop", "gds.louvain.mutate"} <= called  # the scan works
    assert [name for name in sorted(called) if not allowlisted(name, allow)] == []


def test_called_gds_names_reads_procedures_and_functions():
    text = "CALL gds.graph.project($g, $q) YIELD graphName\nRETURN gds.util.asNode(nodeId).name, n.gds_score"
    root = CYPHER.parent / "tests"  # a folder with no .cypher files: nothing found
    assert called_gds_names(root) == set()
    assert set(_GDS_NAME.findall(text)) == {"gds.graph.project", "gds.util.asNode"}
    assert not allowlisted("gds.hits.stream") and allowlisted("gds.graph.project") and allowlisted("gds.version")


FAKE_JAVA = """#!/bin/sh
case "$*" in *-version*) echo 'openjdk version "17.0.9"' >&2; exit 0;; esac
echo "$@" >> "$FAKE_JAVA_LOG"
for a in "$@"; do case "$a" in @*) cat "${a#@}" >> "$FAKE_JAVA_LOG.argfile";; esac; done
case "$*" in *set-initial-password*) exit 0;; esac
exit 3
"""


@pytest.mark.integration  # calls LocalNeo4j.start (with a fake java on PATH: no JVM)
def test_start_passes_the_initial_password_in_a_private_file(tmp_path, monkeypatch, fake_dist):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").write_text(FAKE_JAVA)
    (bin_dir / "java").chmod(0o755)
    log = tmp_path / "java.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_JAVA_LOG", str(log))
    password = 'with spaces "quotes" #hash \\backslash'
    server = LocalNeo4j(
        tmp_path / "home",
        bolt_port=free_port(),
        http_port=free_port(),
        heap="1g",
        pagecache="256m",
        distribution=fake_dist,
    )
    with pytest.raises(ServerError, match="Neo4j exited with status 3 while starting"):
        server.start(password=password)
    argvs = log.read_text().splitlines()
    assert len(argvs) == 2 and "set-initial-password @" in argvs[0] and "CommunityEntryPoint" in argvs[1]
    assert all(password not in argv and "spaces" not in argv for argv in argvs)
    # picocli's @file syntax: one double-quoted argument, quotes and backslashes escaped
    assert (tmp_path / "java.log.argfile").read_text() == '"with spaces \\"quotes\\" #hash \\\\backslash"\n'
    assert not (server.home / ".initial-password").exists()
    assert server.password() == password
    assert server.password_file.stat().st_mode & 0o777 == 0o600
    assert server.home.stat().st_mode & 0o777 == 0o700
    assert password_command(fake_dist, tmp_path / "f")[-2:] == ["set-initial-password", f"@{tmp_path / 'f'}"]


@pytest.mark.parametrize(
    ("available", "heap", "pagecache"),
    [
        (16 * GIB, "4g", "4g"),  # a quarter each
        (10 * GIB, "2560m", "2560m"),  # 2.5 GiB, a multiple of 128 MiB
        (1 * GIB, "512m", "256m"),  # floors
        (100 * GIB, "8g", "8g"),  # caps
    ],
)
def test_server_memory_takes_a_quarter_of_available_ram(available, heap, pagecache):
    memory = server_memory(available=available)
    assert (memory.heap, memory.pagecache) == (heap, pagecache)
    assert f"sized from {available / GIB:.1f} GiB available RAM" in memory.describe()


def test_server_memory_keeps_given_sizes():
    memory = server_memory("3g", None, available=16 * GIB)
    assert (memory.heap, memory.pagecache) == ("3g", "4g")
    assert server_memory("3g", "1g").describe() == "heap 3g, page cache 1g (as given)"
    with pytest.raises(ValueError, match="--pagecache: memory size must look like 512m or 4g; got '2 GB'"):
        server_memory(None, "2 GB")


@pytest.mark.parametrize("flag", ["--heap", "--pagecache"])
def test_neo4j_start_bad_memory_size_exits_2(flag, capsys):
    assert main(["neo4j", "start", flag, "lots"]) == 2
    assert "memory size must look like 512m or 4g; got 'lots'" in capsys.readouterr().err


def test_stale_pid_is_neither_reported_nor_signalled(tmp_path, unrelated_pid):
    server = _stale_home(tmp_path, unrelated_pid.pid)
    assert not server.is_running()
    assert server.info() is None
    assert server.stop() is False
    assert unrelated_pid.poll() is None  # still alive: never signalled
    assert not server.state_file.exists()  # the stale record is gone


def test_cli_status_and_stop_ignore_a_stale_pid(tmp_path, unrelated_pid, capsys):
    server = _stale_home(tmp_path, unrelated_pid.pid)
    assert main(["neo4j", "status", "--home", str(server.home)]) == 1
    assert "No local Neo4j is running" in capsys.readouterr().out
    assert main(["neo4j", "stop", "--home", str(server.home)]) == 0
    assert "No local Neo4j was running." in capsys.readouterr().out
    assert unrelated_pid.poll() is None


@pytest.mark.integration  # calls LocalNeo4j.start (with a fake java on PATH: no JVM)
def test_start_with_another_password_fails_before_java(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "password").write_text("the-home-password\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java: reaching it would fail differently
    monkeypatch.setenv("NEO4J_PASSWORD", "another-password")
    server = LocalNeo4j(home, bolt_port=free_port(), http_port=free_port())
    with pytest.raises(
        ServerError,
        match=r"^NEO4J_PASSWORD is not the password of the Neo4j home .*"
        r"run `llm-mri-graphdb neo4j reset-password --home .*` to make it the",
    ):
        server.start()
    monkeypatch.setenv("NEO4J_PASSWORD", "the-home-password")
    with pytest.raises(ServerError, match="Java was not found"):  # the same password passes that check
        server.start()


def test_start_refuses_a_short_password_before_java(tmp_path, monkeypatch, fake_dist):
    server = LocalNeo4j(tmp_path / "home", bolt_port=free_port(), http_port=free_port(), distribution=fake_dist)
    with pytest.raises(ServerError, match="at least 8 characters"):
        server.reset_password("short")


def _holds_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (Linux: its /proc/PID/fd links)."""
    try:
        links = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for link in links:
        try:
            if Path(os.readlink(link)) == path.resolve():
                return True
        except OSError:
            continue
    return False


def test_a_second_command_on_a_home_waits_for_its_lock(tmp_path, unrelated_pid):
    """Issue 22 finding 1: start/stop/reset-password of one home run one after the other (fcntl.flock)."""
    server = _stale_home(tmp_path, unrelated_pid.pid)
    with server.locked():
        with server.locked():  # re-entrant within one object (start calls stop)
            pass
        stop = subprocess.Popen(
            [sys.executable, "-m", "llm_mri_graphdb.cli", "neo4j", "stop", "--home", str(server.home)],
            stdout=subprocess.PIPE,
            text=True,
        )
        # the child opens the lock file before it waits on it: once it holds it open it is waiting
        deadline = time.monotonic() + 60
        while not _holds_open(stop.pid, server.lock_file):
            assert stop.poll() is None and time.monotonic() < deadline, "neo4j stop ended or never opened the lock"
            time.sleep(0.05)
        with pytest.raises(subprocess.TimeoutExpired):
            stop.wait(timeout=0.5)  # still waiting for the lock
        assert server.state_file.exists()
    out, _ = stop.communicate(timeout=60)
    assert stop.returncode == 0 and "No local Neo4j was running." in out
    assert not server.state_file.exists() and unrelated_pid.poll() is None


def test_configure_allows_cors_only_from_the_local_browser(tmp_path, fake_dist):
    """Issue 22 finding 9: Neo4j's default Access-Control-Allow-Origin is *."""
    server = LocalNeo4j(tmp_path / "home", bolt_port=17687, http_port=17474)
    conf = (server.configure(fake_dist, server_memory("1g", "256m")) / "neo4j.conf").read_text()
    assert "dbms.security.http_access_control_allow_origin=http://127.0.0.1:17474\n" in conf


ENV_JAVA = """#!/bin/sh
case "$*" in *-version*) echo 'openjdk version "17.0.9"' >&2; exit 0;; esac
env | grep -c '^NEO4J_PASSWORD=' >> "$FAKE_JAVA_LOG"
case "$*" in *set-initial-password*) exit 0;; esac
exit 3
"""


@pytest.mark.integration  # calls LocalNeo4j.start (with a fake java on PATH: no JVM)
def test_children_never_inherit_neo4j_password(tmp_path, monkeypatch, fake_dist):
    """Issue 22 finding 9: the admin tool and the JVM run without NEO4J_PASSWORD in their environment."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").write_text(ENV_JAVA)
    (bin_dir / "java").chmod(0o755)
    log = tmp_path / "java.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_JAVA_LOG", str(log))
    monkeypatch.setenv("NEO4J_PASSWORD", "inherited-secret")
    server = LocalNeo4j(
        tmp_path / "home",
        bolt_port=free_port(),
        http_port=free_port(),
        heap="1g",
        pagecache="256m",
        distribution=fake_dist,
    )
    with pytest.raises(ServerError, match="Neo4j exited with status 3 while starting"):
        server.start()
    assert log.read_text().split() == ["0", "0"]  # set-initial-password, then the server: neither saw it
    assert server.password() == "inherited-secret"  # it still became the home's password
    assert os.environ["NEO4J_PASSWORD"] == "inherited-secret"
