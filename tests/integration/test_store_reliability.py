"""Issue 22, the Neo4j store under concurrency: readers during republishes, `runs gc` during a write."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import numpy as np
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.errors import WriteLost
from llm_mri_graphdb.store import Neo4jStore
from tests.integration.nrag_samples import random_grid_nrag

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
N_REPUBLISHES, N_READERS = 15, 20


def _texts(nrag) -> list[str]:
    return [f"text {i} of {TAG}" for i in range(nrag.paths.shape[0])]


def _version_of(nrag, base) -> int:
    """Which republish ``nrag`` is: every one scales the base weights by its number (checked exactly after)."""
    return round(nrag.edge_weight[0] / base.edge_weight[0])


def test_readers_never_see_a_publish(neo4j_settings):
    """Finding 6: 20 reader threads over 15 republishes of one run: zero failed reads, every answer one of the
    published versions (texts and memberships included)."""
    base = random_grid_nrag(31, n_texts=60, tag=TAG)
    versions = {k: dataclasses.replace(base, edge_weight=base.edge_weight * k) for k in range(1, N_REPUBLISHES + 2)}
    texts = _texts(base)
    with (
        Neo4jStore.from_settings(neo4j_settings, batch_size=7) as writer,
        Neo4jStore.from_settings(neo4j_settings) as readers,
    ):
        run_id = writer.write(versions[1], texts)
        done = threading.Event()
        failures: list[str] = []
        seen: list[int] = []
        lock = threading.Lock()

        def read_until_done() -> None:
            while not done.is_set():
                try:
                    got = readers.read(run_id)
                    k = _version_of(got, base)
                    ok = (
                        k in versions
                        and got.equals(versions[k])
                        and np.array_equal(got.paths, base.paths)
                        and np.array_equal(got.text_labels, base.text_labels)
                    )
                    with lock:
                        (seen if ok else failures).append(k if ok else f"read an unpublished graph (k={k})")
                except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=read_until_done) for _ in range(N_READERS)]
        for thread in threads:
            thread.start()
        try:
            for k in range(2, N_REPUBLISHES + 2):
                writer.write(versions[k], texts)
                time.sleep(0.05)
        finally:
            done.set()
            for thread in threads:
                thread.join()
        try:
            assert failures == [], f"{len(failures)} of {len(failures) + len(seen)} reads failed: {failures[:3]}"
            assert len(seen) >= N_READERS * 2, len(seen)
            assert len(set(seen)) >= 3, sorted(set(seen))  # the readers really read across republishes
            assert readers.read(run_id).equals(versions[N_REPUBLISHES + 1])
        finally:
            writer.delete(run_id)


def _slowed(store: Neo4jStore, monkeypatch, started: threading.Event, pause_s: float = 0.3) -> None:
    """Make ``store``'s batches take ``pause_s`` longer (the write stays real), and say when the first ran."""
    real = store.runner.write_batch

    def slow(name, params, check=None):
        started.set()
        time.sleep(pause_s)
        return real(name, params, check)

    monkeypatch.setattr(store.runner, "write_batch", slow)


def _writing(store: Neo4jStore, run_id: str) -> list[str]:
    return [r["run_id"] for r in store.runs(all=True) if r["run_id"].startswith(run_id + "#")]


def test_gc_skips_a_version_whose_writer_is_alive(neo4j_settings, monkeypatch, capsys):
    """Finding 7: `runs gc` during a write leaves the writing version (and says so); the write completes."""
    nrag = random_grid_nrag(32, tag=TAG)
    for name, value in (
        ("NEO4J_URI", neo4j_settings.uri),
        ("NEO4J_USER", neo4j_settings.user),
        ("NEO4J_PASSWORD", neo4j_settings.password),
    ):
        monkeypatch.setenv(name, value)
    with (
        Neo4jStore.from_settings(neo4j_settings, batch_size=5, lease_s=4.0) as writer,
        Neo4jStore.from_settings(neo4j_settings) as other,
    ):
        started, outcome = threading.Event(), {}
        _slowed(writer, monkeypatch, started)
        thread = threading.Thread(target=lambda: outcome.update(run_id=writer.write(nrag, _texts(nrag))))
        thread.start()
        try:
            assert started.wait(30)
            (version,) = _writing(other, nrag.run_id)
            time.sleep(5.0)  # longer than the lease: only the heartbeat keeps it fresh
            assert [r["version"] for r in other.leased_versions()] == [version]
            assert version not in [r["version"] for r in other.gc()]
            assert main(["runs", "gc", "--yes", "--store", "neo4j"]) == 0
            out = capsys.readouterr().out
            assert f"Skipping 1 version(s) being written now (their writer's lease is fresh): {version}." in out
            assert _writing(other, nrag.run_id) == [version]
        finally:
            thread.join()
        try:
            assert outcome == {"run_id": nrag.run_id}
            assert other.read(nrag.run_id).equals(nrag)
            assert other.leased_versions() == [] and _writing(other, nrag.run_id) == []
        finally:
            other.delete(nrag.run_id)


