"""Communities and centrality of an NRAG's flow graph, in process (networkx).

The same definitions as the Neo4j path (:mod:`llm_mri_graphdb.store.neo4j.gds`),
so both stores answer ``analyze`` alike.

Definitions
-----------
flow graph
    One node per region of the selected labels (as :func:`llm_mri_graphdb.analysis.metrics.metric_arrays`),
    one edge per (source, target) region pair whose summed weight over the
    selected labels is positive, with that weight. Grid weights are text
    counts, so every pair is an edge; in N-D runs pairs whose correlations sum
    to 0 or less carry no flow and are left out.
louvain
    ``networkx.community.louvain_communities`` on the undirected flow graph
    (weighted, resolution 1, ``seed``), and its ``modularity``. GDS Louvain
    optimises the same modularity with another node order, so partitions can
    differ where modularity ties; both report the modularity of their own
    partition.
leiden
    Neo4j GDS only: networkx ships no Leiden implementation for its default
    backend, so the embedded store refuses it in one line.
pagerank
    GDS's definition, not networkx's: the fixed point of
    ``PR(v) = (1 - d) + d * sum over u -> v of PR(u) * w(u, v) / W(u)`` with
    ``W(u)`` the out-weight of ``u`` and ``d = 0.85``. Scores are not
    normalised to sum to 1 and the mass of dangling regions (the whole last
    layer of an NRAG) is not redistributed, so every score is at least
    ``1 - d`` and first-layer regions score exactly ``1 - d``.
betweenness
    Unweighted, directed, unnormalised (``networkx.betweenness_centrality(G,
    normalized=False)``, GDS ``gds.betweenness``): the regions that the flow
    between other regions must pass. Flow weights are counts, not distances,
    so they are not used as path lengths.
communities table
    Per community: ``size`` (regions), ``layers_spanned`` (distinct layers),
    ``first_layer``, ``last_layer``, ``label_counts`` (texts of each selected
    label summed over its regions), ``dominant_label`` and ``purity`` (its
    share of those texts). Tables list the communities spanning the most layers
    first, then the larger, then those holding more texts, then by id; the
    run's *cross-layer communities* are the first rows. (They were called
    "circuits"; a circuit is a term of mechanistic interpretability, Olah et
    al. 2020, *Zoom In*, and modularity communities of a flow graph are not
    one: an NRAG of i.i.d. Gaussian coordinates gets modularity 0.36 and
    communities spanning 5-7 of 7 layers.)
community ensemble and null (:func:`community_evidence`)
    Louvain is randomised, so one partition is one draw. The ensemble runs it
    with ``n_seeds`` seeds (default 10) and reports the modularity of each,
    the mean pairwise adjusted mutual information (AMI) of the partitions
    (1: every seed finds the same communities) and a consensus partition: the
    connected components of the graph joining two regions placed together by
    more than half of the seeds. The null is the same algorithm on the flow
    graph of *shuffled texts*: each layer's region assignments are permuted
    over the texts independently, which keeps every region and its size and
    destroys which region leads to which; its modularity (mean, SD over
    ``n_null`` shuffles) and the z of the observed mean modularity against it
    say whether the communities are more than what any flow graph of these
    region sizes has. The null needs the texts' paths (a grid run stored with
    its texts). Leiden has no in-process implementation here (networkx has
    none), so the ensemble is Louvain's in both stores; GDS Leiden is reported
    as one seeded run beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.metrics import metric_arrays
from llm_mri_graphdb.nrag.model import NRAG

__all__ = [
    "ALGORITHMS",
    "COMMUNITY_ALGORITHMS",
    "CENTRALITY_ALGORITHMS",
    "check_algorithms",
    "flow_graph",
    "gds_pagerank",
    "community_table",
    "rank_communities",
    "top_by_layer",
    "cross_layer_communities",
    "circuits",
    "community_evidence",
    "analyze_nrag",
]

COMMUNITY_ALGORITHMS = ("louvain", "leiden")
CENTRALITY_ALGORITHMS = ("pagerank", "betweenness")
ALGORITHMS = COMMUNITY_ALGORITHMS + CENTRALITY_ALGORITHMS


def check_algorithms(algorithms: Sequence[str] | str | None) -> list[str]:
    """The requested algorithms in canonical order; ValueError naming the allowed ones.

    >>> check_algorithms("pagerank,louvain")
    ['louvain', 'pagerank']
    """
    if algorithms is None:
        return list(ALGORITHMS)
    names = [a.strip() for a in (algorithms.split(",") if isinstance(algorithms, str) else algorithms)]
    unknown = [a for a in names if a not in ALGORITHMS]
    if unknown or not names:
        raise ValueError(f"algorithms must be names in {list(ALGORITHMS)}; got {unknown or names!r}.")
    return [a for a in ALGORITHMS if a in names]


def flow_graph(nrag: NRAG, labels: Any = None):
    """The directed flow graph (see Definitions) as a ``networkx.DiGraph``.

    Nodes are region names with ``layer`` and ``counts`` (list over the
    selected labels); edges carry ``weight`` (positive part).
    """
    import networkx as nx

    a = metric_arrays(nrag, labels)
    names = nrag.select_labels(labels).region_ids()
    G = nx.DiGraph(label_names=a["label_names"], layers=a["n_layers"])
    for name, layer, counts in zip(names, a["node_layer"].tolist(), a["node_counts"].tolist()):
        G.add_node(name, layer=layer, counts=counts)
    G.add_weighted_edges_from(
        (names[s], names[t], w)
        for s, t, w in zip(a["edge_source"].tolist(), a["edge_target"].tolist(), a["edge_weight"].tolist())
        if w > 0
    )
    return G


def gds_pagerank(G, *, damping: float = 0.85, tol: float = 1e-12, max_iter: int = 1000) -> dict[str, float]:
    """PageRank as GDS defines it (no normalisation, dangling mass dropped); see Definitions.

    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b", {"weight": 1.0}), ("a", "c", {"weight": 3.0})])
    >>> {k: round(v, 6) for k, v in gds_pagerank(G).items()}
    {'a': 0.15, 'b': 0.181875, 'c': 0.245625}
    """
    nodes = list(G)
    index = {n: i for i, n in enumerate(nodes)}
    out_w = np.zeros(len(nodes))
    edges = [(index[u], index[v], float(d.get("weight", 1.0))) for u, v, d in G.edges(data=True)]
    for u, _, w in edges:
        out_w[u] += w
    src = np.array([u for u, _, _ in edges], np.int64)
    tgt = np.array([v for _, v, _ in edges], np.int64)
    share = np.array([w for _, _, w in edges]) / np.where(out_w[src] > 0, out_w[src], 1.0) if edges else np.zeros(0)
    score = np.full(len(nodes), 1.0 - damping)
    for _ in range(max_iter):
        new = (1.0 - damping) + damping * np.bincount(tgt, weights=score[src] * share, minlength=len(nodes))
        done = np.max(np.abs(new - score), initial=0.0) < tol
        score = new
        if done:
            break
    return dict(zip(nodes, score.tolist()))


def community_table(G, membership: Mapping[str, int], label_names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per community (see Definitions), widest span first, then largest, then id."""
    groups: dict[int, list[str]] = {}
    for node, community in membership.items():
        groups.setdefault(int(community), []).append(node)
    rows = []
    for community, nodes in groups.items():
        layers = sorted({G.nodes[n]["layer"] for n in nodes})
        counts = np.sum([G.nodes[n]["counts"] for n in nodes], axis=0).tolist()
        rows.append(_community_row(community, len(nodes), layers, counts, label_names))
    return rank_communities(rows)


