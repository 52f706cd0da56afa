"""Neo4j store: NRAGs as ``(:Run)``, ``(:Region)``, ``[:FLOWS]`` and ``[:FLOWS_TOTAL]``.

A run is written as a fresh *version* (``Run {id: "<run_id>#<hex>", status:
"writing"}`` plus regions keyed ``<version>:<region>``) in batched ``UNWIND``
transactions. One last transaction retires the previous complete version and
flips the new one to ``id = run_id, status = "complete"``; only then is the
old version deleted, in batches. Readers only follow complete ``Run`` nodes to
their ``version``, so they see the old run or the new one, never a mix. A
version left behind by a crash is collected on the next write of that run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable

from llm_mri_graphdb.errors import RunNotFound, StoreUnavailable
from llm_mri_graphdb.nrag import NRAG
from llm_mri_graphdb.settings import Neo4jSettings, neo4j_settings
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.runner import CypherRunner, complete_run

__all__ = ["Neo4jStore"]

_RESERVED = {"id", "run_id", "version", "status", "created_at", "completed_at", "kind", "n_layers",
             "label_names", "n_labels", "n_regions", "n_edge_rows", "n_edges", "layer_bounds",
             "model_json", "corpus_json", "settings_json", "model_name", "corpus_name"}
_PRIMITIVE = (str, int, float, bool)


def _plain(value: Any) -> Any:
    """Neo4j temporal values to ISO strings, so results are plain Python."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.iso_format() if hasattr(value, "iso_format") else value


