"""Where NRAG runs live: Neo4j (with GDS metrics and the Cypher library) or the embedded store.

Both stores implement the abstract :class:`~llm_mri_graphdb.store.base.Store` (``base``): ``write(nrag, texts=None) -> run_id``, ``read(run_id)``,
``runs(all=False)``, ``models()``, ``corpora()``, ``delete(run_id)``, ``gc()``,
``metrics(run_id, labels=None, *, save=False)``, ``analyze(run_id, algorithms,
labels=None, save=False)``, ``query(name, **params)`` and the text questions
``region_texts``, ``text_path``, ``co_travellers``, ``label_crossings`` and
``diverging_texts`` (same rows from both); reading never writes unless ``save=True``.
:func:`llm_mri_graphdb.pipeline.open_store` picks one from the environment.
Layout: ``base`` (the contract and its shared checks), ``local`` (the embedded file store), ``neo4j/`` (the Neo4j store: ``store``, ``runner``,
``records``, ``texts``, ``metrics`` (the Cypher metrics, no GDS needed) and ``gds`` (the GDS algorithms)),
``alignment`` (the alignment questions of both) and ``cypher`` (the statement and query library).
The names are imported on first use, so ``import llm_mri_graphdb.store`` does not
load the neo4j driver until :class:`Neo4jStore` is asked for.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["Store", "Neo4jStore", "LocalStore", "MemoryStore", "parse_params", "query_names"]

_LAZY = {
    "Store": "base",
    "Neo4jStore": "neo4j.store",
    "LocalStore": "local",
    "MemoryStore": "local",
    "parse_params": "cypher",
    "query_names": "cypher",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