def test_a_writer_whose_version_was_collected_says_so(neo4j_settings, monkeypatch):
    """Finding 7: a writer whose lease lapsed (a stalled process) and whose version gc took ends in one line
    saying that, and leaves nothing behind."""
    nrag = random_grid_nrag(33, tag=TAG)
    with (
        Neo4jStore.from_settings(neo4j_settings, batch_size=5, lease_s=600.0) as writer,
        Neo4jStore.from_settings(neo4j_settings) as other,
    ):
        started, outcome = threading.Event(), {}
        _slowed(writer, monkeypatch, started)

        def write() -> None:
            try:
                writer.write(nrag, _texts(nrag))
            except Exception as exc:  # noqa: BLE001 - the test reads it
                outcome["error"] = exc

        thread = threading.Thread(target=write)
        thread.start()
        try:
            assert started.wait(30)
            (version,) = _writing(other, nrag.run_id)
            # the writer stalls past its lease (its next heartbeat is 150 s away): gc may take the version
            other.runner.run_text(
                "MATCH (r:Run {id: $version}) SET r.lease_until = datetime() - duration('PT1S')",
                {"version": version},
                write=True,
            )
            assert [r["version"] for r in other.gc()] == [version]
        finally:
            thread.join()
        error = outcome.get("error")
        assert isinstance(error, WriteLost), error
        assert str(error).startswith(
            f"version {version} of run {nrag.run_id} was removed while it was being "
            "written (by `llm-mri-graphdb runs gc`"
        )
        assert "write the run again" in str(error) and "\n" not in str(error)
        records = other.runner.run_text(
            "MATCH (g:Region {version: $version}) RETURN count(g) AS n", {"version": version}, write=False
        )
        assert records == [{"n": 0}] and _writing(other, nrag.run_id) == []
        assert nrag.run_id not in [r["run_id"] for r in other.runs()]


def test_library_queries_check_labels_against_the_run(neo4j_settings, monkeypatch, capsys):
    """Finding 8: `query hub_regions --param label=nolabel` answered "(no rows)" where `texts` says what is wrong."""
    nrag = random_grid_nrag(34, tag=TAG)
    with Neo4jStore.from_settings(neo4j_settings) as store:
        run_id = store.write(nrag)
        try:
            with pytest.raises(
                ValueError,
                match=r"^query 'hub_regions' parameter label must be a label of run "
                rf"{run_id}, one of \['a', 'b', 'c', 'd', 'e'\]; got 'nolabel'\.$",
            ):
                store.query("hub_regions", run_id=run_id, label="nolabel")
            hubs = store.query("hub_regions", run_id=run_id, label="a", top=1)
            assert len(hubs) == nrag.n_layers  # one hub per layer: the check lets a real label through
            for name, value in (
                ("NEO4J_URI", neo4j_settings.uri),
                ("NEO4J_USER", neo4j_settings.user),
                ("NEO4J_PASSWORD", neo4j_settings.password),
            ):
                monkeypatch.setenv(name, value)
            assert (
                main(
                    [
                        "query",
                        "layer_profile",
                        "--param",
                        f"run_id={run_id}",
                        "--param",
                        "label=nolabel",
                        "--store",
                        "neo4j",
                    ]
                )
                == 2
            )
            err = capsys.readouterr().err.strip()
            assert "\n" not in err and "parameter label must be a label of run" in err
        finally:
            store.delete(run_id)
