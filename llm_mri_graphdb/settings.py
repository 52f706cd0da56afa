"""Connection settings, read from the environment in one place.

Only the CLI, the facade and the test fixtures call :func:`neo4j_settings`;
library code takes explicit arguments. The password is never printed: the
``repr`` of :class:`Neo4jSettings` masks it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = ["Neo4jSettings", "neo4j_settings", "cache_home", "package_folder"]


@dataclass(frozen=True)
class Neo4jSettings:
    """Where and how to reach a Neo4j server.

    Parameters
    ----------
    uri : str
        Bolt URI, e.g. ``bolt://127.0.0.1:7687``.
    user : str, default="neo4j"
    password : str
        Never shown by ``repr``.
    database : str or None, default=None
        ``None`` means the server's default database.
    """

    uri: str
    user: str = "neo4j"
    password: str = field(default="", repr=False)
    database: str | None = None

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def __repr__(self) -> str:
        return f"Neo4jSettings(uri={self.uri!r}, user={self.user!r}, password='***', database={self.database!r})"


def cache_home() -> Path:
    """Folder for downloaded jars, local server homes and activation caches.

    ``LLM_MRI_GRAPHDB_HOME`` overrides the default ``~/.cache/llm-mri-graphdb``.
    """
    env = os.environ.get("LLM_MRI_GRAPHDB_HOME")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llm-mri-graphdb"
    return base.expanduser()


def package_folder(name: str) -> Path:
    """A data folder the package ships: ``cypher`` (statements, query library) or ``loaders``.

    Both live at the top of the source checkout and are copied into the wheel as
    ``llm_mri_graphdb/cypher`` and ``llm_mri_graphdb/loaders``, so they are read
    through :mod:`importlib.resources` from an installed wheel, and from the
    checkout next to the package in an editable install or a source tree.
    """
    shipped = resources.files("llm_mri_graphdb") / name
    if shipped.is_dir():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / name


def neo4j_settings(environ: dict[str, str] | None = None) -> Neo4jSettings | None:
    """Settings from ``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``.

    Falls back to the password file of a local server started by
    ``llm-mri-graphdb neo4j start`` when only ``NEO4J_URI`` is missing and
    that server is running. Returns ``None`` when no database is configured.
    """
    env = os.environ if environ is None else environ
    uri = env.get("NEO4J_URI")
    if not uri:
        return None
    return Neo4jSettings(
        uri=uri,
        user=env.get("NEO4J_USER", "neo4j"),
        password=env.get("NEO4J_PASSWORD", ""),
        database=env.get("NEO4J_DATABASE") or None,
    )
