"""The store contract (tests/store_contract.py) on a Neo4jStore, and the two stores side by side.

The checks assert the same hand-computed rows, column order, types and error lines that LocalStore meets in
tests/test_store_contract.py. Across the stores: every question gets equal answers from a LocalStore and the
Neo4jStore holding the same runs, and a run exported from one (`runs export`) and imported into the other
(`runs import`) reads back equal, texts included.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.store import LocalStore
from tests.store_contract import CHECKS, PATHS_B, _same, check_id, sample, texts, written

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("check", CHECKS, ids=check_id)
def test_neo4j_store_meets_the_contract(check, store):
    check(store, uuid.uuid4().hex[:8])


def _questions(store, run_a: str, run_b: str) -> dict:
    return {
        "runs": [
            {k: v for k, v in r.items() if k != "completed_at"} for r in store.runs() if r["run_id"] in (run_a, run_b)
        ],
        "metrics": store.metrics(run_a),
        "metrics_pos": store.metrics(run_a, ["pos"]),
        "region_texts": store.region_texts(run_a, "2_1_1"),
        "text_path": store.text_path(run_a, 2),
        "co_travellers": store.co_travellers(run_a, 3),
        "label_crossings": store.label_crossings(run_a),
        "diverging_texts": store.diverging_texts(run_a, run_b, 2, 2, limit=50),
        "query": store.query("text_path", run_id=run_a, idx=4),
        "texts": store.texts(run_a),
    }


def test_local_and_neo4j_stores_answer_alike(store, tmp_path):
    tag = uuid.uuid4().hex[:8]
    a, b = sample(tag), sample(tag, PATHS_B, "b")
    local = LocalStore(tmp_path)
    with written(store, (a, texts(tag)), (b, texts(tag))), written(local, (a, texts(tag)), (b, texts(tag))):
        _same(_questions(local, a.run_id, b.run_id), _questions(store, a.run_id, b.run_id))
        with pytest.warns(UserWarning):
            in_local, in_neo4j = local.compare(a.run_id, b.run_id), store.compare(a.run_id, b.run_id)
        _same(in_local.ami.tolist(), in_neo4j.ami.tolist())
        _same(local.layer_alignment(b.run_id, measure="ami"), store.layer_alignment(b.run_id, measure="ami"))


@pytest.mark.parametrize("direction", ["local-to-neo4j", "neo4j-to-local"])
def test_runs_exported_from_one_store_import_into_the_other(direction, store, neo4j_env, tmp_path):
    tag = uuid.uuid4().hex[:8]
    nrag = sample(tag)
    local = LocalStore(tmp_path / "runs")
    flags = {"local": ["--store", "local", "--store-path", str(tmp_path / "runs")], "neo4j": ["--store", "neo4j"]}
    source, target = direction.split("-to-")
    stores = {"local": local, "neo4j": store}
    with written(stores[source], (nrag, texts(tag))):
        folder = tmp_path / "export"
        assert main(["runs", "export", nrag.run_id, str(folder), *flags[source]]) == 0
        assert main(["runs", "import", str(folder), *flags[target]]) == 0
        try:
            back = stores[target].read(nrag.run_id)
            assert back.equals(nrag) and stores[target].texts(nrag.run_id) == texts(tag)
            assert stores[target].text_path(nrag.run_id, 3) == stores[source].text_path(nrag.run_id, 3)
        finally:
            stores[target].delete(nrag.run_id)


def test_runs_import_refuses_skip_layer_edges_before_storing(store, neo4j_env, tmp_path, capsys):
    tag = uuid.uuid4().hex[:8]
    nrag = sample(tag)
    folder = tmp_path / "export"
    nrag.to_csv(folder, texts(tag))
    edges = pd.read_csv(folder / "edges.csv", dtype=str)
    edges.loc[0, "target"] = "2_0_1"  # layer 0 -> layer 2
    edges.to_csv(folder / "edges.csv", index=False)
    assert main(["runs", "import", str(folder), "--store", "neo4j"]) != 0
    captured = capsys.readouterr()
    assert "must join regions of neighbouring layers" in captured.out + captured.err
    assert nrag.run_id not in {row["run_id"] for row in store.runs()}
