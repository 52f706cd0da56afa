"""What a scan can be trusted for: degenerate layers, metrics that say nothing, how much the grid keeps.

Degenerate layers
-----------------
A layer is *degenerate* when every text lands on the same point there: its
pooled activations are constant over the corpus, or its reduced coordinates
are (all components equal within ``1e-9`` of their scale), or, for a grid
NRAG, all its texts fall into one cell. Such a layer is one region holding
every text (a node of degree equal to the next layer's region count and nan
variance); it says nothing about the model and dominates the whole-graph
moments (the issue-19 audit: one such node moved whole-graph kurtosis from
1.47 to 16.3). Typical causes: ``first`` pooling of an encoder's embedding
layer (``[CLS]`` has seen no text yet) or ``last`` pooling of a decoder whose
texts all end with the same token. The scan warns in one line, the report and
``metrics.json`` say so, stores keep ``degenerate_layers`` on the run, and
whole-graph metrics are given with and without them (:func:`without_layers`).

Constants and identities (left out of default outputs)
------------------------------------------------------
Proved for a grid NRAG of ``n >= 1`` texts over ``L >= 2`` layers, for any
selection of labels (the ``llm_mri`` reference mode of the facade still
reports them):

``center_of_strength`` = -1/2
    Each selected text adds weight 1 to one edge of every layer pair, so the
    strength of layer ``l`` (in + out) is ``n`` for ``l = 0`` and
    ``l = L - 1`` and ``2n`` between. With offsets ``o_l = l - L/2``,
    ``sum_l o_l = -L/2`` and ``o_0 + o_{L-1} = -1``, so
    ``sum_l S_l o_l = 2n(-L/2) - n(-1) = n(1 - L)`` over a total strength
    ``2n(L - 1)``: the ratio is -1/2.
``center_of_strength_llm_mri`` = nan (every kind)
    ``llm_mri`` sums over layers ``0 .. L`` inclusive; layer ``L`` has no
    node, and the sample std of no values is nan, so the sum is nan.
``projection_{even,odd}_average_clustering`` = 0 (every kind)
    A projected edge joins layer ``l`` to layer ``l + 2`` (a two-step path),
    so three projected nodes pairwise joined would need layers ``a, b, c``
    with ``|a - b| = |b - c| = |a - c| = 2``, impossible (``a - c`` is 0 or
    +-4). No node has a triangle, every local clustering is 0.
``purity``, ``purity_by_layer`` = 1 for one label
    With one selected label the majority label of every region is that label.

Derived metrics (shown, marked as functions of counts)
------------------------------------------------------
``mean_degree = 2 n_edges / n_regions``, ``density = n_edges / (n_regions
(n_regions - 1))`` and, on a grid, ``mean_strength = 2 n_texts (L - 1) /
n_regions`` (the total strength above): they carry no information beyond
``n_regions``, ``n_edges`` and the number of texts.

What the grid keeps
-------------------
``explained_variance_by_layer``: the share of the layer's (scaled) variance
that the reduced coordinates keep, ``sum_k var(z_k) / sum_j var(x_j)``
(PCA's summed ``explained_variance_ratio_``; None for UMAP, which is not a
projection). ``singleton_share_by_label``: of the regions a label occupies
(over all layers), the share holding one text of it. ``ami_by_layer``:
adjusted mutual information between the texts' regions and their labels at
each layer (0: regions independent of labels, 1: regions are the labels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.nrag.regions import degenerate_reasons


class DegenerateLayerWarning(UserWarning):
    """A scan has layers where every text lands on one point (see the module notes)."""


__all__ = [
    "DegenerateLayerWarning",
    "CONSTANT_METRICS",
    "DERIVED_METRICS",
    "NULL_ONLY_METRICS",
    "constant_metrics",
    "default_metrics",
    "degenerate_layers",
    "degenerate_warning",
    "explained_variance",
    "grid_retention",
    "metrics_without_degenerate",
    "pooling_description",
    "quality_record",
    "without_layers",
]

#: Metrics constant (or an identity) on an NRAG, with the reason; the kinds they hold for.
CONSTANT_METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "center_of_strength": ((GRID,), "-0.5 on every grid NRAG: each text adds equal strength to every layer pair"),
    "center_of_strength_llm_mri": ((GRID, "components"), "always nan: llm_mri sums over a layer that has no node"),
    "projection_even_average_clustering": (
        (GRID, "components"),
        "always 0: projected edges join layers l and l+2 only, so there is no triangle",
    ),
    "projection_odd_average_clustering": (
        (GRID, "components"),
        "always 0: projected edges join layers l and l+2 only, so there is no triangle",
    ),
}
_ONE_LABEL = {"purity": "1 for one label by construction", "purity_by_layer": "1 for one label by construction"}

#: Metrics that are functions of counts, with the formula.
DERIVED_METRICS: dict[str, str] = {
    "mean_degree": "2 n_edges / n_regions",
    "density": "n_edges / (n_regions (n_regions - 1))",
    "mean_strength": "2 n_texts (n_layers - 1) / n_regions on a grid",
}


#: Shape metrics that chance moves as much as the labels do (the issue-19 audit: permutation p 0.24-0.88 on two
#: models and two corpora): the report shows them only in its Statistics, beside their label-permutation null.
NULL_ONLY_METRICS: tuple[str, ...] = (
    "skew_degree",
    "kurt_degree",
    "skew_strength",
    "kurt_strength",
    "assortativity",
    "projection_even_assortativity",
    "projection_odd_assortativity",
)


def constant_metrics(kind: str, n_labels: int) -> dict[str, str]:
    """The metrics that are constant or an identity on an NRAG of ``kind`` with ``n_labels`` selected labels.

    >>> sorted(constant_metrics("grid", 1))[:2]
    ['center_of_strength', 'center_of_strength_llm_mri']
    >>> "center_of_strength" in constant_metrics("components", 2)
    False
    """
    out = {k: why for k, (kinds, why) in CONSTANT_METRICS.items() if kind in kinds}
    if kind == GRID and n_labels == 1:
        out.update(_ONE_LABEL)
    return out


def default_metrics(metrics: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``metrics`` without the constants and identities of :func:`constant_metrics` (the default outputs).

    ``metrics`` is one :func:`llm_mri_graphdb.metrics.compute_metrics` result;
    its ``label_names`` says how many labels were selected.
    """
    drop = constant_metrics(kind, len(metrics.get("label_names", ())))
    return {k: v for k, v in metrics.items() if k not in drop}


