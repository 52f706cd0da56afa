"""The Neural Region Activation Graph (NRAG): data model and construction.

Above 400 lines: the data model validates each of its fields on construction (regions, edges, paths, labels,
layer bounds, degenerate layers) and its docstrings carry doctest examples; construction lives in ``regions``.

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

Construction (:func:`build_nrag`, :func:`build_nrag_from_reduced`):

* 2-D (``n_components == 2``): each layer's plane is cut into ``gridsize`` x
  ``gridsize`` cells exactly as ``pandas.cut(values, gridsize, labels=False)``
  (equal width, the range widened by 0.1% at the low edge), or with
  ``binning="quantile"`` as ``pandas.qcut(..., duplicates="drop")``. A region
  is an occupied cell; the edge (A at layer l, B at layer l+1) of a label
  counts that label's texts in A at l and in B at l+1.
* N-D (``n_components > 2``): a region per component per layer. The edge
  (component i of layer l, component j of layer l+1) of a label carries the
  Spearman correlation (average ranks) of the two components over that label's
  texts, kept when ``> threshold`` (``|rho| > threshold`` with ``abs_threshold=True``)
  and, with ``fdr``, when Benjamini-Hochberg rejects rho = 0. ``llm_mri`` labelled
  its correlation matrix transposed (the edge i -> j got rho(i', j) with i' = j); we do not.
  Region counts are the label's text count (every text has every component).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.regions import (
    COMPONENTS,
    GRID,
    check_edges,
    check_label_sizes,
    check_params,
    check_reduced,
    component_arrays,
    grid_arrays,
    layer_tuple,
)
from llm_mri_graphdb.scan_settings import graph_settings, run_settings
from llm_mri_graphdb.values import identity, to_json

__all__ = ["GRID", "COMPONENTS", "NRAG", "run_id_for", "build_nrag", "build_nrag_from_reduced", "resolve_labels"]


def _frozen(a: Any, dtype: Any) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def run_id_for(model: Mapping[str, Any], corpus: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """Stable run id: one run per (model, corpus, settings).

    The model is identified by its ``fingerprint`` (else its ``name``), the
    corpus by its ``fingerprint`` (else its ``name``).
    """
    key = {
        "model": identity(model),
        "corpus": identity(corpus),
        "settings": dict(settings),
    }
    blob = to_json(key).encode()
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
    paths : ndarray of shape (n_texts, n_layers) or None
        Grid NRAGs built from texts: the region (index into the region
        arrays) of every text at every layer, in corpus order. ``None`` for
        component NRAGs (every text has every component) and for graphs read
        back from a store that holds no texts of the run. Not part of
        :meth:`equals` or the run id.
    text_labels : ndarray of shape (n_texts,) or None
        Label index (into ``label_names``) of every text, in corpus order, for
        NRAGs built from texts (both kinds); kept with ``paths``. Not part of
        :meth:`equals` or the run id.
    activations_path : str or None
        Absolute path of the activation cache entry the scan read or wrote
        (:func:`llm_mri_graphdb.extract.cache.entry_path`), ``None`` without a cache.
        Not part of :meth:`equals` or the run id.
    degenerate_layers : tuple of int or None
        Layers where all texts land on one point (:mod:`llm_mri_graphdb.analysis.quality`); not in the run id.
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
    paths: np.ndarray | None = None
    text_labels: np.ndarray | None = None
    activations_path: str | None = None
    degenerate_layers: tuple[int, ...] | None = None

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
        check_edges(self.region_layer, self.edge_source, self.edge_target)
        if self.layer_bounds is not None:
            set_("layer_bounds", _frozen(self.layer_bounds, np.float64))
        set_("model", dict(self.model))
        set_("corpus", dict(self.corpus))
        set_("settings", dict(self.settings))
        if self.paths is not None:
            paths = _frozen(self.paths, np.int64)
            if (
                paths.ndim != 2
                or paths.shape[1] != self.n_layers
                or (paths.size and (paths.min() < 0 or paths.max() >= self.n_regions))
            ):
                raise ValueError(
                    f"paths must have shape (n_texts, n_layers={self.n_layers}) and hold region "
                    f"indices below {self.n_regions}; got shape {paths.shape}."
                )
            if paths.size and not np.array_equal(
                self.region_layer[paths], np.broadcast_to(np.arange(self.n_layers), paths.shape)
            ):
                raise ValueError("paths must name, in column l, regions of layer l.")
            set_("paths", paths)
        if self.text_labels is not None:
            codes = _frozen(self.text_labels, np.int64)
            n_texts = codes.shape[0] if self.paths is None else self.paths.shape[0]
            if codes.shape != (n_texts,) or (codes.size and (codes.min() < 0 or codes.max() >= self.n_labels)):
                raise ValueError(
                    f"text_labels must have shape (n_texts={n_texts},) and index label_names "
                    f"(0..{self.n_labels - 1}); got shape {codes.shape}."
                )
            set_("text_labels", codes)
        if self.activations_path is not None:
            set_("activations_path", str(self.activations_path))
        if self.degenerate_layers is not None:
            set_("degenerate_layers", layer_tuple("degenerate_layers", self.degenerate_layers, self.n_layers))

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
            return [
                f"{layer}_{x}_{y}"
                for layer, x, y in zip(self.region_layer.tolist(), self.region_x.tolist(), self.region_y.tolist())
            ]
        return [f"{layer}_{c}" for layer, c in zip(self.region_layer.tolist(), self.region_x.tolist())]

    def equals(self, other: NRAG, *, atol: float = 0.0) -> bool:
        """True when both graphs have the same regions, counts and per-label edge weights."""
        if not isinstance(other, NRAG):
            return False
        same = self.kind == other.kind and self.n_layers == other.n_layers and self.label_names == other.label_names
        for name in (
            "region_layer",
            "region_x",
            "region_y",
            "region_counts",
            "edge_source",
            "edge_target",
            "edge_label",
        ):
            same = same and np.array_equal(getattr(self, name), getattr(other, name))
        return bool(same and np.allclose(self.edge_weight, other.edge_weight, rtol=0.0, atol=atol))

    # -- label subsets and conversions ---------------------------------------------
    def select_labels(self, labels: Any) -> NRAG:
        """The NRAG restricted to ``labels`` (names or indices, in the order given).

        Edge rows of other labels are dropped and labels are re-indexed in the
        given order. For grid NRAGs, regions that no selected label occupies are
        dropped too; component NRAGs keep every region (each is a component).
        ``layer_bounds`` and the metadata are kept, so heatmaps keep their axes
        and ``run_id`` still names the run the subset came from. ``paths`` and
        ``text_labels`` are dropped (texts of other labels point at regions the
        subset may lack); ``activations_path`` is kept.
        """
        idx = resolve_labels(self.label_names, labels)
        counts = self.region_counts[:, idx]
        keep = counts.sum(axis=1) > 0 if self.kind == GRID else np.ones(self.n_regions, bool)
        new_index = np.cumsum(keep) - 1
        label_map = np.full(self.n_labels, -1, np.int64)
        label_map[idx] = np.arange(len(idx))
        rows = label_map[self.edge_label] >= 0
        src, tgt = new_index[self.edge_source[rows]], new_index[self.edge_target[rows]]
        lab, w = label_map[self.edge_label[rows]], self.edge_weight[rows]
        order = np.lexsort((lab, tgt, src))
        return NRAG(
            self.kind,
            self.n_layers,
            tuple(self.label_names[i] for i in idx),
            self.region_layer[keep],
            self.region_x[keep],
            self.region_y[keep],
            counts[keep],
            src[order],
            tgt[order],
            lab[order],
            w[order],
            self.layer_bounds,
            self.model,
            self.corpus,
            self.settings,
            activations_path=self.activations_path,
            degenerate_layers=self.degenerate_layers,
        )

    def to_networkx(self, labels: Any = None):
        """The NRAG as a ``networkx.DiGraph``; see :func:`llm_mri_graphdb.nrag.io.to_networkx`."""
        from llm_mri_graphdb.nrag.io import to_networkx

        return to_networkx(self, labels)

    def to_graphml(self, path: str | Path, labels: Any = None) -> None:
        """Write :meth:`to_networkx` as GraphML; see :func:`llm_mri_graphdb.nrag.io.to_graphml`."""
        from llm_mri_graphdb.nrag.io import to_graphml

        to_graphml(self, path, labels)

    def to_csv(self, folder: str | Path, texts: Sequence[str] | None = None) -> None:
        """Write ``regions.csv``, ``edges.csv`` and ``nrag.json`` (and ``texts.csv`` with the texts' labels,
        paths and, given ``texts``, the texts); see :func:`llm_mri_graphdb.nrag.io.to_csv`."""
        from llm_mri_graphdb.nrag.io import to_csv

        to_csv(self, folder, texts)

    @classmethod
    def from_csv(cls, folder: str | Path) -> NRAG:
        """Read a folder written by :meth:`to_csv` back into an equal NRAG."""
        from llm_mri_graphdb.nrag.io import from_csv

        return from_csv(folder, cls)


# -- construction -------------------------------------------------------------------
def build_nrag_from_reduced(
    reduced: Sequence[np.ndarray],
    labels: Any,
    label_names: Sequence[str],
    *,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    abs_threshold: bool = False,
    fdr: float | None = None,
    model: Mapping[str, Any] | None = None,
    corpus: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    activations_path: str | None = None,
) -> NRAG:
    """Build an NRAG from per-layer reduced coordinates (one fit on all texts).

    Parameters
    ----------
    reduced : list of ndarray of shape (n_texts, n_components)
        One array per layer, e.g. from :func:`llm_mri_graphdb.reduce.reduce_layers`.
        ``n_components == 2`` gives a grid NRAG, more a component NRAG.
    labels : array-like of shape (n_texts,)
        Integer label of every text, indexing ``label_names``.
    label_names : sequence of str
    gridsize : int, default=10
        Cells per axis (grid NRAGs).
    threshold : float in [-1, 1], default=0.3
        Correlations above it become edges (component NRAGs).
    binning : {"width", "quantile"}, default="width"
        ``pandas.cut`` (equal width) or ``pandas.qcut`` (equal count) cells.
    abs_threshold : bool, default=False
        Compare ``|rho|`` with ``threshold`` (component NRAGs).
    fdr : float in (0, 1] or None, default=None
        Component edges must also pass Benjamini-Hochberg at this rate over the label's Spearman p-values
        (``None``: ``llm_mri``'s rule; :func:`llm_mri_graphdb.pipeline.scan` and the CLI pass 0.05).
    model, corpus, settings : mapping, optional
        Metadata; the construction settings are merged into ``settings``.
    activations_path : str, optional
        The activation cache entry the layers were reduced from (kept as
        :attr:`NRAG.activations_path`).

    Returns
    -------
    NRAG

    Examples
    --------
    >>> import numpy as np
    >>> layer = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> g = build_nrag_from_reduced([layer, layer], [0, 1], ["a", "b"], gridsize=2)
    >>> g.region_ids(), g.edge_weight.tolist()
    (['0_0_0', '0_1_1', '1_0_0', '1_1_1'], [1.0, 1.0])
    """
    reduced = [np.asarray(x, dtype=np.float64) for x in reduced]
    labels = np.asarray(labels, dtype=np.int64)
    k = check_reduced(reduced, labels, label_names, gridsize, threshold, binning, fdr)
    meta = dict(settings or {})
    meta.update(
        graph_settings(k, gridsize=gridsize, threshold=threshold, binning=binning, abs_threshold=abs_threshold, fdr=fdr)
    )
    meta.setdefault("refit_per_label", False)
    if k == 2:
        arrays = grid_arrays(reduced, labels, len(label_names), gridsize, binning)
    else:
        check_label_sizes(labels, label_names, 3, "for a Spearman correlation")
        per_label = [[x[labels == c] for x in reduced] for c in range(len(label_names))]
        arrays = component_arrays(per_label, labels, len(label_names), threshold, abs_threshold, fdr)
    return NRAG(
        GRID if k == 2 else COMPONENTS,
        len(reduced),
        tuple(label_names),
        **arrays,
        model=model or {},
        corpus=corpus or {},
        settings=meta,
        text_labels=labels,
        activations_path=activations_path,
    )


def build_nrag(
    activations: Activations,
    reducer: Any,
    *,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    refit_per_label: bool = False,
    abs_threshold: bool = False,
    reduced: Sequence[np.ndarray] | None = None,
    fdr: float | None = None,
) -> NRAG:
    """Reduce every layer of ``activations`` with ``reducer`` and build the NRAG.

    The reducer is fitted once per layer on all texts. ``refit_per_label=True``
    (component NRAGs only) instead refits it on each label's texts, as
    ``llm_mri`` did, for comparison; components of different labels then need
    not mean the same thing. ``reduced`` passes layers this reducer already
    reduced (the pipeline and the facade keep them for probing), so nothing is
    refitted. See :func:`build_nrag_from_reduced` for the other parameters.

    Settings are :func:`llm_mri_graphdb.scan_settings.run_settings` of the
    extraction settings and the reducer (its name and every ``get_params()``
    value): every entry point records a scan the same way, so the same scan
    gets the same run id and different reducer parameters never share one.
    """
    from llm_mri_graphdb.reduce.layers import reduce_layers

    check_params(gridsize, threshold, binning, fdr)  # before the (slow) reduction
    n_components = reduced[0].shape[1] if reduced is not None and len(reduced) else None
    settings = run_settings(
        activations.settings,
        reducer,
        gridsize=gridsize,
        threshold=threshold,
        binning=binning,
        abs_threshold=abs_threshold,
        refit_per_label=refit_per_label,
        n_components=n_components,
        fdr=fdr,
    )
    n_components = settings["n_components"]
    if isinstance(n_components, (int, np.integer)) and n_components < 2:
        raise ValueError(f"n_components must be >= 2 for an NRAG; got {n_components}.")
    if not refit_per_label:
        if reduced is None:
            reduced = reduce_layers(activations, reducer)
        return build_nrag_from_reduced(
            reduced,
            activations.labels,
            activations.label_names,
            settings=settings,
            gridsize=gridsize,
            threshold=threshold,
            binning=binning,
            abs_threshold=abs_threshold,
            fdr=fdr,
            model=activations.model,
            corpus=activations.corpus,
            activations_path=activations.path,
        )
    if reduced is not None:
        raise ValueError("reduced must be None with refit_per_label=True: the reducer is refitted per label.")
    if n_components == 2:
        raise ValueError(
            "refit_per_label applies to n_components > 2 only; llm_mri's 2-D graphs "
            "fit once on all texts; got n_components=2."
        )
    labels, names = activations.labels, activations.label_names
    check_label_sizes(labels, names, max(3, int(n_components)), "to refit the reducer per label")
    per_label = []
    for c in range(len(names)):
        mask = labels == c
        subset = Activations([x[mask] for x in activations.layers], labels[mask], names)
        per_label.append(reduce_layers(subset, reducer))
    arrays = component_arrays(per_label, labels, len(names), threshold, abs_threshold, fdr)
    return NRAG(
        COMPONENTS,
        activations.n_layers,
        names,
        **arrays,
        model=activations.model,
        corpus=activations.corpus,
        settings=settings,
        text_labels=labels,
        activations_path=activations.path,
    )
