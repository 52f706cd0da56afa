"""One way to the database: a driver, a database name, named statements and batched writes.

:class:`CypherRunner` plays the role of the ``QueryRunner`` of the
``graphdatascience`` client: every statement the store and the GDS module send
goes through it, by the name of its file in ``cypher/`` (see
:mod:`llm_mri_graphdb.store.cypher`), with values only as ``$parameters``.
The store (:mod:`~llm_mri_graphdb.store.neo4j`) and the GDS module
(:mod:`~llm_mri_graphdb.store.neo4j.metrics`) both take a runner; neither reaches into
the other.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from neo4j import Driver, RoutingControl
from neo4j.exceptions import IncompleteCommit

from llm_mri_graphdb.errors import RunNotFound
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.base import run_not_found

__all__ = ["CypherRunner", "VersionChanged", "complete_run"]

Reader = Callable[..., list[dict[str, Any]]]

_IDEMPOTENT = re.compile(r"^// Idempotent\b", re.MULTILINE)


def _consume_tx(tx, query: str, params: dict[str, Any]):
    return tx.run(query, params).consume().counters


def _read_tx(tx, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query, params)]


def _bind(check: Callable[[dict[str, Any], Any], None], params: dict[str, Any]) -> Callable[[Any], None]:
    """``check`` of one batch's ``params``, as :meth:`CypherRunner.write_batch` calls it (with the counters)."""
    return lambda counters: check(params, counters)


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

    def read_row(self, name: str, **params: Any) -> dict[str, Any] | None:
        """The first row of a read statement whose values are plain lists, maps and scalars, as the driver gives
        them (None when it returns no row).

        Skips :meth:`neo4j.Record.data`, which walks every list element to
        convert graph types: on a row of three 150k-element lists that walk
        costs several times the query (2.5 s against 1 s).
        """
        records, _, _ = self.driver.execute_query(
            cypher.load(name), params, database_=self.database, routing_=RoutingControl.READ
        )
        return dict(zip(records[0].keys(), records[0].values())) if records else None

    def write(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of the write statement ``cypher/<name>.cypher`` in one managed transaction."""
        return self.run_text(cypher.load(name), params, write=True)

    def run_text(self, text: str, params: dict[str, Any], *, write: bool) -> list[dict[str, Any]]:
        """Rows of a statement already loaded from the library (``execute_query``)."""
        records, _, _ = self.driver.execute_query(
            text, params, database_=self.database, routing_=RoutingControl.WRITE if write else RoutingControl.READ
        )
        return [record.data() for record in records]

    def read_in_session(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Like :meth:`read`, in a managed read transaction of its own session."""
        with self.session() as session:
            return session.execute_read(_read_tx, cypher.load(name), params)

    def read_together(self, work: Callable[[Reader], Any]) -> Any:
        """``work(read)`` in ONE managed read transaction; ``read(name, **params)`` gives a statement's rows.

        ``work`` may be run again by the driver (a transient failure), so it
        only reads and returns plain values.
        """

        def in_tx(tx):
            return work(lambda name, **params: _read_tx(tx, cypher.load(name), params))

        with self.session() as session:
            return session.execute_read(in_tx)

    def write_batch(self, name: str, params: dict[str, Any], check: Callable[[Any], None] | None = None):
        """One managed write transaction of ``cypher/<name>.cypher``; returns its counters.

        ``check(counters)`` runs inside the transaction function, so a batch
        whose counts are wrong raises before it commits. The driver retries a
        transaction that failed before its commit; a statement whose header
        has a line starting ``// Idempotent`` (a no-op once applied) is run once
        more after a commit whose acknowledgement was lost
        (:class:`neo4j.exceptions.IncompleteCommit`), so its outcome is known.
        """
        query = cypher.load(name)
        idempotent = _IDEMPOTENT.search(query) is not None

        def work(tx):
            counters = _consume_tx(tx, query, params)
            if check is not None:
                check(counters)
            return counters

        with self.session() as session:
            try:
                return session.execute_write(work)
            except IncompleteCommit:
                if not idempotent:
                    raise
        with self.session() as session:
            return session.execute_write(work)

    def write_batches(
        self,
        name: str,
        batches: Sequence[dict[str, Any]],
        *,
        workers: int = 1,
        check: Callable[[dict[str, Any], Any], None] | None = None,
    ) -> None:
        """Write ``batches`` of ``cypher/<name>.cypher`` on ``workers`` threads.

        The first failure cancels the batches not yet started and is raised.
        ``check(params, counters)`` validates each batch inside its transaction.
        """
        self.write_groups(name, [[params] for params in batches], workers=workers, check=check)

    def write_groups(
        self,
        name: str,
        groups: Sequence[Sequence[dict[str, Any]]],
        *,
        workers: int = 1,
        check: Callable[[dict[str, Any], Any], None] | None = None,
    ) -> None:
        """Like :meth:`write_batches`; the batches of one group run in order on one thread.

        Groups whose batches touch disjoint nodes run at once without
        contending for locks.
        """

        def one(group: Sequence[dict[str, Any]]) -> None:
            for params in group:
                self.write_batch(name, params, None if check is None else _bind(check, params))

        if workers == 1 or len(groups) <= 1:
            for group in groups:
                one(group)
            return
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(one, group) for group in groups]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


class VersionChanged(RunNotFound):
    """The version of a run being read was retired by a publish (or deleted) while it was read."""

    def __init__(self, run_id: str, version: str) -> None:
        super().__init__(f"run {run_id!r} changed while it was read; read it again.")
        self.version = version


#: Looks for a complete run before saying there is none: a publish renames the old version and flips the
#: new one in one transaction, and a read-committed index seek that meets that commit may see neither.
_FIND_TRIES, _FIND_PAUSE_S = 3, 0.05


def complete_run(runner: CypherRunner | Reader, run_id: str) -> dict[str, Any]:
    """The ``Run`` node of a complete run; :class:`~llm_mri_graphdb.errors.RunNotFound` otherwise.

    ``runner`` is a :class:`CypherRunner` or the ``read`` of
    :meth:`CypherRunner.read_together`. RunNotFound only when no complete
    version is found before and after a publish could have been under way
    (three looks, 50 ms apart; only a missing run pays for them).
    """
    read = runner.read if isinstance(runner, CypherRunner) else runner
    for attempt in range(_FIND_TRIES):
        rows = read("read_run", run_id=run_id)
        if rows:
            return rows[0]["run"]
        if attempt + 1 < _FIND_TRIES:
            time.sleep(_FIND_PAUSE_S)
    raise run_not_found(run_id)