def rank_communities(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered widest span first, then size, then texts held, then community id (both stores)."""
    return [
        dict(r)
        for r in sorted(
            rows, key=lambda r: (-r["layers_spanned"], -r["size"], -sum(r["label_counts"].values()), r["community"])
        )
    ]


def _community_row(
    community: int, size: int, layers: Sequence[int], counts: Sequence[float], label_names: Sequence[str]
) -> dict[str, Any]:
    total = float(sum(counts))
    top = int(np.argmax(counts)) if len(counts) else 0
    return {
        "community": int(community),
        "size": int(size),
        "layers_spanned": len(set(layers)),
        "first_layer": int(min(layers)),
        "last_layer": int(max(layers)),
        "label_counts": {name: int(c) if float(c).is_integer() else float(c) for name, c in zip(label_names, counts)},
        "dominant_label": label_names[top] if total > 0 else None,
        "purity": float(counts[top]) / total if total > 0 else float("nan"),
    }


def top_by_layer(G, scores: Mapping[str, float], top: int = 3) -> list[dict[str, Any]]:
    """The ``top`` highest-scoring regions of every layer: ``layer, rank, region, score`` rows."""
    by_layer: dict[int, list[tuple[float, str]]] = {}
    for node, score in scores.items():
        by_layer.setdefault(G.nodes[node]["layer"], []).append((-score, node))
    rows = []
    for layer in sorted(by_layer):
        for rank, (neg, node) in enumerate(sorted(by_layer[layer])[:top], start=1):
            rows.append({"layer": layer, "rank": rank, "region": node, "score": -neg})
    return rows


def cross_layer_communities(table: Sequence[Mapping[str, Any]], top: int = 5) -> list[dict[str, Any]]:
    """The ``top`` communities of a table that span the most layers (the table's order)."""
    return rank_communities(table)[:top]


_WARNED: set[str] = set()


def circuits(table: Sequence[Mapping[str, Any]], top: int = 5) -> list[dict[str, Any]]:
    """Old name of :func:`cross_layer_communities` (warns once): communities are not mechanistic circuits."""
    if "circuits" not in _WARNED:
        import warnings

        _WARNED.add("circuits")
        warnings.warn(
            "analysis.circuits is now analysis.cross_layer_communities (modularity communities are "
            "not mechanistic circuits); the old name will go.",
            FutureWarning,
            stacklevel=2,
        )
    return cross_layer_communities(table, top)


def _louvain_labels(U, nodes: Sequence[str], seed: int) -> tuple[np.ndarray, float]:
    import networkx as nx

    parts = nx.community.louvain_communities(U, weight="weight", resolution=1, seed=seed)
    index = {n: i for i, n in enumerate(nodes)}
    labels = np.empty(len(nodes), np.int64)
    for k, part in enumerate(parts):
        labels[[index[n] for n in part]] = k
    return labels, float(nx.community.modularity(U, parts, weight="weight")) if U.size() else float("nan")


def _shuffled_flow_graph(nrag: NRAG, labels: Any, rng: np.random.Generator):
    """The undirected flow graph of ``nrag`` after permuting each layer's region assignments over the texts."""
    import networkx as nx

    all_paths = np.asarray(nrag.paths)
    keep = np.ones(all_paths.shape[0], dtype=np.bool_)
    if labels is not None:
        from .labels import resolve_labels

        keep = np.isin(np.asarray(nrag.text_labels), resolve_labels(nrag.label_names, labels))
    paths = all_paths[keep]
    shuffled = np.stack([rng.permutation(paths[:, layer]) for layer in range(nrag.n_layers)], axis=1)
    n = nrag.n_regions
    pairs, weight = np.unique((shuffled[:, :-1] * n + shuffled[:, 1:]).ravel(), return_counts=True)
    U = nx.Graph()
    U.add_nodes_from(np.unique(shuffled).tolist())
    U.add_weighted_edges_from(zip((pairs // n).tolist(), (pairs % n).tolist(), weight.astype(float).tolist()))
    return U


def community_evidence(
    nrag: NRAG, labels: Any = None, *, n_seeds: int = 10, n_null: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Louvain as a seed ensemble beside a shuffled-texts null (see Definitions).

    Parameters
    ----------
    nrag : NRAG
    labels : str or sequence of str, optional
        The flow graph of these labels (None: all).
    n_seeds : int, default=10
        Louvain runs with seeds ``seed .. seed + n_seeds - 1``; at least 2.
    n_null : int, default=10
        Shuffled flow graphs for the null (0: no null).
    seed : int, default=0

    Returns
    -------
    dict
        ``algorithm`` ("louvain"), ``n_seeds``, ``modularity_mean``,
        ``modularity_sd``, ``mean_pairwise_ami``, ``n_communities`` (per
        seed), ``consensus`` (``{"n_communities", "table"}`` with the table of
        :func:`community_table`, widest first, and ``membership``),
        ``null`` (``{"kind": "shuffled texts", "n", "modularity_mean",
        "modularity_sd", "z"}`` or None without text paths or with ``n_null=0``).
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.metrics import adjusted_mutual_info_score

    if not isinstance(n_seeds, int) or n_seeds < 2:
        raise ValueError(f"n_seeds must be an int >= 2; got {n_seeds!r}.")
    if not isinstance(n_null, int) or n_null < 0:
        raise ValueError(f"n_null must be an int >= 0; got {n_null!r}.")
    G = flow_graph(nrag, labels)
    U = G.to_undirected()
    nodes = list(G)
    runs = [_louvain_labels(U, nodes, seed + k) for k in range(n_seeds)]
    parts = np.stack([r[0] for r in runs])
    modularity = np.array([r[1] for r in runs])
    ami = [adjusted_mutual_info_score(parts[i], parts[j]) for i in range(n_seeds) for j in range(i + 1, n_seeds)]
    together = sum((p[:, None] == p[None, :]).astype(np.int32) for p in parts)
    n_consensus, consensus = connected_components(together * 2 > n_seeds, directed=False)
    membership = dict(zip(nodes, consensus.tolist()))
    out: dict[str, Any] = {
        "algorithm": "louvain",
        "n_seeds": n_seeds,
        "modularity_mean": float(modularity.mean()),
        "modularity_sd": float(modularity.std(ddof=1)),
        "mean_pairwise_ami": float(np.mean(ami)),
        "n_communities": [int(p.max() + 1) for p in parts],
        "consensus": {
            "n_communities": int(n_consensus),
            "table": community_table(G, membership, list(G.graph["label_names"])),
            "membership": membership,
        },
        "null": None,
    }
    if n_null and nrag.paths is not None and nrag.text_labels is not None:
        rng = np.random.default_rng(seed)
        null = []
        for k in range(n_null):
            S = _shuffled_flow_graph(nrag, labels, rng)
            null.append(_louvain_labels(S, list(S), seed + k)[1])
        null_mean, null_sd = float(np.mean(null)), float(np.std(null, ddof=1)) if n_null > 1 else float("nan")
        out["null"] = {
            "kind": "shuffled texts",
            "n": n_null,
            "modularity_mean": null_mean,
            "modularity_sd": null_sd,
            "z": (out["modularity_mean"] - null_mean) / null_sd if null_sd > 0 else float("nan"),
        }
    return out


def analyze_nrag(
    nrag: NRAG, algorithms: Sequence[str] | str | None = None, labels: Any = None, *, top: int = 3, seed: int = 42
) -> dict[str, Any]:
    """Communities and centrality of ``nrag`` (the embedded store's ``analyze``).

    ``algorithms=None`` runs every algorithm but Leiden (see Definitions).

    Returns ``{"labels", "algorithms", "communities": {algo: {"modularity",
    "n_communities", "table", "cross_layer_communities"}}, "centrality": {algo: rows},
    "membership": {algo: {region: community}}}``, as the Neo4j store returns.
    """
    import networkx as nx

    algos = [a for a in ALGORITHMS if a != "leiden"] if algorithms is None else check_algorithms(algorithms)
    if "leiden" in algos:
        raise ValueError(
            "algorithm 'leiden' needs Neo4j GDS (networkx has no Leiden); drop it from --algorithms "
            "or use the Neo4j store (`llm-mri-graphdb neo4j start`)."
        )
    G = flow_graph(nrag, labels)
    names = list(G.graph["label_names"])
    out: dict[str, Any] = {"labels": names, "algorithms": algos, "communities": {}, "centrality": {}, "membership": {}}
    if "louvain" in algos:
        U = G.to_undirected()
        parts = nx.community.louvain_communities(U, weight="weight", resolution=1, seed=seed)
        membership = {node: i for i, part in enumerate(sorted(parts, key=lambda p: min(p))) for node in part}
        table = community_table(G, membership, names)
        out["communities"]["louvain"] = {
            "modularity": float(nx.community.modularity(U, parts, weight="weight")) if U.size() else float("nan"),
            "n_communities": len(parts),
            "table": table,
            "cross_layer_communities": cross_layer_communities(table),
        }
        out["membership"]["louvain"] = membership
    if "pagerank" in algos:
        out["centrality"]["pagerank"] = top_by_layer(G, gds_pagerank(G), top)
    if "betweenness" in algos:
        out["centrality"]["betweenness"] = top_by_layer(G, nx.betweenness_centrality(G, normalized=False), top)
    return out
