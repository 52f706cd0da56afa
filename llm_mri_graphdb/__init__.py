"""llm-mri-graphdb: a brain scanner for language models whose scans live in Neo4j.

The facade names (``ActivationAreas``, ``Metrics``, ``Evaluation``, ``compare``) are imported
lazily so that ``import llm_mri_graphdb`` stays cheap for the CLI and the store.
"""

from __future__ import annotations

from ._lazy import lazy_getattr

__version__ = "0.1.0"
__all__ = ["ActivationAreas", "Metrics", "Evaluation", "compare", "__version__"]

_LAZY = {"ActivationAreas": "facade", "Metrics": "facade", "Evaluation": "facade", "compare": "facade"}

__getattr__ = lazy_getattr(__name__, _LAZY)
