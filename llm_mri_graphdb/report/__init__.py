"""HTML output: the scan page (``scan``), the comparison page (``compare``), heatmap panels (``heatmap``),
the NVL graph view (``interactive``) and the hover scripts it ships (``web/``).

The names of the former flat module ``llm_mri_graphdb.report`` are re-exported here, imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "build_report": "scan",
    "write_report": "scan",
    "SECTIONS": "scan",
    "MAX_FLOWS": "scan",
    "PAGE_STYLE": "scan",
    "html_table": "scan",
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
