"""The Neural Region Activation Graph (NRAG): data model and construction.

An NRAG is immutable and backend-agnostic. Regions and edges are stored as
parallel numpy arrays (struct-of-arrays), which keeps a 100-layer, 50x50-grid,
10-label graph cheap to build, compare and ship to a database:

* regions: ``region_layer``, ``region_x``, ``region_y`` (for N-D graphs ``x`` is
  the component and ``y`` is -1) and ``region_counts`` of shape
  ``(n_regions, n_labels)``: texts of each label that fall in the region.
* edges, one row per (source region, target region, label):
  ``edge_source``, ``edge_target`` (region indices, target one layer deeper),
  ``edge_label`` and ``edge_weight`` (a count of texts for 2-D graphs, a
  Spearman correlation for N-D graphs). Rows are sorted by
  (source, target, label), so two labels sharing an edge each keep a row.

Order is canonical: regions sorted by (layer, x, y), edge rows by (source,
target, label). Every builder and every store reader produces this order, so
:meth:`NRAG.equals` compares arrays directly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["NRAG", "run_id_for"]

GRID = "grid"
COMPONENTS = "components"


def _frozen(a: Any, dtype: Any) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_id_for(model: Mapping[str, Any], corpus: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """Stable run id: one run per (model, corpus, settings).

    The model is identified by its ``fingerprint`` (else its ``name``), the
    corpus by its ``fingerprint`` (else its ``name``).
    """
    key = {
        "model": model.get("fingerprint") or model.get("name"),
        "corpus": corpus.get("fingerprint") or corpus.get("name"),
        "settings": _canonical(dict(settings)),
    }
    blob = json.dumps(key, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class NRAG:
    """An immutable Neural Region Activation Graph.

    Parameters
    ----------
    kind : {"grid", "components"}
        ``"grid"`` for 2-D reductions cut into cells, ``"components"`` for N-D.
    n_layers : int
    label_names : tuple of str
    region_layer, region_x, region_y : ndarray of shape (n_regions,)
    region_counts : ndarray of shape (n_regions, n_labels)
    edge_source, edge_target : ndarray of shape (n_edge_rows,)
        Indices into the region arrays.
    edge_label : ndarray of shape (n_edge_rows,)
        Index into ``label_names``.
    edge_weight : ndarray of shape (n_edge_rows,)
    layer_bounds : ndarray of shape (n_layers, 4) or None
        ``(x_min, x_max, y_min, y_max)`` of each layer's plane (grid NRAGs),
        so heatmaps of different labels share fixed axes.
    model, corpus, settings : mapping
        Metadata; ``settings`` holds reducer, n_components, gridsize,
        threshold, random_state and the extraction settings.
    """

    kind: Literal["grid", "components"]
    n_layers: int
    label_names: tuple[str, ...]
    region_layer: np.ndarray
    region_x: np.ndarray
    region_y: np.ndarray
    region_counts: np.ndarray
    edge_source: np.ndarray
    edge_target: np.ndarray
    edge_label: np.ndarray
    edge_weight: np.ndarray
    layer_bounds: np.ndarray | None = None
    model: Mapping[str, Any] = field(default_factory=dict)
    corpus: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in (GRID, COMPONENTS):
            raise ValueError(f"kind must be 'grid' or 'components'; got {self.kind!r}.")
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("label_names", tuple(str(n) for n in self.label_names))
        for name in ("region_layer", "region_x", "region_y"):
            set_(name, _frozen(getattr(self, name), np.int64))
        counts = _frozen(self.region_counts, np.int64)
        if counts.ndim != 2 or counts.shape != (self.region_layer.shape[0], len(self.label_names)):
            raise ValueError(
                f"region_counts must have shape (n_regions={self.region_layer.shape[0]}, "
                f"n_labels={len(self.label_names)}); got {counts.shape}."
            )
        set_("region_counts", counts)
        for name in ("edge_source", "edge_target", "edge_label"):
            set_(name, _frozen(getattr(self, name), np.int64))
        set_("edge_weight", _frozen(self.edge_weight, np.float64))
        n_rows = self.edge_source.shape[0]
        if not all(a.shape == (n_rows,) for a in (self.edge_target, self.edge_label, self.edge_weight)):
            raise ValueError("edge_source, edge_target, edge_label and edge_weight must have one shape.")
        if self.layer_bounds is not None:
            set_("layer_bounds", _frozen(self.layer_bounds, np.float64))
        set_("model", dict(self.model))
        set_("corpus", dict(self.corpus))
        set_("settings", dict(self.settings))

    # -- identity -----------------------------------------------------------------
    @property
    def run_id(self) -> str:
        """Stable id of the run this NRAG belongs to (see :func:`run_id_for`)."""
        return run_id_for(self.model, self.corpus, self.settings)

    @property
    def n_regions(self) -> int:
        return int(self.region_layer.shape[0])

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    def region_ids(self) -> list[str]:
        """Node ids as ``llm_mri`` names them: ``"{layer}_{x}_{y}"`` or ``"{layer}_{component}"``."""
        if self.kind == GRID:
            return [f"{l}_{x}_{y}" for l, x, y in zip(self.region_layer.tolist(), self.region_x.tolist(), self.region_y.tolist())]
        return [f"{l}_{c}" for l, c in zip(self.region_layer.tolist(), self.region_x.tolist())]

    def equals(self, other: "NRAG", *, atol: float = 0.0) -> bool:
        """True when both graphs have the same regions, counts and per-label edge weights."""
        if not isinstance(other, NRAG):
            return False
        same = (
            self.kind == other.kind
            and self.n_layers == other.n_layers
            and self.label_names == other.label_names
        )
        for name in ("region_layer", "region_x", "region_y", "region_counts",
                     "edge_source", "edge_target", "edge_label"):
            same = same and np.array_equal(getattr(self, name), getattr(other, name))
        return bool(same and np.allclose(self.edge_weight, other.edge_weight, rtol=0.0, atol=atol))
