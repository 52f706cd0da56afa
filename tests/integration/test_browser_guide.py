"""The Neo4j Browser of ``neo4j start``, in headless Chromium: the guide opens on login, the style applies.

Runs on the shared Neo4j without GDS (``plain_server``, started by
``LocalNeo4j.start`` like ``neo4j start``): no web server is started by hand.
The run written here (13 layers, cells up to (10, 10), so region names as long
as ``12_10_10``) is deleted at the end. Chromium is Debian's
``/usr/bin/chromium`` driven by Playwright; a missing one fails the test.
"""

from __future__ import annotations

import re
import tempfile
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import psutil
import pytest
from neo4j import GraphDatabase

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.server import browser_folder
from llm_mri_graphdb.server.guide import render_guide
from llm_mri_graphdb.store import Neo4jStore

from .nrag_samples import nrag_from_paths

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/browser_guide.png")
REGION_COLOUR = "#4C8EDA"  # node.Region in nrag.grass; the Browser's own first colour is #FFE081
REGION_RADIUS = 28  # diameter 56px
# Four texts standing still in the corners of an 11 x 11 grid for 13 layers.
CELLS = [(10, 10), (9, 10), (10, 9), (0, 0)]
N_LAYERS = 13


@pytest.fixture(scope="module")
def guide_run(plain_server):
    """A run whose region names are the longest captions a 13-layer, 11 x 11 grid gives; deleted afterwards."""
    paths = [[cell] * N_LAYERS for cell in CELLS]
    nrag = nrag_from_paths(
        paths,
        [0, 1, 0, 1],
        ("animals", "space"),
        model={"name": "guide-model"},
        corpus={
            "name": "guide-corpus",
            "fingerprint": "guide-corpus",
            "n_texts": 4,
            "label_names": ["animals", "space"],
        },
        settings={"reducer": "pca", "n_components": 2, "gridsize": 11, "tag": "browser-guide"},
    )
    with Neo4jStore.from_settings(plain_server.server.settings()) as store:
        run_id = store.write(nrag, texts=[f"guide text {i}" for i in range(len(CELLS))])
        try:
            yield run_id
        finally:
            store.delete(run_id)


