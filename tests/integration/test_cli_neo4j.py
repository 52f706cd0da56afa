"""``llm-mri-graphdb neo4j start|status|reset-password|stop`` on the run's Neo4j without GDS.

No server of its own: the commands drive the shared ``plain_server`` (its
``neo4j stop`` is that fixture's teardown), so a test run starts two JVMs.
"""

from __future__ import annotations

import time

import psutil
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from llm_mri_graphdb.cli import main

LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}


def _args(server, *command):
    return ["neo4j", *command, "--home", str(server.home)]


def _listening(pid: int, ports: set[int], timeout: float = 30.0) -> list:
    """Listening TCP sockets of ``pid`` once ``ports`` are all among them."""
    deadline = time.monotonic() + timeout
    while True:
        sockets = [c for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        if ports <= {c.laddr.port for c in sockets} or time.monotonic() > deadline:
            return sockets


def _accepts(uri: str, password: str) -> bool:
    with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        try:
            driver.verify_connectivity()
        except AuthError:
            return False
    return True


def test_server_listens_on_loopback_only(plain_server):
    server = plain_server.server
    sockets = _listening(server.info().pid, {server.bolt_port, server.http_port})
    assert {server.bolt_port, server.http_port} <= {c.laddr.port for c in sockets}
    assert {c.laddr.ip for c in sockets} <= LOOPBACK, sockets


def test_server_home_is_private(plain_server):
    home = plain_server.server.home
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "password").stat().st_mode & 0o777 == 0o600
    assert not (home / ".initial-password").exists()


def test_initial_password_never_on_a_command_line(plain_server):
    watch = plain_server.watch
    assert watch.seen_admin_tool > 0, "the watch never saw set-initial-password run: it proves nothing"
    assert watch.seen_secret == []
    assert _accepts(plain_server.server.info().uri, plain_server.password)  # quotes, '#', '\\' arrive intact


def test_neo4j_status_names_versions_and_memory(plain_server, capsys):
    assert main(_args(plain_server.server, "status")) == 0
    out = capsys.readouterr().out
    assert f"pid {plain_server.server.info().pid}" in out
    assert "Neo4j 5.26." in out and "GDS not installed" in out
    assert "memory: heap 512m, page cache 128m (as given)" in out


def test_neo4j_start_on_running_home_prints_uri_not_password(plain_server, monkeypatch, capsys):
    server = plain_server.server
    monkeypatch.setenv("NEO4J_PASSWORD", plain_server.password)
    assert main(_args(server, "start", "--bolt-port", str(server.bolt_port), "--http-port", str(server.http_port))) == 0
    out = capsys.readouterr().out
    assert f"NEO4J_URI=bolt://127.0.0.1:{server.bolt_port}" in out
    assert "Memory:   heap 512m" in out
    assert plain_server.password not in out


def test_neo4j_start_with_another_password_says_how_to_reset(plain_server, monkeypatch, capsys):
    server = plain_server.server
    monkeypatch.setenv("NEO4J_PASSWORD", "not-the-home-password")
    assert main(_args(server, "start", "--bolt-port", str(server.bolt_port), "--http-port", str(server.http_port))) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"Error: NEO4J_PASSWORD is not the password of the Neo4j home {server.home}")
    assert f"llm-mri-graphdb neo4j reset-password --home {server.home}" in err
    assert server.is_running()


def test_neo4j_reset_password_on_running_server(plain_server, monkeypatch, capsys):
    server = plain_server.server
    uri, old = server.info().uri, plain_server.password
    monkeypatch.setenv("NEO4J_PASSWORD", "a-new-password-42")
    try:
        assert main(_args(server, "reset-password")) == 0
        assert "reset" in capsys.readouterr().out
        assert _accepts(uri, "a-new-password-42") and not _accepts(uri, old)
        assert server.password() == "a-new-password-42"
        assert (
            main(_args(server, "start", "--bolt-port", str(server.bolt_port), "--http-port", str(server.http_port)))
            == 0
        )  # now NEO4J_PASSWORD matches
    finally:
        monkeypatch.setenv("NEO4J_PASSWORD", old)
        assert main(_args(server, "reset-password")) == 0
    assert _accepts(uri, old)
