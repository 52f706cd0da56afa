"""Run metrics computed in Neo4j (no plugin needed), and the Graph Data Science helpers of the store.

Metrics
-------
:func:`run_metrics` sends one read statement, ``cypher/read_run_graph.cypher``,
that walks the run's relationships once and returns flat arrays: the kept
regions (canonical index, layer, counts of the selected labels) and one entry
per (source, target) region pair with the selected labels' weights summed in
the database (a grouping aggregation; the stored ``:FLOWS_TOTAL`` for all
labels). Those arrays feed :func:`llm_mri_graphdb.analysis.metrics.metrics_from_arrays`,
the same numpy code the in-process path runs, so both stores give the same
numbers by construction of the formulas; what the parity tests
(``tests/integration/test_gds_metrics.py``, 1e-9) check is the read of the
graph, which differs: here Cypher selects the regions by their stored counts,
filters ``:FLOWS`` by label and sums them per pair; in process
:meth:`NRAG.select_labels` and :func:`llm_mri_graphdb.analysis.metrics.metric_arrays`
do it with numpy on the arrays the NRAG was built from.

Why not compute in Cypher? The statement this replaced aggregated everything
in the database; its projections collected every region's neighbours'
neighbours and de-duplicated the lists with ``reduce``, quadratic in region
degree: 44 to 65 s on dense runs of 150k edge rows against 2.8 to 4.3 s in
process. Work per relationship is now one read; the projections' 2-step paths
are a sparse product in numpy (:func:`llm_mri_graphdb.analysis.metrics.projection_graph`).
Why not ``gds.degree``? A GDS projection must read the same relationships
and then build an in-memory graph; it alone costs as much as this read, and
the projections, moments and occupancy would still need computing.
``python -m bench.gds`` measures both shapes (docs/benchmarks.md).
GDS is used where only a graph engine helps: communities and centrality
(:mod:`llm_mri_graphdb.store.neo4j.gds`).

Why not the ``graphdatascience`` client? Every statement here is a named file
in ``cypher/`` run through :class:`~llm_mri_graphdb.store.neo4j.runner.CypherRunner`
(the role of the client's ``QueryRunner``); the client would add pyarrow,
pydantic, requests and two seconds of import time to wrap four ``CALL``
lines, and builds projection queries as Python strings.

Nothing here writes unless ``save=True``: then the metric set is merged on the
run as a ``(:MetricSet)`` and, for all labels, ``degree``/``strength`` are set
on its regions by a statement that computes them in the database.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from neo4j.exceptions import ClientError

from llm_mri_graphdb.analysis.metrics import metrics_from_arrays
from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import GRID
from llm_mri_graphdb.store.neo4j.runner import CypherRunner, complete_run

__all__ = ["gds_version", "projection", "run_metrics", "run_selection", "save_metrics", "to_gds_config"]


def to_gds_config(**kwargs: Any) -> dict[str, Any]:
    """GDS config from Python keywords: drop ``None``, camelCase the keys.

    >>> to_gds_config(orientation="UNDIRECTED", relationship_weight_property=None)
    {'orientation': 'UNDIRECTED'}
    """
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in kwargs.items() if v is not None}


def gds_version(runner: CypherRunner, uri: str = "the database") -> str:
    """The server's GDS version; :class:`~llm_mri_graphdb.errors.GDSNotInstalled` when it has none."""
    try:
        return runner.read("read_gds_version")[0]["version"]
    except ClientError as exc:
        if "gds.version" not in (exc.message or "") and "Unknown function" not in (exc.message or ""):
            raise
        raise GDSNotInstalled(
            f"Neo4j at {uri} has no Graph Data Science plugin; install GDS 2.13 "
            "(`llm-mri-graphdb neo4j start` bundles it)."
        ) from exc


@contextmanager
def projection(runner: CypherRunner, query: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Project with the named Cypher aggregation query; the graph is dropped on exit.

    Projecting and dropping change only the GDS catalog (memory), never the stored graph, so
    both run as read transactions (GDS declares them read-only).
    """
    graph_name = f"nrag-{uuid.uuid4().hex}"
    try:
        yield runner.read(query, graph_name=graph_name, **params)[0]
    finally:
        runner.read("delete_projection", graph_name=graph_name)


def run_selection(
    runner: CypherRunner,
    run_id: str,
    labels: Sequence[str] | str | None,
    *,
    gds: bool = False,
    uri: str = "the database",
) -> tuple[dict[str, Any], list[int], list[str], bool]:
    """The complete run, the label selection's indices and names, and whether it is every label.

    Raises RunNotFound, GDSNotInstalled (only with ``gds=True``: the caller runs GDS algorithms), and
    ValueError naming the valid labels.
    """
    run = complete_run(runner, run_id)
    if gds:
        gds_version(runner, uri)
    label_names = list(run["label_names"])
    idx = resolve_labels(label_names, labels)
    return run, idx, [label_names[i] for i in idx], sorted(idx) == list(range(len(label_names)))


def save_metrics(
    runner: CypherRunner, run: dict[str, Any], names: list[str], result: dict[str, Any], all_labels: bool
) -> None:
    """Merge ``result`` on the run as a ``(:MetricSet)``; for all labels also set region degree/strength."""
    props: dict[str, Any] = {
        k: v
        for k, v in result.items()
        if isinstance(v, (int, float)) or (isinstance(v, list) and v and all(isinstance(x, float) for x in v))
    }
    props["metrics_json"] = json.dumps(result, sort_keys=True)  # nan -> NaN, read back by json.loads
    key = f"{run['version']}|{json.dumps(names)}"
    runner.write("merge_metric_set", run_id=run["id"], key=key, labels=names, props=props)
    if all_labels:
        runner.write("update_region_metrics", run_id=run["id"])


def run_metrics(
    runner: CypherRunner,
    run_id: str,
    labels: Sequence[str] | str | None = None,
    *,
    save: bool = False,
    uri: str = "the database",
) -> dict[str, Any]:
    """Metrics of ``run_id`` for ``labels`` (None = all), equal to ``compute_metrics`` of the stored NRAG.

    Parameters
    ----------
    runner : CypherRunner
    run_id : str
    labels : str or sequence of str, optional
        Label names; None selects every label.
    save : bool, default=False
        Merge the result on the run (:func:`save_metrics`); otherwise only
        read statements are sent.

    Raises RunNotFound for an unknown run and ValueError naming the valid labels for an unknown one;
    needs no GDS plugin (one Cypher statement).
    """
    run, idx, names, all_labels = run_selection(runner, run_id, labels, uri=uri)
    row = runner.read_row("read_run_graph", run_id=run_id, label_idx=list(idx), all_labels=all_labels)
    region_idx = np.asarray(row["region_idx"], np.int64)  # kept regions, ascending: node i is region_idx[i]
    source = np.searchsorted(region_idx, np.asarray(row["edge_source"], np.int64))
    target = np.searchsorted(region_idx, np.asarray(row["edge_target"], np.int64))
    counts = np.asarray(row["region_counts"], np.float64).reshape(region_idx.shape[0], len(names))
    result = metrics_from_arrays(
        run["n_layers"],
        np.asarray(row["region_layer"], np.int64),
        source,
        target,
        np.asarray(row["edge_weight"], np.float64),
        label_names=names,
        node_counts=counts if row["kind"] == GRID else None,
    )
    if save:
        save_metrics(runner, run, names, result, all_labels)
    return result
