"""Where NRAG runs live: Neo4j (with GDS metrics and the Cypher library) or memory.

Both stores share one interface: ``write(nrag) -> run_id``, ``read(run_id)``,
``runs()``, ``models()``, ``corpora()``, ``delete(run_id)``,
``metrics(run_id, labels=None, *, save=False)``, ``analyze(run_id, algorithms,
labels=None, save=False)`` and ``query(name, **params)``; reading never writes
unless ``save=True``.
:func:`llm_mri_graphdb.pipeline.open_store` picks one from the environment.
"""

from __future__ import annotations

from llm_mri_graphdb.store.cypher import parse_params, query_names
from llm_mri_graphdb.store.memory import MemoryStore
from llm_mri_graphdb.store.neo4j import Neo4jStore

__all__ = ["Neo4jStore", "MemoryStore", "parse_params", "query_names"]

