"""Analysis of NRAGs: metrics with intervals (``metrics``), communities and centrality (``communities``),
layer alignment (``alignment``, ``mutual_info``) and linear probes (``probe``).

The names of the former flat module ``llm_mri_graphdb.analysis`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "ALGORITHMS": "communities",
    "COMMUNITY_ALGORITHMS": "communities",
    "CENTRALITY_ALGORITHMS": "communities",
    "check_algorithms": "communities",
    "flow_graph": "communities",
    "gds_pagerank": "communities",
    "community_table": "communities",
    "rank_communities": "communities",
    "top_by_layer": "communities",
    "circuits": "communities",
    "cross_layer_communities": "communities",
    "community_evidence": "communities",
    "analyze_nrag": "communities",
}
__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