# -- degenerate layers ----------------------------------------------------------------------
def degenerate_layers(
    nrag: NRAG | None = None,
    *,
    reduced: Sequence[np.ndarray] | None = None,
    activations: Sequence[np.ndarray] | None = None,
) -> dict[int, str]:
    """The degenerate layers (see the module notes) with the reason, by layer index.

    Parameters
    ----------
    nrag : NRAG, optional
        A grid layer with a single region is degenerate ("one grid cell"),
        unless the grid has one cell per axis.
    reduced : list of ndarray of shape (n_texts, n_components), optional
        A layer whose coordinates are all equal is ("constant reduced coordinates").
    activations : list of ndarray of shape (n_texts, width), optional
        A layer whose pooled activations are constant over the texts is
        ("constant pooled activations"), the first reason checked.

    Examples
    --------
    >>> import numpy as np
    >>> flat, spread = np.zeros((4, 2)), np.arange(8.0).reshape(4, 2)
    >>> degenerate_layers(reduced=[flat, spread])
    {0: 'constant reduced coordinates'}
    """
    grid = nrag is not None and nrag.kind == GRID and nrag.settings.get("gridsize") != 1
    return degenerate_reasons(
        reduced=reduced,
        activations=activations,
        region_layer=nrag.region_layer if grid and nrag is not None else None,
        n_layers=nrag.n_layers if nrag is not None else 0,
    )


