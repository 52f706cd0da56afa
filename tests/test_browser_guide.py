"""The Browser guide without a JVM: the config lines, the guide server (CORS, two files, loopback), its pid rules.

The Browser itself opening the guide is tests/integration/test_browser_guide.py.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import psutil
import pytest

from llm_mri_graphdb.errors import ServerError
from llm_mri_graphdb.server import (
    Distribution,
    LocalNeo4j,
    browser_conf,
    browser_folder,
    free_port,
    neo4j_conf,
    server_memory,
    serves_guide,
    start_guide,
    stop_guide,
)
from llm_mri_graphdb.server.browser import guides_of
from llm_mri_graphdb.server.guide import make_server, render_guide
from llm_mri_graphdb.settings import package_folder

from .test_server_home import FAKE_JAVA

BROWSER_PORT = 17474
GUIDE_URL = "http://127.0.0.1:8123"


def _conf(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_browser_conf_opens_guide_and_style_from_the_guide_server():
    assert browser_conf(GUIDE_URL) == [
        "browser.remote_content_hostname_whitelist=guides.neo4j.com,localhost,127.0.0.1",
        f"browser.post_connect_cmd=style {GUIDE_URL}/nrag.grass; play {GUIDE_URL}/guide.html",
        "client.allow_telemetry=false",
    ]


def test_neo4j_conf_has_browser_settings_only_with_a_guide(tmp_path):
    dist, memory = Distribution(tmp_path, "5.26.0", "2.13.0"), server_memory("1g", "256m")
    with_guide = _conf(neo4j_conf(tmp_path, 1, 2, dist, memory, GUIDE_URL))
    without = _conf(neo4j_conf(tmp_path, 1, 2, dist, memory))
    added = {key: value for key, value in with_guide.items() if key not in without}
    assert added == dict(line.split("=", 1) for line in browser_conf(GUIDE_URL))
    assert not any(key.startswith(("browser.", "client.")) for key in without)


def test_configure_writes_the_browser_settings(tmp_path):
    server = LocalNeo4j(tmp_path / "home", bolt_port=17687, http_port=BROWSER_PORT)
    conf = server.configure(Distribution(tmp_path, "5.26.0", "2.13.0"), server_memory("1g", "256m"), GUIDE_URL)
    settings = _conf((conf / "neo4j.conf").read_text())
    assert settings["browser.post_connect_cmd"] == f"style {GUIDE_URL}/nrag.grass; play {GUIDE_URL}/guide.html"


@pytest.fixture()
def guide_folder(tmp_path):
    """The package's guide and style, plus a file next to them that must never be served."""
    folder = tmp_path / "browser"
    shutil.copytree(browser_folder(), folder)
    shutil.copytree(package_folder("cypher") / "queries", tmp_path / "queries")  # what the guide's blocks hold
    (folder / "secret.txt").write_text("not for the Browser")
    return folder


@pytest.fixture()
def guide_http(guide_folder):
    """A guide server in a thread; yields its base URL."""
    server = make_server(guide_folder, BROWSER_PORT)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://{server.server_address[0]}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _fetch(url: str, method: str = "GET", **headers) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize("name", ["guide.html", "nrag.grass"])
@pytest.mark.parametrize("origin", [f"http://127.0.0.1:{BROWSER_PORT}", f"http://localhost:{BROWSER_PORT}"])
def test_guide_server_serves_both_files_to_the_local_browser(guide_http, guide_folder, name, origin):
    status, headers, body = _fetch(f"{guide_http}/{name}", Origin=origin)
    expected = render_guide(guide_folder) if name == "guide.html" else (guide_folder / name).read_bytes()
    assert (status, body) == (200, expected)
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Content-Type"].startswith("text/html" if name.endswith("html") else "text/plain")


