"""LocalStore (alias MemoryStore): the store interface in memory and on disk."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.errors import QueryNotFound, RunNotFound, StoreUnavailable
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.pipeline import open_store
from llm_mri_graphdb.store import MemoryStore

pytestmark = pytest.mark.unit


def _nrag(weight=1.0, tag="t"):
    # layer 0: (0,0) [a 2, b 0], (1,1) [0, 1]; layer 1: (0,1) [2, 1]
    return NRAG(
        "grid",
        2,
        ("a", "b"),
        [0, 0, 1],
        [0, 1, 0],
        [0, 1, 1],
        [[2, 0], [0, 1], [2, 1]],
        [0, 1],
        [2, 2],
        [0, 1],
        [2.0 * weight, 1.0 * weight],
        layer_bounds=[[0, 1, 0, 1], [0, 1, 0, 1]],
        model={"name": "m"},
        corpus={"name": "c", "fingerprint": "fp"},
        settings={"reducer": "pca", "gridsize": 2, "tag": tag},
    )


def test_memory_store_round_trip():
    store = MemoryStore()
    nrag = _nrag()
    assert store.write(nrag) == nrag.run_id
    assert store.read(nrag.run_id).equals(nrag)
    (row,) = store.runs()
    assert (row["run_id"], row["model"], row["corpus"], row["n_regions"], row["n_edge_rows"]) == (
        nrag.run_id,
        "m",
        "c",
        3,
        2,
    )
    assert store.models() == [
        {"key": "m", "name": "m", "architecture": None, "n_layers": None, "width": None, "n_runs": 1}
    ]
    assert store.corpora() == [{"key": "fp", "name": "c", "n_texts": None, "label_names": None, "n_runs": 1}]


def test_memory_store_write_replaces_same_run():
    store = MemoryStore()
    store.write(_nrag())
    new = _nrag(weight=3.0)
    store.write(new)
    assert len(store.runs()) == 1
    np.testing.assert_array_equal(store.read(new.run_id).edge_weight, [6.0, 3.0])


def test_memory_store_saves_and_loads_folder(tmp_path):
    nrag, other = _nrag(), _nrag(tag="other")
    with MemoryStore(tmp_path) as store:
        store.write(nrag)
        store.write(other)
        store.delete(other.run_id)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{nrag.run_id}.npz"]
    back = MemoryStore(tmp_path).read(nrag.run_id)
    assert back.equals(nrag)
    assert back.settings == nrag.settings and back.model == nrag.model
    np.testing.assert_array_equal(back.layer_bounds, nrag.layer_bounds)


def test_memory_store_unknown_run_raises():
    store = MemoryStore()
    for call in (store.read, store.delete, store.metrics):
        with pytest.raises(RunNotFound, match="'nope'"):
            call("nope")


def test_memory_store_metrics_of_a_run_read_back_from_disk(tmp_path):
    run_id = MemoryStore(tmp_path).write(nrag := _nrag())
    got = MemoryStore(tmp_path).metrics(run_id, "a")  # a new store: the run comes back from its file
    # label a by hand: regions 0_0_0 and 1_0_1 (2 texts each), one edge of weight 2 between them
    assert (got["n_regions"], got["n_edges"], got["density"]) == (2, 1, 0.5)
    assert (got["mean_degree"], got["mean_strength"], got["var_strength"]) == (1.0, 2.0, 0.0)
    assert (got["center_of_mass"], got["purity"]) == (-0.5, 1.0)
    want = compute_metrics(nrag, "a")  # and the original object agrees with the stored copy
    assert got.keys() == want.keys()
    assert all(
        g == w or (isinstance(g, float) and math.isnan(g) and math.isnan(w))
        for g, w in ((got[k], want[k]) for k in want if not isinstance(want[k], (list, dict)))
    )


def test_memory_store_query_needs_neo4j():
    store = MemoryStore()
    with pytest.raises(StoreUnavailable, match="needs Neo4j"):
        store.query("hub_regions", run_id="x")
    with pytest.raises(QueryNotFound, match="query must be one of .*; got 'nope'"):
        store.query("nope")


def test_memory_store_rejects_non_nrag():
    with pytest.raises(TypeError, match="nrag must be an NRAG"):
        MemoryStore().write(dataclasses.asdict)


def test_open_store_without_a_database_is_the_embedded_store(tmp_path, monkeypatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("LLM_MRI_GRAPHDB_HOME", str(tmp_path / "home"))  # no local server there
    store = open_store("auto", memory_path=tmp_path)
    assert isinstance(store, MemoryStore) and store.path == tmp_path
    with pytest.raises(StoreUnavailable, match="no Neo4j is configured"):
        open_store("neo4j")
    with pytest.raises(ValueError, match="store must be one of"):
        open_store("sqlite")


def test_open_store_memory_is_the_former_name_of_local_and_warns(tmp_path, monkeypatch):
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.warns(FutureWarning, match="--store memory is now called --store local"):
        store = open_store("memory", memory_path=tmp_path)
    assert type(store).__name__ == "LocalStore" and store.path == tmp_path
    assert type(open_store("local", memory_path=tmp_path)) is type(store)


def test_local_store_is_memory_store():
    from llm_mri_graphdb.store import LocalStore

    assert MemoryStore is LocalStore and repr(LocalStore()) == "LocalStore(path=None)"


def test_local_store_reads_a_run_only_when_asked(tmp_path):
    nrag = _nrag()
    LocalStore = MemoryStore
    LocalStore(tmp_path).write(nrag)
    (tmp_path / "broken.npz").write_bytes(b"not a zip")  # opening the store must not read it
    store = LocalStore(tmp_path)
    assert store.read(nrag.run_id).equals(nrag)
    with pytest.raises(ValueError, match="broken.npz is not a run saved by llm-mri-graphdb .*; move it out of"):
        store.runs()  # listing reads every run's metadata, so the broken file shows there


def test_local_store_lists_runs_from_metadata_without_arrays(tmp_path):
    nrag = _nrag()
    LocalStore = MemoryStore
    LocalStore(tmp_path).write(nrag)
    file = tmp_path / f"{nrag.run_id}.npz"
    with np.load(file) as data:
        meta = data["meta"]
    np.savez(file, meta=meta)  # the arrays are gone: listing still works, reading fails
    store = LocalStore(tmp_path)
    (row,) = store.runs()
    assert (row["run_id"], row["n_regions"], row["n_edge_rows"], row["status"]) == (nrag.run_id, 3, 2, "complete")
    assert store.models()[0]["n_runs"] == 1
    with pytest.raises(ValueError, match="region_layer is not a file in the archive"):
        store.read(nrag.run_id)


def test_local_store_leftover_of_a_crashed_save_listed_and_collected(tmp_path):
    store = MemoryStore(tmp_path)
    run_id = store.write(_nrag())
    leftover = tmp_path / f".{run_id}.k3j2.npz"
    leftover.write_bytes(b"half a file")
    assert [r["run_id"] for r in store.runs()] == [run_id]
    assert [(r["run_id"], r["status"]) for r in store.runs(all=True)] == [
        (run_id, "complete"),
        (leftover.name, "writing"),
    ]
    assert store.gc() == [{"version": leftover.name, "run_id": run_id, "status": "writing"}]
    assert not leftover.exists() and store.read(run_id).equals(_nrag())
    leftover.write_bytes(b"again")
    store.delete(leftover.name)
    assert not leftover.exists() and [r["run_id"] for r in store.runs(all=True)] == [run_id]