def without_layers(nrag: NRAG, layers: Sequence[int]) -> NRAG:
    """``nrag`` with the regions of ``layers`` and every edge touching them removed.

    The remaining layers are renumbered ``0 .. n_layers - len(layers) - 1`` in
    order, so per-layer metrics keep their meaning; ``paths`` are dropped
    (a text has no region in a removed layer), labels and metadata are kept.
    """
    drop = sorted({int(v) for v in layers})
    if not drop:
        return nrag
    keep_layer = np.ones(nrag.n_layers, bool)
    keep_layer[drop] = False
    new_index = np.cumsum(keep_layer) - 1
    keep = keep_layer[nrag.region_layer]
    renumber = np.cumsum(keep) - 1
    rows = keep[nrag.edge_source] & keep[nrag.edge_target]
    bounds = None if nrag.layer_bounds is None else nrag.layer_bounds[keep_layer]
    return NRAG(
        nrag.kind,
        int(keep_layer.sum()),
        nrag.label_names,
        region_layer=new_index[nrag.region_layer[keep]],
        region_x=nrag.region_x[keep],
        region_y=nrag.region_y[keep],
        region_counts=nrag.region_counts[keep],
        edge_source=renumber[nrag.edge_source[rows]],
        edge_target=renumber[nrag.edge_target[rows]],
        edge_label=nrag.edge_label[rows],
        edge_weight=nrag.edge_weight[rows],
        layer_bounds=bounds,
        model=nrag.model,
        corpus=nrag.corpus,
        settings=nrag.settings,
        text_labels=nrag.text_labels,
    )


# -- what the grid keeps --------------------------------------------------------------------
def explained_variance(layer: np.ndarray, reduced: np.ndarray, scale: str | None = "standard") -> float:
    """Share of ``layer``'s variance, scaled as the reducer scaled it, kept by ``reduced``.

    ``sum_k var(reduced[:, k]) / sum_j var(scaled[:, j])``; equals the sum of
    PCA's ``explained_variance_ratio_`` (and TruncatedSVD's definition). nan
    when the layer has no variance.

    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    >>> explained_variance(x, x[:, :1], scale=None)
    1.0
    """
    x = np.asarray(layer, dtype=np.float64)
    if scale == "standard":
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    elif scale == "minmax":
        span = np.ptp(x, axis=0)
        x = (x - x.min(axis=0)) / np.where(span > 0, span, 1.0)
    total = float(x.var(axis=0).sum())
    kept = float(np.asarray(reduced, dtype=np.float64).var(axis=0).sum())
    return kept / total if total > 0 else float("nan")


def grid_retention(nrag: NRAG, *, explained: Sequence[float | None] | None = None) -> dict[str, Any]:
    """How much of the texts' information the grid keeps (see the module notes).

    Returns ``{"explained_variance_by_layer", "singleton_share_by_label",
    "ami_by_layer"}``; ``ami_by_layer`` is None without ``nrag.paths`` and
    ``singleton_share_by_label`` is None on a component NRAG.
    """
    from sklearn.metrics import adjusted_mutual_info_score

    singleton = None
    if nrag.kind == GRID:
        singleton = {}
        for c, name in enumerate(nrag.label_names):
            counts = nrag.region_counts[:, c]
            occupied = counts > 0
            singleton[name] = float((counts[occupied] == 1).mean()) if occupied.any() else float("nan")
    ami = None
    if nrag.paths is not None and nrag.text_labels is not None:
        ami = [
            float(adjusted_mutual_info_score(nrag.text_labels, nrag.paths[:, layer])) for layer in range(nrag.n_layers)
        ]
    return {
        "explained_variance_by_layer": None
        if explained is None
        else [None if v is None else float(v) for v in explained],
        "singleton_share_by_label": singleton,
        "ami_by_layer": ami,
    }


_POOLING_WORDS = {
    "first": "the first token ([CLS] of an encoder)",
    "last": "the last real token",
    "mean": "the mean of all real tokens (special tokens included, padding excluded)",
    "mean_skip_first": "the mean of real tokens at positions >= 1 (position 0, the attention sink, skipped)",
    "max": "the element-wise maximum over real tokens",
}


