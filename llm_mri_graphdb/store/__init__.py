"""Where NRAG runs live: Neo4j (with GDS metrics and the Cypher library) or memory.

Both stores share one interface: ``write(nrag) -> run_id``, ``read(run_id)``,
``runs()``, ``models()``, ``corpora()``, ``delete(run_id)``,
``metrics(run_id, labels=None)`` and ``query(name, **params)``.
"""

from __future__ import annotations

from llm_mri_graphdb.store.cypher import parse_params, query_names
from llm_mri_graphdb.store.memory import MemoryStore
from llm_mri_graphdb.store.neo4j import Neo4jStore

__all__ = ["Neo4jStore", "MemoryStore", "open_store", "parse_params", "query_names"]


def open_store(settings=None, *, path=None):
    """A :class:`Neo4jStore` for ``settings``, else a :class:`MemoryStore` (saved under ``path``).

    Parameters
    ----------
    settings : Neo4jSettings or None
        From :func:`llm_mri_graphdb.settings.neo4j_settings` (the CLI and facade read the environment).
    path : str or Path, optional
        Folder of the memory store.
    """
    if settings is None:
        return MemoryStore(path)
    return Neo4jStore.from_settings(settings)
