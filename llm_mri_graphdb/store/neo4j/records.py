"""What the Neo4j store sends: run properties, region rows and flow batches.

Pure functions of an :class:`~llm_mri_graphdb.nrag.NRAG` (no driver), so the
shape of every write can be tested without a database. Batches are built with
NumPy and sent as flat columns of plain ints, floats and strings: the Bolt
packer then handles a few long lists instead of one small list per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.values import identity_key, to_json

__all__ = [
    "region_batch_check",
    "flow_batch_check",
    "FlowBatch",
    "run_props",
    "side_props",
    "model_key",
    "corpus_key",
    "edge_pairs",
    "region_rows",
    "flow_batches",
    "n_relationships",
    "text_batches",
    "membership_groups",
]

_RESERVED = {
    "id",
    "run_id",
    "version",
    "status",
    "created_at",
    "completed_at",
    "kind",
    "n_layers",
    "label_names",
    "n_labels",
    "n_regions",
    "n_edge_rows",
    "n_edges",
    "layer_bounds",
    "model_json",
    "corpus_json",
    "settings_json",
    "model_name",
    "corpus_name",
    "delete_token",
    "corpus_key",
    "n_texts",
    "text_paths",
    "activations_path",
    "degenerate_layers",
    "layer_columns",
}
_PRIMITIVE = (str, int, float, bool)


def _property(value: Any) -> Any:
    """A Neo4j property value: primitives and homogeneous primitive lists, else None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _PRIMITIVE):
        return value
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, _PRIMITIVE) for v in value)
        and len({type(v) for v in value}) == 1
    ):
        return list(value)
    return None


def _leaves(mapping: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, str(key)))
        else:
            yield (*path, str(key)), value


