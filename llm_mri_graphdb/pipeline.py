"""The main job as one function: corpus -> activations -> NRAG -> store -> metrics, figures, report.

The CLI's ``scan``, ``report`` and ``demo`` commands are thin wrappers over
:func:`scan` and :func:`report_run`; scripts can call them directly.

Above 400 lines: :func:`scan` is the one ordered job (check, extract, reduce, probe, store, report) whose
steps share its arguments; the report and figure helpers it alone uses sit beside it.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .demo import corpus_path as demo_corpus_path
from .demo import model_path as demo_model_path
from .errors import OutputError, StoreUnavailable
from .files import check_writable, write_atomic
from .scan_settings import ScanArgumentError, check_corpus_size, check_encoding, check_scan
from .values import to_json

if TYPE_CHECKING:  # heavy modules are imported where they are used: importing this module stays cheap
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from llm_mri_graphdb.extract.activations import Activations
    from llm_mri_graphdb.nrag.model import NRAG
    from llm_mri_graphdb.store.base import Store

__all__ = [
    "ScanResult",
    "nrag_of_scan",
    "open_store",
    "make_reducer",
    "scan",
    "report_run",
    "demo_corpus_path",
    "demo_model_path",
    "safe_filename",
]

STORES = ("auto", "neo4j", "local")
STORE_ALIASES = {"memory": "local"}  # former names, accepted with a FutureWarning


def open_store(kind: str = "auto", *, memory_path: str | Path | None = None) -> Store:
    """The store to use: Neo4j when configured or started locally, else the embedded store.

    ``kind="auto"`` takes ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``),
    else the server ``llm-mri-graphdb neo4j start`` runs, else a
    :class:`LocalStore` saved under ``memory_path`` (default
    ``cache_home()/"runs"``). ``"neo4j"`` fails when no database is there;
    ``"local"`` never touches one (``"memory"``, its former name, still works and warns once).
    """
    from .server import LocalNeo4j
    from .settings import cache_home, neo4j_settings
    from .store import LocalStore, Neo4jStore

    if kind in STORE_ALIASES:
        warnings.warn(
            f"--store {kind} is now called --store {STORE_ALIASES[kind]}; the old name will go.",
            FutureWarning,
            stacklevel=2,
        )
        kind = STORE_ALIASES[kind]
    if kind not in STORES:
        raise ScanArgumentError("store", f"store must be one of {', '.join(STORES)}; got {kind!r}.")
    if kind != "local":
        settings = neo4j_settings()
        if settings is None:
            local = LocalNeo4j()
            if local.info() is not None:
                settings = local.settings()
        if settings is not None:
            return Neo4jStore.from_settings(settings)
        if kind == "neo4j":
            raise StoreUnavailable(
                "no Neo4j is configured: set NEO4J_URI/NEO4J_PASSWORD or run `llm-mri-graphdb neo4j start`."
            )
    return LocalStore(memory_path or cache_home() / "runs")


def make_reducer(name: str, n_components: int = 2, *, random_state: int | None = 42):
    """A reducer by name (``pca``, ``svd``, ``umap``) with our documented scaling defaults."""
    from llm_mri_graphdb.reduce.layers import PCA, SVD, UMAP

    check_scan(reducer=name, n_components=n_components, random_state=random_state, allow_large=True)
    return {"pca": PCA, "svd": SVD, "umap": UMAP}[name.lower()](n_components, random_state=random_state)


@dataclass(frozen=True)
class ScanResult:
    """What :func:`scan` produced."""

    run_id: str
    nrag: NRAG
    metrics: dict[str, dict[str, Any]]
    probe: dict[str, Any] | None
    out_dir: Path
    report: Path


def _dump(path: Path, data: Any) -> None:
    write_atomic(path, to_json(data, indent=2, strict=True))  # NaN as null


def metrics_by_label(store: Store, run_id: str, nrag: NRAG, *, reference: bool = False) -> dict[str, dict[str, Any]]:
    """Metrics of all labels together and of each label alone, computed by the store.

    Constants and identities on the run's kind are left out
    (:func:`llm_mri_graphdb.analysis.quality.default_metrics`) unless ``reference=True``.
    """
    from llm_mri_graphdb.analysis.quality import default_metrics

    def shown(metrics: dict[str, Any]) -> dict[str, Any]:
        return metrics if reference else default_metrics(metrics, nrag.kind)

    out = {"all": shown(store.metrics(run_id))}
    for label in nrag.label_names:
        out[label] = shown(store.metrics(run_id, [label]))
    return out


def safe_filename(text: str) -> str:
    """``text`` as one safe file-name part: letters, digits, ``.``, ``_`` and ``-`` kept, the rest ``_``.

    >>> safe_filename("yes/no"), safe_filename("../x"), safe_filename("")
    ('yes_no', '.._x', '_')
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text))[:100]
    return "_" if cleaned in ("", ".", "..") else cleaned


