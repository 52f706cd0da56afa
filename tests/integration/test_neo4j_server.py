"""The foundation: a real Neo4j 5.26 + GDS 2.13 on loopback, started by the project itself."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from llm_mri_graphdb.errors import ServerError
from llm_mri_graphdb.server import LocalNeo4j, free_port, mvn_copy

pytestmark = pytest.mark.integration

# A layered, weighted graph: layer 0 -> layer 1 -> layer 2.
EDGES = [("a0", "a1", 2.0), ("a0", "b1", 1.0), ("b0", "b1", 4.0), ("a1", "c2", 0.5), ("b1", "c2", 3.0)]
# Hand-computed: out-degree, in-degree, out-strength, in-strength.
OUT_DEGREE = {"a0": 2, "b0": 1, "a1": 1, "b1": 1, "c2": 0}
IN_DEGREE = {"a0": 0, "b0": 0, "a1": 1, "b1": 2, "c2": 2}
OUT_STRENGTH = {"a0": 3.0, "b0": 4.0, "a1": 0.5, "b1": 3.0, "c2": 0.0}
IN_STRENGTH = {"a0": 0.0, "b0": 0.0, "a1": 2.0, "b1": 5.0, "c2": 3.5}


@pytest.fixture(scope="module")
def driver(neo4j_settings):
    with GraphDatabase.driver(neo4j_settings.uri, auth=neo4j_settings.auth) as drv:
        drv.verify_connectivity()
        yield drv


@pytest.fixture(scope="module")
def layered_graph(driver, neo4j_settings):
    driver.execute_query(
        "UNWIND $edges AS e "
        "MERGE (s:FoundationTest {name: e[0]}) MERGE (t:FoundationTest {name: e[1]}) "
        "CREATE (s)-[:FOUNDATION_FLOW {weight: e[2]}]->(t)",
        edges=[list(e) for e in EDGES],
        database_=neo4j_settings.database,
    )
    yield
    driver.execute_query("MATCH (n:FoundationTest) DETACH DELETE n", database_=neo4j_settings.database)


def _degrees(driver, settings, orientation, weighted):
    config = {"orientation": orientation}
    if weighted:
        config["relationshipWeightProperty"] = "weight"
    records, _, _ = driver.execute_query(
        "CALL gds.degree.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).name AS name, score",
        graph="foundation",
        config=config,
        database_=settings.database,
    )
    return {r["name"]: r["score"] for r in records}


@pytest.mark.parametrize("orientation", ["NATURAL", "REVERSE", "UNDIRECTED"])
def test_gds_degree_matches_hand_computed_degrees_and_strengths(driver, neo4j_settings, layered_graph, orientation):
    driver.execute_query(
        "MATCH (s:FoundationTest)-[r:FOUNDATION_FLOW]->(t:FoundationTest) "
        "WITH gds.graph.project('foundation', s, t, {relationshipProperties: r {.weight}}) AS g "
        "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels",
        database_=neo4j_settings.database,
    )
    try:
        degree = _degrees(driver, neo4j_settings, orientation, weighted=False)
        strength = _degrees(driver, neo4j_settings, orientation, weighted=True)
    finally:
        driver.execute_query(
            "CALL gds.graph.drop('foundation') YIELD graphName RETURN graphName", database_=neo4j_settings.database
        )
    names = OUT_DEGREE.keys()
    expected_degree = {
        "NATURAL": OUT_DEGREE,
        "REVERSE": IN_DEGREE,
        "UNDIRECTED": {n: OUT_DEGREE[n] + IN_DEGREE[n] for n in names},
    }[orientation]
    expected_strength = {
        "NATURAL": OUT_STRENGTH,
        "REVERSE": IN_STRENGTH,
        "UNDIRECTED": {n: OUT_STRENGTH[n] + IN_STRENGTH[n] for n in names},
    }[orientation]
    assert degree == {n: float(v) for n, v in expected_degree.items()}
    assert strength == expected_strength


def test_server_reports_neo4j_5_26_and_gds_2_13(driver, neo4j_settings):
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS neo4j, edition, gds.version() AS gds",
        database_=neo4j_settings.database,
    )
    assert records[0]["neo4j"].startswith("5.26.")
    assert records[0]["gds"].startswith("2.13.")


def test_allowlisted_gds_is_what_the_project_calls_and_nothing_else(local_neo4j):
    """On the project's own server: every GDS name our Cypher calls is loaded, every allowlist entry names
    something GDS 2.13 has, and nothing outside the allowlist is loaded."""
    from llm_mri_graphdb.server import GDS_PROCEDURES

    from ..test_server_home import allowlisted, called_gds_names

    settings = local_neo4j.settings()
    with GraphDatabase.driver(settings.uri, auth=settings.auth) as drv:
        procedures = {
            r["name"]
            for r in drv.execute_query(
                "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'gds.' RETURN name", database_=settings.database
            )[0]
        }
        functions = {
            r["name"]
            for r in drv.execute_query(
                "SHOW FUNCTIONS YIELD name WHERE name STARTS WITH 'gds.' RETURN name", database_=settings.database
            )[0]
        }
    loaded = procedures | functions
    assert "gds.louvain.mutate" in procedures and "gds.util.asNode" in functions
    assert sorted(called_gds_names() - loaded) == []  # each name the Cypher calls exists and is allowed
    assert [p for p in GDS_PROCEDURES if not any(allowlisted(name, [p]) for name in loaded)] == []  # no dead entry
    assert sorted(name for name in loaded if not allowlisted(name)) == []  # the allowlist is what loads


def test_server_serves_neo4j_browser(local_neo4j):
    assert local_neo4j is not None, "this check needs the project's own local server"
    with urllib.request.urlopen(f"{local_neo4j.info().http_url}/browser/", timeout=10) as resp:
        body = resp.read().decode()
    assert resp.status == 200
    assert "<title>Neo4j Browser</title>" in body


def test_server_refuses_a_wrong_password(neo4j_settings):
    with GraphDatabase.driver(neo4j_settings.uri, auth=(neo4j_settings.user, "not-the-password")) as drv:
        with pytest.raises(AuthError):
            drv.verify_connectivity()


def test_start_on_busy_port_names_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = LocalNeo4j(tmp_path, bolt_port=port, http_port=free_port())
        with pytest.raises(ServerError, match=f"Port {port} on 127.0.0.1 is in use"):
            server.start()


def test_start_without_java_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="Java was not found"):
        LocalNeo4j(tmp_path, bolt_port=free_port(), http_port=free_port()).start()


def test_failed_download_names_maven_central(tmp_path):
    pom = tmp_path / "missing" / "pom.xml"
    pom.parent.mkdir()
    pom.write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>t</groupId><artifactId>t</artifactId><version>1</version><packaging>pom</packaging>"
        "<dependencies><dependency><groupId>org.neo4j</groupId><artifactId>neo4j</artifactId>"
        "<version>0.0.0-does-not-exist</version></dependency></dependencies></project>"
    )
    with pytest.raises(ServerError, match="Maven could not resolve missing jars from Maven Central"):
        mvn_copy(pom, tmp_path / "out")
