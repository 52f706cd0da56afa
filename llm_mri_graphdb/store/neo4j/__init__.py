"""The Neo4j store: :class:`Neo4jStore` (``store``) over a :class:`CypherRunner` (``runner``), the rows it
writes (``records``), the text questions (``texts``), the Cypher metrics that need no plugin (``metrics``) and
the GDS algorithms (``gds``).

``from llm_mri_graphdb.store.neo4j import Neo4jStore`` (the former module path) keeps working; the names are
imported on first use so that the neo4j driver loads only when asked for.
"""

from __future__ import annotations

from ..._lazy import lazy_getattr

__all__ = ["URI_SCHEMES", "Neo4jStore"]

_LAZY = {"Neo4jStore": "store", "URI_SCHEMES": "store"}

__getattr__ = lazy_getattr(__name__, _LAZY)
