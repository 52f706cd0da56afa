"""In-process communities and centrality (the embedded store's analyze)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from llm_mri_graphdb.analysis.communities import (
    analyze_nrag,
    check_algorithms,
    community_evidence,
    community_table,
    flow_graph,
    gds_pagerank,
    top_by_layer,
)
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.store import MemoryStore
from tests.integration.nrag_samples import (
    nrag_from_paths,
    power_iteration_pagerank,
    query_nrags,
    random_components_nrag,
    random_grid_nrag,
)


@pytest.mark.parametrize(
    "nrag",
    [random_grid_nrag(3, n_texts=80, n_layers=6), query_nrags("t")[0], random_components_nrag(4, n_layers=4)],
    ids=["grid", "hand", "components"],
)
def test_gds_pagerank_equals_independent_power_iteration(nrag):
    G = flow_graph(nrag)
    expected = power_iteration_pagerank(G)
    got = gds_pagerank(G)
    assert got.keys() == expected.keys()
    for node in expected:
        assert got[node] == pytest.approx(expected[node], abs=1e-6), node


def test_gds_pagerank_differs_from_networkx_normalised():
    G = flow_graph(query_nrags("t")[0])
    ours = gds_pagerank(G)
    assert sum(ours.values()) != pytest.approx(1.0)
    assert sum(nx.pagerank(G, weight="weight").values()) == pytest.approx(1.0)
    assert ours["1_1_0"] == pytest.approx(0.15 + 0.85 * (0.15 / 3 + 0.15))


def test_analyze_nrag_planted_communities_exact():
    a, b = [(0, 0), (0, 1)], [(2, 2), (2, 1)]
    paths = [list(p) for p in itertools.product(a, repeat=3)] + [list(p) for p in itertools.product(b, repeat=3)]
    nrag = nrag_from_paths(paths, [0] * 8 + [1] * 8, ("a", "b"))
    result = analyze_nrag(nrag, "louvain")
    groups = {}
    for region, community in result["membership"]["louvain"].items():
        groups.setdefault(community, set()).add(region)
    assert sorted(map(sorted, groups.values())) == [
        sorted(f"{layer}_{x}_{y}" for layer in range(3) for x, y in cells) for cells in (a, b)
    ]
    assert result["communities"]["louvain"]["modularity"] == pytest.approx(0.5)  # two equal disconnected halves


def test_community_table_hand_computed():
    G = flow_graph(query_nrags("t")[0])
    table = community_table(G, {"0_0_0": 7, "1_0_0": 7, "2_1_1": 7, "0_1_1": 3, "1_1_0": 3, "2_0_1": 3}, ["neg", "pos"])
    assert table == [
        {
            "community": 7,
            "size": 3,
            "layers_spanned": 3,
            "first_layer": 0,
            "last_layer": 2,
            "label_counts": {"neg": 1, "pos": 8},
            "dominant_label": "pos",
            "purity": 8 / 9,
        },
        {
            "community": 3,
            "size": 3,
            "layers_spanned": 3,
            "first_layer": 0,
            "last_layer": 2,
            "label_counts": {"neg": 5, "pos": 1},
            "dominant_label": "neg",
            "purity": 5 / 6,
        },
    ]


def test_top_by_layer_ranks_per_layer():
    G = flow_graph(query_nrags("t")[0])
    rows = top_by_layer(G, nx.betweenness_centrality(G, normalized=False), top=1)
    assert [(r["layer"], r["region"], r["score"]) for r in rows] == [
        (0, "0_0_0", 0.0),
        (1, "1_1_0", 3.5),
        (2, "2_0_1", 0.0),
    ]


def test_check_algorithms_names_allowed():
    assert check_algorithms(None) == ["louvain", "leiden", "pagerank", "betweenness"]
    assert check_algorithms(["betweenness", "louvain"]) == ["louvain", "betweenness"]
    with pytest.raises(ValueError, match=r"algorithms must be names in .*got \['pagrank'\]"):
        check_algorithms("louvain,pagrank")


def test_memory_store_analyze_refuses_leiden_in_one_line():
    store = MemoryStore()
    run_id = store.write(query_nrags("t")[0])
    with pytest.raises(ValueError, match="leiden' needs Neo4j GDS"):
        store.analyze(run_id, "leiden")
    result = store.analyze(run_id, "louvain,pagerank", labels="neg")
    assert result["labels"] == ["neg"] and set(result["centrality"]) == {"pagerank"}
    assert sum(r["size"] for r in result["communities"]["louvain"]["table"]) == 4


def test_cli_analyze_memory_store_prints_cross_layer_communities(tmp_path, capsys):
    from llm_mri_graphdb.cli import main

    run_id = MemoryStore(tmp_path).write(query_nrags("t")[0])
    code = main(
        ["analyze", run_id, "--store", "local", "--store-path", str(tmp_path), "--algorithms", "louvain,betweenness"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "louvain: 2 communities, modularity 0.1950; cross-layer communities:" in out
    assert "betweenness: top regions per layer" in out and "louvain over 10 seeds: modularity" in out
    assert [line.split() for line in out.splitlines() if "1_1_0" in line][-1] == ["1", "1", "1_1_0", "3.5"]


def test_cli_analyze_bad_algorithm_exits_2_before_opening_a_store(tmp_path, capsys):
    from llm_mri_graphdb.cli import main

    code = main(
        [
            "analyze",
            "nope",
            "--store",
            "local",
            "--store-path",
            str(tmp_path / "absent"),
            "--algorithms",
            "louvain,pagrank",
        ]
    )
    assert code == 2
    assert "algorithms must be names in" in capsys.readouterr().err
    assert not (tmp_path / "absent").exists()


def _gaussian_grid(seed, n_texts=300, n_layers=7, planted=False):
    """Grid NRAG of i.i.d. Gaussian coordinates; ``planted`` makes every layer a noisy copy of layer 0."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_texts, 2))
    reduced = [
        base + 0.05 * rng.normal(size=base.shape) if planted else rng.normal(size=(n_texts, 2)) for _ in range(n_layers)
    ]
    return build_nrag_from_reduced(reduced, rng.integers(0, 3, n_texts), ["a", "b", "c"], gridsize=8)


