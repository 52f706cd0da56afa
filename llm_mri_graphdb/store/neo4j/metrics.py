"""Run metrics computed in Neo4j (no plugin needed), and the Graph Data Science helpers of the store.

Metrics
-------
:func:`run_metrics` reads the run and its graph in one statement,
``cypher/read_run_graph.cypher``: one ``(:LayerColumns)`` a layer, holding
its regions' indices and counts and their outgoing flows packed as bytes
(``total_flows`` for all labels, ``label_flows`` for a selection;
:func:`~llm_mri_graphdb.store.neo4j.columns.layer_columns`).
:func:`read_graph_arrays` checks the labels against the run, keeps the
regions and flows of the selected labels and sums them per pair; those arrays feed
:func:`llm_mri_graphdb.analysis.metrics.metrics_from_arrays`, the same numpy
code the in-process path runs, so both stores give the same numbers by
construction of the formulas; what the parity tests
(``tests/integration/test_gds_metrics.py``, 1e-9) check is the read of the
graph: here the stored columns, in process
:meth:`NRAG.select_labels` and :func:`llm_mri_graphdb.analysis.metrics.metric_arrays`
on the arrays the NRAG was built from. A run written before its layers had
columns is read from its regions and ``:FLOWS_TOTAL`` / ``:FLOWS``
relationships (``read_run_graph_relationships.cypher``, tested to give the
same arrays).

Why not compute in Cypher? The statement this replaced aggregated everything
in the database; its projections collected every region's neighbours'
neighbours and de-duplicated the lists with ``reduce``, quadratic in region
degree: 44 to 65 s on dense runs of 150k edge rows against 2.8 to 4.3 s in
process. The projections' 2-step paths are now a sparse product in numpy
(:func:`llm_mri_graphdb.analysis.metrics.projection_graph`). Why bytes, one row a
layer? Walking the run's relationships cost more than the numpy work (2.4x in
process on the dense shape); one byte string a region still paid a read per
region (2.1x on the sparse shape's 37k regions); one ``(:LayerColumns)`` a
layer is read without boxing a number on the server or unpacking one in the
driver, with the run itself, in one round trip (0.9-1.6x;
``python -m bench.gds``, docs/benchmarks.md). Why not ``gds.degree``? A GDS projection must read the
same relationships and then build an in-memory graph; it alone costs as much
as that walk, and the projections, moments and occupancy would still need
computing. GDS is used where only a graph engine helps: communities and
centrality (:mod:`llm_mri_graphdb.store.neo4j.gds`).

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
from itertools import chain
from typing import Any

import numpy as np
from neo4j.exceptions import ClientError

from llm_mri_graphdb.analysis.metrics import metrics_from_arrays, pair_sums
from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import GRID
from llm_mri_graphdb.store.base import run_not_found
from llm_mri_graphdb.store.neo4j.columns import LABEL_FLOW, REGION_COUNT, REGION_INDEX, TOTAL_FLOW
from llm_mri_graphdb.store.neo4j.runner import CypherRunner, complete_run

__all__ = [
    "gds_version",
    "projection",
    "read_graph_arrays",
    "run_metrics",
    "run_selection",
    "save_metrics",
    "to_gds_config",
]


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
    return (run, *_label_selection(run, labels))


def _label_selection(run: dict[str, Any], labels: Any) -> tuple[list[int], list[str], bool]:
    """The selection's label indices and names in ``run``, and whether it is every label (ValueError if unknown)."""
    label_names = list(run["label_names"])
    idx = resolve_labels(label_names, labels)
    return idx, [label_names[i] for i in idx], sorted(idx) == list(range(len(label_names)))


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