def _figure_names(label_names) -> list[str]:
    """One distinct, safe heatmap file name per label (``a/b`` and ``a_b`` do not overwrite each other)."""
    names, seen = [], set()
    for i, label in enumerate(label_names):
        name = f"heatmap_last_layer_{safe_filename(label)}.png"
        if name in seen:
            name = f"heatmap_last_layer_{safe_filename(label)}_{i}.png"
        seen.add(name)
        names.append(name)
    return names


def _save_figures(nrag: NRAG, folder: Path) -> dict[str, bytes]:
    """Draw the run's figures into ``folder``; return their PNGs keyed as the report's ``figures`` reads them."""
    from llm_mri_graphdb.nrag.model import GRID

    from . import viz

    figures: dict[str, tuple[str, Axes | Figure]] = {"graph": ("graph.png", viz.plot_graph(nrag))}
    if nrag.kind == GRID:
        figures["scan"] = ("scan.png", viz.plot_scan(nrag))
        for label, name in zip(nrag.label_names, _figure_names(nrag.label_names)):
            figures[f"heatmap:{label}"] = (name, viz.plot_heatmap(nrag, nrag.n_layers - 1, label))
    drawn = {}
    for key, (name, fig) in figures.items():
        drawn[key] = viz.figure_to_png_bytes(fig)
        write_atomic(folder / name, drawn[key])
    return drawn


def nrag_of_scan(
    activations: Activations,
    reduced: list[np.ndarray],
    reducer: Any,
    *,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    fdr: float | None = None,
) -> NRAG:
    """The NRAG of layers ``reducer`` already reduced, recorded as :func:`~llm_mri_graphdb.nrag.build_nrag` does.

    Same scan, same settings record (:func:`llm_mri_graphdb.scan_settings.run_settings`), same run id.
    """
    from llm_mri_graphdb.nrag.model import build_nrag

    return build_nrag(
        activations, reducer, reduced=reduced, gridsize=gridsize, threshold=threshold, binning=binning, fdr=fdr
    )


def _check_out(out: str | Path) -> Path:
    path = Path(out)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ScanArgumentError("out", f"out {str(path)!r} must be a folder; {str(existing)!r} is a file.")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ScanArgumentError(
            "out", f"out {str(path)!r} is not writable ({str(existing)!r} is read-only); choose another folder."
        )
    return path


def _check_folders(out: Path, cache_dir: Any) -> None:
    """Prove ``out`` and the activation cache take a file before the model loads (one line each otherwise)."""
    from .extract.jobs import cache_root

    try:
        check_writable(out, "--out")
        root = cache_root(cache_dir)
        if root is not None:
            check_writable(root, "--cache")
    except OutputError as exc:
        raise ScanArgumentError("cache" if "--cache" in str(exc) else "out", str(exc)) from exc


