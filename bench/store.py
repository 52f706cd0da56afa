"""Store benchmark: Neo4j write throughput, cold and warm, against the bare-``UNWIND`` bound.

``python -m bench.store --shape issue14`` starts a disposable Neo4j (heap and
page cache from ``--heap``/``--pagecache``) in a temporary home on free ports,
then, on the shape of issue 14 (16 layers, 50x50 grid, 3 labels, 10,000 texts
through ``build_nrag_from_reduced``: about 18k regions, 296k relationships):

1. the *cold* write: the first write after the server started;
2. the *cold bare* write: the first write of a second fresh server, by plain
   driver code (below), so the cold figure has its own bound;
3. ``--rounds`` rounds of one *warm* write of a new run through ``Neo4jStore``
   and one *bare* write of the same rows by plain driver code (``UNWIND``
   statements with no staging version, no idempotence guard, no publishing,
   one thread): the database's own cost for that data, measured in the same
   run so the ratio holds on a loaded machine.

Every write stores a distinct run (new regions, new relationships), as a user
scanning several models does. Each figure also gives the server's CPU seconds
(read from ``/proc``), which shows when the database itself is the bound.
``--shape own`` is the 32-layer random-walk shape of earlier runs; ``--metrics``
adds a read back and GDS metrics. ``--use-env`` measures the server named by
``NEO4J_URI`` instead (its first write is then not cold).

``--texts`` measures the texts instead (:func:`run_texts`): 10,000 texts x 13
layers (130,000 ``IN`` memberships) written with a run, as the warm write of a
run with texts minus the same write without them, against a bare ``UNWIND``
of the same Text nodes and memberships in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from llm_mri_graphdb.nrag.model import NRAG, build_nrag_from_reduced
from llm_mri_graphdb.settings import Neo4jSettings, neo4j_settings
from llm_mri_graphdb.store.neo4j.columns import layer_columns
from llm_mri_graphdb.testing import nrag_from_paths

__all__ = [
    "synthetic_nrag",
    "issue14_nrag",
    "bare_write",
    "cold_bare",
    "run_shape",
    "markdown",
    "run_texts",
    "bare_texts",
    "markdown_texts",
    "fresh_neo4j",
    "QUICK_MEMORY",
    "section",
]

NAME, TITLE = "store", "Neo4j store: writes"
SHAPES = ("issue14", "own", "quick")
_BARE_REGIONS = """UNWIND $rows AS row
CREATE (:Region {uid: row[0], name: row[1], idx: row[2], run_id: $run_id, version: $version,
                 layer: row[3], x: row[4], y: row[5], counts: row[6], total: row[7]})"""
_BARE_COLUMNS = """UNWIND $rows AS row
CREATE (:LayerColumns {version: $version, layer: row[0], region_idx: row[1], region_counts: row[2],
                       total_flows: row[3], label_flows: row[4]})"""
_BARE_FLOWS = """MATCH (s:Region {version: $version, layer: $layer})
WITH s ORDER BY s.idx
WITH collect(s) AS sources
MATCH (t:Region {version: $version, layer: $layer + 1})
WITH sources, t ORDER BY t.idx
WITH sources, collect(t) AS targets
UNWIND $rows AS row
WITH sources[row[0]] AS a, targets[row[1]] AS b, row
CREATE (a)-[:FLOWS_TOTAL {weight: row[2]}]->(b)
WITH a, b, row
UNWIND range(0, size(row[3]) - 1) AS k
CREATE (a)-[:FLOWS {label: row[3][k], weight: row[4][k]}]->(b)"""

_BARE_TEXTS = """MERGE (c:Corpus {fingerprint: $corpus})
WITH c
UNWIND range(0, size($idx) - 1) AS i
CREATE (c)-[:HAS_TEXT]->(:Text {uid: $corpus + ':' + toString($idx[i]), corpus: $corpus, idx: $idx[i],
                                text: $text[i], label: $label[i]})"""
_BARE_IN = """MATCH (g:Region {version: $version, layer: $layer})
WITH g ORDER BY g.idx
WITH collect(g) AS regions
MATCH (t:Text {corpus: $corpus}) WHERE $start <= t.idx < $start + size($r)
WITH regions, t ORDER BY t.idx
WITH regions, collect(t) AS texts
UNWIND range(0, size($r) - 1) AS i
WITH texts[i] AS t, regions[$r[i]] AS g
CREATE (t)-[:IN]->(g)"""


def synthetic_nrag(
    n_layers: int = 32, gridsize: int = 50, n_labels: int = 3, n_texts: int = 5000, *, step: int = 3, seed: int = 0
) -> NRAG:
    """Grid NRAG of ``n_texts`` random walks, each label starting near its own corner (text counts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_texts) % n_labels
    corners = rng.integers(0, gridsize, (n_labels, 2))
    start = np.clip(corners[labels] + rng.integers(-8, 9, (n_texts, 2)), 0, gridsize - 1)
    walk = np.cumsum(rng.integers(-step, step + 1, (n_texts, n_layers, 2)), axis=1)
    paths = np.clip(start[:, None, :] + walk, 0, gridsize - 1)
    names = tuple(f"label{i}" for i in range(n_labels))
    return nrag_from_paths(
        paths,
        labels,
        names,
        model={"name": "bench-model"},
        corpus={"name": "bench-corpus", "fingerprint": f"bench-{seed}"},
        settings={"reducer": "pca", "n_components": 2, "gridsize": gridsize, "bench": True, "seed": seed},
    )