def _flatten(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leaf settings as Run properties: ``{"extract": {"site": "mlp"}}`` -> ``site``; a clash keeps the path."""
    leaves = [(path, p) for path, value in _leaves(mapping) if (p := _property(value)) is not None]
    seen: dict[str, int] = {}
    for path, _ in leaves:
        seen[path[-1]] = seen.get(path[-1], 0) + 1
    return {(path[-1] if seen[path[-1]] == 1 else "_".join(path)): p for path, p in leaves}


def model_key(model: Mapping[str, Any]) -> str:
    """Key of a ``Model`` node: its fingerprint, else its name (:func:`~llm_mri_graphdb.values.identity_key`)."""
    return identity_key(model)


def corpus_key(corpus: Mapping[str, Any]) -> str:
    """Key of a ``Corpus`` node: its fingerprint, else its name (:func:`~llm_mri_graphdb.values.identity_key`)."""
    return identity_key(corpus)


def edge_pairs(nrag: NRAG) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edge rows ``(source, target, label, weight)`` ordered by (source layer, source, target, label), and the
    first row of each (source, target) pair: the order every write of the flows shares."""
    order = np.lexsort((nrag.edge_label, nrag.edge_target, nrag.edge_source, nrag.region_layer[nrag.edge_source]))
    src, tgt = nrag.edge_source[order], nrag.edge_target[order]
    lab, weight = nrag.edge_label[order], nrag.edge_weight[order]
    starts = (
        np.flatnonzero(np.r_[True, (src[1:] != src[:-1]) | (tgt[1:] != tgt[:-1])])
        if src.size
        else np.zeros(0, np.int64)
    )
    return src, tgt, lab, weight, starts


def n_relationships(nrag: NRAG) -> int:
    """``:FLOWS`` plus ``:FLOWS_TOTAL`` relationships the NRAG is stored as."""
    return int(nrag.edge_source.shape[0] + edge_pairs(nrag)[4].shape[0])


def run_props(nrag: NRAG, *, n_texts: int = 0, text_paths: bool = False) -> dict[str, Any]:
    """Properties of the ``Run`` node: flattened settings, sizes and the metadata as JSON.

    ``corpus_key`` names the corpus from the first transaction on (texts are
    kept while any run, published or not, has it); ``n_texts`` is the number of
    texts stored with the run (0: none) and ``text_paths`` whether their
    ``IN`` memberships are; ``activations_path`` is set when the NRAG has one,
    ``degenerate_layers`` (a list of ints, maybe empty) when it is known.
    ``layer_columns`` marks a run whose graph is also stored as packed
    columns, one ``(:LayerColumns)`` a layer
    (:func:`~llm_mri_graphdb.store.neo4j.columns.layer_columns`); runs
    written before those existed lack it.
    """
    props = {k: v for k, v in _flatten(dict(nrag.settings)).items() if k not in _RESERVED}
    props.update(
        kind=nrag.kind,
        n_layers=nrag.n_layers,
        label_names=list(nrag.label_names),
        n_labels=nrag.n_labels,
        n_regions=nrag.n_regions,
        n_edge_rows=int(nrag.edge_source.shape[0]),
        n_edges=int(edge_pairs(nrag)[4].size),
        model_json=to_json(nrag.model),
        corpus_json=to_json(nrag.corpus),
        settings_json=to_json(nrag.settings),
        model_name=str(nrag.model.get("name") or model_key(nrag.model)),
        corpus_name=str(nrag.corpus.get("name") or corpus_key(nrag.corpus)),
        corpus_key=corpus_key(nrag.corpus),
        n_texts=int(n_texts),
        text_paths=bool(text_paths),
        layer_columns=True,
    )
    if nrag.activations_path is not None:
        props["activations_path"] = nrag.activations_path
    if nrag.degenerate_layers is not None:
        props["degenerate_layers"] = [int(v) for v in nrag.degenerate_layers]
    if nrag.layer_bounds is not None:
        props["layer_bounds"] = nrag.layer_bounds.ravel().tolist()
    return props


def side_props(meta: Mapping[str, Any], key_name: str, key: str) -> dict[str, Any]:
    """Properties of a ``Model`` or ``Corpus`` node: the primitive metadata plus its key."""
    props = {k: p for k, v in meta.items() if (p := _property(v)) is not None}
    props[key_name] = key
    return props


def region_rows(nrag: NRAG, version: str) -> list[list[Any]]:
    """``[uid, name, idx, layer, x, y, counts, total]`` per region, in canonical order.

    >>> from llm_mri_graphdb.nrag import NRAG
    >>> g = NRAG("grid", 2, ("a",), [0, 1], [0, 1], [0, 0], [[2], [2]], [0], [1], [0], [2.0])
    >>> region_rows(g, "v")[1]
    ['v:1_1_0', '1_1_0', 1, 1, 1, 0, [2], 2]
    """
    names = nrag.region_ids()
    columns = zip(
        [f"{version}:{name}" for name in names],
        names,
        range(nrag.n_regions),
        nrag.region_layer.tolist(),
        nrag.region_x.tolist(),
        nrag.region_y.tolist(),
        nrag.region_counts.tolist(),
        nrag.region_counts.sum(axis=1).tolist(),
    )
    return [list(row) for row in columns]


@dataclass(frozen=True)
class FlowBatch:
    """Edges of one batch from layer ``layer`` to ``layer + 1``, as the parameters of ``create_flows``.

    Sources and targets are positions within their layer in canonical order.
    ``s``/``t``/``total``: one ``:FLOWS_TOTAL`` per (source, target) pair;
    ``fs``/``ft``/``fl``/``fw``: one ``:FLOWS`` per label row (``fl`` indexes
    the run's label names). A batch holds whole pairs, so its first pair is
    its marker: that pair's ``:FLOWS_TOTAL`` exists exactly when the batch
    committed.
    """

    layer: int
    s: list[int]
    t: list[int]
    total: list[float]
    fs: list[int]
    ft: list[int]
    fl: list[int]
    fw: list[float]

    @property
    def n_relationships(self) -> int:
        return len(self.s) + len(self.fs)

    def params(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "s": self.s,
            "t": self.t,
            "total": self.total,
            "fs": self.fs,
            "ft": self.ft,
            "fl": self.fl,
            "fw": self.fw,
        }


def _positions(layer: np.ndarray) -> np.ndarray:
    """Position of each region within its layer, counted in canonical (index) order."""
    order = np.argsort(layer, kind="stable")
    first = np.searchsorted(layer[order], layer[order])
    position = np.empty_like(layer)
    position[order] = np.arange(layer.size) - first
    return position


def flow_batches(nrag: NRAG, size: int) -> list[list[FlowBatch]]:
    """Edges in batches of about ``size`` relationships (fewer than ``size`` plus one pair's), by source layer.

    Returns one list per layer pair that has edges, each batch holding whole
    (source, target) pairs of that layer pair only. Batches of different layer
    pairs of one parity (even or odd source layer) share no region.

    >>> from llm_mri_graphdb.nrag import NRAG
    >>> g = NRAG("grid", 2, ("a", "b"), [0, 1, 1], [0, 0, 1], [0, 0, 0], [[1, 1], [1, 0], [0, 1]],
    ...          [0, 0], [1, 2], [0, 1], [1.0, 1.0])
    >>> [(b.layer, b.s, b.t, b.total, b.fl) for b in flow_batches(g, 10)[0]]
    [(0, [0, 0], [0, 1], [1.0, 1.0], [0, 1])]
    """
    src, tgt, lab, weight, starts = edge_pairs(nrag)
    if starts.size == 0:
        return []
    layer = nrag.region_layer
    position = _positions(layer)
    ends = np.r_[starts[1:], src.size]
    pair_layer = layer[src[starts]]  # non-decreasing: rows are ordered by source layer first
    columns = {
        "s": position[src[starts]],
        "t": position[tgt[starts]],
        "total": np.add.reduceat(weight, starts),
    }
    flows = {"fs": position[src], "ft": position[tgt], "fl": lab, "fw": weight}
    groups: list[list[FlowBatch]] = []
    for level in np.unique(pair_layer).tolist():
        first, last = np.searchsorted(pair_layer, level), np.searchsorted(pair_layer, level, side="right")
        cost = np.cumsum(1 + ends[first:last] - starts[first:last])
        cuts = np.r_[first, first + np.flatnonzero(np.diff((cost - 1) // size)) + 1, last]
        group = []
        for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            rows = slice(starts[a], ends[b - 1])
            group.append(
                FlowBatch(
                    int(level),
                    *(columns[k][a:b].tolist() for k in ("s", "t", "total")),
                    *(flows[k][rows].tolist() for k in ("fs", "ft", "fl", "fw")),
                )
            )
        groups.append(group)
    return groups


def text_batches(texts: list[str], labels: list[str], size: int) -> list[dict[str, Any]]:
    """Columns ``idx``, ``text``, ``label`` of ``merge_texts`` in batches of at most ``size`` texts.

    >>> text_batches(["x", "y", "z"], ["a", "b", "a"], 2)[1]
    {'idx': [2], 'text': ['z'], 'label': ['a']}
    """
    return [
        {
            "idx": list(range(start, min(start + size, len(texts)))),
            "text": list(texts[start : start + size]),
            "label": list(labels[start : start + size]),
        }
        for start in range(0, len(texts), size)
    ]


def membership_groups(nrag: NRAG, size: int, workers: int = 1) -> list[list[dict[str, Any]]]:
    """``create_memberships`` batches (``layer``, ``start``, ``r``) of a grid NRAG with ``paths``.

    The texts are cut into ``workers`` ranges (at most ``size`` texts each);
    a group holds every layer of one range, so groups share no ``Text`` node.
    ``r`` is each text's region as its position within the layer.

    >>> from llm_mri_graphdb.nrag import build_nrag_from_reduced
    >>> layer = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    >>> g = build_nrag_from_reduced([layer, layer], [0, 0, 1], ["a", "b"], gridsize=2)
    >>> [(b["layer"], b["start"], b["r"]) for b in membership_groups(g, 2)[0]]
    [(0, 0, [0, 0]), (1, 0, [0, 0])]
    """
    paths = nrag.paths
    if paths is None:
        raise ValueError("memberships need the NRAG's paths: build it from texts (build_nrag).")
    n_texts = paths.shape[0]
    step = max(1, min(size, -(-n_texts // max(1, workers))))
    position = _positions(nrag.region_layer)[paths]  # (n_texts, n_layers)
    return [
        [
            {"layer": layer, "start": start, "r": position[start : start + step, layer].tolist()}
            for layer in range(nrag.n_layers)
        ]
        for start in range(0, n_texts, step)
    ]


def region_batch_check(params: dict[str, Any], counters: Any) -> None:
    """RuntimeError unless a region batch created all its nodes or none (a retried batch)."""
    if counters.nodes_created not in (0, len(params["rows"])):
        raise RuntimeError(f"a region batch created {counters.nodes_created} of {len(params['rows'])} nodes.")


def flow_batch_check(params: dict[str, Any], counters: Any) -> None:
    """RuntimeError unless a flow batch created all its relationships or none (a retried batch)."""
    expected = len(params["s"]) + len(params["fs"])
    if counters.relationships_created not in (0, expected):
        raise RuntimeError(
            f"a flow batch of layer {params['layer']} created {counters.relationships_created} "
            f"of {expected} relationships."
        )
