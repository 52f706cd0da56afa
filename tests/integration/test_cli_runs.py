"""``runs export`` / ``runs import``: moving runs between the embedded store and Neo4j."""

from __future__ import annotations

import numpy as np
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.nrag import build_nrag_from_reduced
from llm_mri_graphdb.store import MemoryStore, Neo4jStore

pytestmark = pytest.mark.integration


def _nrag(seed: int):
    rng = np.random.default_rng(seed)
    reduced = [rng.normal(size=(30, 2)) for _ in range(4)]
    return build_nrag_from_reduced(reduced, np.arange(30) % 3, ["x", "y", "z"], gridsize=3,
                                   model={"name": f"model-{seed}"}, corpus={"name": "c"})


def test_runs_export_then_bulk_import_into_neo4j(neo4j_settings, monkeypatch, tmp_path, capsys):
    memory = MemoryStore(tmp_path / "memory")
    runs = [memory.write(_nrag(seed)) for seed in (1, 2)]
    for run_id in runs:
        assert main(["runs", "export", run_id, str(tmp_path / "export" / run_id),
                     "--store", "memory", "--store-path", str(tmp_path / "memory")]) == 0
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password)
    folders = [str(tmp_path / "export" / r) for r in runs]
    assert main(["runs", "import", *folders, "--store", "neo4j"]) == 0
    out = capsys.readouterr().out
    assert all(f"as run {r}." in out for r in runs)
    with Neo4jStore.from_settings(neo4j_settings) as store:
        try:
            for run_id in runs:
                assert store.read(run_id).equals(memory.read(run_id))
        finally:
            for run_id in runs:
                store.delete(run_id)


def test_runs_import_of_a_bad_folder_stores_nothing(tmp_path, capsys):
    good = tmp_path / "good"
    _nrag(5).to_csv(good)
    code = main(["runs", "import", str(good), str(tmp_path / "missing"), "--store", "memory",
                 "--store-path", str(tmp_path / "memory")])
    assert code == 1
    assert "missing nrag.json" in capsys.readouterr().err
    assert MemoryStore(tmp_path / "memory").runs() == []
