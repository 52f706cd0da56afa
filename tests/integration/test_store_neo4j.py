"""Neo4jStore against a real Neo4j: round trip, idempotence, faults, bad input."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import uuid

import numpy as np
import pytest
from neo4j import GraphDatabase
from neo4j._sync.work.session import Session
from neo4j.exceptions import IncompleteCommit

from llm_mri_graphdb.errors import QueryNotFound, RunNotFound, StoreUnavailable
from llm_mri_graphdb.server import Distribution, LocalNeo4j, ensure_distribution, free_port
from llm_mri_graphdb.store import Neo4jStore
from llm_mri_graphdb.store.neo4j import store as neo4j_store
from llm_mri_graphdb.store.neo4j.records import flow_batches, region_rows
from llm_mri_graphdb.store.neo4j.runner import CypherRunner
from tests.integration.nrag_samples import random_components_nrag, random_grid_nrag

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def store(neo4j_settings):
    with Neo4jStore.from_settings(neo4j_settings, batch_size=7) as s:
        yield s


@pytest.fixture
def cleanup(store):
    run_ids: list[str] = []
    yield run_ids
    for run_id in run_ids:
        try:
            store.delete(run_id)
        except RunNotFound:
            pass


def _counts(store, run_id):
    """Run nodes, regions, relationships and layer columns stored under ``run_id`` (every version)."""
    records, _, _ = store._driver.execute_query(
        "MATCH (r:Run {run_id: $run_id}) "
        "OPTIONAL MATCH (g:Region {version: r.version}) "
        "OPTIONAL MATCH (g)-[f]->(:Region) "
        "RETURN count(DISTINCT r) AS runs, count(DISTINCT g) AS regions, count(f) AS rels, "
        "       count(CASE WHEN type(f) = 'FLOWS' THEN 1 END) AS flows",
        run_id=run_id,
        database_=store.database,
    )
    columns, _, _ = store._driver.execute_query(  # a version's columns, by its property or from its Run
        "MATCH (c:LayerColumns) WHERE c.version STARTS WITH $run_id + '#' OR EXISTS { (:Run {run_id: $run_id})--(c) } "
        "RETURN count(c) AS columns",
        run_id=run_id,
        database_=store.database,
    )
    return records[0].data() | columns[0].data()


def test_neo4j_store_round_trip_five_labels(store, cleanup):
    nrag = random_grid_nrag(1, tag=TAG)
    assert nrag.n_labels == 5 and len(set(nrag.edge_label.tolist())) == 5
    cleanup.append(run_id := store.write(nrag))
    back = store.read(run_id)
    assert run_id == nrag.run_id == back.run_id
    assert back.equals(nrag)
    np.testing.assert_array_equal(back.region_counts, nrag.region_counts)
    np.testing.assert_array_equal(back.edge_weight, nrag.edge_weight)
    np.testing.assert_array_equal(back.layer_bounds, nrag.layer_bounds)
    assert back.model == nrag.model and back.corpus == nrag.corpus and back.settings == nrag.settings
    assert back.region_ids() == nrag.region_ids()


def test_neo4j_store_round_trip_components(store, cleanup):
    nrag = random_components_nrag(2, tag=TAG)
    assert (nrag.edge_weight < 0).any()
    cleanup.append(run_id := store.write(nrag))
    assert store.read(run_id).equals(nrag)


def test_neo4j_store_write_twice_same_counts(store, cleanup):
    nrag = random_grid_nrag(3, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    first = _counts(store, run_id)
    assert first == _expected(nrag)
    assert store.write(nrag) == run_id
    assert _counts(store, run_id) == first
    assert [r["run_id"] for r in store.runs()].count(run_id) == 1
    assert store.read(run_id).equals(nrag)


def test_neo4j_store_interrupted_write_keeps_previous_run(store, cleanup, monkeypatch):
    old = random_grid_nrag(4, tag=TAG)
    new = dataclasses.replace(old, edge_weight=old.edge_weight * 2)
    assert new.run_id == old.run_id
    cleanup.append(run_id := store.write(old))
    before = _counts(store, run_id)
    calls = []  # appended from the writer threads
    real = CypherRunner.write_batch

    def failing(self, name, params, check=None):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(self, name, params, check)

    monkeypatch.setattr(CypherRunner, "write_batch", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.write(new)
    monkeypatch.undo()
    assert len(calls) >= 2
    assert store.read(run_id).equals(old)
    assert _counts(store, run_id) == before  # the staging version is gone
    assert store.write(new) == run_id
    assert store.read(run_id).equals(new)


def test_neo4j_store_leftover_staging_version_collected(store, cleanup, monkeypatch):
    nrag = random_grid_nrag(5, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    # a crash that also prevents the cleanup leaves a "writing" version behind
    monkeypatch.setattr(neo4j_store.Neo4jStore, "_delete_version", lambda self, v: None)
    crashed = []

    def crash(self, name, params, check=None):
        crashed.append(name)
        raise RuntimeError(f"crash in a {name} batch")

    monkeypatch.setattr(CypherRunner, "write_batch", crash)
    with pytest.raises(RuntimeError, match="^crash in a create_regions batch$"):
        store.write(nrag)
    monkeypatch.undo()
    assert set(crashed) == {"create_regions"}  # the first batch of the staging version crashed, nothing later ran
    assert _counts(store, run_id)["runs"] == 2
    assert store.read(run_id).equals(nrag)
    store.write(nrag)
    assert _counts(store, run_id)["runs"] == 1


def test_neo4j_store_other_runs_untouched(store, cleanup):
    a, b = random_grid_nrag(6, tag=TAG), random_grid_nrag(7, tag=TAG)
    cleanup.extend([store.write(a), store.write(b)])
    store.write(a)
    store.delete(a.run_id)
    assert store.read(b.run_id).equals(b)
    with pytest.raises(RunNotFound):
        store.read(a.run_id)


def test_neo4j_store_runs_models_corpora(store, cleanup):
    nrag = random_grid_nrag(8, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    row = next(r for r in store.runs() if r["run_id"] == run_id)
    assert row["model"] == "tiny-model" and row["corpus"] == "tiny-corpus"
    assert row["n_regions"] == nrag.n_regions and row["label_names"] == list("abcde")
    assert isinstance(row["completed_at"], str)
    assert any(m["name"] == "tiny-model" and m["n_runs"] >= 1 for m in store.models())
    on_tiny = sum(r["corpus_fingerprint"] == "fp-tiny" for r in store.runs())  # counted from the runs
    assert [c for c in store.corpora() if c["key"] == "fp-tiny"] == [
        {"key": "fp-tiny", "name": "tiny-corpus", "n_texts": 40, "label_names": list("abcde"), "n_runs": on_tiny}
    ]


def test_neo4j_store_unknown_run_raises(store):
    for call in (store.read, store.delete, store.metrics):
        with pytest.raises(RunNotFound, match="'no-such-run'"):
            call("no-such-run")


def test_neo4j_store_unknown_query_raises(store):
    with pytest.raises(QueryNotFound, match="layer_profile"):
        store.query("no_such_query")


def test_neo4j_store_rejects_non_nrag(store):
    with pytest.raises(TypeError, match="nrag must be an NRAG"):
        store.write({"not": "an nrag"})


def test_neo4j_store_wrong_password(neo4j_settings):
    with pytest.raises(StoreUnavailable, match="authentication failed"):
        Neo4jStore(neo4j_settings.uri, (neo4j_settings.user, "wrong-" + TAG), neo4j_settings.database)


def test_neo4j_store_unreachable_names_uri():
    uri = f"bolt://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match=uri.replace(".", r"\.")):
        Neo4jStore(uri, ("neo4j", "x"))


def test_neo4j_store_accepts_driver_and_leaves_it_open(neo4j_settings):
    driver = GraphDatabase.driver(neo4j_settings.uri, auth=neo4j_settings.auth)
    with Neo4jStore(driver, database=neo4j_settings.database) as s:
        s.runs()
    driver.verify_connectivity()  # still open
    driver.close()
    assert "password" not in repr(s).lower()


def _expected(nrag):
    pairs = len(set(zip(nrag.edge_source.tolist(), nrag.edge_target.tolist())))
    return {
        "runs": 1,
        "regions": nrag.n_regions,
        "rels": nrag.edge_source.size + pairs,
        "flows": nrag.edge_source.size,
        "columns": nrag.n_layers,
    }


def test_neo4j_store_batch_applied_twice_creates_nothing_more(store, cleanup):
    nrag = random_grid_nrag(11, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    version = store.runner.read("read_run", run_id=run_id)[0]["run"]["version"]
    batch = flow_batches(nrag, store.batch_size)[1][0]
    params = {**batch.params(), "version": version, "labels": list(nrag.label_names)}
    assert store.runner.write_batch("create_flows", params).relationships_created == 0
    rows = region_rows(nrag, version)[:7]
    again = store.runner.write_batch("create_regions", {"rows": rows, "run_id": run_id, "version": version})
    assert again.nodes_created == 0
    assert _counts(store, run_id) == _expected(nrag)
    assert store.read(run_id).equals(nrag)


def _is_columns(counters) -> bool:
    """Whether a write's counters are a batch of layer columns' (a node and its HAS_COLUMNS each)."""
    return 0 < getattr(counters, "nodes_created", 0) == getattr(counters, "relationships_created", 0)


def test_neo4j_store_lost_commit_acknowledgement_retried_without_duplicates(store, cleanup, monkeypatch):
    nrag = random_grid_nrag(12, tag=TAG)
    real, lost, works = Session.execute_write, [], []

    def commit_then_lose_the_ack(self, work, *args, **kwargs):
        result = real(self, work, *args, **kwargs)  # committed
        lose = len(lost) < 6 or (_is_columns(result) and not any(map(_is_columns, lost)))
        if lose and work not in works:  # each batch's first attempt only
            works.append(work)
            lost.append(result)
            raise IncompleteCommit("connection lost while waiting for the commit acknowledgement")
        return result

    monkeypatch.setattr(Session, "execute_write", commit_then_lose_the_ack)
    cleanup.append(run_id := store.write(nrag))
    monkeypatch.undo()
    assert len(lost) == 7  # the first six batches and one of layer columns were each committed, then retried
    assert sum(c.nodes_created + c.relationships_created for c in lost) > 0
    assert any(_is_columns(c) for c in lost)
    assert _counts(store, run_id) == _expected(nrag)
    assert store.read(run_id).equals(nrag)


def test_neo4j_store_leftover_listed_removed_by_rm_and_gc(store, cleanup, monkeypatch):
    nrag = random_grid_nrag(13, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    monkeypatch.setattr(neo4j_store.Neo4jStore, "_delete_version", lambda self, v: None)
    monkeypatch.setattr(neo4j_store.Neo4jStore, "_collect_stale", lambda self, r: None)
    monkeypatch.setattr(CypherRunner, "write_groups", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="crash"):
            store.write(nrag)
    monkeypatch.undo()
    assert [r["run_id"] for r in store.runs()].count(run_id) == 1
    left = [r for r in store.runs(all=True) if r["run_id"].startswith(run_id + "#")]
    assert [r["status"] for r in left] == ["writing", "writing"]
    store.delete(left[0]["run_id"])
    assert _counts(store, run_id)["runs"] == 2
    removed = store.gc()
    assert left[1]["run_id"] in [r["version"] for r in removed]
    assert _counts(store, run_id) == _expected(nrag)
    assert store.read(run_id).equals(nrag)
    with pytest.raises(RunNotFound, match="runs ls --all"):
        store.delete(left[0]["run_id"])


def test_neo4j_store_neo4j_scheme_round_trip(neo4j_settings):
    uri = neo4j_settings.uri.replace("bolt://", "neo4j://")
    nrag = random_grid_nrag(14, tag=TAG)
    with Neo4jStore(uri, neo4j_settings.auth, neo4j_settings.database) as s:
        run_id = s.write(nrag)
        try:
            assert s.read(run_id).equals(nrag)
        finally:
            s.delete(run_id)
        assert run_id not in [r["run_id"] for r in s.runs()]


def test_neo4j_store_http_uri_names_the_bolt_schemes():
    with pytest.raises(StoreUnavailable, match=r"NEO4J_URI must start with bolt://, neo4j://.*got 'http://127"):
        Neo4jStore("http://127.0.0.1:7474", ("neo4j", "x"))


def test_neo4j_store_unknown_database_names_the_fix(neo4j_settings):
    with pytest.raises(StoreUnavailable, match="has no database 'nope.*'; set NEO4J_DATABASE") as info:
        Neo4jStore(neo4j_settings.uri, neo4j_settings.auth, "nope" + TAG)
    assert "\n" not in str(info.value)


def test_neo4j_store_login_rate_limit_names_the_wait(neo4j_settings):
    messages = []
    for _ in range(5):
        with pytest.raises(StoreUnavailable) as info:
            Neo4jStore(neo4j_settings.uri, (neo4j_settings.user, "wrong-" + TAG), neo4j_settings.database)
        messages.append(str(info.value))
    assert "authentication failed" in messages[0]
    assert any(
        f"locked logins for user {neo4j_settings.user!r}" in m and "wait a few seconds" in m for m in messages[1:]
    ), messages
    deadline = time.monotonic() + 30  # the lock lasts dbms.security.auth_lock_time (5 s by default)
    while True:
        try:
            Neo4jStore.from_settings(neo4j_settings).close()
            break
        except StoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(1)


def test_neo4j_store_query_checks_run_ids_and_ranges(store, cleanup):
    nrag = random_grid_nrag(15, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    assert len(store.query("hub_regions", run_id=run_id, top=1)) == nrag.n_layers
    with pytest.raises(RunNotFound, match="'no-such-run'"):
        store.query("hub_regions", run_id="no-such-run")
    with pytest.raises(RunNotFound, match="'missing-b'"):
        store.query("compare_runs", run_a=run_id, run_b="missing-b")
    with pytest.raises(ValueError, match="top must be >= 1; got -1"):
        store.query("hub_regions", run_id=run_id, top=-1)


@pytest.mark.slow
def test_neo4j_store_server_killed_mid_write_ends_in_one_line(tmp_path, capfd, monkeypatch):
    full = ensure_distribution()
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "lib").symlink_to(full.lib)
    (dist / "plugins").mkdir()  # no GDS: a faster start, and storing needs none
    server = LocalNeo4j(
        tmp_path / "home",
        bolt_port=free_port(),
        http_port=free_port(),
        heap="512m",
        distribution=Distribution(dist, full.neo4j_version, "none"),
    )
    info = server.start(password="kill-" + os.urandom(6).hex())
    try:
        old, new = random_grid_nrag(16, tag=TAG), random_grid_nrag(17, tag=TAG)
        new = dataclasses.replace(new, settings=old.settings)
        # lease_s=2: the killed writer's lease has lapsed by the time the server is back (issue 22 #7)
        with Neo4jStore.from_settings(server.settings(), batch_size=7, lease_s=2.0) as s:
            s.write(old)
            real, calls = CypherRunner.write_batch, []

            def kill_after_two_batches(self, name, params, check=None):
                calls.append(name)
                if len(calls) == 3:
                    os.kill(info.pid, signal.SIGKILL)
                return real(self, name, params, check)

            monkeypatch.setattr(CypherRunner, "write_batch", kill_after_two_batches)
            capfd.readouterr()
            start = time.monotonic()
            with pytest.raises(StoreUnavailable) as caught:
                s.write(new)
            elapsed = time.monotonic() - start
            monkeypatch.undo()
        try:
            os.waitpid(info.pid, 0)  # reap the killed child, so the restart does not see it alive
        except ChildProcessError:
            pass
        message = str(caught.value)
        assert elapsed < 30, elapsed
        assert "\n" not in message and message.startswith("lost Neo4j at bolt://127.0.0.1:")
        assert f"while writing run {new.run_id}" in message and "runs gc" in message
        assert capfd.readouterr().err == ""  # no driver log lines
        server.start()  # the same home: what was kept
        with Neo4jStore.from_settings(server.settings()) as s:
            assert s.read(old.run_id).equals(old)
            left = [r for r in s.runs(all=True) if r["status"] == "writing"]
            assert len(left) == 1 and left[0]["run_id"] in message
            assert [r["version"] for r in s.gc()] == [left[0]["run_id"]]
            s.write(new)
            assert s.read(new.run_id).equals(new)
    finally:
        server.stop()
