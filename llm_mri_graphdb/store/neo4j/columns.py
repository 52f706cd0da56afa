"""The run's graph as packed columns, one ``(:LayerColumns)`` a layer: what ``store.metrics`` reads.

Pure functions of an :class:`~llm_mri_graphdb.nrag.NRAG` (no driver), like
:mod:`~llm_mri_graphdb.store.neo4j.records`: each layer's regions (index,
counts per label) and outgoing flows (``:FLOWS_TOTAL`` and ``:FLOWS`` once
more) as little-endian arrays without a header, written in the run's staging
version by ``cypher/create_layer_columns.cypher`` and read back in one row a
layer by ``cypher/read_run_graph.cypher``
(:func:`llm_mri_graphdb.store.neo4j.metrics.read_graph_arrays`). The record
layouts are the dtypes below; ``cypher/README.md`` documents them for readers
outside Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store.neo4j.records import edge_pairs

__all__ = [
    "REGION_INDEX",
    "REGION_COUNT",
    "TOTAL_FLOW",
    "LABEL_FLOW",
    "layer_columns",
    "layer_column_batches",
    "layer_columns_check",
]

REGION_INDEX = np.dtype("<i4")
"""One entry of a layer's ``region_idx``: a region's position in the run's canonical order."""
REGION_COUNT = np.dtype("<i4")
"""One entry of a layer's ``region_counts``: texts of one label in one region."""
TOTAL_FLOW = np.dtype([("source", "<i4"), ("target", "<i4"), ("weight", "<f8")])
"""One record of a layer's ``total_flows``: a ``:FLOWS_TOTAL`` (source and target region idx, weight)."""
LABEL_FLOW = np.dtype([("source", "<i4"), ("target", "<i4"), ("label", "<i4"), ("weight", "<f8")])
"""One record of a layer's ``label_flows``: a ``:FLOWS`` (source, target, label index, weight)."""


def layer_columns(nrag: NRAG) -> list[list[Any]]:
    """``[layer, region_idx, region_counts, total_flows, label_flows]`` per layer: the run's graph as bytes.

    Each layer's regions and outgoing flows packed as little-endian arrays
    without a header, what ``read_run_graph`` reads in one row a layer
    instead of one a region or a relationship walk: ``region_idx``
    (:data:`REGION_INDEX`, ascending) and ``region_counts`` (:data:`REGION_COUNT`,
    one row of ``n_labels`` per region), ``total_flows`` (:data:`TOTAL_FLOW`,
    the ``:FLOWS_TOTAL`` from the layer by source then target) and
    ``label_flows`` (:data:`LABEL_FLOW`, the ``:FLOWS`` by source, target,
    label). The last layer's flows are empty.

    >>> from llm_mri_graphdb.nrag import NRAG
    >>> g = NRAG("grid", 2, ("a", "b"), [0, 1, 1], [0, 0, 1], [0, 0, 0], [[1, 1], [1, 0], [0, 1]],
    ...          [0, 0], [1, 2], [0, 1], [1.0, 1.0])
    >>> first, last = layer_columns(g)
    >>> np.frombuffer(first[3], TOTAL_FLOW).tolist(), np.frombuffer(last[1], REGION_INDEX).tolist(), last[3]
    ([(0, 1, 1.0), (0, 2, 1.0)], [1, 2], b'')
    >>> np.frombuffer(first[4], LABEL_FLOW)["label"].tolist()
    [0, 1]
    """
    if nrag.n_regions > np.iinfo(np.int32).max or (nrag.region_counts.size and nrag.region_counts.max() >= 2**31):
        raise ValueError("a run of 2**31 regions or texts in one region does not fit the stored int32 columns.")
    src, tgt, lab, weight, starts = edge_pairs(nrag)  # by (source layer, source, target, label)
    total = np.empty(starts.size, TOTAL_FLOW)
    total["source"], total["target"] = src[starts], tgt[starts]
    total["weight"] = np.add.reduceat(weight, starts) if starts.size else weight
    label = np.empty(src.size, LABEL_FLOW)
    label["source"], label["target"], label["label"], label["weight"] = src, tgt, lab, weight
    by_layer = np.argsort(nrag.region_layer, kind="stable")  # canonical order keeps layers contiguous already
    bounds = np.arange(nrag.n_layers + 1)  # a layer's rows lie between the bounds of it and the next
    regions = np.searchsorted(nrag.region_layer[by_layer], bounds)
    totals = np.searchsorted(nrag.region_layer[total["source"]], bounds)
    labels = np.searchsorted(nrag.region_layer[src], bounds)
    counts = nrag.region_counts.astype(REGION_COUNT)
    rows: list[list[Any]] = []
    for layer in range(nrag.n_layers):
        idx = by_layer[regions[layer] : regions[layer + 1]]
        rows.append(
            [
                layer,
                idx.astype(REGION_INDEX).tobytes(),
                counts[idx].tobytes(),
                total[totals[layer] : totals[layer + 1]].tobytes(),
                label[labels[layer] : labels[layer + 1]].tobytes(),
            ]
        )
    return rows


def layer_column_batches(nrag: NRAG, size: int) -> list[list[list[Any]]]:
    """:func:`layer_columns` rows in batches of whole layers, each of about ``size`` label flows or fewer.

    >>> from llm_mri_graphdb.nrag import NRAG
    >>> g = NRAG("grid", 3, ("a",), [0, 1, 2], [0, 0, 0], [0, 0, 0], [[1], [1], [1]], [0, 1], [1, 2], [0, 0], [1., 1.])
    >>> [[row[0] for row in batch] for batch in layer_column_batches(g, 1)]
    [[0], [1, 2]]
    """
    batches: list[list[list[Any]]] = [[]]
    records = 0
    for row in layer_columns(nrag):
        records += len(row[4]) // LABEL_FLOW.itemsize
        if batches[-1] and records > size:
            batches.append([])
            records = len(row[4]) // LABEL_FLOW.itemsize
        batches[-1].append(row)
    return batches


def layer_columns_check(params: dict[str, Any], counters: Any) -> None:
    """RuntimeError unless a batch of layer columns created all its nodes or none (a retried batch)."""
    if counters.nodes_created not in (0, len(params["rows"])):
        raise RuntimeError(f"a layer-columns batch created {counters.nodes_created} of {len(params['rows'])} nodes.")
