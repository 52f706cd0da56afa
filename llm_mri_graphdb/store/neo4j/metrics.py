"""Run metrics computed in Neo4j, and the Graph Data Science helpers of the store.

Metrics
-------
:func:`run_metrics` sends one statement, ``cypher/read_run_metrics.cypher``,
that computes every graph metric of :mod:`llm_mri_graphdb.analysis.metrics` inside the
database and returns one row of scalars and per-layer lists: the node count,
edge count, degree and strength means with their centred power sums, the
sums of the edge-level Pearson correlation (assortativity), the centre sums,
per-layer degree and transition-entropy figures, both collaboration-weighted
projections and the per-layer occupancy figures. Nothing per relationship or
per region comes back. This module only turns those sums into the published
numbers (pandas' sample variance, adjusted skew and excess kurtosis), so the
two paths share no formula code; ``tests/integration/test_gds_metrics.py``
checks them equal to 1e-9 and against hand-computed values.

Two values need no data: ``center_of_strength_llm_mri`` is always nan (its
sum runs over layer ``n_layers``, which has no regions), and the projections'
``average_clustering`` is 0 (nan without nodes): NRAG edges join neighbouring
layers, so projected edges join layers two apart and the projection has no
triangle (levels ``layer // 2`` 2-colour it).

Why not ``gds.degree``? A GDS projection of the run must first aggregate
every relationship (the same pass this statement makes) and then build the
in-memory graph; on the ``bench.gds`` run (37,117 regions, 130,914 flows) the
projection alone takes as long as the whole in-process computation or longer
(0.48 s against 0.45 s, and 1.65 s against 1.01 s on a busier machine), and
the moments, assortativity and projections would still need Cypher. What
bounds this statement is the same: on Neo4j Community (slotted runtime)
reading the run's relationships once takes 0.45 to 0.7 s of server CPU, 1.5
to 2 times numpy's whole computation (0.27 to 0.4 s), and the list arithmetic
over every region costs about as much again. Measured with ``python -m
bench.gds`` on a shared 2-core machine: all labels 3.7 to 7 times the
in-process time, one label 5.3 to 11 times. GDS is used where only a graph
engine helps: communities and centrality
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
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neo4j.exceptions import ClientError

from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import GRID
from llm_mri_graphdb.store.neo4j.runner import CypherRunner, complete_run

__all__ = ["to_gds_config", "projection", "gds_version", "run_selection", "run_metrics", "save_metrics", "moments", "pearson"]

_NAN = float("nan")
_PROJ_KEYS = ("mean_degree", "var_degree", "mean_strength", "var_strength", "average_clustering",
              "assortativity", "density")


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
    """Project with the named Cypher aggregation query; the graph is dropped on exit.

    Projecting and dropping change only the GDS catalog (memory), never the stored graph, so
    both run as read transactions (GDS declares them read-only).
    """
    graph_name = f"nrag-{uuid.uuid4().hex}"
    try:
        yield runner.read(query, graph_name=graph_name, **params)[0]
    finally:
        runner.read("delete_projection", graph_name=graph_name)


def _f(value: Any) -> float:
    return _NAN if value is None else float(value)


def moments(n: int, mean: float | None, d2: float, d3: float | None = None,
            d4: float | None = None) -> tuple[float, float, float, float]:
    """pandas' ``mean``, ``var`` (ddof=1), ``skew`` and ``kurt`` from centred power sums.

    ``d2``, ``d3``, ``d4`` are the sums of ``(x - mean) ** k`` over the ``n``
    values. Skew is ``sqrt(n (n - 1)) / (n - 2) * m3 / m2 ** 1.5`` with
    ``mk = dk / n`` (nan for n < 3); kurtosis is ``n (n + 1) (n - 1) d4 /
    ((n - 2) (n - 3) d2 ** 2) - 3 (n - 1) ** 2 / ((n - 2) (n - 3))`` (nan for
    n < 4); both nan when the values are constant, as pandas 3 returns.

    >>> [round(v, 12) for v in moments(4, 2.5, 5.0, 0.0, 10.25)]  # x = 1, 2, 3, 4
    [2.5, 1.666666666667, 0.0, -1.2]
    """
    if n == 0 or mean is None:
        return _NAN, _NAN, _NAN, _NAN
    var = d2 / (n - 1) if n > 1 else _NAN
    skew = kurt = _NAN
    if d2 > 0 and d3 is not None and n >= 3:
        skew = math.sqrt(n * (n - 1)) / (n - 2) * (d3 / n) / (d2 / n) ** 1.5
    if d2 > 0 and d4 is not None and n >= 4:
        kurt = n * (n + 1) * (n - 1) * d4 / ((n - 2) * (n - 3) * d2 ** 2) - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
    return float(mean), float(var), float(skew), float(kurt)


def pearson(sums: dict[str, float | None], n_edges: int) -> float:
    """Pearson correlation from centred sums ``sxy``, ``sxx``, ``syy``; nan without edges or variance."""
    sxy, sxx, syy = sums["sxy"], sums["sxx"], sums["syy"]
    if n_edges == 0 or sxy is None or not sxx or not syy or sxx * syy <= 0:
        return _NAN
    return float(sxy / math.sqrt(sxx * syy))


def _density(n: int, n_edges: int) -> float:
    return 0.0 if n <= 1 else n_edges / (n * (n - 1))


def _metrics_from_row(row: dict[str, Any], n_layers: int, names: list[str], grid: bool) -> dict[str, Any]:
    g = row["graph"]
    n, n_edges = int(g["n"]), int(g["n_edges"])
    out: dict[str, Any] = {"n_regions": n, "n_edges": n_edges, "n_layers": int(n_layers), "label_names": names}
    for name in ("degree", "strength"):
        d = g[name]
        mean, var, skew, kurt = moments(n, d["mean"], d["d2"], d["d3"], d["d4"])
        out.update({f"mean_{name}": mean, f"var_{name}": var, f"skew_{name}": skew, f"kurt_{name}": kurt})
    out["assortativity"] = pearson(g["assortativity"], n_edges)
    out["density"] = _density(n, n_edges)
    out["center_of_mass"] = g["mass"] / n if n else _NAN
    out["center_of_strength"] = g["strength_moment"] / g["strength_total"] if g["strength_total"] != 0 else _NAN
    out["center_of_strength_llm_mri"] = _NAN  # sums over layer n_layers, which never has regions
    layers = row["layers"][:n_layers]
    out["degree_mean_by_layer"] = [_f(r["mean"]) for r in layers]
    out["degree_var_by_layer"] = [r["d2"] / (r["n"] - 1) if r["n"] > 1 else _NAN for r in layers]
    for side, p in zip(("even", "odd"), row["projections"]):
        pn, pe = int(p["n"]), int(p["n_edges"])
        values = {"mean_degree": _f(p["degree"]["mean"]),
                  "var_degree": moments(pn, p["degree"]["mean"], p["degree"]["d2"])[1],
                  "mean_strength": _f(p["strength"]["mean"]),
                  "var_strength": moments(pn, p["strength"]["mean"], p["strength"]["d2"])[1],
                  "average_clustering": 0.0 if pn else _NAN,  # triangle-free: see the module docstring
                  "assortativity": pearson(p["assortativity"], pe), "density": _density(pn, pe)}
        out.update({f"projection_{side}_{k}": values[k] for k in _PROJ_KEYS})
    pairs = [f"{names[a]}|{names[b]}" for a, b in row["pairs"]]
    occupancy = row["occupancy"][:n_layers]
    if grid:
        entropy = [_f(o["entropy"]) for o in occupancy]
        js = {key: [_f(o["js"][k]) for o in occupancy] for k, key in enumerate(pairs)}
        transition = [_f(r["transition_entropy"]) for r in layers[:max(n_layers - 1, 0)]]
        purity_layer = [_f(o["purity"]) for o in occupancy]
        purity = row["grand_top"] / row["grand_total"] if row["grand_total"] > 0 else _NAN
    else:
        entropy = purity_layer = [_NAN] * n_layers
        js = {key: [_NAN] * n_layers for key in pairs}
        transition, purity = [_NAN] * max(n_layers - 1, 0), _NAN
    out.update({
        "occupancy_entropy_by_layer": entropy, "occupancy_entropy_mean": _mean(entropy),
        "js_divergence_by_layer": js, "js_divergence_mean": {k: _mean(v) for k, v in js.items()},
        "purity": float(purity), "purity_by_layer": list(purity_layer),
        "transition_entropy_by_layer": transition, "transition_entropy_mean": _mean(transition),
    })
    return out


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values)) if values else _NAN  # nan propagates, as np.mean


def run_selection(runner: CypherRunner, run_id: str, labels: Sequence[str] | str | None, *,
                  uri: str = "the database") -> tuple[dict[str, Any], list[int], list[str], bool]:
    """The complete run, the label selection's indices and names, and whether it is every label.

    Raises RunNotFound, GDSNotInstalled, and ValueError naming the valid labels.
    """
    run = complete_run(runner, run_id)
    gds_version(runner, uri)
    label_names = list(run["label_names"])
    idx = resolve_labels(label_names, labels)
    return run, idx, [label_names[i] for i in idx], sorted(idx) == list(range(len(label_names)))


def save_metrics(runner: CypherRunner, run: dict[str, Any], names: list[str], result: dict[str, Any],
                 all_labels: bool) -> None:
    """Merge ``result`` on the run as a ``(:MetricSet)``; for all labels also set region degree/strength."""
    props: dict[str, Any] = {k: v for k, v in result.items()
                             if isinstance(v, (int, float)) or (isinstance(v, list) and v and all(isinstance(x, float) for x in v))}
    props["metrics_json"] = json.dumps(result, sort_keys=True)  # nan -> NaN, read back by json.loads
    key = f"{run['version']}|{json.dumps(names)}"
    runner.write("merge_metric_set", run_id=run["id"], key=key, labels=names, props=props)
    if all_labels:
        runner.write("update_region_metrics", run_id=run["id"])


def run_metrics(runner: CypherRunner, run_id: str, labels: Sequence[str] | str | None = None, *,
                save: bool = False, uri: str = "the database") -> dict[str, Any]:
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

    Raises RunNotFound for an unknown run, GDSNotInstalled without GDS, and
    ValueError naming the valid labels for an unknown one.
    """
    run, idx, names, all_labels = run_selection(runner, run_id, labels, uri=uri)
    row = runner.read("read_run_metrics", run_id=run_id, label_idx=list(idx), all_labels=all_labels)[0]
    result = _metrics_from_row(row, run["n_layers"], names, run["kind"] == GRID)
    if save:
        save_metrics(runner, run, names, result, all_labels)
    return result