def pooling_description(nrag: NRAG) -> str:
    """One sentence naming the run's resolved pooling and where it came from.

    >>> from llm_mri_graphdb.nrag import build_nrag_from_reduced
    >>> g = build_nrag_from_reduced([np.eye(2)], [0, 1], ["a", "b"], settings={"pooling": "mean"},
    ...                             model={"declared_pooling": "mean"})
    >>> pooling_description(g)
    "mean: the mean of all real tokens (special tokens included, padding excluded), as the model's sentence-transformers 1_Pooling/config.json declares."
    """
    pooling = nrag.settings.get("pooling")
    if pooling is None:
        return "not recorded"
    words = f"{pooling}: {_POOLING_WORDS.get(pooling, pooling)}"
    declared = nrag.model.get("declared_pooling")
    if declared == pooling:
        return f"{words}, as the model's sentence-transformers 1_Pooling/config.json declares."
    if pooling == "mean_skip_first" and nrag.model.get("is_decoder"):
        return f"{words}; the default for a decoder without a declared pooling."
    if pooling == "mean" and nrag.model.get("is_decoder") is False and declared is None:
        return f"{words}; the default for an encoder without a declared pooling."
    return f"{words}."


# -- the record a scan writes ---------------------------------------------------------------
def metrics_without_degenerate(nrag: NRAG) -> dict[str, dict[str, Any]] | None:
    """Metrics of all labels and of each label on ``nrag`` without its degenerate layers (None if it has none).

    Computed in process (:func:`llm_mri_graphdb.metrics.compute_metrics` of
    :func:`without_layers`), constants and identities left out as in
    :func:`default_metrics`.
    """
    from llm_mri_graphdb.analysis.metrics import compute_metrics

    layers = nrag.degenerate_layers or ()
    if not layers:
        return None
    kept = without_layers(nrag, layers)
    if kept.n_layers < 2:
        return None
    out = {"all": default_metrics(compute_metrics(kept), nrag.kind)}
    for label in nrag.label_names:
        out[label] = default_metrics(compute_metrics(kept, [label]), nrag.kind)
    return out


def quality_record(
    nrag: NRAG, *, reasons: Mapping[int, str] | None = None, explained: Sequence[float | None] | None = None
) -> dict[str, Any]:
    """The ``scan_quality`` record of ``metrics.json`` and the report.

    Keys: ``pooling`` (resolved rule), ``pooling_description``,
    ``degenerate_layers`` (``[{"layer", "reason"}]``),
    ``metrics_without_degenerate_layers`` (see :func:`metrics_without_degenerate`),
    ``grid`` (:func:`grid_retention`), ``left_out`` (constant metrics with the
    reason), ``derived`` (:data:`DERIVED_METRICS`) and ``null_only``
    (:data:`NULL_ONLY_METRICS`, shown only beside their null).
    """
    layers = list(nrag.degenerate_layers or ())
    reasons = dict(reasons or {})
    return {
        "pooling": nrag.settings.get("pooling"),
        "pooling_description": pooling_description(nrag),
        "degenerate_layers": [
            {"layer": int(layer), "reason": reasons.get(layer, "one region holds every text")} for layer in layers
        ],
        "metrics_without_degenerate_layers": metrics_without_degenerate(nrag),
        "grid": grid_retention(nrag, explained=explained),
        "left_out": constant_metrics(nrag.kind, 2) | ({} if nrag.kind != GRID else _ONE_LABEL),
        "derived": dict(DERIVED_METRICS),
        "null_only": list(NULL_ONLY_METRICS),
    }


def degenerate_warning(nrag: NRAG, reasons: Mapping[int, str] | None = None) -> str | None:
    """The one line a scan prints when ``nrag`` has degenerate layers (None when it has none)."""
    layers = list(nrag.degenerate_layers or ())
    if not layers:
        return None
    reasons = dict(reasons or {})
    said = ", ".join(f"{layer} ({reasons.get(layer, 'one region')})" for layer in layers)
    return (
        f"degenerate layers {said}: every text lands on one point there (pooling "
        f"{nrag.settings.get('pooling')!r}); whole-graph metrics are reported with and without them. "
        "Try pooling='auto' or 'mean'."
    )