def issue14_nrag(
    seed: int = 0, *, n_layers: int = 16, gridsize: int = 50, n_labels: int = 3, n_texts: int = 10_000
) -> NRAG:
    """The shape of issue 14: independent 2-D normal coordinates per layer, binned by ``build_nrag_from_reduced``."""
    rng = np.random.default_rng(seed)
    reduced = [rng.normal(size=(n_texts, 2)) for _ in range(n_layers)]
    return build_nrag_from_reduced(
        reduced,
        np.arange(n_texts) % n_labels,
        [f"label{i}" for i in range(n_labels)],
        gridsize=gridsize,
        model={"name": "bench-model"},
        corpus={"name": "bench-corpus", "fingerprint": f"bench14-{seed}"},
        settings={"bench": "issue14", "seed": seed},
    )


def _n_relationships(nrag: NRAG) -> int:
    pairs = np.unique(np.stack([nrag.edge_source, nrag.edge_target]), axis=1).shape[1] if nrag.edge_source.size else 0
    return int(nrag.edge_source.size + pairs)


def bare_write(driver, nrag: NRAG, *, batch_size: int = 20_000, database: str | None = None) -> str:
    """Write the regions and edges of ``nrag`` with plain ``UNWIND`` statements; returns the version used.

    The same nodes, relationships and properties as ``Neo4jStore.write``, with
    the fastest plain pattern we know (endpoints collected once per layer,
    rows addressed by position), auto-commit transactions, one thread, and no
    staging, idempotence guard or publishing. Rows are built here with plain
    Python, as a script would; the layers' packed columns with the store's own
    packing (:func:`~llm_mri_graphdb.store.neo4j.columns.layer_columns`),
    since they are the same bytes.
    """
    version = f"bare-{uuid.uuid4().hex[:12]}"
    names = nrag.region_ids()
    layer, xs, ys = nrag.region_layer.tolist(), nrag.region_x.tolist(), nrag.region_y.tolist()
    counts = nrag.region_counts.tolist()
    regions = [[f"{version}:{n}", n, i, layer[i], xs[i], ys[i], counts[i], sum(counts[i])] for i, n in enumerate(names)]
    columns = layer_columns(nrag)  # the same bytes as the store writes (its packing, not its writing)
    first = {}
    for i, level in enumerate(layer):
        first.setdefault(level, i)
    position = [i - first[level] for i, level in enumerate(layer)]
    src, tgt = nrag.edge_source.tolist(), nrag.edge_target.tolist()
    label, weight = [nrag.label_names[k] for k in nrag.edge_label.tolist()], nrag.edge_weight.tolist()
    by_layer: dict[int, list[list]] = {}
    for k in range(len(src)):
        rows = by_layer.setdefault(layer[src[k]], [])
        if rows and rows[-1][0] == position[src[k]] and rows[-1][1] == position[tgt[k]] and rows[-1][5] == src[k]:
            rows[-1][2] += weight[k]
            rows[-1][3].append(label[k])
            rows[-1][4].append(weight[k])
        else:
            rows.append([position[src[k]], position[tgt[k]], weight[k], [label[k]], [weight[k]], src[k]])
    with driver.session(database=database) as session:
        for start in range(0, len(regions), batch_size):
            session.run(
                _BARE_REGIONS, rows=regions[start : start + batch_size], run_id="bare", version=version
            ).consume()
        session.run(_BARE_COLUMNS, rows=columns, version=version).consume()
        for level, rows in sorted(by_layer.items()):
            used, batch = 0, []
            for row in rows:
                batch.append(row[:5])
                used += 1 + len(row[3])
                if used >= batch_size:
                    session.run(_BARE_FLOWS, rows=batch, version=version, layer=level).consume()
                    used, batch = 0, []
            if batch:
                session.run(_BARE_FLOWS, rows=batch, version=version, layer=level).consume()
    return version


