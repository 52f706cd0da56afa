"""``llm_mri_graphdb.metrics``: the metrics' public path, kept across the layout move.

It is :mod:`llm_mri_graphdb.analysis.metrics` (the metric definitions, ``compute_metrics``) with the
statistics entry points it re-exports, :func:`metric_statistics` and :func:`metric_contrasts`
(implemented in :mod:`llm_mri_graphdb.analysis.statistics`).
"""

from __future__ import annotations

from llm_mri_graphdb.analysis.metrics import *  # noqa: F403
from llm_mri_graphdb.analysis.metrics import __all__  # noqa: F401
