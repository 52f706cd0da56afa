"""Run metrics with Neo4j Graph Data Science: degree and strength from ``gds.degree``.

A run (or the edges of a label selection) is projected with a Cypher
aggregation, weights summed over the selected labels per (source, target)
pair (split into positive and negative parts, since GDS skips negative
weights and N-D weights are signed correlations). ``gds.degree.stream`` gives in+out degree (``UNDIRECTED``), strength
(``UNDIRECTED``, weighted) and the out/in strengths (``NATURAL``/``REVERSE``,
weighted) that degree assortativity needs; the projected relationships come
back from ``gds.graph.relationshipProperty.stream``. The formulas that are not
graph algorithms (moments, density, centres, projections, occupancy entropy,
divergence, purity, transition entropy) are :mod:`llm_mri_graphdb.metrics`'
own functions fed with those GDS results and the stored counts, so both paths
agree to rounding. Results are saved on the run as a ``(:MetricSet)`` and, for
all labels, as ``degree``/``strength`` on every ``(:Region)``.
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

from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.metrics import degree_assortativity, metrics_from_arrays
from llm_mri_graphdb.nrag import GRID, resolve_labels
from llm_mri_graphdb.store import cypher

from llm_mri_graphdb.store.runner import CypherRunner, complete_run

__all__ = ["to_gds_config", "projection", "degree_stream", "relationship_stream", "run_metrics", "gds_version"]


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
        raise GDSNotInstalled(f"Neo4j at {uri} has no Graph Data Science plugin; install GDS 2.13 "
                              "(`llm-mri-graphdb neo4j start` bundles it).") from exc


@contextmanager
def projection(runner: CypherRunner, query: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Project with the named Cypher aggregation query; the graph is dropped on exit."""
    graph_name = f"nrag-{uuid.uuid4().hex}"
    try:
        yield runner.write(query, graph_name=graph_name, **params)[0]
    finally:
        runner.write("delete_projection", graph_name=graph_name)


def degree_stream(runner: CypherRunner, graph_name: str, n: int, position: np.ndarray, *, orientation: str,
                  relationship_weight_property: str | None = None) -> np.ndarray:
    """``gds.degree.stream`` as an array of shape (n,), rows placed by ``position[idx]``."""
    config = to_gds_config(orientation=orientation, relationship_weight_property=relationship_weight_property)
    cols = runner.read("stream_degree", graph_name=graph_name, config=config)[0]
    out = np.zeros(n)
    out[position[np.array(cols["idx"], np.int64)]] = cols["score"]
    return out


def relationship_stream(runner: CypherRunner, graph_name: str) -> np.ndarray:
    """The projected relationships, shape (n_edges, 3): source idx, target idx, weight."""
    cols = runner.read("stream_relationships", graph_name=graph_name)[0]
    return np.array([cols["s"], cols["t"], cols["weight"]], dtype=np.float64).reshape(3, -1).T


def _json_safe(metrics: dict[str, Any]) -> str:
    return json.dumps(metrics, sort_keys=True)  # nan -> NaN, read back by json.loads


def _save(runner: CypherRunner, run: dict[str, Any], names: list[str], result: dict[str, Any],
          uids: list[str], degree: np.ndarray, strength: np.ndarray, all_labels: bool, batch_size: int) -> None:
    props = {k: v for k, v in result.items()
             if isinstance(v, (int, float)) or (isinstance(v, list) and v and all(isinstance(x, float) for x in v))}
    props["metrics_json"] = _json_safe(result)
    key = f"{run['version']}|{json.dumps(names)}"
    runner.write("merge_metric_set", run_id=run["id"], key=key, labels=names, props=props)
    if all_labels:
        rows = [[u, d, s] for u, d, s in zip(uids, degree.tolist(), strength.tolist())]
        runner.write_batches("update_region_metrics",
                             [{"rows": rows[start:start + batch_size]} for start in range(0, len(rows), batch_size)])


def run_metrics(runner: CypherRunner, run_id: str, labels: Sequence[str] | str | None = None, *,
                uri: str = "the database", batch_size: int = 10_000) -> dict[str, Any]:
    """Metrics of ``run_id`` for ``labels`` (None = all), equal to ``compute_metrics`` of the stored NRAG.

    Raises RunNotFound for an unknown run, GDSNotInstalled without GDS, and
    ValueError naming the valid labels for an unknown one.
    """
    run = complete_run(runner, run_id)
    gds_version(runner, uri)
    label_names = list(run["label_names"])
    idx = resolve_labels(label_names, labels)
    names = [label_names[i] for i in idx]
    all_labels = sorted(idx) == list(range(len(label_names)))
    regions = runner.read("read_region_counts", run_id=run_id)[0]
    layer = np.array(regions["layer"], dtype=np.int64)
    counts = np.array(regions["counts"], dtype=np.int64).reshape(-1, len(label_names))[:, idx]
    keep = counts.sum(axis=1) > 0 if run["kind"] == GRID else np.ones(layer.shape[0], bool)
    position = np.cumsum(keep) - 1  # canonical index -> index among the kept regions
    uids = [u for u, k in zip(regions["uid"], keep.tolist()) if k]
    layer, counts = layer[keep], counts[keep]
    n = len(uids)
    degree = strength = out_s = in_s = np.zeros(n)
    src = tgt = np.zeros(0, np.int64)
    weight = np.zeros(0)
    if n:
        query, extra = ("project_run_total", {}) if all_labels else ("project_run_labels", {"label_idx": idx})
        with projection(runner, query, run_id=run_id, **extra) as graph:
            g = graph["graph_name"]

            def scores(orientation: str, weight: str | None) -> np.ndarray:
                return degree_stream(runner, g, n, position, orientation=orientation,
                                     relationship_weight_property=weight)

            def signed(orientation: str) -> np.ndarray:  # GDS skips negative weights
                return scores(orientation, "positive") - scores(orientation, "negative")

            degree, strength = scores("UNDIRECTED", None), signed("UNDIRECTED")
            out_s, in_s = signed("NATURAL"), signed("REVERSE")
            rels = relationship_stream(runner, g)
        src, tgt = position[rels[:, 0].astype(np.int64)], position[rels[:, 1].astype(np.int64)]
        order = np.lexsort((tgt, src))
        src, tgt, weight = src[order], tgt[order], rels[order, 2]
    result = metrics_from_arrays(
        run["n_layers"], layer, src, tgt, weight, label_names=names,
        node_counts=counts if run["kind"] == GRID else None, degree=degree, strength=strength,
    )
    result["assortativity"] = degree_assortativity(src, tgt, out_s, in_s)
    _save(runner, run, names, result, uids, degree, strength, all_labels, batch_size)
    return result