def scan(
    model: Any,
    corpus: Any,
    *,
    text_column: str = "text",
    label_column: str = "label",
    site: str = "hidden",
    pooling: str = "auto",
    reducer: str = "pca",
    n_components: int = 2,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    random_state: int | None = 42,
    device: str = "auto",
    dtype: str | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    cache_dir: str | Path | None = None,
    store: Store | None = None,
    out: str | Path = "reports",
    probe: bool = True,
    progress: bool = True,
    corpus_name: str | None = None,
    encoding: str = "utf-8",
    allow_large: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    num_workers: int | None = None,
    texts: bool = True,
    permutations: int = 200,
    bootstrap: int = 200,
    seed: int = 0,
    fdr: float | None = 0.05,
    probe_random_weights: bool = False,
    probe_bag_of_words: bool = False,
    probe_mdl: bool = False,
) -> ScanResult:
    """Scan ``model`` on ``corpus``, store the run, and write metrics, figures and the report.

    The order makes a mistake cheap and a stored run safe:

    1. every argument is checked (:func:`llm_mri_graphdb.scan_settings.check_scan`);
    2. the corpus is read (not tokenised) and checked to be big enough for the
       reducer, the graph and the probe (:func:`~llm_mri_graphdb.scan_settings.check_corpus_size`,
       :func:`~llm_mri_graphdb.analysis.probe.check_probe_size`);
    3. activations are extracted, reduced, the NRAG built and the probe scored;
    4. the run is stored;
    5. metrics, figures (file names made safe from labels) and the report are written.

    Files go to ``<out>/<run_id>/``: ``metrics.json`` (metrics of ``all``
    labels and of each label, constants left out, plus ``scan_quality``:
    resolved pooling, degenerate layers, metrics without them, what the grid
    keeps; :func:`llm_mri_graphdb.analysis.quality.quality_record`), ``probe.json``,
    ``figures/*.png`` and ``report.html``. A layer where every text lands on
    one point is warned about in one line (:class:`~llm_mri_graphdb.analysis.quality.DegenerateLayerWarning`). ``allow_large=True`` lifts the size
    limits of :data:`llm_mri_graphdb.scan_settings.LIMITS`. ``texts=False``
    stores the run without its texts (no ``(:Text)`` nodes or memberships).
    ``fdr`` is the Benjamini-Hochberg rate that component edges (``n_components
    > 2``) must also pass (see :func:`llm_mri_graphdb.nrag.build_nrag_from_reduced`;
    1 or None: no correction).
    ``permutations``, ``bootstrap`` and ``seed`` set the metric statistics of a
    grid run (:func:`llm_mri_graphdb.analysis.statistics.metric_statistics`; 0 and 0
    skip them): they are saved with the run, written to ``metrics.json`` under
    ``"statistics"`` and shown in the report.

    The probe (:func:`llm_mri_graphdb.analysis.probing.probe_curve`: leakage-free, 5 x 5
    folds (fewer folds when a label has fewer than 5 texts) with intervals, majority and shuffled-label controls, selectivity) is
    written to ``probe.json`` and kept in the store (``store.probe(run_id)``);
    ``probe_random_weights`` adds the same architecture with random weights,
    ``probe_bag_of_words`` a bag-of-words probe on the texts and ``probe_mdl``
    the online codelength of every layer. ``probe.json`` also holds
    ``llm_mri``'s ``evaluate_model`` (full last layer against all reduced layers).

    Raises
    ------
    ScanArgumentError
        A bad argument, or a corpus too small for it, before any model is loaded.
    CorpusError
        The corpus cannot be read (its file and the fix are named).
    """
    from llm_mri_graphdb.analysis import probe as _probe
    from llm_mri_graphdb.analysis.quality import (
        DegenerateLayerWarning,
        degenerate_layers,
        degenerate_warning,
        explained_variance,
        quality_record,
    )
    from llm_mri_graphdb.extract.run import extract_activations
    from llm_mri_graphdb.reduce.layers import reduce_layers

    from .data import load_corpus

    check_scan(
        site=site,
        pooling=pooling,
        reducer=reducer,
        n_components=n_components,
        gridsize=gridsize,
        threshold=threshold,
        binning=binning,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        max_length=max_length,
        random_state=random_state,
        allow_large=allow_large,
        fdr=fdr,
    )
    check_encoding(encoding)
    for name, value in (("permutations", permutations), ("bootstrap", bootstrap)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScanArgumentError(name, f"{name} must be an integer >= 0 (0 disables it); got {value!r}.")
    out_root = _check_out(out)
    _check_folders(out_root, cache_dir)
    dataset = load_corpus(corpus, text_column, label_column, name=corpus_name, encoding=encoding)
    counts = _label_counts(dataset)
    check_corpus_size(counts, n_components=n_components)
    if probe:
        _probe.check_probe_size(counts)
    reducer_obj = make_reducer(reducer, n_components, random_state=random_state)

    activations = extract_activations(
        model,
        dataset,
        site=site,
        pooling=pooling,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        max_length=max_length,
        cache_dir=cache_dir,
        progress=progress,
        allow_large=allow_large,
        engine=engine,
        ray_address=ray_address,
        num_workers=num_workers,
    )
    reduced = reduce_layers(activations, reducer_obj)
    nrag = nrag_of_scan(
        activations, reduced, reducer_obj, gridsize=gridsize, threshold=threshold, binning=binning, fdr=fdr
    )
    reasons = degenerate_layers(nrag, reduced=reduced, activations=activations.layers)
    line = degenerate_warning(nrag, reasons)
    if line is not None:
        warnings.warn(line, DegenerateLayerWarning, stacklevel=2)
    scale = getattr(reducer_obj, "scale", None)
    explained = (
        None
        if reducer.lower() == "umap"
        else [explained_variance(x, z, scale) for x, z in zip(activations.layers, reduced)]
    )
    probe_result = None
    if probe:
        import numpy as np

        from llm_mri_graphdb.analysis.probing import probe_curve, random_weights_activations

        random_layers = None
        if probe_random_weights:
            random_layers = random_weights_activations(
                model,
                dataset,
                seed=random_state or 0,
                site=site,
                pooling=activations.settings.get("pooling", pooling),
                device=device,
                dtype=dtype,
                batch_size=batch_size,
                max_length=max_length,
                progress=progress,
                allow_large=allow_large,
            ).layers
        probe_result = {
            "curve": probe_curve(
                activations.layers,
                activations.labels,
                reducer=reducer_obj,
                n_components=n_components,
                random_state=random_state,
                n_splits=max(2, min(5, min(counts.values()))),  # 5 folds, fewer for tiny corpora
                texts=list(dataset["text"]) if probe_bag_of_words else None,
                random_layers=random_layers,
                mdl=probe_mdl,
            ),
            "evaluation": _probe.evaluate_model(
                activations.layer(-1), np.concatenate(reduced, axis=1), activations.labels, random_state=random_state
            ),
        }

    from llm_mri_graphdb.report.scan import write_report

    target = store if store is not None else open_store()  # a store scan opens, scan closes
    try:
        run_id = target.write(nrag, texts=list(dataset["text"]) if texts else None)
        if probe_result is not None:
            target.save_probe(run_id, probe_result)
        metrics = metrics_by_label(target, run_id, nrag)
        quality = quality_record(nrag, reasons=reasons, explained=explained)
        statistics = run_statistics(nrag, permutations, bootstrap, seed)
        if statistics is not None:
            target.save_statistics(run_id, statistics)
        out_dir = out_root / safe_filename(run_id)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            _dump(out_dir / "metrics.json", {**with_statistics(metrics, statistics), "scan_quality": quality})
            if probe_result is not None:
                _dump(out_dir / "probe.json", probe_result)
            figures = _save_figures(nrag, out_dir / "figures")
            report = write_report(
                out_dir / "report.html",
                nrag,
                metrics,
                probe=probe_result,
                run_id=run_id,
                analysis=analysis_for_report(target, run_id, nrag),
                texts=dataset["text"],
                text_labels=activations.labels,
                statistics=statistics,
                quality=quality,
                figures=figures,
            )
        except OutputError as exc:
            raise OutputError(
                exc.path,
                exc.cause,
                f"run {run_id} stored; writing {exc.path} failed: {exc.cause}; "
                f"`llm-mri-graphdb report {run_id}` writes it again.",
            ) from exc
    finally:
        if store is None:
            target.close()
    return ScanResult(run_id, nrag, metrics, probe_result, out_dir, report)


def run_statistics(nrag: NRAG, permutations: int = 200, bootstrap: int = 200, seed: int = 0):
    """:func:`llm_mri_graphdb.analysis.statistics.metric_statistics` of a grid NRAG with paths; None when it has
    none, is a component NRAG, or both counts are 0."""
    from .analysis.statistics import metric_statistics

    if nrag.kind != "grid" or nrag.paths is None or nrag.text_labels is None or not (permutations or bootstrap):
        return None
    return metric_statistics(nrag, None, permutations, bootstrap, seed)


def with_statistics(metrics: dict[str, Any], statistics: Any) -> dict[str, Any]:
    """``metrics`` with the statistics frame under ``"statistics"`` (settings and one record per row)."""
    if statistics is None:
        return metrics
    key = "statistics" if "statistics" not in metrics else "_statistics"  # a label may be called so
    return {**metrics, key: {"settings": dict(statistics.attrs), "rows": statistics.to_dict("records")}}


def _label_counts(dataset) -> dict[str, int]:
    names = list(dataset.features["label"].names)
    counts = [0] * len(names)
    for label in dataset["label"]:
        counts[int(label)] += 1
    return dict(zip(names, counts))


def analysis_for_report(store: Store, run_id: str, nrag: NRAG) -> dict[str, Any]:
    """The store's read-only ``analyze`` for the report (betweenness only up to 5,000 regions), with
    ``evidence``: Louvain over 10 seeds beside its shuffled-texts null
    (:func:`llm_mri_graphdb.analysis.community_evidence`, in process on the run's NRAG, for either store)."""
    from llm_mri_graphdb.analysis.communities import community_evidence

    result = store.analyze(run_id, ["louvain", "pagerank"] + (["betweenness"] if nrag.n_regions <= 5000 else []))
    result["evidence"] = community_evidence(nrag)
    return result


def report_run(
    store: Store,
    run_id: str,
    *,
    out: str | Path = "reports",
    permutations: int = 200,
    bootstrap: int = 200,
    seed: int = 0,
    sensitivity: bool = False,
) -> Path:
    """Write ``<out>/<run_id>/report.html`` for a stored run (probing kept in the store, else from the
    ``probe.json`` scan left; example texts and metric statistics when the run was stored with its texts; the
    settings-sensitivity panel with ``sensitivity=True``, which needs the run's activation cache entry)."""
    from llm_mri_graphdb.analysis.quality import quality_record
    from llm_mri_graphdb.report.scan import write_report

    nrag = store.read(run_id)
    metrics = metrics_by_label(store, run_id, nrag)
    out_dir = Path(out) / safe_filename(run_id)
    probe_file = out_dir / "probe.json"
    probe_result = store.probe(run_id)
    if probe_result is None and probe_file.exists():
        probe_result = json.loads(probe_file.read_text())
    texts = store.texts(run_id) if nrag.paths is not None else None  # paths come back only with texts
    metrics_file = out_dir / "metrics.json"
    written = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    quality = written.get("scan_quality") or quality_record(nrag)  # the scan's record knows reasons and variance
    return write_report(
        out_dir / "report.html",
        nrag,
        metrics,
        probe=probe_result,
        run_id=run_id,
        analysis=analysis_for_report(store, run_id, nrag),
        texts=texts,
        text_labels=nrag.text_labels,
        statistics=run_statistics(nrag, permutations, bootstrap, seed),
        sensitivity=_sensitivity(nrag) if sensitivity else None,
        quality=quality,
    )


def _sensitivity(nrag: NRAG):
    from .analysis.sensitivity import run_sensitivity

    return run_sensitivity(nrag)[1]
