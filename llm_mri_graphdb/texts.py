"""What is in a region, and where a text goes: questions answered from :attr:`NRAG.paths`.

A grid NRAG built from texts keeps, for every text, its region at every layer
(``paths``, texts x layers). :func:`region_texts` lists the texts of a region
(in corpus order, optionally of one label, paged) and :func:`text_path` names
a text's region at every layer, with each region's label mix.

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

from .labels import resolve_labels
from .nrag import NRAG

__all__ = ["region_index", "region_members", "region_texts", "text_path"]


def _require_paths(nrag: NRAG) -> np.ndarray:
    if nrag.paths is None:
        raise ValueError("this NRAG holds no text paths: they exist for grid scans built from texts "
                         "(not for component scans, label subsets, or runs read back from a store).")
    return nrag.paths


def region_index(nrag: NRAG, region: str) -> int:
    """Index of the region named ``region`` (``"layer_x_y"``); ValueError naming an example otherwise."""
    ids = nrag.region_ids()
    try:
        return ids.index(str(region))
    except ValueError:
        raise ValueError(f"region must be an occupied region such as {ids[0]!r} ('layer_x_y'); "
                         f"got {region!r}.") from None


def region_members(nrag: NRAG, region: str) -> np.ndarray:
    """Indices (corpus order) of the texts in ``region``."""
    r = region_index(nrag, region)
    paths = _require_paths(nrag)
    return np.flatnonzero(paths[:, int(nrag.region_layer[r])] == r)


def region_texts(nrag: NRAG, region: str, texts: Sequence[str], text_labels: Sequence[int], *,
                 label: str | int | None = None, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
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
        raise ValueError(f"texts and text_labels must hold the {paths.shape[0]} texts the NRAG was built from; "
                         f"got {len(texts)} and {len(text_labels)}.")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be an int >= 0 or None; got {limit!r}.")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0; got {offset!r}.")
    members = region_members(nrag, region)
    codes = np.asarray(text_labels, dtype=np.int64)
    if label is not None:
        members = members[codes[members] == resolve_labels(nrag.label_names, label)[0]]
    members = members[offset:None if limit is None else offset + limit]
    return [{"index": int(i), "text": str(texts[i]), "label": nrag.label_names[int(codes[i])]}
            for i in members.tolist()]


def text_path(nrag: NRAG, index: int) -> list[dict[str, Any]]:
    """Text ``index``'s region at every layer: ``{"layer", "region", "total", <label>: count, ...}`` rows."""
    paths = _require_paths(nrag)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < paths.shape[0]:
        raise ValueError(f"index must be a text index in [0, {paths.shape[0] - 1}]; got {index!r}.")
    ids = nrag.region_ids()
    rows = []
    for layer, r in enumerate(paths[int(index)].tolist()):
        counts = nrag.region_counts[r].tolist()
        rows.append({"layer": layer, "region": ids[r], "total": int(sum(counts)),
                     **dict(zip(nrag.label_names, counts))})
    return rows
