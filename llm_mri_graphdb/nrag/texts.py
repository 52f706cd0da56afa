"""What is in a region, and where a text goes: questions answered from :attr:`NRAG.paths`.

A grid NRAG built from texts keeps, for every text, its region at every layer
(``paths``, texts x layers). :func:`region_texts` lists the texts of a region
(in corpus order, optionally of one label, paged) and :func:`text_path` names
a text's region at every layer, with each region's label mix.
:func:`co_travellers`, :func:`label_crossings` and :func:`diverging_texts`
answer the other text questions of the Cypher library
(``cypher/queries/<name>.cypher``) in process: the embedded store answers
with these, Neo4j with the queries, and both give the same rows.

Examples
--------
>>> import numpy as np
>>> from llm_mri_graphdb.nrag import build_nrag_from_reduced
>>> layer = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
>>> g = build_nrag_from_reduced([layer, layer], [0, 0, 1], ["a", "b"], gridsize=2)
>>> [row["index"] for row in region_texts(g, "1_0_0", ["x", "y", "z"], [0, 0, 1])]
[0, 1]
>>> [step["region"] for step in text_path(g, 2)]
['0_1_1', '1_1_1']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.values import INT64_MAX

__all__ = [
    "region_index",
    "region_members",
    "region_texts",
    "text_path",
    "co_travellers",
    "label_crossings",
    "diverging_texts",
    "check_texts",
    "require_texts",
    "check_count",
    "check_text_index",
    "check_layer",
]


def _require_paths(nrag: NRAG) -> np.ndarray:
    if nrag.paths is None:
        raise ValueError(
            "this NRAG holds no text paths: they exist for grid scans built from texts "
            "(not for component scans, label subsets, or runs stored without texts)."
        )
    return nrag.paths


def region_index(nrag: NRAG, region: str) -> int:
    """Index of the region named ``region`` (``"layer_x_y"``); ValueError naming an example otherwise."""
    ids = nrag.region_ids()
    try:
        return ids.index(str(region))
    except ValueError:
        raise ValueError(
            f"region must be an occupied region such as {ids[0]!r} ('layer_x_y'); got {region!r}."
        ) from None


def region_members(nrag: NRAG, region: str) -> np.ndarray:
    """Indices (corpus order) of the texts in ``region``."""
    r = region_index(nrag, region)
    paths = _require_paths(nrag)
    return np.flatnonzero(paths[:, int(nrag.region_layer[r])] == r)


def region_texts(
    nrag: NRAG,
    region: str,
    texts: Sequence[str],
    text_labels: Sequence[int] | np.ndarray,
    *,
    label: str | int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The texts of ``region``: ``{"index", "text", "label"}`` rows in corpus order.

    Parameters
    ----------
    nrag : NRAG
        A grid NRAG with ``paths``.
    region : str
        ``"layer_x_y"``, as :meth:`NRAG.region_ids` names it.
    texts : sequence of str
        The corpus texts, in the order the NRAG was built from.
    text_labels : sequence of int
        Label index of every text.
    label : str or int, optional
        Only texts of this label.
    limit : int, optional
        At most this many rows, after skipping ``offset``.
    offset : int, default=0
    """
    paths = _require_paths(nrag)
    if len(texts) != paths.shape[0] or len(text_labels) != paths.shape[0]:
        raise ValueError(
            f"texts and text_labels must hold the {paths.shape[0]} texts the NRAG was built from; "
            f"got {len(texts)} and {len(text_labels)}."
        )
    limit = None if limit is None else check_count(limit, "limit")
    offset = check_count(offset, "offset")
    members = region_members(nrag, region)
    codes = np.asarray(text_labels, dtype=np.int64)
    if label is not None:
        members = members[codes[members] == resolve_labels(nrag.label_names, label)[0]]
    members = members[offset : None if limit is None else offset + limit]
    return [
        {"index": int(i), "text": str(texts[i]), "label": nrag.label_names[int(codes[i])]} for i in members.tolist()
    ]


def text_path(nrag: NRAG, index: int) -> list[dict[str, Any]]:
    """Text ``index``'s region at every layer: ``{"layer", "region", "total", <label>: count, ...}`` rows."""
    paths = _require_paths(nrag)
    index = check_text_index(index, paths.shape[0], "index")
    ids = nrag.region_ids()
    rows = []
    for layer, r in enumerate(paths[int(index)].tolist()):
        counts = nrag.region_counts[r].tolist()
        rows.append(
            {"layer": layer, "region": ids[r], "total": int(sum(counts)), **dict(zip(nrag.label_names, counts))}
        )
    return rows


# -- checks shared by both stores ---------------------------------------------------------
def check_texts(nrag: NRAG, texts: Any) -> list[str] | None:
    """The texts to store with ``nrag`` as a list of str, or None for ``None``/``False`` (no texts)."""
    if texts is None or texts is False:
        return None
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__len__"):
        raise TypeError(f"texts must be a sequence of str in corpus order, or None; got {type(texts).__name__}.")
    texts = [str(t) for t in texts]
    if nrag.text_labels is None:
        raise ValueError("texts need the NRAG's text_labels: build it from texts (build_nrag) or pass texts=None.")
    if len(texts) != nrag.text_labels.shape[0]:
        raise ValueError(
            f"texts must hold the {nrag.text_labels.shape[0]} texts the NRAG was built from, in "
            f"corpus order; got {len(texts)}."
        )
    return texts