def _columns(row: dict[str, Any], n_labels: int, all_labels: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every region's layer and counts (index order) and every flow record, from either read statement."""
    layout = TOTAL_FLOW if all_labels else LABEL_FLOW
    if "layers" in row:  # read_run_graph: one row of packed columns a layer
        idx = np.frombuffer(b"".join(row["region_idx"]), REGION_INDEX)
        per_layer = [len(b) // REGION_INDEX.itemsize for b in row["region_idx"]]
        layer, counts = np.empty(idx.size, np.int64), np.empty((idx.size, n_labels), np.int64)
        layer[idx] = np.repeat(np.asarray(row["layers"], np.int64), per_layer)
        counts[idx] = np.frombuffer(b"".join(row["region_counts"]), REGION_COUNT).reshape(idx.size, n_labels)
        return layer, counts, np.frombuffer(b"".join(row["flows"]), layout)
    layer = np.asarray(row["region_layer"], np.int64)  # read_run_graph_relationships: lists a region
    counts = np.asarray(row["region_counts"], np.int64).reshape(layer.size, n_labels)
    lengths = np.fromiter(map(len, row["flow_targets"]), np.int64, layer.size)
    flows = np.empty(int(lengths.sum()), layout)
    flows["source"] = np.repeat(np.arange(layer.size), lengths)
    for name in ("target", "label", "weight")[:: 2 if all_labels else 1]:
        flows[name] = np.fromiter(chain.from_iterable(row[f"flow_{name}s"]), flows.dtype[name], flows.size)
    return layer, counts, flows


def read_graph_arrays(
    runner: CypherRunner,
    run_id: str,
    labels: Sequence[str | int] | str | int | None = None,
    *,
    walk_relationships: bool = False,
) -> dict[str, Any]:
    """A stored run and the arrays of its graph for ``labels``, as :func:`metric_arrays` gives them.

    One statement, ``cypher/read_run_graph.cypher``: the run and its
    ``(:LayerColumns)``, each layer's regions (index, counts) and outgoing flows
    packed as bytes (every label, ``labels=None``: its ``:FLOWS_TOTAL``; a
    selection: its ``:FLOWS``; see
    :func:`~llm_mri_graphdb.store.neo4j.columns.layer_columns`). The selection
    is then checked against the run's labels; the regions the selected labels
    occupy are kept (grid runs; every region of a component run), the flows of
    the selected labels kept and summed per pair by :func:`pair_sums`. A run
    written before its layers had columns (no ``layer_columns`` on the run), or
    any run with ``walk_relationships``, is read from its regions and
    relationships by ``read_run_graph_relationships.cypher`` into the same
    arrays.

    Returns ``run`` (the run's properties), ``label_idx`` and ``label_names``
    (the selection), ``all_labels`` (whether it is every label), ``kind``, ``node_layer``, ``node_counts`` (kept regions x
    selected labels), ``edge_source``, ``edge_target`` (positions among the
    kept regions) and ``edge_weight``. Raises RunNotFound for an unknown run
    and ValueError naming the valid labels for an unknown label.
    """
    every = labels is None  # every label: one record per pair already, in (source, target) order
    row = runner.read_row("read_run_graph", run_id=run_id, all_labels=every)
    if row is None:
        complete_run(runner, run_id)  # RunNotFound, unless a publish was under way: then it is read again
        row = runner.read_row("read_run_graph", run_id=run_id, all_labels=every)
    if row is None:
        raise run_not_found(run_id)
    run = row["run"]
    idx, names, all_labels = _label_selection(run, labels)
    if walk_relationships or not run.get("layer_columns"):
        row = runner.read_row("read_run_graph_relationships", run_id=run_id, all_labels=every)
        if row is None:  # deleted since
            raise run_not_found(run_id)
    layer, counts, flows = _columns(row, len(run["label_names"]), every)
    if layer.size != run["n_regions"]:  # regions are never added to a published version
        raise RuntimeError(f"run {run_id} holds {layer.size} regions, not its n_regions {run['n_regions']}.")
    counts = counts[:, idx].astype(np.float64)
    kept = counts.sum(axis=1) > 0 if run["kind"] == GRID else np.ones(layer.size, bool)
    if not every:
        flows = flows[np.isin(flows["label"], idx)]
    position = np.cumsum(kept) - 1  # a region's node among the kept ones
    source, target = position[flows["source"]], position[flows["target"]]
    weight = flows["weight"].astype(np.float64)
    if not every:
        source, target, weight = pair_sums(int(kept.sum()), source, target, weight)
    return {
        "run": run,
        "label_idx": idx,
        "label_names": names,
        "all_labels": all_labels,
        "kind": run["kind"],
        "node_layer": layer[kept],
        "node_counts": counts[kept],
        "edge_source": source,
        "edge_target": target,
        "edge_weight": weight,
    }


def run_metrics(
    runner: CypherRunner,
    run_id: str,
    labels: Sequence[str | int] | str | int | None = None,
    *,
    save: bool = False,
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
    needs no GDS plugin (one Cypher statement, :func:`read_graph_arrays`).
    """
    graph = read_graph_arrays(runner, run_id, labels)
    run, names = graph["run"], graph["label_names"]
    result = metrics_from_arrays(
        run["n_layers"],
        graph["node_layer"],
        graph["edge_source"],
        graph["edge_target"],
        graph["edge_weight"],
        label_names=names,
        node_counts=graph["node_counts"] if graph["kind"] == GRID else None,
    )
    if save:
        save_metrics(runner, run, names, result, graph["all_labels"])
    return result
