"""HTML output: the scan page (``scan``), the comparison page (``compare``), heatmap panels (``heatmap``),
the NVL graph view (``interactive``) and the hover scripts it ships (``web/``).

The names of the former flat module ``llm_mri_graphdb.report`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "build_report": "scan",
    "write_report": "scan",
    "SECTIONS": "scan",
    "MAX_FLOWS": "scan",
    "PAGE_STYLE": "scan",
    "html_table": "scan",
}
__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