def require_texts(run_id: str, kind: str, n_texts: int, has_paths: bool, *, paths: bool = True) -> None:
    """ValueError naming the fix when run ``run_id`` holds no texts (or, with ``paths``, no regions of texts)."""
    if not n_texts:
        raise ValueError(
            f"run {run_id} was stored without texts; scan it again without --no-texts "
            "(texts=True) to ask about its texts."
        )
    if paths and not has_paths:
        raise ValueError(
            f"run {run_id} is a {kind} run: its texts have no region per layer "
            "(only grid runs built from texts do); scan with n_components=2."
        )


def check_count(value: Any, name: str) -> int:
    """An int in ``[0, 2**63 - 1]`` (``limit``, ``offset``); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= INT64_MAX:
        raise ValueError(f"{name} must be an int in [0, {INT64_MAX}]; got {value!r}.")
    return int(value)


def check_text_index(index: Any, n_texts: int, name: str = "idx") -> int:
    """A text position in ``[0, n_texts - 1]``, or counted from the end (``-1`` the last); ValueError otherwise."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -n_texts <= index < n_texts:
        raise ValueError(
            f"{name} must be a text index in [0, {n_texts - 1}] (or -{n_texts} to -1, counted from "
            f"the end); got {index!r}."
        )
    return int(index) % n_texts


def check_layer(layer: Any, n_layers: int, name: str = "layer") -> int:
    """A layer in ``[0, n_layers - 1]``; ValueError otherwise."""
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
        raise ValueError(f"{name} must be a layer in [0, {n_layers - 1}]; got {layer!r}.")
    return int(layer)


# -- the other text questions ----------------------------------------------------------------
def co_travellers(
    nrag: NRAG, index: int, texts: Sequence[str], text_labels: Sequence[int] | np.ndarray, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Texts sharing text ``index``'s region at the most layers: ``{"index", "text", "label", "shared"}``.

    At least one layer shared; most shared first, ties in corpus order (query ``co_travellers``).
    """
    paths = _require_paths(nrag)
    index = check_text_index(index, paths.shape[0])
    shared = (paths == paths[index]).sum(axis=1)
    shared[index] = 0
    order = np.lexsort((np.arange(shared.size), -shared))
    order = order[shared[order] > 0][: check_count(limit, "limit")]
    codes = np.asarray(text_labels, dtype=np.int64)
    return [
        {"index": int(i), "text": str(texts[i]), "label": nrag.label_names[int(codes[i])], "shared": int(shared[i])}
        for i in order.tolist()
    ]


def label_crossings(
    nrag: NRAG, texts: Sequence[str], text_labels: Sequence[int] | np.ndarray, *, limit: int = 20
) -> list[dict[str, Any]]:
    """Texts whose last-layer region is dominated by another label, in corpus order (query ``label_crossings``).

    The dominant label has the most texts in the region (ties: the first in
    ``label_names``). Rows: ``index``, ``text``, ``label``, ``region``,
    ``dominant_label``, ``label_count`` (the region's texts of the text's own
    label) and ``dominant_count``.
    """
    last = _require_paths(nrag)[:, -1]
    codes = np.asarray(text_labels, dtype=np.int64)
    top = nrag.region_counts.argmax(axis=1)
    crossing = np.flatnonzero(top[last] != codes)[: check_count(limit, "limit")]
    ids = nrag.region_ids()
    return [
        {
            "index": int(i),
            "text": str(texts[i]),
            "label": nrag.label_names[int(codes[i])],
            "region": ids[last[i]],
            "dominant_label": nrag.label_names[int(top[last[i]])],
            "label_count": int(nrag.region_counts[last[i], codes[i]]),
            "dominant_count": int(nrag.region_counts[last[i], top[last[i]]]),
        }
        for i in crossing.tolist()
    ]


def _apart_pairs(together: np.ndarray, apart: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """The first ``limit`` pairs i < j (in (i, j) order) with ``together`` equal and ``apart`` different."""
    pairs: list[tuple[int, int]] = []
    for i in range(together.size):
        if len(pairs) >= limit:
            break
        j = i + 1 + np.flatnonzero((together[i + 1 :] == together[i]) & (apart[i + 1 :] != apart[i]))
        pairs.extend((i, int(k)) for k in j[: limit - len(pairs)].tolist())
    return pairs


def diverging_texts(nrag_a: NRAG, nrag_b: NRAG, layer_a: int, layer_b: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """Pairs of texts together in one run's layer and apart in the other's (query ``diverging_texts``).

    Rows ``{"together", "i", "j", "region", "region_i", "region_j"}``:
    ``together="a"`` for texts ``i < j`` in one region of ``nrag_a``'s
    ``layer_a`` and in different regions (``region_i``, ``region_j``) of
    ``nrag_b``'s ``layer_b``; ``"b"`` the converse. Ordered by together, i, j.
    """
    pa, pb = _require_paths(nrag_a), _require_paths(nrag_b)
    if pa.shape[0] != pb.shape[0]:
        raise ValueError(f"the two runs must be on the same corpus; they hold {pa.shape[0]} and {pb.shape[0]} texts.")
    la, lb = check_layer(layer_a, nrag_a.n_layers, "layer_a"), check_layer(layer_b, nrag_b.n_layers, "layer_b")
    limit = check_count(limit, "limit")
    ra, rb = pa[:, la], pb[:, lb]
    ids_a, ids_b = nrag_a.region_ids(), nrag_b.region_ids()
    rows: list[dict[str, Any]] = []
    for tag, together, apart, ids_t, ids_o in (("a", ra, rb, ids_a, ids_b), ("b", rb, ra, ids_b, ids_a)):
        for i, j in _apart_pairs(together, apart, limit - len(rows)):
            rows.append(
                {
                    "together": tag,
                    "i": i,
                    "j": j,
                    "region": ids_t[together[i]],
                    "region_i": ids_o[apart[i]],
                    "region_j": ids_o[apart[j]],
                }
            )
    return rows
