"""Communities and centrality with GDS: planted communities, networkx modularity, an independent PageRank,
the cross_layer_communities and bottlenecks queries, and read-only unless saved."""

from __future__ import annotations

import itertools
import uuid

import networkx as nx
import pytest

from llm_mri_graphdb.analysis.communities import flow_graph
from llm_mri_graphdb.pipeline import report_run
from llm_mri_graphdb.store import MemoryStore
from llm_mri_graphdb.store.neo4j.runner import CypherRunner
from tests.integration.nrag_samples import (
    nrag_from_paths,
    power_iteration_pagerank,
    query_nrags,
    random_grid_nrag,
    stored_runs,
)

TAG = uuid.uuid4().hex[:8]
REGIONS = (
    "MATCH (run:Run {id: $run_id, status: 'complete'}) MATCH (g:Region {version: run.version}) "
    "RETURN g.name AS name, g.community_louvain AS louvain, g.community_leiden AS leiden, "
    "g.pagerank AS pagerank, g.betweenness AS betweenness"
)
A_CELLS, B_CELLS = [(0, 0), (0, 1)], [(2, 2), (2, 1)]


def planted_nrag():
    """Two planted groups: label a walks cells A_CELLS, label b cells B_CELLS (every 3-layer path once),
    plus one a-text crossing into B at the last layer."""
    paths = (
        [list(p) for p in itertools.product(A_CELLS, repeat=3)]
        + [list(p) for p in itertools.product(B_CELLS, repeat=3)]
        + [[(0, 0), (0, 0), (2, 2)]]
    )
    labels = [0] * 8 + [1] * 8 + [0]
    return nrag_from_paths(
        paths,
        labels,
        ("a", "b"),
        model={"name": f"planted-{TAG}"},
        settings={"reducer": "pca", "n_components": 2, "gridsize": 3, "tag": TAG},
    )


PLANTED = {frozenset(f"{layer}_{x}_{y}" for layer in range(3) for x, y in cells) for cells in (A_CELLS, B_CELLS)}


@pytest.fixture(scope="module")
def stored(store):
    nrags = {
        "planted": planted_nrag(),
        "demo": random_grid_nrag(21, n_texts=120, n_layers=6, tag=TAG),
        "hand": query_nrags(TAG)[0],
    }
    with stored_runs(store, nrags):
        yield nrags


def _regions(store, run_id):
    return {r["name"]: r for r in store.runner.run_text(REGIONS, {"run_id": run_id}, write=False)}


def _partition(regions, key):
    groups = {}
    for name, row in regions.items():
        groups.setdefault(row[key], set()).add(name)
    return [frozenset(g) for g in groups.values()]


def test_analyze_planted_communities_recovered_by_gds_and_embedded(store, stored):
    nrag = stored["planted"]
    result = store.analyze(nrag.run_id, "louvain,leiden", save=True)
    regions = _regions(store, nrag.run_id)
    assert set(_partition(regions, "louvain")) == PLANTED
    assert set(_partition(regions, "leiden")) == PLANTED
    assert result["communities"]["louvain"]["n_communities"] == 2
    memory = MemoryStore()
    memory.write(nrag)
    membership = memory.analyze(nrag.run_id, "louvain")["membership"]["louvain"]
    assert set(_partition({n: {"c": c} for n, c in membership.items()}, "c")) == PLANTED
    # the community table, by hand: A holds 8 a-texts x 3 layers + the crossing text twice; B 24 b + 1 a
    for table in (
        result["communities"]["louvain"]["table"],
        memory.analyze(nrag.run_id, "louvain")["communities"]["louvain"]["table"],
    ):
        rows = sorted(
            (
                r["size"],
                r["layers_spanned"],
                r["label_counts"]["a"],
                r["label_counts"]["b"],
                r["dominant_label"],
                r["purity"],
            )
            for r in table
        )
        assert rows == [(6, 3, 1, 24, "b", pytest.approx(24 / 25)), (6, 3, 26, 0, "a", 1.0)]


@pytest.mark.parametrize("algorithm", ["louvain", "leiden"])
def test_analyze_modularity_equals_networkx_of_same_partition(store, stored, algorithm):
    nrag = stored["demo"]
    result = store.analyze(nrag.run_id, algorithm, save=True)
    partition = _partition(_regions(store, nrag.run_id), algorithm)
    U = flow_graph(nrag).to_undirected()
    ours = result["communities"][algorithm]["modularity"]
    assert ours == pytest.approx(nx.community.modularity(U, partition, weight="weight"), abs=1e-6)
    reference = nx.community.louvain_communities(U, weight="weight", seed=7)
    assert ours >= nx.community.modularity(U, reference, weight="weight") - 0.02
    assert len(partition) == result["communities"][algorithm]["n_communities"]


def test_analyze_pagerank_equals_independent_power_iteration(store, stored):
    nrag = stored["demo"]
    store.analyze(nrag.run_id, "pagerank,betweenness", save=True)
    regions = _regions(store, nrag.run_id)
    G = flow_graph(nrag)
    expected = power_iteration_pagerank(G)
    assert set(regions) >= set(expected)
    for name, score in expected.items():
        assert regions[name]["pagerank"] == pytest.approx(score, abs=1e-6), name
    betweenness = nx.betweenness_centrality(G, normalized=False)
    for name, score in betweenness.items():
        assert regions[name]["betweenness"] == pytest.approx(score, abs=1e-6), name
    first = [n for n in G if G.nodes[n]["layer"] == 0]
    assert all(regions[n]["pagerank"] == pytest.approx(0.15) for n in first)  # not normalised to 1


