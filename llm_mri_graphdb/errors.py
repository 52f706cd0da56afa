"""Exception classes for the domain failures of llm-mri-graphdb.

Argument mistakes raise the built-in ``ValueError``/``TypeError``; the classes
here name failures of the world around the call (a database that does not
answer, a run that does not exist, a model that cannot be loaded), so that the
CLI can turn each into one clear line.
"""

from __future__ import annotations

__all__ = [
    "LLMMRIError",
    "ServerError",
    "StoreUnavailable",
    "WriteLost",
    "GDSNotInstalled",
    "RunNotFound",
    "QueryNotFound",
    "CypherFileMissing",
    "ModelLoadError",
    "CorpusError",
    "UnsupportedSite",
    "CacheError",
    "OutputError",
]


class LLMMRIError(Exception):
    """Base class of every error this package raises on purpose."""


class ServerError(LLMMRIError):
    """The local Neo4j server could not be installed, started or stopped."""


class StoreUnavailable(LLMMRIError):
    """The graph database cannot be reached or refuses our credentials."""


class WriteLost(LLMMRIError):
    """A version being written was removed by another process (``runs gc``, ``runs rm``) before it was published."""


class GDSNotInstalled(StoreUnavailable):
    """The database answers but has no Graph Data Science procedures."""


class RunNotFound(LLMMRIError, KeyError):
    """No complete run with the given id is stored."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "run not found"


class QueryNotFound(LLMMRIError, KeyError):
    """No query of that name ships in the Cypher library."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "query not found"


class CypherFileMissing(LLMMRIError):
    """A Cypher statement file the package ships is not where it should be (a broken install)."""


class ModelLoadError(LLMMRIError):
    """A model or tokenizer could not be loaded from a hub id, folder or GGUF file."""


class CorpusError(LLMMRIError, ValueError):
    """A corpus is empty, lacks a column, or holds a text that is not a string."""


class UnsupportedSite(LLMMRIError, ValueError):
    """The model has no module for the requested activation site."""


class CacheError(LLMMRIError):
    """An activation cache on disk is incomplete or does not match its manifest."""


class OutputError(LLMMRIError, OSError):
    """An output file (report, figure, metrics, export) or folder could not be written.

    ``path`` is the file or folder, ``cause`` the system's reason (e.g. ``No space left on device``).
    """

    def __init__(self, path, cause: str, message: str | None = None) -> None:
        super().__init__(message or f"writing {path} failed: {cause}")
        self.path, self.cause = path, cause

    def __str__(self) -> str:
        return str(self.args[0])
