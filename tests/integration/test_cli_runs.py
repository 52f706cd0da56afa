"""``runs`` commands: export/import between the embedded store and Neo4j, leftovers listed and collected."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.store import MemoryStore, Neo4jStore

pytestmark = pytest.mark.integration


def _nrag(seed: int):
    rng = np.random.default_rng(seed)
    reduced = [rng.normal(size=(30, 2)) for _ in range(4)]
    return build_nrag_from_reduced(
        reduced, np.arange(30) % 3, ["x", "y", "z"], gridsize=3, model={"name": f"model-{seed}"}, corpus={"name": "c"}
    )


def test_runs_export_then_bulk_import_into_neo4j(neo4j_settings, monkeypatch, tmp_path, capsys):
    memory = MemoryStore(tmp_path / "memory")
    runs = [memory.write(_nrag(seed)) for seed in (1, 2)]
    for run_id in runs:
        assert (
            main(
                [
                    "runs",
                    "export",
                    run_id,
                    str(tmp_path / "export" / run_id),
                    "--store",
                    "local",
                    "--store-path",
                    str(tmp_path / "memory"),
                ]
            )
            == 0
        )
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
    code = main(
        [
            "runs",
            "import",
            str(good),
            str(tmp_path / "missing"),
            "--store",
            "local",
            "--store-path",
            str(tmp_path / "memory"),
        ]
    )
    assert code == 1
    assert "missing nrag.json" in capsys.readouterr().err
    assert MemoryStore(tmp_path / "memory").runs() == []


def _leftover_in_neo4j(store, nrag, monkeypatch) -> str:
    """A version an interrupted first write left in 'writing' (cleanup prevented too)."""
    from llm_mri_graphdb.store.neo4j import store as neo4j_store
    from llm_mri_graphdb.store.neo4j.runner import CypherRunner

    with monkeypatch.context() as m:
        m.setattr(neo4j_store.Neo4jStore, "_delete_version", lambda self, v: None)
        m.setattr(CypherRunner, "write_groups", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
        try:
            store.write(nrag)
        except RuntimeError:
            pass
    (row,) = [r for r in store.runs(all=True) if r["run_id"].startswith(nrag.run_id + "#")]
    return row["run_id"]


def test_runs_ls_all_rm_and_gc_handle_leftovers_in_neo4j(neo4j_settings, monkeypatch, capsys):
    for name, value in (
        ("NEO4J_URI", neo4j_settings.uri),
        ("NEO4J_USER", neo4j_settings.user),
        ("NEO4J_PASSWORD", neo4j_settings.password),
    ):
        monkeypatch.setenv(name, value)
    nrag = _nrag(7)
    with Neo4jStore.from_settings(neo4j_settings) as store:
        first = _leftover_in_neo4j(store, nrag, monkeypatch)
        assert main(["runs", "ls", "--store", "neo4j", "--format", "json"]) == 0
        assert first not in capsys.readouterr().out  # readers never see it
        assert main(["runs", "ls", "--all", "--store", "neo4j", "--format", "json"]) == 0
        listed = [r for r in json.loads(capsys.readouterr().out) if r["run_id"] == first]
        assert [r["status"] for r in listed] == ["writing"]
        assert main(["runs", "rm", first, "--yes", "--store", "neo4j"]) == 0
        assert f"Deleted run {first}." in capsys.readouterr().out
        assert main(["runs", "rm", first, "--yes", "--store", "neo4j"]) == 1
        assert "runs ls --all" in capsys.readouterr().err
        second = _leftover_in_neo4j(store, nrag, monkeypatch)
        assert main(["runs", "gc", "--dry-run", "--store", "neo4j"]) == 0
        assert f"Would delete 1 leftover version(s): {second}." in capsys.readouterr().out
        assert main(["runs", "gc", "--yes", "--store", "neo4j"]) == 0
        assert f"Deleted 1 leftover version(s): {second}." in capsys.readouterr().out
        assert not [r for r in store.runs(all=True) if r["run_id"].startswith(nrag.run_id)]


def test_runs_gc_removes_a_crashed_save_of_the_embedded_store(tmp_path, capsys):
    store = MemoryStore(tmp_path)
    run_id = store.write(_nrag(8))
    (tmp_path / f".{run_id}.x1.npz").write_bytes(b"half")
    args = ["--store", "local", "--store-path", str(tmp_path)]
    assert main(["runs", "ls", "--all", "--format", "json", *args]) == 0
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == ["complete", "writing"]
    assert main(["runs", "gc", "--yes", *args]) == 0
    assert f"Deleted 1 leftover version(s): .{run_id}.x1.npz." in capsys.readouterr().out
    assert main(["runs", "gc", "--yes", *args]) == 0
    assert "Nothing to collect" in capsys.readouterr().out
    assert [r["run_id"] for r in MemoryStore(tmp_path).runs(all=True)] == [run_id]
