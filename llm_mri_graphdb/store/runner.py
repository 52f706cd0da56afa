"""One way to the database: a driver, a database name, named statements and batched writes.

:class:`CypherRunner` plays the role of the ``QueryRunner`` of the
``graphdatascience`` client: every statement the store and the GDS module send
goes through it, by the name of its file in ``cypher/`` (see
:mod:`llm_mri_graphdb.store.cypher`), with values only as ``$parameters``.
The store (:mod:`~llm_mri_graphdb.store.neo4j`) and the GDS module
(:mod:`~llm_mri_graphdb.store.gds`) both take a runner; neither reaches into
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from neo4j import Driver, RoutingControl

from llm_mri_graphdb.errors import RunNotFound
from llm_mri_graphdb.store import cypher

__all__ = ["CypherRunner", "complete_run"]


def _consume_tx(tx, query: str, params: dict[str, Any]):
    return tx.run(query, params).consume().counters


def _read_tx(tx, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query, params)]


class CypherRunner:
    """Named Cypher statements over one driver and database.

    Parameters
    ----------
    driver : neo4j.Driver
        Owned by the caller; the runner never closes it.
    database : str or None, default=None
        ``None`` is the server's default database.
    """

    def __init__(self, driver: Driver, database: str | None = None) -> None:
        self.driver = driver
        self.database = database

    def __repr__(self) -> str:
        return f"CypherRunner(database={self.database!r})"

    def session(self):
        """A new session on the runner's database (not thread-safe; one per thread)."""
        return self.driver.session(database=self.database)

    def read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of the read statement ``cypher/<name>.cypher`` (retried by the driver)."""
        return self.run_text(cypher.load(name), params, write=False)

    def write(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of the write statement ``cypher/<name>.cypher`` in one managed transaction."""
        return self.run_text(cypher.load(name), params, write=True)

    def run_text(self, text: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        """Rows of a statement already loaded from the library (``execute_query``)."""
        records, _, _ = self.driver.execute_query(
            text, params, database_=self.database,
            routing_=RoutingControl.WRITE if write else RoutingControl.READ)
        return [record.data() for record in records]

    def read_in_session(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Like :meth:`read`, in a managed read transaction of its own session."""
        with self.session() as session:
            return session.execute_read(_read_tx, cypher.load(name), params)

    def write_batch(self, name: str, params: dict[str, Any],
                    check: Callable[[Any], None] | None = None):
        """One managed write transaction of ``cypher/<name>.cypher``; returns its counters.

        ``check(counters)`` runs inside the transaction function, so a batch
        whose counts are wrong raises before it commits.
        """
        query = cypher.load(name)

        def work(tx):
            counters = _consume_tx(tx, query, params)
            if check is not None:
                check(counters)
            return counters

        with self.session() as session:
            return session.execute_write(work)

    def write_batches(self, name: str, batches: Sequence[dict[str, Any]], *, workers: int = 1,
                      check: Callable[[dict[str, Any], Any], None] | None = None) -> None:
        """Write ``batches`` of ``cypher/<name>.cypher`` on ``workers`` threads.

        The first failure cancels the batches not yet started and is raised.
        ``check(params, counters)`` validates each batch inside its transaction.
        """
        def one(params: dict[str, Any]):
            return self.write_batch(name, params, None if check is None else (lambda c: check(params, c)))

        if workers == 1 or len(batches) <= 1:
            for params in batches:
                one(params)
            return
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(one, params) for params in batches]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def complete_run(runner: CypherRunner, run_id: str) -> dict[str, Any]:
    """The ``Run`` node of a complete run; :class:`~llm_mri_graphdb.errors.RunNotFound` otherwise."""
    rows = runner.read("read_run", run_id=run_id)
    if not rows:
        raise RunNotFound(f"run_id must name a complete run; got {run_id!r} (see `llm-mri-graphdb runs ls`).")
    return rows[0]["run"]
