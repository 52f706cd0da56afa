"""Extraction: model loading, hook sites and pooling, the local and the Ray engine, the activation cache.

``local`` loads a model (or its skeleton on the meta device) and is the in-process engine; ``sites`` finds
the hooked modules and pools; ``distributed`` is the Ray engine built on the local one; ``run`` holds
``extract_activations``, the one entry point over both; ``jobs`` plans batches and ``cache`` keeps the
pooled arrays; ``activations`` is what comes out.

The names of the former flat module ``llm_mri_graphdb.extract`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "ModelInfo": "local",
    "load_model": "local",
    "load_skeleton": "local",
    "model_info": "local",
    "dtype_name": "local",
    "cpu_has_bf16": "local",
    "AUTO_PICKS_BF16": "local",
    "prepare_job": "local",
    "Extractor": "local",
    "extract_activations": "run",
}
__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
