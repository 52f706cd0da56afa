"""The NRAG stage: the data model (``model``), its construction from cells (``regions``), I/O (``io``),
the text questions (``texts``) and the out-of-core builder (``out_of_core``).

The names of the former flat module ``llm_mri_graphdb.nrag`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "GRID": "regions",
    "COMPONENTS": "regions",
    "NRAG": "model",
    "run_id_for": "model",
    "build_nrag": "model",
    "build_nrag_from_reduced": "model",
    "resolve_labels": "model",
    "to_networkx": "io",
    "to_graphml": "io",
    "to_csv": "io",
    "from_csv": "io",
}
__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