def _property(value: Any) -> Any:
    """A Neo4j property value: primitives and homogeneous primitive lists, else None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _PRIMITIVE):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, _PRIMITIVE) for v in value) \
            and len({type(v) for v in value}) == 1:
        return list(value)
    return None


def _leaves(mapping: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, str(key)))
        else:
            yield (*path, str(key)), value


def _flatten(mapping: dict[str, Any]) -> dict[str, Any]:
    """Leaf settings as Run properties: ``{"extract": {"site": "mlp"}}`` -> ``site``; a clash keeps the path."""
    leaves = [(path, p) for path, value in _leaves(mapping) if (p := _property(value)) is not None]
    seen: dict[str, int] = {}
    for path, _ in leaves:
        seen[path[-1]] = seen.get(path[-1], 0) + 1
    return {(path[-1] if seen[path[-1]] == 1 else "_".join(path)): p for path, p in leaves}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=lambda v: v.item() if isinstance(v, np.generic) else str(v))


def _model_key(model: dict[str, Any]) -> str:
    return str(model.get("fingerprint") or model.get("name") or "unknown")


def _corpus_key(corpus: dict[str, Any]) -> str:
    return str(corpus.get("fingerprint") or corpus.get("name") or "unknown")


def _run_props(nrag: NRAG) -> dict[str, Any]:
    props = {k: v for k, v in _flatten(dict(nrag.settings)).items() if k not in _RESERVED}
    pairs = np.unique(np.stack([nrag.edge_source, nrag.edge_target]), axis=1).shape[1] if nrag.edge_source.size else 0
    props.update(
        kind=nrag.kind, n_layers=nrag.n_layers, label_names=list(nrag.label_names), n_labels=nrag.n_labels,
        n_regions=nrag.n_regions, n_edge_rows=int(nrag.edge_source.shape[0]), n_edges=int(pairs),
        model_json=_json(nrag.model), corpus_json=_json(nrag.corpus), settings_json=_json(nrag.settings),
        model_name=str(nrag.model.get("name") or _model_key(nrag.model)),
        corpus_name=str(nrag.corpus.get("name") or _corpus_key(nrag.corpus)),
    )
    if nrag.layer_bounds is not None:
        props["layer_bounds"] = nrag.layer_bounds.ravel().tolist()
    return props


def _side_props(meta: dict[str, Any], key_name: str, key: str) -> dict[str, Any]:
    props = {k: p for k, v in meta.items() if (p := _property(v)) is not None}
    props[key_name] = key
    return props


def _region_rows(nrag: NRAG, version: str) -> list[list[Any]]:
    """``[uid, name, idx, layer, x, y, counts, total]`` per region, in canonical order."""
    counts = nrag.region_counts.tolist()
    return [[f"{version}:{name}", name, idx, layer, x, y, c, sum(c)]
            for idx, (name, layer, x, y, c) in enumerate(zip(nrag.region_ids(), nrag.region_layer.tolist(),
                                                             nrag.region_x.tolist(), nrag.region_y.tolist(), counts))]


def _flow_batches(nrag: NRAG, size: int) -> Iterator[tuple[int, list[list[Any]]]]:
    """``(layer, rows)`` batches of about ``size`` relationships, never spanning two layer pairs.

    A row is ``[source position, target position, total, label names, weights]``
    for one (source, target) pair, positions counted within each layer's
    canonical order (edge rows are sorted by pair, regions by layer).
    """
    if nrag.edge_source.size == 0:
        return
    layer = nrag.region_layer
    position = (np.arange(nrag.n_regions) - np.searchsorted(layer, layer)).tolist()
    src, tgt = nrag.edge_source, nrag.edge_target
    starts = np.flatnonzero(np.r_[True, (src[1:] != src[:-1]) | (tgt[1:] != tgt[:-1])])
    ends = np.r_[starts[1:], src.size]
    names = [nrag.label_names[i] for i in nrag.edge_label.tolist()]
    weights = nrag.edge_weight.tolist()
    totals = np.add.reduceat(nrag.edge_weight, starts).tolist()
    src_l, tgt_l, pair_layer = src.tolist(), tgt.tolist(), layer[src[starts]].tolist()
    batch: list[list[Any]] = []
    used, current = 0, pair_layer[0]
    for a, b, total, level in zip(starts.tolist(), ends.tolist(), totals, pair_layer):
        if batch and (level != current or used >= size):
            yield current, batch
            batch, used = [], 0
        current = level
        batch.append([position[src_l[a]], position[tgt_l[a]], total, names[a:b], weights[a:b]])
        used += 1 + b - a
    yield current, batch


class Neo4jStore:
    """NRAG runs in Neo4j, metrics through GDS, and the named Cypher library.

    Parameters
    ----------
    uri : str or neo4j.Driver
        Bolt URI, or a driver the caller owns (it is not closed here).
    auth : tuple of (str, str), optional
        ``(user, password)``; never printed.
    database : str or None, default=None
        ``None`` is the server's default database.
    batch_size : int, default=10_000
        Rows (regions) or relationships per write transaction.
    workers : int, default=2
        Write transactions run at once. Flow batches run in two waves (even,
        then odd source layers), so concurrent batches never share a node.

    Raises
    ------
    StoreUnavailable
        The server cannot be reached or refuses the credentials.
    """

    def __init__(self, uri: str | Driver, auth: tuple[str, str] | None = None, database: str | None = None,
                 *, batch_size: int = 10_000, workers: int = 2) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}.")
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int >= 1; got {workers!r}.")
        self.database = database
        self.batch_size = batch_size
        self.workers = workers
        self._owns_driver = not isinstance(uri, Driver)
        self.uri = uri if self._owns_driver else "<driver>"
        self._driver = (GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF")
                        if self._owns_driver else uri)
        self._runner = CypherRunner(self._driver, database)
        try:
            self._driver.verify_connectivity()
            for statement in cypher.statements("schema"):
                self._driver.execute_query(statement, database_=database)
        except AuthError as exc:
            self.close()
            user = auth[0] if auth else "<none>"
            raise StoreUnavailable(f"Neo4j at {self.uri} refused user {user!r}: authentication failed; "
                                   "check NEO4J_USER and NEO4J_PASSWORD.") from exc
        except (ServiceUnavailable, OSError, ValueError) as exc:
            self.close()
            raise StoreUnavailable(f"cannot reach Neo4j at {self.uri} ({type(exc).__name__}); start one with "
                                   "`llm-mri-graphdb neo4j start` or set NEO4J_URI.") from exc

    @classmethod
    def from_settings(cls, settings: Neo4jSettings, **kwargs: Any) -> "Neo4jStore":
        """Open the store described by :class:`~llm_mri_graphdb.settings.Neo4jSettings`."""
        return cls(settings.uri, settings.auth, settings.database, **kwargs)

    @classmethod
    def from_env(cls, **kwargs: Any) -> "Neo4jStore":
        """Open the store named by ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``/``NEO4J_DATABASE``."""
        settings = neo4j_settings()
        if settings is None:
            raise StoreUnavailable("NEO4J_URI is not set; set it or start a server with `llm-mri-graphdb neo4j start`.")
        return cls.from_settings(settings, **kwargs)

    def __repr__(self) -> str:
        return f"Neo4jStore(uri={self.uri!r}, database={self.database!r})"

    def __enter__(self) -> "Neo4jStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._owns_driver:
            self._driver.close()

    # -- plumbing ------------------------------------------------------------------
    @property
    def runner(self) -> CypherRunner:
        """The :class:`~llm_mri_graphdb.store.runner.CypherRunner` every statement goes through."""
        return self._runner

    def _delete_version(self, version: str) -> None:
        """Delete a retired or failed version in batches, its Run node last."""
        limit = max(1, self.batch_size // 4)
        while self._runner.write("delete_regions", version=version, limit=limit)[0]["deleted"]:
            pass
        self._runner.write("delete_version", version=version)

    def _collect_stale(self, run_id: str) -> None:
        for row in self._runner.read("read_stale_versions", run_id=run_id):
            self._delete_version(row["version"])

    # -- writes --------------------------------------------------------------------
    def write(self, nrag: NRAG) -> str:
        """Store ``nrag`` as its run, replacing a previous version atomically.

        Returns
        -------
        run_id : str
            ``nrag.run_id``.
        """
        if not isinstance(nrag, NRAG):
            raise TypeError(f"nrag must be an NRAG; got {type(nrag).__name__}.")
        if not np.array_equal(nrag.region_layer[nrag.edge_target], nrag.region_layer[nrag.edge_source] + 1):
            raise ValueError("nrag edges must join regions of neighbouring layers (target layer = source layer + 1).")
        run_id = nrag.run_id
        self._collect_stale(run_id)
        version = f"{run_id}#{uuid.uuid4().hex[:12]}"
        self._runner.write("create_run", version=version, run_id=run_id, props=_run_props(nrag))
        try:
            rows = _region_rows(nrag, version)
            self._runner.write_batches("create_regions", workers=self.workers, batches=[
                {"rows": rows[start:start + self.batch_size], "run_id": run_id, "version": version}
                for start in range(0, len(rows), self.batch_size)])
            flows = list(_flow_batches(nrag, self.batch_size))
            for parity in (0, 1):  # a wave's layer pairs share no region, so its batches never contend
                self._runner.write_batches("create_flows", workers=self.workers, batches=[
                    {"rows": batch, "version": version, "layer": layer}
                    for layer, batch in flows if layer % 2 == parity])
            published = self._runner.write(
                "update_run_complete", run_id=run_id, version=version,
                model_key=_model_key(nrag.model), model=_side_props(nrag.model, "key", _model_key(nrag.model)),
                corpus_key=_corpus_key(nrag.corpus),
                corpus=_side_props(nrag.corpus, "fingerprint", _corpus_key(nrag.corpus)),
            )
            if not published:
                raise StoreUnavailable(f"version {version} of run {run_id} vanished before it was published.")
        except BaseException:
            try:
                self._delete_version(version)
            except (Neo4jError, DriverError):
                pass  # collected on the next write of this run
            raise
        self._collect_stale(run_id)
        return run_id

    def delete(self, run_id: str) -> None:
        """Delete a complete run (hidden at once, then removed in batches)."""
        rows = self._runner.write("update_run_deleting", run_id=run_id)
        if not rows:
            raise RunNotFound(f"run_id must name a complete run; got {run_id!r} (see `llm-mri-graphdb runs ls`).")
        self._delete_version(rows[0]["version"])

    # -- reads ---------------------------------------------------------------------
    def read(self, run_id: str) -> NRAG:
        """The stored NRAG of ``run_id``, equal (:meth:`NRAG.equals`) to the one written."""
        run = complete_run(self._runner, run_id)
        version = run["version"]
        regions = self._runner.read_in_session("read_regions", version=version)[0]
        flows = self._runner.read_in_session("read_flows", version=version)[0]
        if len(regions["idx"]) != run["n_regions"] or len(flows["s"]) != run["n_edge_rows"]:
            raise RunNotFound(f"run {run_id!r} changed while it was read; read it again.")
        label_names = list(run["label_names"])
        label_index = {name: i for i, name in enumerate(label_names)}
        src, tgt = np.array(flows["s"], np.int64), np.array(flows["t"], np.int64)
        lab = np.array([label_index[name] for name in flows["label"]], np.int64)
        order = np.lexsort((lab, tgt, src))
        bounds = run.get("layer_bounds")
        return NRAG(
            kind=run["kind"], n_layers=run["n_layers"], label_names=tuple(label_names),
            region_layer=regions["layer"], region_x=regions["x"], region_y=regions["y"],
            region_counts=np.array(regions["counts"], dtype=np.int64).reshape(-1, len(label_names)),
            edge_source=src[order], edge_target=tgt[order], edge_label=lab[order],
            edge_weight=np.array(flows["weight"], np.float64)[order],
            layer_bounds=None if bounds is None else np.asarray(bounds, dtype=np.float64).reshape(-1, 4),
            model=json.loads(run["model_json"]), corpus=json.loads(run["corpus_json"]),
            settings=json.loads(run["settings_json"]),
        )

    def runs(self) -> list[dict[str, Any]]:
        """Complete runs, newest first: run_id, model, corpus, kind, sizes, completed_at."""
        return [_plain(row) for row in self._runner.read("read_runs")]

    def models(self) -> list[dict[str, Any]]:
        """Stored models with their number of complete runs."""
        return self._runner.read("read_models")

    def corpora(self) -> list[dict[str, Any]]:
        """Stored corpora with their number of complete runs."""
        return self._runner.read("read_corpora")

    # -- metrics and queries ---------------------------------------------------------
    def metrics(self, run_id: str, labels: Sequence[str] | str | None = None, *, save: bool = False) -> dict[str, Any]:
        """Metrics of a run computed in the database; saved on the run only with ``save=True``
        (see :mod:`llm_mri_graphdb.store.gds`)."""
        from llm_mri_graphdb.store.gds import run_metrics

        return run_metrics(self._runner, run_id, labels, save=save, uri=str(self.uri))

    def analyze(self, run_id: str, algorithms: Sequence[str] | str | None = None,
                labels: Sequence[str] | str | None = None, save: bool = False) -> dict[str, Any]:
        """Communities and centrality with GDS; written to regions only with ``save=True``
        (see :mod:`llm_mri_graphdb.store.gds_algorithms`)."""
        from llm_mri_graphdb.store.gds_algorithms import run_analysis

        return run_analysis(self._runner, run_id, algorithms, labels, save=save, uri=str(self.uri))

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run the library query ``cypher/queries/<name>.cypher`` with ``params``.

        Raises QueryNotFound for an unknown name and ValueError naming a missing
        or unknown parameter.
        """
        text = cypher.load_query(name)
        bound = cypher.bind_parameters(name, params)
        try:
            rows = self._runner.run_text(text, bound, write=False)
        except ClientError as exc:
            raise ValueError(f"query {name!r} failed: {exc.message}") from exc
        return [_plain(row) for row in rows]
