"""Drop-in facade for the ``llm_mri`` 0.2.1 API, composed from our stages.

Above 400 lines: the facade mirrors llm_mri's three classes (ActivationAreas, Metrics, Evaluation) name for
name, with the probe's controls added to Evaluation; each method is a thin call into a stage.

Change ``from llm_mri import ...`` to ``from llm_mri_graphdb import ...`` and the
documented flow runs unchanged::

    from llm_mri_graphdb import ActivationAreas, Metrics, Evaluation
    from llm_mri_graphdb.dimensionality_reduction import PCA

    areas = ActivationAreas(model="model/folder", dataset=dataset, reduction_method=PCA(n_components=2))
    areas.process_activation_areas()
    g = areas.get_graph(["true", "fake"])
    fig = areas.get_graph_image(g)
    Metrics(g, label="true", model_name="bert").get_basic_metrics()
    Evaluation(areas).evaluate_model()

What differs, on purpose: the model is loaded once and batches are padded to
their own longest text; components are fitted once per layer on all texts
(``llm_mri`` refits per label); every label keeps its own weight on a shared
edge; any number of labels fit in one graph; drawing needs no graphviz; and
first-token pooling on a decoder warns and names ``pooling="auto"``. ``pooling="first"`` stays the
default for drop-in parity with ``llm_mri`` 0.2.1; the CLI, ``pipeline.scan`` and the demo use ``"auto"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import load_corpus
from .labels import resolve_labels

if TYPE_CHECKING:
    from pathlib import Path

    import networkx as nx
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from llm_mri_graphdb.extract.activations import Activations
    from llm_mri_graphdb.nrag.model import NRAG
    from llm_mri_graphdb.store.base import Store

# Heavy stages (torch, scikit-learn, matplotlib, the stores) are imported in the
# methods that run them, so ``from llm_mri_graphdb import ActivationAreas`` is cheap.

__all__ = ["ActivationAreas", "Metrics", "Evaluation", "compare"]


class ActivationAreas:
    """Scan a model's activation regions over a labelled corpus (``llm_mri``'s entry point).

    Parameters
    ----------
    model : str or path
        Hub id, local folder, or a ``.gguf`` file.
    dataset : datasets.Dataset, pandas.DataFrame or path
        Anything :func:`llm_mri_graphdb.data.load_corpus` takes; ``text`` and
        ``label`` columns (a ``ClassLabel`` or plain values).
    reduction_method : reducer
        ``llm_mri_graphdb.dimensionality_reduction.PCA|SVD|UMAP`` (carrying
        ``gridsize``) or any of our reducers.
    device : str, default="cpu"
    site : {"hidden", "mlp", "attention"}, default="hidden"
    pooling : {"first", "mean", "last", "mean_skip_first", "max", "auto"}, default="first"
        ``"first"``, ``llm_mri``'s only rule, stays the default for drop-in parity (it warns on a decoder);
        the CLI, ``pipeline.scan`` and the demo use ``"auto"`` (:mod:`llm_mri_graphdb.extract.sites`).
    batch_size : int, default=32
    dtype : str, default=None
        ``None`` is float32; ``"bfloat16"`` and ``"auto"`` as in
        :func:`llm_mri_graphdb.extract.extract_activations`.
    max_length : int, default=None
        Truncation length; None is the model's own limit (``llm_mri`` always
        cut at 512 tokens, which fails on models with a shorter limit).
    store : store, default=None
        Where :meth:`save` writes when given no store.
    cache : path or None, default=None
        Activation cache folder; ``None`` keeps activations in memory only.
    threshold : float, default=0.3
        Correlation threshold of N-D graphs (``get_graph`` may override it).
    progress : bool, default=True
    allow_large : bool, default=False
        Lift the size limits of :data:`llm_mri_graphdb.scan_settings.LIMITS`.

    Raises
    ------
    ScanArgumentError
        At construction, before any model is loaded: a bad argument, or a
        corpus too small for the reducer's components (the fix is named).
    """

    def __init__(
        self,
        model: Any,
        dataset: Any,
        reduction_method: Any,
        device: str = "cpu",
        *,
        site: str = "hidden",
        pooling: str = "first",
        batch_size: int = 32,
        dtype: str | None = None,
        max_length: int | None = None,
        store: Store | None = None,
        cache: Any = None,
        threshold: float = 0.3,
        progress: bool = True,
        allow_large: bool = False,
    ) -> None:
        from .scan_settings import check_corpus_size, check_extraction, check_graph

        check_extraction(
            site=site,
            pooling=pooling,
            device=device,
            dtype=dtype,
            batch_size=batch_size,
            max_length=max_length,
            allow_large=allow_large,
        )
        check_graph(
            n_components=int(reduction_method.n_components),
            gridsize=int(getattr(reduction_method, "gridsize", 10)),
            threshold=threshold,
            allow_large=allow_large,
        )
        self.model = model
        self.dataset = load_corpus(dataset)
        names = list(self.dataset.features["label"].names)
        counts = np.bincount(np.asarray(self.dataset["label"], dtype=np.int64), minlength=len(names))
        check_corpus_size(dict(zip(names, counts.tolist())), n_components=int(reduction_method.n_components))
        self.allow_large = allow_large
        self.reduction_method = reduction_method
        self.reducer = reduction_method.to_reducer() if hasattr(reduction_method, "to_reducer") else reduction_method
        self.device = device
        self.site = site
        self.pooling = pooling
        self.batch_size = batch_size
        self.dtype = dtype
        self.max_length = max_length
        self.store = store
        self.cache = cache
        self.threshold = threshold
        self.progress = progress
        self.class_names = list(self.dataset.features["label"].names)
        self.activations: Activations | None = None
        self.reduced: list[np.ndarray] | None = None
        self.nrag: NRAG | None = None

    # -- pipeline -----------------------------------------------------------------------
    @property
    def gridsize(self) -> int:
        return int(getattr(self.reduction_method, "gridsize", 10))

    @property
    def n_components(self) -> int:
        return int(self.reduction_method.n_components)

    def process_activation_areas(self) -> ActivationAreas:
        """Extract activations once, reduce every layer once, and build the NRAG of all labels."""
        from llm_mri_graphdb.extract.run import extract_activations
        from llm_mri_graphdb.reduce.layers import reduce_layers

        self.activations = extract_activations(
            self.model,
            self.dataset,
            site=self.site,
            pooling=self.pooling,
            device=self.device,
            dtype=self.dtype,
            batch_size=self.batch_size,
            max_length=self.max_length,
            cache_dir=self.cache,
            progress=self.progress,
            allow_large=self.allow_large,
        )
        if self.activations.settings.get("pooling") == "first" and self.activations.model.get("is_decoder"):
            warnings.warn(
                "pooling='first' on a decoder model reads a token that has seen nothing of the text; "
                "use pooling='auto' (mean over positions >= 1) or pooling='last'.",
                UserWarning,
                stacklevel=2,
            )
        self.reduced = reduce_layers(self.activations, self.reducer)
        self.nrag = self._build(self.threshold)
        return self

    def _build(self, threshold: float) -> NRAG:
        from .pipeline import nrag_of_scan

        activations, reduced = self._require_scan_data()
        return nrag_of_scan(activations, reduced, self.reducer, gridsize=self.gridsize, threshold=threshold)

    def _require_scan(self) -> NRAG:
        if self.nrag is None:
            raise RuntimeError("call process_activation_areas() first.")
        return self.nrag

    def _require_scan_data(self) -> tuple[Activations, list[np.ndarray]]:
        """The activations and the reduced layers of the scan."""
        if self.activations is None or self.reduced is None:
            raise RuntimeError("call process_activation_areas() first.")
        return self.activations, self.reduced

    # -- llm_mri API -------------------------------------------------------------------
    def get_grid(self, layer: int, category_name: str | None = None, **style: Any) -> Axes:
        """Heatmap of one layer's cell counts for a label (all labels when None), on fixed axes."""
        from llm_mri_graphdb.nrag.model import GRID

        from . import viz

        nrag = self._require_scan()
        if nrag.kind != GRID:
            raise ValueError(
                f"a grid needs a scan with 2 components; this scan has {self.n_components}. "
                "Use reduction_method with n_components=2."
            )
        return viz.plot_heatmap(nrag, layer, category_name, **style)

    def get_graph(self, categories: str | Sequence[str] | None = None, threshold: float | None = None) -> nx.DiGraph:
        """The NRAG of the given labels as a networkx DiGraph with per-label ``weights``.

        ``threshold`` matters for N-D scans only (as in ``llm_mri``); a new
        value rebuilds the edges from the stored reduction, nothing is refitted.
        """
        from llm_mri_graphdb.nrag.model import GRID

        nrag = self._require_scan()
        if threshold is not None and nrag.kind != GRID and threshold != nrag.settings.get("threshold"):
            nrag = self._build(threshold)
        if isinstance(categories, str):
            categories = [categories]
        resolve_labels(nrag.label_names, categories)  # clear error for unknown names
        return nrag.to_networkx(categories)

    def get_graph_image(
        self,
        G: nx.Graph,
        colormap: str = "coolwarm",
        fix_node_positions: bool = True,
        fix_node_dimensions: bool | None = None,
    ) -> Figure:
        """Draw a graph from :meth:`get_graph` (``fix_node_dimensions`` is the old example's alias)."""
        from . import viz

        if fix_node_dimensions is not None:
            fix_node_positions = fix_node_dimensions
        ax = viz.plot_graph(G, colormap=colormap, fix_node_positions=fix_node_positions)
        return viz.root_figure(ax)

    def save(self, store: Store | None = None, texts: bool = True) -> str:
        """Write the scan to a store (Neo4j or embedded) and return its run id; ``texts=False`` stores no texts."""
        target = store if store is not None else self.store
        if target is None:
            raise ValueError(
                "save() needs a store: pass Neo4jStore(...) or MemoryStore(), or set store= at construction."
            )
        nrag = self._require_scan()
        keep = texts and nrag.text_labels is not None
        return target.write(nrag, texts=list(self.dataset["text"]) if keep else None)

    # -- texts in the scan ---------------------------------------------------------------
    def region_texts(
        self, layer: int, region: str | tuple[int, int], label: str | int | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """The texts in one region of a grid scan (``index``, ``text``, ``label``), in corpus order.

        ``region`` is ``(x, y)`` or its name ``"layer_x_y"``; ``label`` keeps one label's texts.
        """
        import pandas as pd

        from llm_mri_graphdb.nrag.texts import region_texts

        name = f"{layer}_{region[0]}_{region[1]}" if isinstance(region, tuple) else str(region)
        rows = region_texts(
            self._require_scan(),
            name,
            self.dataset["text"],
            self._require_scan_data()[0].labels,
            label=label,
            limit=limit,
        )
        return pd.DataFrame(rows, columns=["index", "text", "label"])

    def text_path(self, i: int) -> pd.DataFrame:
        """Where text ``i`` goes: its region at every layer with that region's label counts."""
        import pandas as pd

        from llm_mri_graphdb.nrag.texts import text_path

        return pd.DataFrame(text_path(self._require_scan(), i))

    def show(self, color_by: str = "label", layers: int | Sequence[int] | None = None):
        """An interactive NVL view of the scan (``neo4j-viz``): regions with their label counts and example texts.

        ``layers`` picks the layers shown (default all). Displays itself in a notebook;
        :func:`llm_mri_graphdb.report.interactive.view_html` renders it to a page with hover tooltips.
        """
        from llm_mri_graphdb.report.interactive import scan_view

        return scan_view(self._require_scan(), self.dataset["text"], color_by=color_by, layers=layers)

    # -- what Evaluation reads (llm_mri's private names) --------------------------------
    def _get_nrag_embeddings(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        import pandas as pd

        self._require_scan()
        activations, reduced = self._require_scan_data()
        concatenated = np.concatenate(reduced, axis=1)
        k = reduced[0].shape[1]
        columns = [f"{layer + 1}_{feat}" for layer in range(len(reduced)) for feat in range(k)]
        return pd.DataFrame(concatenated, columns=columns), pd.DataFrame(activations.labels)

    def _get_embeddings(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        import pandas as pd

        self._require_scan()
        activations = self._require_scan_data()[0]
        return pd.DataFrame(np.asarray(activations.layer(-1))), pd.DataFrame(activations.labels)


def _metric_arrays_of_networkx(G: nx.Graph) -> dict[str, Any]:
    """The arrays :func:`llm_mri_graphdb.analysis.metrics.metrics_from_arrays` takes, read from a networkx graph."""
    nodes = list(G.nodes())
    index = {n: i for i, n in enumerate(nodes)}
    layer = [G.nodes[n].get("layer", int(str(n).split("_")[0])) for n in nodes]
    edges = list(G.edges(data="weight", default=1.0))
    return {
        "node_layer": np.asarray(layer, np.int64),
        "edge_source": np.asarray([index[u] for u, _, _ in edges], np.int64),
        "edge_target": np.asarray([index[v] for _, v, _ in edges], np.int64),
        "edge_weight": np.asarray([w for _, _, w in edges], np.float64),
    }


class Metrics:
    """``llm_mri``'s graph metrics of one graph from :meth:`ActivationAreas.get_graph`.

    ``Metrics(graph, label, model_name)`` as the library defines it; the
    README's keyword order (``model_name=..., label=...``) works too, and two
    positional strings are swapped when only the second names a label of the graph.
    """

    def __init__(self, Graph: nx.Graph, label: Any = None, model_name: Any = None) -> None:
        from llm_mri_graphdb.analysis.metrics import metrics_from_arrays

        names = list(Graph.graph.get("label_names", []))
        if label not in names and model_name in names:
            label, model_name = model_name, label
        self.Graph = Graph
        self.label = label
        self.model_name = model_name
        self.layers = int(Graph.graph.get("layers", 1 + max(int(str(n).split("_")[0]) for n in Graph)))
        self._all = metrics_from_arrays(self.layers, **_metric_arrays_of_networkx(Graph), label_names=names)

    def get_graph(self) -> nx.Graph:
        return self.Graph

    def get_basic_metrics(self) -> dict[str, Any]:
        keys = (
            "mean_degree",
            "var_degree",
            "skew_degree",
            "kurt_degree",
            "mean_strength",
            "var_strength",
            "skew_strength",
            "kurt_strength",
            "assortativity",
            "density",
            "center_of_mass",
        )
        out = {k: self._all[k] for k in keys}
        out["center_of_strength"] = self._all["center_of_strength"]
        out["center_of_strength_llm_mri"] = self._all["center_of_strength_llm_mri"]
        out.update(model_name=self.model_name, label=self.label)
        return out

    def get_degree_by_layer(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "layer": [str(i) for i in range(self.layers)],
                "mean": self._all["degree_mean_by_layer"],
                "var": self._all["degree_var_by_layer"],
            }
        )

    def get_graph_center_of_mass(self) -> float:
        return self._all["center_of_mass"]

    def get_graph_center_of_strength(self) -> float:
        return self._all["center_of_strength"]

    def _projection(self, side: str) -> dict[str, Any]:
        out = {k[len(f"projection_{side}_") :]: v for k, v in self._all.items() if k.startswith(f"projection_{side}_")}
        out.update(model_name=self.model_name, label=self.label, side=side)
        return out

    def get_projection_metrics_even(self) -> dict[str, Any]:
        return self._projection("even")

    def get_projection_metrics_odd(self) -> dict[str, Any]:
        return self._projection("odd")

    def all_metrics(self) -> dict[str, Any]:
        """Every metric we compute (see :mod:`llm_mri_graphdb.analysis.metrics`), not only ``llm_mri``'s."""
        return dict(self._all)


class Evaluation:
    """Probe how much label information the reduced scan keeps (``llm_mri``'s Evaluation)."""

    def __init__(self, activation_areas: ActivationAreas, n_components: int | None = None) -> None:
        self.activation_areas = activation_areas
        self.n_components = n_components

    def evaluate_model(
        self,
        n_splits: int = 5,
        test_size: float = 0.3,
        random_state: int = 42,
        n_components: int | None = None,
        metrics: str | list[str] | None = None,
    ) -> dict:
        """Full last-layer embeddings against the concatenated reduced layers; ``{'delta': ...}``."""
        from llm_mri_graphdb.analysis import probe as _probe

        reduced, labels = self.activation_areas._get_nrag_embeddings()
        full, _ = self.activation_areas._get_embeddings()
        return _probe.evaluate_model(
            full.to_numpy(),
            reduced.to_numpy(),
            np.ravel(labels.to_numpy()),
            n_splits=n_splits,
            test_size=test_size,
            random_state=random_state,
            n_components=n_components if n_components is not None else self.n_components,
            metrics=metrics,
            reducer=self.activation_areas.reducer,
        )

    def display_metrics(self, result: dict) -> Figure:
        """Bar chart of the mean differences (full - reduced) per metric; returns the Figure."""
        from . import viz

        return viz.root_figure(viz.plot_metric_deltas(result))

    # -- beyond llm_mri: the probe a reviewer accepts ------------------------------------
    def probe_layers(
        self,
        n_splits: int = 5,
        n_repeats: int = 5,
        random_state: int = 42,
        *,
        random_weights: bool = False,
        bag_of_words: bool = False,
        mdl: bool = False,
        classifier: str = "ridge",
    ) -> dict:
        """Per layer, full and reduced (refitted in every fold), with 95 % intervals and controls.

        :func:`llm_mri_graphdb.analysis.probing.probe_curve` on the scan: majority class,
        shuffled-label control and selectivity, layer 0; ``random_weights``
        extracts the same architecture with random weights (seeded by
        ``random_state``), ``bag_of_words`` probes the texts' words, ``mdl``
        adds the online codelength of every layer.
        """
        from llm_mri_graphdb.analysis.probing import probe_curve, random_weights_activations

        areas = self.activation_areas
        activations, _ = areas._require_scan_data()
        random_layers = None
        if random_weights:
            random_layers = random_weights_activations(
                areas.model,
                areas.dataset,
                seed=random_state,
                site=areas.site,
                pooling=activations.settings.get("pooling", areas.pooling),
                device=areas.device,
                dtype=areas.dtype,
                batch_size=areas.batch_size,
                max_length=areas.max_length,
                progress=areas.progress,
                allow_large=areas.allow_large,
            ).layers
        return probe_curve(
            activations.layers,
            activations.labels,
            reducer=areas.reducer,
            n_components=areas.n_components,
            n_splits=n_splits,
            n_repeats=n_repeats,
            random_state=random_state,
            texts=list(areas.dataset["text"]) if bag_of_words else None,
            random_layers=random_layers,
            mdl=mdl,
            classifier=classifier,
        )

    def selectivity(self, result: dict | None = None, side: str = "full") -> pd.DataFrame:
        """Accuracy, shuffled-label control and selectivity per layer with their intervals (one row per layer).

        ``result`` is a :meth:`probe_layers` result (computed with defaults when None); ``side`` is
        ``"full"``, ``"reduced"`` or ``"random_weights"``.
        """
        import pandas as pd

        result = self.probe_layers() if result is None else result
        if not isinstance(result.get(side), dict):
            raise ValueError(
                f"side must be one of {[k for k in ('full', 'reduced', 'random_weights') if k in result]}; "
                f"got {side!r}."
            )
        return pd.DataFrame(
            {
                "layer": result["layer"],
                **{
                    k: result[side][k]
                    for k in (
                        "mean",
                        "low",
                        "high",
                        "control_mean",
                        "control_low",
                        "control_high",
                        "selectivity_mean",
                        "selectivity_low",
                        "selectivity_high",
                    )
                },
            }
        )

    def mdl(self, random_state: int = 42) -> list[dict]:
        """Online codelength of the labels given each full layer (Voita & Titov 2020), in bits."""
        from llm_mri_graphdb.analysis.probing import online_codelength

        activations, _ = self.activation_areas._require_scan_data()
        return [online_codelength(x, activations.labels, random_state=random_state) for x in activations.layers]

    def display_probe(self, result: dict) -> Figure:
        """The per-layer curve of :meth:`probe_layers` with its bands and controls; returns the Figure."""
        from . import viz

        return viz.root_figure(viz.plot_probe(result))


def compare(areas_a: ActivationAreas, areas_b: ActivationAreas, *, out: str | Path | None = None):
    """Which layers of two scans of the same corpus agree: debiased CKA with its null, CKA and AMI per layer pair.

    Both scans must have run (:meth:`ActivationAreas.process_activation_areas`) on the
    same texts in the same order; any models, any depths. Returns a
    :class:`llm_mri_graphdb.analysis.alignment.LayerAlignment` (``.cka``, ``.ami``, ``.best()``);
    ``viz.plot_alignment(result.cka)`` draws it. With ``out``, the comparison
    report (both heatmaps, best matches) is also written to
    ``out/compare_<model a>_<model b>/comparison.html``. For stored runs, see
    :func:`llm_mri_graphdb.store.alignment.compare_runs`.
    """
    from llm_mri_graphdb.analysis.alignment import align_layers

    nrag_a, nrag_b = areas_a._require_scan(), areas_b._require_scan()
    if list(areas_a.dataset["text"]) != list(areas_b.dataset["text"]):
        raise ValueError("compare needs two scans of the same corpus (the same texts in the same order).")
    from llm_mri_graphdb.store.alignment import region_context

    layers_a, layers_b = areas_a._require_scan_data()[0].layers, areas_b._require_scan_data()[0].layers
    result = align_layers(
        layers_a,
        layers_b,
        nrag_a.paths,
        nrag_b.paths,
        names=(str(nrag_a.model.get("name", "a")), str(nrag_b.model.get("name", "b"))),
        context=(region_context(nrag_a, layers_a), region_context(nrag_b, layers_b)),
    )
    if out is not None:
        from llm_mri_graphdb.report.compare import write_comparison_report

        write_comparison_report(result, out)
    return result
