"""Where NRAG runs live: Neo4j (with GDS metrics and the Cypher library) or the embedded store.

Both stores share one interface: ``write(nrag) -> run_id``, ``read(run_id)``,
``runs(all=False)``, ``models()``, ``corpora()``, ``delete(run_id)``, ``gc()``,
``metrics(run_id, labels=None)`` and ``query(name, **params)``.
:func:`llm_mri_graphdb.pipeline.open_store` picks one from the environment.
The Neo4j driver is imported only when :class:`Neo4jStore` is first used.
"""

from __future__ import annotations

from typing import Any

from llm_mri_graphdb.store.cypher import parse_params, query_names
from llm_mri_graphdb.store.memory import LocalStore, MemoryStore

__all__ = ["Neo4jStore", "LocalStore", "MemoryStore", "parse_params", "query_names"]


def __getattr__(name: str) -> Any:
    if name == "Neo4jStore":
        from llm_mri_graphdb.store.neo4j import Neo4jStore

        return Neo4jStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