def _cpu_seconds(pid: int | None) -> float:
    """User plus system CPU seconds of process ``pid`` (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _timed(fn: Callable[[], object], pid: int | None) -> tuple[float, float]:
    cpu, start = _cpu_seconds(pid), time.perf_counter()
    fn()
    return time.perf_counter() - start, _cpu_seconds(pid) - cpu


def _packer() -> str:
    try:
        import neo4j._rust  # noqa: F401  (the neo4j-rust-ext package)
    except ImportError:
        return "python"
    return "rust (neo4j-rust-ext)"


def _server_config(store) -> dict[str, str]:
    rows = store.runner.run_text(
        "SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'server.memory.' "
        "OR name = 'db.tx_log.rotation.retention_policy' RETURN name, value",
        {},
        write=False,
    )
    version = store.runner.run_text(
        "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition", {}, write=False
    )[0]
    return {
        "neo4j": f"{version['version']} {version['edition']}",
        **{row["name"]: row["value"] for row in rows if row["value"] not in (None, "")},
    }


def _make(shape: str) -> Callable[[int], NRAG]:
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}; got {shape!r}.")
    if shape == "quick":  # a smoke shape for `python -m bench store --quick`
        return lambda seed: issue14_nrag(seed, n_layers=4, gridsize=10, n_texts=500)
    return issue14_nrag if shape == "issue14" else (lambda seed: synthetic_nrag(seed=seed))


def cold_bare(
    shape: str = "issue14", *, batch_size: int = 20_000, settings=None, server_pid: int | None = None
) -> dict:
    """The bare write of ``shape`` as the first write of a server (start a fresh one for it)."""
    from llm_mri_graphdb.store import Neo4jStore

    nrag = _make(shape)(1000)
    with Neo4jStore.from_settings(settings) as store:
        wall, cpu = _timed(
            lambda: bare_write(store.runner.driver, nrag, batch_size=batch_size, database=store.database), server_pid
        )
    return {"s": wall, "server_cpu_s": cpu, "per_s": _n_relationships(nrag) / wall}


def run_shape(
    shape: str = "issue14",
    *,
    rounds: int = 2,
    batch_size: int = 20_000,
    workers: int = 2,
    settings=None,
    server_pid: int | None = None,
    metrics: bool = False,
) -> dict:
    """Cold write, then ``rounds`` of (warm write, bare write) on ``shape``; returns the figures."""
    from llm_mri_graphdb.store import Neo4jStore

    make = _make(shape)
    nrags = [make(seed) for seed in range(2 * rounds + 1)]
    n_rels = _n_relationships(nrags[0])
    out = {
        "shape": shape,
        "n_regions": nrags[0].n_regions,
        "n_flows": int(nrags[0].edge_source.size),
        "n_relationships": n_rels,
        "batch_size": batch_size,
        "workers": workers,
        "packer": _packer(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }
    with Neo4jStore.from_settings(settings, batch_size=batch_size, workers=workers) as store:
        out["server"] = _server_config(store)
        wall, cpu = _timed(lambda: store.write(nrags[0]), server_pid)
        out["cold"] = {"s": wall, "server_cpu_s": cpu, "per_s": n_rels / wall}
        ours, bare, versions = [], [], []
        for i in range(rounds):
            nrag = nrags[1 + 2 * i]
            wall, cpu = _timed(lambda nrag=nrag: store.write(nrag), server_pid)
            ours.append({"s": wall, "server_cpu_s": cpu, "per_s": n_rels / wall})
            nrag = nrags[2 + 2 * i]
            wall, cpu = _timed(
                lambda nrag=nrag: versions.append(
                    bare_write(store.runner.driver, nrag, batch_size=batch_size, database=store.database)
                ),
                server_pid,
            )
            bare.append({"s": wall, "server_cpu_s": cpu, "per_s": n_rels / wall})
        if metrics:
            run_id = nrags[1].run_id
            wall, _ = _timed(lambda: out.__setitem__("read_equal", store.read(run_id).equals(nrags[1])), None)
            out["read_s"] = wall
            out["gds_metrics_all_s"], _ = _timed(lambda: store.metrics(run_id), None)
        if server_pid is None:  # a server the bench did not start: leave it as it was
            for i in range(rounds + 1):
                store.delete(nrags[0 if i == 0 else 2 * i - 1].run_id)
            for version in versions:
                while store.runner.write("delete_regions", version=version, limit=5000)[0]["deleted"]:
                    pass
    out["warm"], out["bare"] = ours, bare
    best_ours, best_bare = min(r["s"] for r in ours), min(r["s"] for r in bare)
    out["warm_best_per_s"] = n_rels / best_ours
    out["bare_best_per_s"] = n_rels / best_bare
    out["ours_over_bare"] = best_ours / best_bare
    return out


def _texts_of(nrag: NRAG) -> list[str]:
    return [
        f"text {i} of {nrag.corpus['fingerprint']}: a sentence of about sixty characters."
        for i in range(nrag.paths.shape[0])
    ]


def bare_texts(
    driver, nrag: NRAG, version: str, corpus: str, *, batch_size: int = 20_000, database: str | None = None
) -> None:
    """Text nodes (``CREATE``) and the ``IN`` memberships of ``nrag`` against a bare ``version``, by plain
    driver code: one thread, auto-commit, no MERGE, idempotence guard or count check."""
    texts, labels = _texts_of(nrag), [nrag.label_names[k] for k in nrag.text_labels.tolist()]
    first = {}
    for i, level in enumerate(nrag.region_layer.tolist()):
        first.setdefault(level, i)
    with driver.session(database=database) as session:
        for start in range(0, len(texts), batch_size):
            session.run(
                _BARE_TEXTS,
                corpus=corpus,
                idx=list(range(start, min(start + batch_size, len(texts)))),
                text=texts[start : start + batch_size],
                label=labels[start : start + batch_size],
            ).consume()
        for layer in range(nrag.n_layers):
            r = (nrag.paths[:, layer] - first[layer]).tolist()
            for start in range(0, len(r), batch_size):
                session.run(
                    _BARE_IN, version=version, corpus=corpus, layer=layer, start=start, r=r[start : start + batch_size]
                ).consume()


def run_texts(
    *,
    rounds: int = 2,
    batch_size: int = 20_000,
    workers: int = 2,
    settings=None,
    server_pid: int | None = None,
    n_texts: int = 10_000,
    n_layers: int = 13,
) -> dict:
    """Texts written with a run: warm writes with and without texts, and the bare UNWIND of the same texts.

    Each round writes a run without texts, a run of the same shape with its
    texts (a new corpus: Text nodes, HAS_TEXT and ``IN`` all created), and a
    bare version with bare texts; the texts' share of our write is the
    difference of the first two.
    """
    from llm_mri_graphdb.store import Neo4jStore

    make = lambda seed: issue14_nrag(seed, n_layers=n_layers, gridsize=10, n_texts=n_texts)  # noqa: E731
    n_mem = n_texts * n_layers
    out = {
        "n_texts": n_texts,
        "n_layers": n_layers,
        "n_memberships": n_mem,
        "batch_size": batch_size,
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "rounds": [],
    }
    with Neo4jStore.from_settings(settings, batch_size=batch_size, workers=workers) as store:
        warm = make(100)  # warm up every statement (and the JIT) once, texts and bare included
        store.write(warm, texts=_texts_of(warm))
        store.delete(warm.run_id)
        version = bare_write(store.runner.driver, warm, database=store.database)
        corpus = f"bare-warm-{uuid.uuid4().hex[:8]}"
        bare_texts(store.runner.driver, warm, version, corpus, batch_size=batch_size, database=store.database)
        written, bare = [], [(version, corpus)]
        for i in range(rounds):
            plain, texty, other = make(200 + 3 * i), make(201 + 3 * i), make(202 + 3 * i)
            t_plain, _ = _timed(lambda plain=plain: store.write(plain), server_pid)
            t_texts, cpu = _timed(lambda texty=texty: store.write(texty, texts=_texts_of(texty)), server_pid)
            version = bare_write(store.runner.driver, other, batch_size=batch_size, database=store.database)
            corpus = f"bare-texts-{uuid.uuid4().hex[:8]}"
            t_bare, cpu_bare = _timed(
                lambda other=other, version=version, corpus=corpus: bare_texts(
                    store.runner.driver, other, version, corpus, batch_size=batch_size, database=store.database
                ),
                server_pid,
            )
            written += [plain.run_id, texty.run_id]
            bare.append((version, corpus))
            # the texts' share is a difference of two writes: at small sizes the machine's noise can exceed it
            out["rounds"].append(
                {
                    "write_s": t_plain,
                    "write_with_texts_s": t_texts,
                    "texts_s": t_texts - t_plain,
                    "memberships_per_s": n_mem / (t_texts - t_plain) if t_texts > t_plain else None,
                    "bare_texts_s": t_bare,
                    "bare_memberships_per_s": n_mem / t_bare,
                }
            )
        for run_id in written:
            store.delete(run_id)
        for version, corpus in bare:
            while store.runner.write("delete_memberships", version=version, limit=batch_size)[0]["deleted"]:
                pass
            while store.runner.write("delete_regions", version=version, limit=5000)[0]["deleted"]:
                pass
            while (rows := store.runner.write("delete_texts", corpus=corpus, limit=batch_size)) and rows[0]["deleted"]:
                pass
            store.runner.run_text("MATCH (c:Corpus {fingerprint: $c}) DETACH DELETE c", {"c": corpus}, write=True)
    measured = [r["texts_s"] for r in out["rounds"] if r["memberships_per_s"] is not None]
    best = min(measured) if measured else None
    best_bare = min(r["bare_texts_s"] for r in out["rounds"])
    out.update(
        memberships_best_per_s=None if best is None else n_mem / best,
        bare_best_per_s=n_mem / best_bare,
        ours_over_bare=None if best is None else best / best_bare,
    )
    return out


def markdown(r: dict, command: str) -> str:
    """The store section of ``docs/benchmarks.md`` for a :func:`run_shape` result."""
    rows = (
        [("cold: first write after start (Neo4jStore)", r["cold"])]
        + ([("cold bare UNWIND: first write of another fresh server", r["cold_bare"])] if "cold_bare" in r else [])
        + [(f"warm write {i + 1} (Neo4jStore)", w) for i, w in enumerate(r["warm"])]
        + [(f"bare UNWIND {i + 1} (no project code)", b) for i, b in enumerate(r["bare"])]
    )
    server = ", ".join(f"{k}={v}" for k, v in r["server"].items())
    return "\n".join(
        [
            f"`{command}`: {r['n_regions']:,} regions, {r['n_flows']:,} :FLOWS, "
            f"{r['n_relationships'] - r['n_flows']:,} :FLOWS_TOTAL ({r['n_relationships']:,} relationships); "
            f"{r['workers']} writer threads, {r['batch_size']:,} relationships a batch, Bolt packer: {r['packer']}; "
            f"{r['cpu_count']} cores, load average {r['load_average']:.1f} at the start. Server: {server}.",
            "",
            "| write | seconds | relationships/s | server CPU s |",
            "|---|---:|---:|---:|",
            *(f"| {name} | {x['s']:.2f} | {x['per_s']:,.0f} | {x['server_cpu_s']:.2f} |" for name, x in rows),
            "",
            f"Best warm write / best bare UNWIND: **{r['ours_over_bare']:.2f}x** (target <= 1.2x); "
            f"warm {r['warm_best_per_s']:,.0f}/s, bare {r['bare_best_per_s']:,.0f}/s, cold {r['cold']['per_s']:,.0f}/s"
            + (f"; cold / cold bare: **{r['cold']['s'] / r['cold_bare']['s']:.2f}x**." if "cold_bare" in r else "."),
        ]
    )


def markdown_texts(r: dict, command: str) -> str:
    """The texts part of the docs block for a :func:`run_texts` result."""
    return "\n".join(
        [
            f"`{command}`: {r['n_texts']:,} texts x {r['n_layers']} layers, {r['n_memberships']:,} "
            "`(:Text)-[:IN]->(:Region)` memberships written with a grid run, against a bare `UNWIND` of the same texts "
            "and memberships in the same run. The membership time is the warm write with texts minus the same write "
            f"without them, so it includes creating the `Text` nodes; load average {r['load_average']:.1f} at the start.",
            "",
            "| round | write s | write with texts s | texts s | memberships/s | bare texts s | bare memberships/s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {i + 1} | {x['write_s']:.2f} | {x['write_with_texts_s']:.2f} | {x['texts_s']:.2f} | "
                + ("-" if x["memberships_per_s"] is None else f"{x['memberships_per_s']:,.0f}")
                + f" | {x['bare_texts_s']:.2f} | {x['bare_memberships_per_s']:,.0f} |"
                for i, x in enumerate(r["rounds"])
            ),
            "",
            (
                f"Best: ours **{r['memberships_best_per_s']:,.0f} memberships/s**, bare {r['bare_best_per_s']:,.0f}/s; "
                f"ours / bare time: **{r['ours_over_bare']:.2f}x** (target >= 50,000 memberships/s)."
                if r["memberships_best_per_s"] is not None
                else f"Not measurable in this run: no write with texts was slower than the same write without them (the "
                f"machine's noise exceeded the texts' cost); bare {r['bare_best_per_s']:,.0f} memberships/s."
            ),
        ]
    )


def _fresh_server(heap: str = "2g", pagecache: str = "1g"):
    from llm_mri_graphdb.server import LocalNeo4j, free_port

    server = LocalNeo4j(
        Path(tempfile.mkdtemp(prefix="bench-store-")),
        bolt_port=free_port(),
        http_port=free_port(),
        heap=heap,
        pagecache=pagecache,
    )
    return server, server.start(password="bench-" + uuid.uuid4().hex[:12]).pid


@contextlib.contextmanager
def fresh_neo4j(heap: str = "2g", pagecache: str = "1g") -> Iterator[tuple[Neo4jSettings, int]]:
    """A disposable Neo4j + GDS on free ports in a temporary home: ``(settings, server pid)``; removed after."""
    server, pid = _fresh_server(heap, pagecache)
    try:
        yield server.settings(), pid
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


QUICK_MEMORY = {"heap": "512m", "pagecache": "128m"}  # a smoke run's server: small, so it fits a shared machine


def _on_fresh_server(fn: Callable[..., dict], *, memory: dict[str, str] | None = None, **kwargs) -> dict:
    """``fn(settings=..., server_pid=..., **kwargs)`` on a disposable server started for it."""
    with fresh_neo4j(**(memory or {})) as (settings, pid):
        return fn(settings=settings, server_pid=pid, **kwargs)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): three disposable servers, one per part.

    The issue-14 shape, cold bare write, then two rounds of warm and bare writes;
    then texts, 10,000 x 13, three rounds. ``quick``: 4 layers x 10x10 x 500
    texts, one round, 500 texts x 3 layers. About 4-6 minutes in full.
    """
    shape, rounds = ("quick", 1) if quick else ("issue14", 2)
    memory = QUICK_MEMORY if quick else None
    first = _on_fresh_server(cold_bare, shape=shape, memory=memory)
    r = _on_fresh_server(run_shape, shape=shape, rounds=rounds, memory=memory)
    r["cold_bare"] = first
    sizes = dict(n_texts=500, n_layers=3) if quick else {}
    texts = _on_fresh_server(run_texts, rounds=1 if quick else 3, memory=memory, **sizes)
    return "\n\n".join(
        [
            "### Writes: cold, warm, and the bare-UNWIND bound",
            markdown(r, f"python -m bench.store --shape {shape} --rounds {rounds}"),
            "### Texts and memberships with a run",
            markdown_texts(
                texts,
                f"python -m bench.store --texts --rounds {1 if quick else 3}"
                + (" (500 texts x 3 layers)" if quick else ""),
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=SHAPES, default="issue14")
    parser.add_argument("--rounds", type=int, default=2, help="warm + bare write pairs after the cold write")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--heap", default="2g", help="heap of the disposable server")
    parser.add_argument("--pagecache", default="1g", help="page cache of the disposable server")
    parser.add_argument("--use-env", action="store_true", help="measure the server of NEO4J_URI (not cold)")
    parser.add_argument("--metrics", action="store_true", help="also read back and time GDS metrics")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--texts", action="store_true", help="measure texts and IN memberships (10k x 13)")
    a = parser.parse_args()

    memory = {"heap": a.heap, "pagecache": a.pagecache}
    if a.texts:
        kwargs = dict(rounds=a.rounds, batch_size=a.batch_size, workers=a.workers)
        r = (
            run_texts(settings=neo4j_settings(), **kwargs)
            if a.use_env
            else _on_fresh_server(run_texts, memory=memory, **kwargs)
        )
        print(
            json.dumps(r, indent=2)
            if a.json
            else markdown_texts(r, f"python -m bench.store --texts --rounds {a.rounds}")
        )
        return
    kwargs = dict(rounds=a.rounds, batch_size=a.batch_size, workers=a.workers, metrics=a.metrics)
    if a.use_env:
        settings = neo4j_settings()
        if settings is None:
            raise SystemExit("--use-env needs NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD.")
        r = run_shape(a.shape, settings=settings, **kwargs)
    else:
        first = _on_fresh_server(cold_bare, shape=a.shape, batch_size=a.batch_size, memory=memory)
        r = _on_fresh_server(run_shape, shape=a.shape, memory=memory, **kwargs)
        r["cold_bare"] = first
    command = f"python -m bench.store --shape {a.shape} --rounds {a.rounds}"
    print(json.dumps(r, indent=2) if a.json else markdown(r, command))


if __name__ == "__main__":
    main()
