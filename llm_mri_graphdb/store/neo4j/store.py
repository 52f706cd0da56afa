"""Neo4j store: NRAGs as ``(:Run)``, ``(:Region)``, ``[:FLOWS]`` and ``[:FLOWS_TOTAL]``, texts as ``(:Text)``.

A run is written as a fresh *version* (``Run {id: "<run_id>#<hex>", status:
"writing"}`` plus regions keyed ``<version>:<region>``) in batched ``UNWIND``
transactions. One last transaction retires the previous complete version and
flips the new one to ``id = run_id, status = "complete"``; only then is the
old version deleted, in batches. Readers only follow complete ``Run`` nodes to
their ``version``, so they see the old run or the new one, never a mix. Every
batch is a no-op once applied, so a transaction the driver retries after a
lost acknowledgement never doubles an edge. A version left behind by a crash
is collected on the next write of that run, or by :meth:`Neo4jStore.gc`.
Texts and their ``IN`` memberships are written with the staging version (see
:mod:`llm_mri_graphdb.store.neo4j.texts`).

The driver gives up on a lost server after ``retry_s`` seconds and its log
lines go to the ``neo4j`` logger, which stays silent unless the application
configures logging (the CLI does with ``--debug``).

The shared checks and template steps (the NRAG and texts before a write, ``compare``) are
:class:`~llm_mri_graphdb.store.base.Store`'s; this class fills in the steps over the runner.

Above 400 lines: one class, the store's steps over the runner plus the write lease (``_Heartbeat``) the
reliability work added; the next cut is the write path (versions, lease, publish) into its own module.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from llm_mri_graphdb.analysis.alignment import LayerAlignment
from llm_mri_graphdb.errors import RunNotFound, StoreUnavailable, WriteLost
from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.settings import Neo4jSettings, neo4j_settings
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.base import Store, run_not_found
from llm_mri_graphdb.store.neo4j import alignment as neo4j_alignment
from llm_mri_graphdb.store.neo4j import texts as neo4j_texts
from llm_mri_graphdb.store.neo4j.columns import layer_column_batches, layer_columns_check
from llm_mri_graphdb.store.neo4j.records import (
    corpus_key,
    flow_batch_check,
    flow_batches,
    model_key,
    region_batch_check,
    region_rows,
    run_props,
    side_props,
)
from llm_mri_graphdb.store.neo4j.runner import CypherRunner, Reader, VersionChanged, complete_run
from llm_mri_graphdb.store.statistics import text_paths_from_rows
from llm_mri_graphdb.values import plain

__all__ = ["Neo4jStore", "URI_SCHEMES"]

URI_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_RUN_PARAMS = ("run_id", "run_a", "run_b")
logging.getLogger("neo4j").addHandler(logging.NullHandler())  # no driver lines on stderr unless configured
_LOST = (ServiceUnavailable, SessionExpired)
#: Versions one read may try: a publish retires the version being read at most this often minus one.
_READ_TRIES = 4


def _check_uri(uri: str) -> None:
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in URI_SCHEMES:
        raise StoreUnavailable(
            f"NEO4J_URI must start with bolt://, neo4j://, bolt+s:// or neo4j+s:// "
            f"(the Bolt port, 7687 by default); got {uri!r}."
        )


class _Heartbeat:
    """Renews the lease of a version being written every ``lease_s / 4`` seconds, on a thread of its own."""

    def __init__(self, runner: CypherRunner, version: str, lease_s: float) -> None:
        self._runner, self._version, self._lease_s = runner, version, lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {version}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._lease_s / 4):
            try:
                if not self._runner.write(
                    "update_run_lease", version=self._version, lease_ms=int(self._lease_s * 1000)
                ):
                    return  # removed (or published): the write itself finds out and says so
            except (Neo4jError, DriverError, OSError):
                pass  # a lost server ends the write too; try again at the next beat

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Neo4jStore(neo4j_texts.TextQuestions, Store):
    """NRAG runs in Neo4j, metrics through GDS, the named Cypher library, and the text questions.

    Parameters
    ----------
    uri : str or neo4j.Driver
        Bolt URI (``bolt://``, ``neo4j://``, ``bolt+s://``, ``neo4j+s://``), or a
        driver the caller owns (it is not closed here).
    auth : tuple of (str, str), optional
        ``(user, password)``; never printed.
    database : str or None, default=None
        ``None`` is the server's default database.
    batch_size : int, default=20_000
        Rows (regions) or relationships per write transaction.
    workers : int, default=2
        Write transactions run at once. Flow batches run in two waves (even,
        then odd source layers), the batches of one layer pair in order on one
        thread, so concurrent transactions never share a node.
    lease_s : float, default=60.0
        A version being written carries its writer's lease: renewed every
        ``lease_s / 4`` seconds while the write runs, it keeps :meth:`gc` (and
        another write of the same run) from collecting the version; a lease
        not renewed for ``lease_s`` (a writer that died or hangs) lapses.
    retry_s : float, default=5.0
        How long the driver retries a transaction on a lost connection before
        the write gives up (``max_transaction_retry_time``; with the driver's
        back-off of 1, 2, 4 s the last try starts about 7 s in, so losing the
        server ends a write in about 10 s).

    Raises
    ------
    StoreUnavailable
        The URI is not a Bolt URI, the server cannot be reached, refuses the
        credentials, locks logins after failed attempts, or has no such database.
    """

    def __init__(
        self,
        uri: str | Driver,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        *,
        batch_size: int = 20_000,
        workers: int = 2,
        retry_s: float = 5.0,
        lease_s: float = 60.0,
    ) -> None:
        if not isinstance(lease_s, (int, float)) or not 0 < lease_s < 86_400:
            raise ValueError(f"lease_s must be a number of seconds in (0, 86400); got {lease_s!r}.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}.")
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int >= 1; got {workers!r}.")
        self.database = database
        self.batch_size = batch_size
        self.workers = workers
        self.lease_s = float(lease_s)
        self._owns_driver = not isinstance(uri, Driver)
        self.uri = uri if self._owns_driver else "<driver>"
        if self._owns_driver:
            _check_uri(str(uri))
        self._driver = (
            GraphDatabase.driver(
                uri,
                auth=auth,
                notifications_min_severity="OFF",
                max_transaction_retry_time=retry_s,
                connection_timeout=min(5.0, retry_s),
                connection_acquisition_timeout=retry_s + 5.0,
            )
            if not isinstance(uri, Driver)
            else uri
        )
        self._runner = CypherRunner(self._driver, database)
        try:
            self._driver.verify_connectivity()
            for statement in cypher.statements("schema"):
                self._driver.execute_query(statement, database_=database)
        except (Neo4jError, DriverError, OSError, ValueError) as exc:
            self.close()
            raise self._connect_error(exc, auth) from exc

    def _connect_error(self, exc: Exception, auth: tuple[str, str] | None) -> Exception:
        """One line naming the fix for a failure to open the store."""
        user = auth[0] if auth else "<none>"
        code = getattr(exc, "code", None) or ""
        if code.endswith("AuthenticationRateLimit"):
            return StoreUnavailable(
                f"Neo4j at {self.uri} locked logins for user {user!r} after too many failed "
                "attempts; wait a few seconds, then retry with the right NEO4J_PASSWORD."
            )
        if isinstance(exc, AuthError) or code.startswith("Neo.ClientError.Security."):
            return StoreUnavailable(
                f"Neo4j at {self.uri} refused user {user!r}: authentication failed; "
                "check NEO4J_USER and NEO4J_PASSWORD."
            )
        if code.endswith("DatabaseNotFound"):
            return StoreUnavailable(
                f"Neo4j at {self.uri} has no database {self.database!r}; set NEO4J_DATABASE "
                "to an existing one (SHOW DATABASES) or unset it for the default."
            )
        if isinstance(exc, (ServiceUnavailable, SessionExpired, OSError, ValueError)) or not code:
            return StoreUnavailable(
                f"cannot reach Neo4j at {self.uri} ({type(exc).__name__}); start one with "
                "`llm-mri-graphdb neo4j start` or set NEO4J_URI."
            )
        return StoreUnavailable(f"Neo4j at {self.uri} refused the connection: {getattr(exc, 'message', exc)}")

    @classmethod
    def from_settings(cls, settings: Neo4jSettings, **kwargs: Any) -> Neo4jStore:
        """Open the store described by :class:`~llm_mri_graphdb.settings.Neo4jSettings`."""
        return cls(settings.uri, settings.auth, settings.database, **kwargs)

    @classmethod
    def from_env(cls, **kwargs: Any) -> Neo4jStore:
        """Open the store named by ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``/``NEO4J_DATABASE``."""
        settings = neo4j_settings()
        if settings is None:
            raise StoreUnavailable("NEO4J_URI is not set; set it or start a server with `llm-mri-graphdb neo4j start`.")
        return cls.from_settings(settings, **kwargs)

    def __repr__(self) -> str:
        return f"Neo4jStore(uri={self.uri!r}, database={self.database!r})"

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._owns_driver:
            self._driver.close()

    # -- plumbing ------------------------------------------------------------------
    @property
    def runner(self) -> CypherRunner:
        """The :class:`~llm_mri_graphdb.store.neo4j.runner.CypherRunner` every statement goes through."""
        return self._runner

    def _delete_version(self, version: str) -> None:
        """Delete a retired or failed version in batches: text memberships, regions, its Run node, and the
        texts of its corpus when no other run uses them."""
        limit = max(1, self.batch_size // 4)
        while self._runner.write("delete_memberships", version=version, limit=self.batch_size)[0]["deleted"]:
            pass
        while self._runner.write("delete_regions", version=version, limit=limit)[0]["deleted"]:
            pass
        for row in self._runner.write("delete_version", version=version):
            if row["corpus"] is not None:
                neo4j_texts.delete_texts(self._runner, row["corpus"], self.batch_size)

    def _collect_stale(self, run_id: str) -> None:
        for row in self._runner.read("read_stale_versions", run_id=run_id):
            if not row["leased"]:  # a leased version is another writer's, still alive
                self._delete_version(row["version"])

    @property
    def _lease_ms(self) -> int:
        return int(self.lease_s * 1000)

    def _version_exists(self, version: str) -> bool:
        return bool(self._runner.read("read_version", version=version))

    def _collected(self, run_id: str, version: str) -> WriteLost:
        return WriteLost(
            f"version {version} of run {run_id} was removed while it was being written (by `llm-mri-graphdb runs "
            f"gc` or `runs rm` in another process, after this writer's {self.lease_s:.0f} s lease was not renewed "
            "in time); nothing was published: write the run again."
        )

    # -- writes --------------------------------------------------------------------
    def _write(self, nrag: NRAG, texts: list[str] | None) -> str:
        """Store ``nrag`` as its run, replacing a previous version atomically (:meth:`Store.write` checked it).

        Texts are stored once per corpus as ``(:Text)`` nodes; for a grid NRAG with ``paths`` also one
        ``(:Text)-[:IN]->(:Region)`` per text and layer. Component runs store no ``IN``: a text has a score
        on every component, so it has no single region.

        Returns
        -------
        run_id : str
            ``nrag.run_id``.

        Raises
        ------
        StoreUnavailable
            Neo4j was lost mid-write: the previous version of the run is intact
            and the unpublished one is left for the next write or :meth:`gc`.
        """
        run_id = nrag.run_id
        version = f"{run_id}#{uuid.uuid4().hex[:12]}"
        stage = "before"
        try:
            self._collect_stale(run_id)
            with_paths = texts is not None and nrag.kind == GRID and nrag.paths is not None
            self._runner.write(
                "create_run",
                version=version,
                run_id=run_id,
                lease_ms=self._lease_ms,
                props=run_props(nrag, n_texts=len(texts or ()), text_paths=with_paths),
            )
            stage = "writing"
            try:
                with _Heartbeat(self._runner, version, self.lease_s):
                    retired = self._write_version(nrag, version, texts)
            except _LOST:
                raise
            except BaseException as exc:
                try:
                    collected = not isinstance(exc, WriteLost) and not self._version_exists(version)
                    if not collected:  # give the lease up: a leftover the cleanup misses is gc's at once
                        self._runner.write("update_run_lease", version=version, lease_ms=0)
                    self._delete_version(version)  # also what this writer wrote after the collection
                except (Neo4jError, DriverError):
                    collected = False  # collected on the next write of this run
                if collected:
                    raise self._collected(run_id, version) from exc
                raise
            stage = "published"
            for old in retired:
                self._delete_version(old)
        except _LOST as exc:
            kept = {
                "before": "nothing was written; start Neo4j and write the run again.",
                "writing": f"the stored runs are intact and version {version} is left unpublished; start Neo4j "
                "and write the run again (`llm-mri-graphdb runs gc` removes the leftover).",
                "published": "the run was stored, and the version it replaced is left to delete; "
                "`llm-mri-graphdb runs gc` removes it once Neo4j is back.",
            }[stage]
            raise StoreUnavailable(
                f"lost Neo4j at {self.uri} while writing run {run_id} ({type(exc).__name__}): {kept}"
            ) from exc
        return run_id

    def _write_version(self, nrag: NRAG, version: str, texts: list[str] | None) -> list[str]:
        """Regions, layer columns, flows (even source layers, then odd), texts and their memberships, then
        publish ``version`` in one transaction.

        Returns the versions the publishing retired (to delete).
        """
        run_id = nrag.run_id
        rows = region_rows(nrag, version)
        size = min(self.batch_size, -(-len(rows) // self.workers))  # at least one batch per worker
        self._runner.write_batches(
            "create_regions",
            workers=self.workers,
            check=region_batch_check,
            batches=[
                {"rows": rows[start : start + size], "run_id": run_id, "version": version}
                for start in range(0, len(rows), max(size, 1))
            ],
        )
        self._runner.write_batches(
            "create_layer_columns",
            workers=self.workers,
            check=layer_columns_check,
            batches=[{"rows": batch, "version": version} for batch in layer_column_batches(nrag, self.batch_size)],
        )
        groups = flow_batches(nrag, self.batch_size)
        labels = list(nrag.label_names)
        for parity in (0, 1):  # a wave's layer pairs share no region, so its groups never contend
            self._runner.write_groups(
                "create_flows",
                workers=self.workers,
                check=flow_batch_check,
                groups=[
                    [{**batch.params(), "version": version, "labels": labels} for batch in group]
                    for group in groups
                    if group[0].layer % 2 == parity
                ],
            )
        if texts is not None:
            neo4j_texts.write_texts(
                self._runner, nrag, texts, version, batch_size=self.batch_size, workers=self.workers
            )
        model, corpus = model_key(nrag.model), corpus_key(nrag.corpus)
        published = self._runner.write(
            "update_run_complete",
            run_id=run_id,
            version=version,
            model_key=model,
            model=side_props(nrag.model, "key", model),
            corpus_key=corpus,
            corpus=side_props(nrag.corpus, "fingerprint", corpus),
        )
        if published:
            return list(published[0]["retired"])
        current = self._runner.read("read_run", run_id=run_id)  # a retry after the publish committed finds it done
        if current and current[0]["run"].get("version") == version:
            return [
                row["version"]
                for row in self._runner.read("read_stale_versions", run_id=run_id)
                if row["status"] == "deleting"
            ]
        raise self._collected(run_id, version)

    def delete(self, run_id: str) -> None:
        """Delete a complete run (hidden at once, then removed in batches), or a leftover version.

        ``run_id`` may also name a version left in ``writing``/``deleting`` by
        an interrupted write or delete (see ``runs(all=True)``).
        """
        rows = self._runner.write("update_run_deleting", run_id=run_id, token=uuid.uuid4().hex)
        if not rows:
            stale = {row["version"] for row in self._runner.read("read_stale_versions", run_id=None)}
            if run_id not in stale:
                raise run_not_found(run_id, leftovers=True)
            rows = [{"version": run_id}]
        self._delete_version(rows[0]["version"])
        neo4j_alignment.forget_alignments(self._runner, run_id)  # its Layer nodes and ALIGNS

    def gc(self) -> list[dict[str, Any]]:
        """Delete every version left in ``writing``/``deleting`` by an interrupted write or delete.

        A version whose writer's lease is fresh (a write in progress, see
        ``lease_s``) is skipped; :meth:`leased_versions` lists those. Returns the
        versions removed.
        """
        removed = [plain(row) for row in self._runner.read("read_stale_versions", run_id=None) if not row["leased"]]
        for row in removed:
            self._delete_version(row["version"])
        for row in self._runner.read("read_orphan_text_corpora"):  # a delete interrupted before its texts went
            neo4j_texts.delete_texts(self._runner, row["corpus"], self.batch_size)
        return removed

    def leased_versions(self) -> list[dict[str, Any]]:
        """Versions being written now (their writer's lease is fresh): what :meth:`gc` leaves alone."""
        return [plain(row) for row in self._runner.read("read_stale_versions", run_id=None) if row["leased"]]

    # -- reads ---------------------------------------------------------------------
    def read(self, run_id: str) -> NRAG:
        """The stored NRAG of ``run_id``, equal (:meth:`NRAG.equals`) to the one written.

        ``paths`` and ``text_labels`` come back when the run was written with
        texts (``paths`` for grid runs only), ``activations_path`` and
        ``degenerate_layers`` when the NRAG had them.

        Readers never see a publish: the run's version is resolved and read in
        one transaction; when a publish retires it meanwhile (its regions going
        in batches), the run is resolved again and its new version read.
        """
        failed: set[str] = set()
        while True:
            try:
                return self._runner.read_together(lambda read: self._read_version(read, run_id))
            except VersionChanged as exc:
                if exc.version in failed or len(failed) >= _READ_TRIES - 1:
                    raise  # the same version changed twice (not a publish), or publishes outran the reads
                failed.add(exc.version)

    def _read_version(self, read: Reader, run_id: str) -> NRAG:
        """The NRAG of the complete version of ``run_id``, all in the transaction of ``read``."""
        run = complete_run(read, run_id)
        version = run["version"]
        regions = read("read_regions", version=version)[0]
        flows = read("read_flows", version=version)[0]
        if len(regions["idx"]) != run["n_regions"] or len(flows["s"]) != run["n_edge_rows"]:
            raise VersionChanged(run_id, version)
        label_names = list(run["label_names"])
        label_index = {name: i for i, name in enumerate(label_names)}
        src, tgt = np.array(flows["s"], np.int64), np.array(flows["t"], np.int64)
        lab = np.array([label_index[name] for name in flows["label"]], np.int64)
        order = np.lexsort((lab, tgt, src))
        bounds = run.get("layer_bounds")
        paths, text_labels = neo4j_texts.read_text_arrays(read, run)
        return NRAG(
            kind=run["kind"],
            n_layers=run["n_layers"],
            label_names=tuple(label_names),
            region_layer=regions["layer"],
            region_x=regions["x"],
            region_y=regions["y"],
            region_counts=np.array(regions["counts"], dtype=np.int64).reshape(-1, len(label_names)),
            edge_source=src[order],
            edge_target=tgt[order],
            edge_label=lab[order],
            edge_weight=np.array(flows["weight"], np.float64)[order],
            layer_bounds=None if bounds is None else np.asarray(bounds, dtype=np.float64).reshape(-1, 4),
            model=json.loads(run["model_json"]),
            corpus=json.loads(run["corpus_json"]),
            settings=json.loads(run["settings_json"]),
            paths=paths,
            text_labels=text_labels,
            activations_path=run.get("activations_path"),
            degenerate_layers=run.get("degenerate_layers"),
        )

    def runs(self, *, all: bool = False) -> list[dict[str, Any]]:  # noqa: A002 - mirrors `runs ls --all`
        """Complete runs, newest first: run_id, model, corpus, kind, sizes, completed_at, status.

        With ``all=True`` also the versions an interrupted write or delete left
        in ``writing`` or ``deleting``, listed under their version id.
        """
        statuses = ["complete", "writing", "deleting"] if all else ["complete"]
        return [plain(row) for row in self._runner.read("read_runs", statuses=statuses)]

    def models(self) -> list[dict[str, Any]]:
        """Stored models with their number of complete runs."""
        return self._runner.read("read_models")

    def corpora(self) -> list[dict[str, Any]]:
        """Stored corpora with their number of complete runs."""
        return self._runner.read("read_corpora")

    # -- metrics and queries ---------------------------------------------------------
    def metrics(self, run_id: str, labels: Sequence[str] | str | None = None, *, save: bool = False) -> dict[str, Any]:
        """Metrics of a run computed in the database; saved on the run only with ``save=True``
        (see :mod:`llm_mri_graphdb.store.neo4j.metrics`)."""
        from llm_mri_graphdb.store.neo4j.metrics import run_metrics

        return run_metrics(self._runner, run_id, labels, save=save)

    def analyze(
        self,
        run_id: str,
        algorithms: Sequence[str] | str | None = None,
        labels: Sequence[str] | str | None = None,
        save: bool = False,
    ) -> dict[str, Any]:
        """Communities and centrality with GDS; written to regions only with ``save=True``
        (see :mod:`llm_mri_graphdb.store.neo4j.gds`)."""
        from llm_mri_graphdb.store.neo4j.gds import run_analysis

        return run_analysis(self._runner, run_id, algorithms, labels, save=save, uri=str(self.uri))

    def _text_paths(self, run_id: str):
        """The run's per-text paths, read through ``cypher/read_statistics_input.cypher``."""
        complete_run(self._runner, run_id)
        rows = self._runner.read("read_statistics_input", run_id=run_id)
        if not rows:
            raise RunNotFound(f"run_id must name a complete run; got {run_id!r} (see `llm-mri-graphdb runs ls`).")
        return text_paths_from_rows(rows[0], run_id)

    def _save_statistics(self, run_id: str, record: dict[str, Any]) -> None:
        """Merge the statistics on the run as a ``(:StatisticSet)`` (columns as list properties)."""
        run = complete_run(self._runner, run_id)
        settings = {k: v for k, v in record["settings"].items() if v is not None}
        props = {**settings, **record["columns"], "statistics_json": json.dumps(record, sort_keys=True)}
        self._runner.write("merge_statistic_set", run_id=run_id, key=f"{run['version']}|{record['key']}", props=props)

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run the library query ``cypher/queries/<name>.cypher`` with ``params``.

        Raises QueryNotFound for an unknown name, ValueError naming a missing,
        unknown or out-of-range parameter, and RunNotFound when ``run_id``
        (``run_a``, ``run_b``) names no complete run.
        """
        text = cypher.load_query(name)
        bound = cypher.bind_parameters(name, params)
        for key in _RUN_PARAMS:
            if key in bound:
                run = complete_run(self._runner, bound[key])
                label = bound.get("label")
                if key == "run_id" and label is not None and label not in run["label_names"]:
                    raise ValueError(
                        f"query {name!r} parameter label must be a label of run {bound[key]}, one "
                        f"of {list(run['label_names'])}; got {label!r}."
                    )
        try:
            rows = self._runner.run_text(text, bound, write=False)
        except ClientError as exc:
            raise ValueError(f"query {name!r} failed: {exc.message}") from exc
        return [plain(row) for row in rows]

    # -- alignment steps (Store.compare computes) ----------------------------------------
    def _save_alignment(self, alignment: LayerAlignment) -> None:
        neo4j_alignment.save_alignment(self._runner, alignment)

    def _read_alignment(
        self, run_a: str, run_b: str, runs: dict[str, dict[str, Any]], names: tuple[str, str]
    ) -> LayerAlignment | None:
        return neo4j_alignment.read_alignment(self._runner, run_a, run_b, runs, names)

    def _layer_alignment(self, run_a: str, measure: str, other: str | None) -> list[dict[str, Any]]:
        return self.query("layer_alignment", run_a=run_a, measure=measure, other=other)