class _Runnables(HTMLParser):
    """The text of every ``<pre class="... runnable">`` of a guide."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "pre" and "runnable" in (dict(attrs).get("class") or "").split():
            self._inside = True
            self.blocks.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.blocks[-1] += data


def _runnables() -> list[str]:
    parser = _Runnables()
    parser.feed(render_guide(browser_folder()).decode("utf-8"))  # as served: library blocks filled
    return parser.blocks


def test_neo4j_status_names_the_guide_server(plain_server, capsys):
    server = plain_server.server
    info = server.info()
    assert main(["neo4j", "status", "--home", str(server.home)]) == 0
    out = capsys.readouterr().out
    assert f"Guide: {info.guide_url}/guide.html (pid {info.guide_pid};" in out
    guide = psutil.Process(info.guide_pid)
    listening = [c for c in guide.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", int(info.guide_url.rsplit(":", 1)[1]))]
    conf = (server.conf_dir / "neo4j.conf").read_text()
    assert f"browser.post_connect_cmd=style {info.guide_url}/nrag.grass; play {info.guide_url}/guide.html\n" in conf
    with urllib.request.urlopen(f"{info.guide_url}/guide.html", timeout=10) as resp:
        assert resp.read() == render_guide(browser_folder())


def test_neo4j_start_on_a_running_home_names_the_guide(plain_server, monkeypatch, capsys):
    server = plain_server.server
    info = server.info()
    monkeypatch.setenv("NEO4J_PASSWORD", server.password())
    args = ["--bolt-port", str(server.bolt_port), "--http-port", str(server.http_port)]
    assert main(["neo4j", "start", "--home", str(server.home), *args]) == 0
    assert (
        f"  Guide:    {info.guide_url}/guide.html (pid {info.guide_pid}; opens in the Browser on login"
        in capsys.readouterr().out
    )
    assert server.info().guide_pid == info.guide_pid  # the same guide server, not a second one


# What the guide may read that a run holds only after `metrics --save` / `analyze --save` (GDS, absent here).
WRITTEN_LATER = {
    "MetricSet",
    "HAS_METRICS",
    "labels",
    "mean_degree",
    "density",
    "assortativity",
    "purity",
    "degree",
    "strength",
    "community_louvain",
    "community_leiden",
    "pagerank",
    "betweenness",
}
_MISSING = re.compile(r"The (?:property|relationship type|label) `([^`]+)` does not exist")


def test_guide_queries_run_on_a_stored_run(plain_server, guide_run):
    """Every runnable block runs; it names no label, type or property the schema lacks; the reads find the run."""
    params = {"run_id": guide_run, "label": None, "top": 3, "algorithm": "louvain", "idx": 0}
    settings = plain_server.server.settings()
    rows, missing = [], set()
    with GraphDatabase.driver(settings.uri, auth=settings.auth) as driver:
        for block in _runnables():
            if block.startswith(":param"):
                name, expression = re.match(r":param (\w+) => (.*)$", block).groups()
                value = driver.execute_query(f"RETURN {expression} AS value").records[0]["value"]
                assert value == params[name] or (name, value) == ("run_id", guide_run), block
                continue
            records, summary, _ = driver.execute_query(block, params)
            rows.append(len(records))
            missing |= {m.group(1) for s in summary.gql_status_objects if (m := _MISSING.search(s.status_description))}
    assert missing <= WRITTEN_LATER, missing - WRITTEN_LATER
    # runs, flows by label, flows in total, layer_profile, hub_regions, metric set, strengths, cross_layer_communities,
    # community labels set, shown, removed, texts of the biggest last-layer region (one text each, the first
    # by name: 12_0_0), text 0's path as rows and as paths
    first_layers = sum(len(CELLS) for _ in range(3))  # three layers, every text standing still: one edge each
    assert rows == [
        rows[0],
        first_layers,
        first_layers,
        N_LAYERS * 2,
        N_LAYERS * 3,
        0,
        0,
        0,
        1,
        0,
        1,
        1,
        N_LAYERS,
        N_LAYERS,
    ]
    assert rows[0] >= 1


def _login(page, info, password: str) -> None:
    page.goto(f"{info.http_url}/browser/")
    page.wait_for_selector('[data-testid="password"]', timeout=90_000)
    page.fill('[data-testid="boltaddress"]', info.uri)
    page.fill('[data-testid="username"]', "neo4j")
    page.fill('[data-testid="password"]', password)
    page.click('[data-testid="connect"]')


def _run_in_editor(page, command: str) -> None:
    page.click('[data-testid="activeEditor"]')
    page.keyboard.insert_text(command)
    page.click('[data-testid="editor-Run"]')


def test_browser_opens_the_guide_and_applies_the_style_on_login(plain_server, guide_run):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"Chromium is missing at {CHROMIUM}: apt-get install chromium"
    server = plain_server.server
    info = server.info()
    assert info.guide_pid is not None, "neo4j start left no guide server running"
    shot_dir = Path(tempfile.mkdtemp(prefix="browser-guide-"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            _login(page, info, server.password())
            carousel = page.wait_for_selector('[data-testid="carousel"]', timeout=60_000)
            assert "NRAG runs in Neo4j" in carousel.inner_text()
            assert "1 / 8" in carousel.inner_text()
            commands = [f.inner_text() for f in page.query_selector_all('[data-testid="frameCommand"]')]
            # both post-connect commands ran; the Browser may stack their frames in either order
            assert sorted(commands[:2]) == [f":play {info.guide_url}/guide.html", f":style {info.guide_url}/nrag.grass"]
            assert not page.query_selector_all('[data-testid="cypherFrameErrorMessage"]')
            page.screenshot(path=str(shot_dir / "guide.png"))

            # the style frame shows the grass the Browser parsed, i.e. the one it uses
            frames = {
                f.query_selector('[data-testid="frameCommand"]').inner_text(): f
                for f in page.query_selector_all('[data-testid="frame"]')
            }
            assert REGION_COLOUR in frames[f":style {info.guide_url}/nrag.grass"].inner_text()

            _run_in_editor(
                page,
                f"MATCH p = (a:Region {{run_id: '{guide_run}'}})-[:FLOWS]->(:Region) "
                f"WHERE a.layer = {N_LAYERS - 2} AND a.x >= 9 RETURN p",
            )
            page.wait_for_selector("svg g.node", timeout=60_000)
            page.wait_for_timeout(1500)  # the force layout settles
            nodes = page.eval_on_selector_all(
                "svg g.node",
                """gs => gs.map(g => ({
                fill: g.querySelector('circle.b-outline').getAttribute('fill'),
                r: g.querySelector('circle.b-outline').getAttribute('r'),
                caption: Array.from(g.querySelectorAll('text')).map(t => t.textContent).join(' ').trim()}))""",
            )
            page.screenshot(path=str(shot_dir / "graph.png"))
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            chromium.close()
    print(f"screenshots: {shot_dir / 'guide.png'}, {shot_dir / 'graph.png'}, {SCREENSHOT}")
    expected = {f"{layer}_{x}_{y}" for layer in (N_LAYERS - 2, N_LAYERS - 1) for x, y in CELLS[:3]}
    assert {n["caption"] for n in nodes} == expected  # whole names: nothing cut to "12_1…"
    assert {(n["fill"].upper(), float(n["r"])) for n in nodes} == {(REGION_COLOUR, REGION_RADIUS)}