def test_analyze_top_regions_match_embedded(store, stored):
    nrag = stored["hand"]
    gds = store.analyze(nrag.run_id, "pagerank,betweenness")
    memory = MemoryStore()
    memory.write(nrag)
    local = memory.analyze(nrag.run_id, "pagerank,betweenness")
    for algo in ("pagerank", "betweenness"):
        assert [(r["layer"], r["rank"]) for r in gds["centrality"][algo]] == [
            (r["layer"], r["rank"]) for r in local["centrality"][algo]
        ]
        by_region = {r["region"]: r["score"] for r in local["centrality"][algo]}
        for row in gds["centrality"][algo]:
            assert row["score"] == pytest.approx(by_region[row["region"]], abs=1e-9)
    # hand: 1_1_0 = 0.15 + 0.85 (0.15 / 3 + 0.15); betweenness 1_1_0 = 1 + 0.5 + 1 + 1, 1_0_0 = 0.5
    top = {(r["layer"], r["rank"]): (r["region"], r["score"]) for r in gds["centrality"]["pagerank"]}
    assert top[(1, 1)] == ("1_1_0", pytest.approx(0.32))
    top = {(r["layer"], r["rank"]): (r["region"], r["score"]) for r in gds["centrality"]["betweenness"]}
    assert (top[(1, 1)], top[(1, 2)]) == (("1_1_0", 3.5), ("1_0_0", 0.5))


def test_analyze_one_label_and_unknown_algorithm(store, stored):
    nrag = stored["hand"]
    result = store.analyze(nrag.run_id, ["louvain"], labels="neg")
    table = result["communities"]["louvain"]["table"]
    assert result["labels"] == ["neg"] and sum(r["size"] for r in table) == 4  # regions neg occupies
    assert all(r["dominant_label"] == "neg" and r["purity"] == 1.0 for r in table)
    with pytest.raises(ValueError, match=r"algorithms must be names in \['louvain', 'leiden', 'pagerank'"):
        store.analyze(nrag.run_id, "pagrank")


def test_query_cross_layer_communities_planted(store, stored):
    nrag = stored["planted"]
    store.analyze(nrag.run_id, "louvain,leiden", save=True)
    for algorithm in ("louvain", "leiden"):
        rows = store.query("cross_layer_communities", run_id=nrag.run_id, algorithm=algorithm)
        got = [
            (
                r["layers_spanned"],
                r["first_layer"],
                r["last_layer"],
                r["size"],
                r["texts"],
                r["dominant_label"],
                r["purity"],
                [(m["label"], m["texts"]) for m in r["label_mix"]],
            )
            for r in rows
        ]
        assert got == [
            (3, 0, 2, 6, 26, "a", 1.0, [("a", 26), ("b", 0)]),
            (3, 0, 2, 6, 25, "b", pytest.approx(0.96), [("a", 1), ("b", 24)]),
        ]
    assert len(store.query("cross_layer_communities", run_id=nrag.run_id, top=1)) == 1
    from llm_mri_graphdb.store import cypher

    cypher.load_query.cache_clear()  # the old name warns on its first load
    with pytest.warns(FutureWarning, match="query 'circuits' is now 'cross_layer_communities'"):
        assert store.query("circuits", run_id=nrag.run_id) == store.query("cross_layer_communities", run_id=nrag.run_id)


def test_query_bottlenecks_hand_computed(store, stored):
    nrag = stored["hand"]
    store.analyze(nrag.run_id, "pagerank,betweenness", save=True)
    rows = store.query("bottlenecks", run_id=nrag.run_id, top=2)
    # only layer 1 lies between regions: 1_1_0 carries 0_0_0->2_0_1, 0_1_1->2_0_1, 0_1_1->2_1_1 (1 each) and
    # half of 0_0_0->2_1_1; 1_0_0 the other half
    assert [(r["layer"], r["rank"], r["region"], r["betweenness"], r["texts"]) for r in rows] == [
        (1, 1, "1_1_0", 3.5, 3),
        (1, 2, "1_0_0", 0.5, 2),
    ]
    assert rows[0]["pagerank"] == pytest.approx(0.32)
    assert [r["region"] for r in store.query("bottlenecks", run_id=nrag.run_id)] == ["1_1_0"]


def test_read_commands_send_no_write_unless_saved(store, stored, monkeypatch, tmp_path):
    writes = []
    for name in ("write_batch", "write_batches"):  # runner.write goes through run_text(write=True)
        original = getattr(CypherRunner, name)

        def recording(self, statement, *args, _original=original, **kwargs):
            writes.append(statement)
            return _original(self, statement, *args, **kwargs)

        monkeypatch.setattr(CypherRunner, name, recording)
    original_text = CypherRunner.run_text

    def recording_text(self, text, params, *, write):
        if write:
            writes.append(text)
        return original_text(self, text, params, write=write)

    monkeypatch.setattr(CypherRunner, "run_text", recording_text)
    nrag = stored["hand"]
    store.metrics(nrag.run_id)
    store.metrics(nrag.run_id, "pos")
    store.analyze(nrag.run_id)
    report_run(store, nrag.run_id, out=tmp_path)
    assert writes == []
    store.analyze(nrag.run_id, "louvain", save=True)
    assert len(writes) == 2
    assert "gds.graph.nodeProperties.write" in writes[0] and "MERGE (s:AnalysisSet" in writes[1]