def test_community_evidence_null_sees_through_gaussian_noise():
    noise = community_evidence(_gaussian_grid(0), n_seeds=10, n_null=10)
    # i.i.d. coordinates still give a sizeable modularity (the issue-19 audit saw 0.36) ...
    assert noise["modularity_mean"] > 0.2
    # ... which the shuffled-texts null reproduces: not evidence of structure
    assert abs(noise["null"]["z"]) < 4
    planted = community_evidence(_gaussian_grid(0, planted=True), n_seeds=10, n_null=10)
    assert planted["null"]["z"] > 10 and planted["modularity_mean"] > noise["modularity_mean"]
    assert planted["null"]["kind"] == "shuffled texts" and planted["null"]["n"] == 10


def test_community_evidence_ensemble_consensus_and_ami_by_hand():
    nrag = _gaussian_grid(1, planted=True)
    ev = community_evidence(nrag, n_seeds=4, n_null=0, seed=3)
    assert ev["null"] is None and ev["n_seeds"] == 4 and len(ev["n_communities"]) == 4
    G = flow_graph(nrag)
    U, nodes = G.to_undirected(), list(G)
    from sklearn.metrics import adjusted_mutual_info_score

    parts = []
    for k in range(4):  # the same seeds, run here independently
        found = nx.community.louvain_communities(U, weight="weight", resolution=1, seed=3 + k)
        parts.append([next(i for i, p in enumerate(found) if n in p) for n in nodes])
    pairs = [adjusted_mutual_info_score(parts[i], parts[j]) for i in range(4) for j in range(i + 1, 4)]
    assert ev["mean_pairwise_ami"] == pytest.approx(np.mean(pairs), rel=1e-12)
    # consensus: two regions share a community iff a chain of >2-of-4 co-assignments joins them
    together = sum((np.array(p)[:, None] == np.array(p)[None, :]).astype(int) for p in parts) > 2
    members = ev["consensus"]["membership"]
    for i, j in zip(*np.nonzero(together)):
        assert members[nodes[i]] == members[nodes[j]]
    assert sum(r["size"] for r in ev["consensus"]["table"]) == nrag.n_regions


def test_community_evidence_rejects_bad_counts_and_old_name_warns_once():
    nrag = _gaussian_grid(2, n_texts=30)
    with pytest.raises(ValueError, match=r"n_seeds must be an int >= 2; got 1"):
        community_evidence(nrag, n_seeds=1)
    import llm_mri_graphdb.analysis.communities as analysis

    analysis._WARNED.discard("circuits")
    table = [{"community": 0, "size": 1, "layers_spanned": 1, "label_counts": {"a": 1}}]
    with pytest.warns(FutureWarning, match="cross_layer_communities"):
        assert analysis.circuits(table) == analysis.cross_layer_communities(table)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis.circuits(table)  # once only