@pytest.mark.parametrize("origin", ["http://127.0.0.1:7475", "http://evil.example", "null"])
def test_guide_server_gives_no_cors_header_to_other_origins(guide_http, origin):
    status, headers, _ = _fetch(f"{guide_http}/guide.html", Origin=origin)
    assert status == 200 and "Access-Control-Allow-Origin" not in headers
    status, headers, _ = _fetch(
        f"{guide_http}/guide.html", "OPTIONS", Origin=origin, **{"Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in headers and "Access-Control-Allow-Headers" not in headers


def test_guide_server_answers_the_browsers_preflight(guide_http):
    # neo4j-browser fetches remote guides with `pragma` and `cache-control` headers: not CORS-safelisted
    origin = f"http://127.0.0.1:{BROWSER_PORT}"
    status, headers, _ = _fetch(
        f"{guide_http}/guide.html",
        "OPTIONS",
        Origin=origin,
        **{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "pragma,cache-control"},
    )
    assert status == 204 and headers["Access-Control-Allow-Origin"] == origin
    assert {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")} == {"pragma", "cache-control"}
    assert "GET" in headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/secret.txt",
        "/guide.py",
        "/browser/guide.html",
        "/%2e%2e/guide.html",
        "/../browser/guide.html",
        "/guide.html/",
        "/GUIDE.HTML",
        "/README.md",
    ],
)
def test_guide_server_serves_nothing_else(guide_http, path):
    status, _, body = _fetch(guide_http + path, Origin=f"http://127.0.0.1:{BROWSER_PORT}")
    assert status == 404 and b"not for the Browser" not in body
    assert _fetch(guide_http + path, "OPTIONS")[0] == 404


def test_guide_server_binds_loopback_only(guide_folder):
    server = make_server(guide_folder, BROWSER_PORT)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


@pytest.fixture()
def guide_process(tmp_path):
    """The guide server as `neo4j start` runs it (detached script), stopped afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    guide = start_guide(home, BROWSER_PORT)
    try:
        yield home, guide
    finally:
        stop_guide(guide.pid, home)


def test_start_guide_runs_a_detached_loopback_server(guide_process):
    home, guide = guide_process
    process = psutil.Process(guide.pid)
    assert os.getsid(guide.pid) == guide.pid != os.getsid(0)  # its own session: outlives the CLI
    listening = [c for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", int(guide.url.rsplit(":", 1)[1]))]
    assert _fetch(f"{guide.url}/nrag.grass")[2] == (browser_folder() / "nrag.grass").read_bytes()
    assert serves_guide(guide.pid, home) and not serves_guide(guide.pid, home.parent / "other-home")


def test_stop_guide_stops_it_and_nothing_else(guide_process, tmp_path):
    home, guide = guide_process
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not stop_guide(other.pid, home) and other.poll() is None  # not a guide server: not signalled
        assert not stop_guide(guide.pid, tmp_path / "other-home") and serves_guide(guide.pid, home)
        assert stop_guide(guide.pid, home)
        assert not psutil.pid_exists(guide.pid) or not serves_guide(guide.pid, home)
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{guide.url}/guide.html", timeout=5)
    finally:
        other.kill()
        other.wait()


def test_start_guide_on_a_taken_port_is_one_line(guide_process):
    home, guide = guide_process
    other_home = home.parent / "other-home"  # another home's guide: the one of `home` is left running
    with pytest.raises(ServerError, match=r"did not start \(port \d+ on 127.0.0.1 may be in use; see .*guide.log\)"):
        start_guide(other_home, BROWSER_PORT, port=int(guide.url.rsplit(":", 1)[1]))
    assert serves_guide(guide.pid, home)


def test_a_home_has_one_guide_server(guide_process):
    """Issue 22 finding 1: two starts ran two guide servers of one home sharing one port file."""
    home, first = guide_process
    second = start_guide(home, BROWSER_PORT)
    try:
        assert guides_of(home) == [second.pid] and second.pid != first.pid
        assert not serves_guide(first.pid, home)
        with urllib.request.urlopen(f"{second.url}/guide.html", timeout=5) as response:
            assert response.status == 200
    finally:
        stop_guide(second.pid, home)


def test_stale_guide_pid_is_neither_reported_nor_signalled(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        home = tmp_path / "home"
        home.mkdir()
        (home / "server.json").write_text(
            json.dumps(
                {
                    "pid": other.pid,
                    "uri": "bolt://127.0.0.1:1",
                    "http_url": "http://127.0.0.1:2",
                    "neo4j_version": "5.26.0",
                    "gds_version": "2.13.0",
                    "guide_url": GUIDE_URL,
                    "guide_pid": other.pid,
                }
            )
        )
        server = LocalNeo4j(home)
        assert server.info() is None and server.stop() is False
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


@pytest.mark.integration  # calls LocalNeo4j.start (with a fake java on PATH: no JVM)
def test_failed_start_leaves_no_guide_server(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").write_text(FAKE_JAVA)
    (bin_dir / "java").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_JAVA_LOG", str(tmp_path / "java.log"))
    server = LocalNeo4j(
        tmp_path / "home",
        bolt_port=free_port(),
        http_port=free_port(),
        heap="1g",
        pagecache="256m",
        distribution=Distribution(tmp_path / "dist", "5.26.0", "2.13.0"),
    )
    with pytest.raises(ServerError, match="Neo4j exited with status 3 while starting"):
        server.start(password="a long enough password")
    conf = _conf((server.conf_dir / "neo4j.conf").read_text())
    guide_url = conf["browser.post_connect_cmd"].split()[1].rsplit("/", 1)[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", guide_url)
    guides = [p for p in psutil.process_iter(["cmdline"]) if f"--home={server.home}" in (p.info["cmdline"] or [])]
    assert guides == []
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{guide_url}/guide.html", timeout=5)


# -- the guide's content -----------------------------------------------------------------------------------


def _library_body(name: str) -> str:
    """Independent of the server's reader: the file's lines that are not comments."""
    text = (package_folder("cypher") / "queries" / f"{name}.cypher").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("//")).strip()


def _guide_blocks(text: str) -> list[tuple[str | None, str]]:
    """``(data-query name or None, Cypher)`` of every runnable block of a guide page."""
    return [
        (name or None, html.unescape(body))
        for name, body in re.findall(r'<pre class="code runnable"(?: data-query="(\w+)")?>(.*?)</pre>', text, re.S)
    ]


def test_the_guide_file_holds_no_copy_of_a_library_query():
    """Marked blocks are empty in ``guide.html``, and no unmarked block is a library query."""
    blocks = _guide_blocks((browser_folder() / "guide.html").read_text())
    library = {p.stem: _library_body(p.stem) for p in (package_folder("cypher") / "queries").glob("*.cypher")}
    assert {name: body for name, body in blocks if name is not None} == {
        "layer_profile": "",
        "hub_regions": "",
        "cross_layer_communities": "",
        "text_path": "",
    }
    assert [body for name, body in blocks if name is None and body in library.values()] == []


def test_the_served_guide_runs_the_library_files(guide_http, guide_folder):
    """What the Browser fetches holds each marked query as ``cypher/queries/<name>.cypher`` without comments."""
    status, _, body = _fetch(f"{guide_http}/guide.html", Origin=f"http://127.0.0.1:{BROWSER_PORT}")
    assert status == 200
    blocks = _guide_blocks(body.decode("utf-8"))
    marked = {name: text for name, text in blocks if name is not None}
    assert marked == {name: _library_body(name) for name in marked}
    assert sorted(marked) == ["cross_layer_communities", "hub_regions", "layer_profile", "text_path"]
    assert len(blocks) == len(_guide_blocks((guide_folder / "guide.html").read_text()))


def _grass_rules(text: str) -> dict[str, dict[str, str]]:
    """The Browser's own grass reader, ported (neo4j-browser ``parseGrass``): no comments, ``:`` splits once."""
    rules, selector, body, quoted, inside, nested = {}, "", "", False, False, False
    for char in text:
        keep = True
        if char == "{" and not quoted:
            nested, inside, keep = (True, True, True) if inside else (False, True, False)
        elif char == "}" and not quoted:
            if nested:
                nested = False
            else:
                inside, keep = False, False
                rules[selector], selector, body = body, "", ""
        elif char in "'\"":
            quoted = not quoted
        if keep:
            if inside:
                body += char
            elif not char.isspace():
                selector += char
    return {
        sel: {
            key.strip(): value.strip()
            for key, value in (part.split(":") for part in body.split(";") if len(part.split(":")) == 2)
        }
        for sel, body in rules.items()
    }


def test_grass_has_only_rules_the_browser_reads():
    text = (browser_folder() / "nrag.grass").read_text()
    assert "/*" not in text and "//" not in text  # the Browser's reader takes comments into the next selector
    rules = _grass_rules(text)
    assert all(re.fullmatch(r"(node|relationship)(\.[A-Za-z_]+)?", sel) for sel in rules), list(rules)
    assert rules["node.Region"] == {
        "diameter": "56px",
        "color": "#4C8EDA",
        "border-color": "#2870C2",
        "text-color-internal": "#FFFFFF",
        "caption": '"{name}"',
    }
    assert rules["relationship.FLOWS"]["caption"] == '"{label} {weight}"'
    # 8 characters ("12_10_10") at 10px fit the first caption line of a 56px circle: the integration test measures it
