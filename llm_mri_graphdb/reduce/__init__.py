"""Reduction of each layer's activations to 2-D (or N-D) coordinates: PCA, SVD, UMAP, in memory or out of core
(``layers``). ``llm_mri``'s drop-in settings holders stay in :mod:`llm_mri_graphdb.dimensionality_reduction`,
beside the facade they serve.

The names of the former flat module ``llm_mri_graphdb.reduce`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "PCA": "layers",
    "SVD": "layers",
    "UMAP": "layers",
    "reduce_layers": "layers",
    "memory_budget_bytes": "layers",
    "fits_in_memory": "layers",
    "fit_out_of_core": "layers",
    "transform_chunks": "layers",
}
__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
