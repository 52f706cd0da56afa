"""No shipped statement reads every Region or Text of the database to find one run's (plans from EXPLAIN).

A database holds many runs; a statement that selects a run's regions by
``version`` (or a corpus's texts by ``corpus``) must find them through an
index, or its cost grows with every other run stored. A composite index serves
only predicates on all its properties, which is why ``schema.cypher`` has the
single-property ``region_version`` and ``text_corpus`` beside the composites:
without them 17 statements (``read_run_graph``, ``read_regions``, the library's
``hub_regions`` ...) planned a ``NodeByLabelScan`` of every Region or Text.
"""

from __future__ import annotations

import pytest
from neo4j import RoutingControl

from llm_mri_graphdb.store import cypher

pytestmark = pytest.mark.integration

#: Statements whose job is to read every node of the label.
WHOLE_LABEL_BY_DESIGN = {"read_orphan_text_corpora"}  # every Text's corpus: finds the orphans
LARGE_LABELS = ("Region", "Text")


def _operators(plan):
    yield plan
    for child in plan.get("children", []):
        yield from _operators(child)


def _label_scans(driver, database, text):
    _, summary, _ = driver.execute_query("EXPLAIN " + text, {}, database_=database, routing_=RoutingControl.READ)
    return sorted(
        f"{op['operatorType'].split('@')[0]} {op.get('args', {}).get('Details', '')}"
        for op in _operators(summary.plan)
        if op["operatorType"].startswith(("NodeByLabelScan", "AllNodesScan"))
        and any(f":{label}" in str(op.get("args", {}).get("Details", "")) for label in LARGE_LABELS)
    )


def _shipped():
    folder = cypher.cypher_dir()
    for path in sorted(folder.glob("*.cypher")):
        if not path.stem.startswith("schema") and path.stem not in WHOLE_LABEL_BY_DESIGN:
            yield path.stem, path.read_text(encoding="utf-8")
    for name in cypher.query_names():
        yield f"queries/{name}", cypher.load_query(name)


def test_no_statement_scans_every_region_or_text(store):
    scans = {
        name: found
        for name, text in _shipped()
        if (found := _label_scans(store.runner.driver, store.runner.database, text))
    }
    assert scans == {}


def test_the_check_sees_a_scan(store):
    """The plan reader finds a scan where there is one (a property no index covers)."""
    assert _label_scans(
        store.runner.driver, store.runner.database, "MATCH (g:Region) WHERE g.x > 0 RETURN count(g)"
    ) == ["NodeByLabelScan g:Region"]
