"""Communities and centrality of a stored run with Neo4j Graph Data Science.

The run's flow graph (definitions in :mod:`llm_mri_graphdb.analysis`) is
projected with a Cypher aggregation (``project_run_total`` or
``project_run_labels``): undirected for Louvain and Leiden, directed for
PageRank and betweenness. Each algorithm runs in ``mutate`` mode, so its
result lives in the projection only; the community table and the top regions
per layer are aggregated from the projection inside the database
(``stream_communities``, ``stream_top_by_layer``), so only one row per
community, ``top`` rows per layer and one community id per region
(``stream_membership``, for the report's figure) come back. Projections are dropped on
exit. Every statement is read-only unless ``save=True``: then the properties
are written onto the regions (``community_louvain``, ``community_leiden``,
``pagerank``, ``betweenness``; all-label analyses only) and the summary is
merged on the run as an ``(:AnalysisSet)``.

GDS settings: Louvain and Leiden run with ``concurrency: 1`` (Leiden with
``randomSeed``), so a result is reproducible; PageRank runs until no score
moves by more than ``1e-12`` (an NRAG is a DAG, so it reaches the fixed point
after ``n_layers`` iterations; GDS's default of 20 would stop early on deeper
models).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llm_mri_graphdb.analysis.communities import check_algorithms, cross_layer_communities, rank_communities
from llm_mri_graphdb.store.neo4j.metrics import projection, run_selection, to_gds_config
from llm_mri_graphdb.store.neo4j.runner import CypherRunner

__all__ = ["run_analysis", "REGION_PROPERTIES"]

REGION_PROPERTIES = {
    "louvain": "community_louvain",
    "leiden": "community_leiden",
    "pagerank": "pagerank",
    "betweenness": "betweenness",
}
_WEIGHT = "weight"


def _community_rows(runner: CypherRunner, graph: str, prop: str, idx: list[int], names: list[str]) -> list[dict]:
    rows = []
    for r in runner.read("stream_communities", graph_name=graph, property=prop, label_idx=idx):
        counts = r["label_counts"]
        total = sum(counts)
        top = max(range(len(counts)), key=lambda i: (counts[i], -i)) if counts else 0
        rows.append(
            {
                "community": r["community"],
                "size": r["size"],
                "layers_spanned": r["layers_spanned"],
                "first_layer": r["first_layer"],
                "last_layer": r["last_layer"],
                "label_counts": dict(zip(names, counts)),
                "dominant_label": names[top] if total > 0 else None,
                "purity": counts[top] / total if total > 0 else float("nan"),
            }
        )
    return rank_communities(rows)


def run_analysis(
    runner: CypherRunner,
    run_id: str,
    algorithms: Sequence[str] | str | None = None,
    labels: Sequence[str] | str | None = None,
    *,
    save: bool = False,
    top: int = 3,
    seed: int = 42,
    uri: str = "the database",
) -> dict[str, Any]:
    """Communities and centrality of ``run_id`` (same result shape as the embedded store's).

    Parameters
    ----------
    runner : CypherRunner
    run_id : str
    algorithms : str or sequence of str, optional
        Among ``louvain``, ``leiden``, ``pagerank``, ``betweenness`` (None = all).
    labels : str or sequence of str, optional
        Label names; None analyses all labels.
    save : bool, default=False
        Write region properties (all labels only) and the run summary.
    top : int, default=3
        Regions per layer in the centrality tables.
    seed : int, default=42
        Leiden's ``randomSeed``.

    Returns
    -------
    dict
        ``{"labels", "algorithms", "communities": {algo: {"modularity",
        "n_communities", "table", "cross_layer_communities"}}, "centrality": {algo: rows},
        "membership": {algo: {region: community}}}``.
    """
    algos = check_algorithms(algorithms)
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be an int >= 1; got {top!r}.")
    run, idx, names, all_labels = run_selection(runner, run_id, labels, gds=True, uri=uri)
    query, extra = ("project_run_total", {}) if all_labels else ("project_run_labels", {"label_idx": idx})
    out: dict[str, Any] = {"labels": names, "algorithms": algos, "communities": {}, "centrality": {}, "membership": {}}
    community_algos = [a for a in algos if a in ("louvain", "leiden")]
    centrality_algos = [a for a in algos if a in ("pagerank", "betweenness")]
    for algos_here, undirected in ((community_algos, True), (centrality_algos, False)):
        if not algos_here:
            continue
        with projection(runner, query, run_id=run_id, undirected=undirected, **extra) as graph:
            g = graph["graph_name"]
            for algo in algos_here:
                prop = REGION_PROPERTIES[algo]
                if algo in ("louvain", "leiden"):
                    config = to_gds_config(
                        mutate_property=prop,
                        relationship_weight_property=_WEIGHT,
                        concurrency=1,
                        random_seed=seed if algo == "leiden" else None,
                    )
                    summary = runner.read(f"mutate_{algo}", graph_name=g, config=config)[0]
                    table = _community_rows(runner, g, prop, idx, names)
                    out["communities"][algo] = {
                        "modularity": float(summary["modularity"]),
                        "n_communities": int(summary["n_communities"]),
                        "table": table,
                        "cross_layer_communities": cross_layer_communities(table),
                    }
                    columns = runner.read("stream_membership", graph_name=g, property=prop)[0]
                    out["membership"][algo] = dict(zip(columns["region"], columns["community"]))
                else:
                    config = to_gds_config(
                        mutate_property=prop,
                        concurrency=1,
                        relationship_weight_property=_WEIGHT if algo == "pagerank" else None,
                        max_iterations=max(100, 4 * run["n_layers"]) if algo == "pagerank" else None,
                        tolerance=1e-12 if algo == "pagerank" else None,
                    )
                    runner.read(f"mutate_{algo}", graph_name=g, config=config)
                    out["centrality"][algo] = runner.read("stream_top_by_layer", graph_name=g, property=prop, top=top)
            if save and all_labels:
                runner.write(
                    "write_region_properties", graph_name=g, properties=[REGION_PROPERTIES[a] for a in algos_here]
                )
    if save:
        props = {
            f"{a}_{k}": v
            for a, c in out["communities"].items()
            for k, v in c.items()
            if k in ("modularity", "n_communities")
        }
        props["algorithms"] = algos
        props["analysis_json"] = json.dumps({k: v for k, v in out.items() if k != "membership"}, sort_keys=True)
        runner.write(
            "merge_analysis_set", run_id=run_id, key=f"{run['version']}|{json.dumps(names)}", labels=names, props=props
        )
    return out
