"""Conversions of an NRAG: networkx, GraphML, and a CSV folder that reads back into an equal NRAG.

The :class:`~llm_mri_graphdb.nrag.NRAG` methods ``to_networkx``, ``to_graphml``,
``to_csv`` and ``from_csv`` delegate here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from llm_mri_graphdb.files import write_atomic
from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.regions import GRID
from llm_mri_graphdb.values import to_json

if TYPE_CHECKING:  # the model imports this module for its I/O methods, never the other way at run time
    from llm_mri_graphdb.nrag.model import NRAG

__all__ = ["to_networkx", "to_graphml", "to_csv", "from_csv"]


def to_networkx(nrag: NRAG, labels: Any = None):
    """The NRAG as a ``networkx.DiGraph`` named and shaped as ``llm_mri``'s.

    Nodes are :meth:`NRAG.region_ids` with attributes ``layer``, ``x`` and ``y``
    (grid) or ``component`` (N-D), ``counts`` (label name -> texts) and
    ``total``. Edges carry ``weights`` (label name -> weight), ``weight``
    (their sum over the selected labels), ``level`` (source layer) and, when
    one label is selected, ``label`` (its index in this NRAG's
    ``label_names``). Graph attributes: ``label_names`` (selected),
    ``layers`` (``n_layers``, as ``llm_mri`` sets ``graph['layers']``) and,
    for grid NRAGs, ``gridsize`` (so a drawing of a label subset keeps the
    full grid's positions).
    """
    import networkx as nx

    idx = resolve_labels(nrag.label_names, labels)
    sub = nrag.select_labels(idx)
    names = sub.label_names
    G = nx.DiGraph(label_names=list(names), layers=nrag.n_layers)
    if nrag.kind == GRID and nrag.settings.get("gridsize"):
        G.graph["gridsize"] = int(nrag.settings["gridsize"])
    ids = sub.region_ids()
    for r, node in enumerate(ids):
        attrs = {"layer": int(sub.region_layer[r])}
        if nrag.kind == GRID:
            attrs.update(x=int(sub.region_x[r]), y=int(sub.region_y[r]))
        else:
            attrs["component"] = int(sub.region_x[r])
        counts = sub.region_counts[r].tolist()
        G.add_node(node, **attrs, counts=dict(zip(names, counts)), total=int(sum(counts)))
    single = {"label": idx[0]} if len(idx) == 1 else {}
    for s, t, lab, w in zip(
        sub.edge_source.tolist(), sub.edge_target.tolist(), sub.edge_label.tolist(), sub.edge_weight.tolist()
    ):
        u, v = ids[s], ids[t]
        if G.has_edge(u, v):
            data = G.edges[u, v]
            data["weights"][names[lab]] = w
            data["weight"] += w
        else:
            G.add_edge(u, v, weights={names[lab]: w}, weight=w, level=int(sub.region_layer[s]), **single)
    return G


def to_graphml(nrag: NRAG, path: str | Path, labels: Any = None) -> None:
    """Write :func:`to_networkx` as GraphML (dict attributes become ``count_<label>`` and ``weight_<label>``)."""
    import networkx as nx

    G = to_networkx(nrag, labels)
    for _, data in G.nodes(data=True):
        data.update({f"count_{k}": v for k, v in data.pop("counts").items()})
    for _, _, data in G.edges(data=True):
        data.update({f"weight_{k}": v for k, v in data.pop("weights").items()})
    G.graph["label_names"] = json.dumps(G.graph["label_names"])
    write_atomic(path, "\n".join(nx.generate_graphml(G)) + "\n")


def to_csv(nrag: NRAG, folder: str | Path, texts: Sequence[str] | None = None) -> None:
    """Write ``regions.csv`` (id, layer, x, y, total, count_<label>...), long-form ``edges.csv``
    and ``nrag.json`` (kind, layers, labels, bounds, metadata, activations_path, degenerate_layers), which :func:`from_csv`
    reads back; with ``text_labels`` also ``texts.csv`` (index, label, with ``texts`` the text itself
    (:func:`read_texts` reads them), and with ``paths`` the region id of every text at every layer as
    ``layer_<l>``)."""
    import pandas as pd

    folder = Path(folder)
    ids = np.array(nrag.region_ids(), dtype=object)
    regions = pd.DataFrame(
        {
            "id": ids,
            "layer": nrag.region_layer,
            "x": nrag.region_x,
            "y": nrag.region_y,
            "total": nrag.region_counts.sum(axis=1),
        }
    )
    for j, name in enumerate(nrag.label_names):
        regions[f"count_{name}"] = nrag.region_counts[:, j]
    write_atomic(folder / "regions.csv", regions.to_csv(index=False))
    write_atomic(
        folder / "edges.csv",
        pd.DataFrame(
            {
                "source": ids[nrag.edge_source],
                "target": ids[nrag.edge_target],
                "level": nrag.region_layer[nrag.edge_source],
                "label": np.array(nrag.label_names, dtype=object)[nrag.edge_label],
                "weight": nrag.edge_weight,
            }
        ).to_csv(index=False),
    )
    meta = {
        "kind": nrag.kind,
        "n_layers": nrag.n_layers,
        "label_names": list(nrag.label_names),
        "layer_bounds": None if nrag.layer_bounds is None else nrag.layer_bounds.tolist(),
        "model": nrag.model,
        "corpus": nrag.corpus,
        "settings": nrag.settings,
        "activations_path": nrag.activations_path,
        "degenerate_layers": None if nrag.degenerate_layers is None else list(nrag.degenerate_layers),
    }
    write_atomic(folder / "nrag.json", to_json(meta, indent=1))
    (folder / "texts.csv").unlink(missing_ok=True)
    if nrag.text_labels is not None:
        if texts is not None and len(texts) != nrag.text_labels.size:
            raise ValueError(f"texts must hold the {nrag.text_labels.size} texts of the NRAG; got {len(texts)}.")
        table = pd.DataFrame(
            {
                "index": np.arange(nrag.text_labels.size),
                "label": np.array(nrag.label_names, dtype=object)[nrag.text_labels],
            }
        )
        if texts is not None:
            table["text"] = [str(t) for t in texts]
        paths = nrag.paths if nrag.paths is not None else np.empty((0, 0), np.int64)
        for layer in range(paths.shape[1]):
            table[f"layer_{layer}"] = ids[paths[:, layer]]
        write_atomic(folder / "texts.csv", table.to_csv(index=False))


def read_texts(folder: str | Path) -> list[str] | None:
    """The texts :func:`to_csv` wrote into ``folder/texts.csv``, in corpus order; None when it wrote none."""
    import pandas as pd

    file = Path(folder) / "texts.csv"
    if not file.is_file():
        return None
    table = pd.read_csv(file, dtype=str, keep_default_na=False)
    return table["text"].tolist() if "text" in table else None


def from_csv(folder: str | Path, cls: type[NRAG]) -> NRAG:
    """Read a folder written by :func:`to_csv` back into an equal NRAG of class ``cls``
    (:meth:`NRAG.from_csv` passes its own)."""
    import pandas as pd

    folder = Path(folder)
    missing = [f for f in ("nrag.json", "regions.csv", "edges.csv") if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not an exported NRAG: missing {', '.join(missing)}.")
    meta = json.loads((folder / "nrag.json").read_text())
    names = list(meta["label_names"])
    regions = pd.read_csv(folder / "regions.csv", dtype={"id": str})
    edges = pd.read_csv(folder / "edges.csv", dtype={"source": str, "target": str, "label": str})
    index = pd.Series(np.arange(len(regions)), index=regions["id"])
    unknown = sorted(set(edges["label"]) - set(names))
    if unknown:
        raise ValueError(f"edges.csv labels must be among {names}; got {unknown}.")
    bounds = meta.get("layer_bounds")
    paths = text_labels = None
    if (folder / "texts.csv").is_file():
        texts = pd.read_csv(folder / "texts.csv", dtype=str, keep_default_na=False)
        text_labels = texts["label"].map({n: i for i, n in enumerate(names)}).to_numpy()
        columns = [f"layer_{layer}" for layer in range(int(meta["n_layers"]))]
        if all(c in texts for c in columns):
            paths = np.stack([index.loc[texts[c]].to_numpy() for c in columns], axis=1)
    return cls(
        meta["kind"],
        int(meta["n_layers"]),
        tuple(names),
        regions["layer"].to_numpy(),
        regions["x"].to_numpy(),
        regions["y"].to_numpy(),
        regions[[f"count_{n}" for n in names]].to_numpy(),
        index.loc[edges["source"]].to_numpy(),
        index.loc[edges["target"]].to_numpy(),
        edges["label"].map({n: i for i, n in enumerate(names)}).to_numpy(),
        edges["weight"].to_numpy(),
        layer_bounds=None if bounds is None else np.asarray(bounds, dtype=np.float64),
        model=meta.get("model", {}),
        corpus=meta.get("corpus", {}),
        settings=meta.get("settings", {}),
        paths=paths,
        text_labels=text_labels,
        activations_path=meta.get("activations_path"),
        degenerate_layers=meta.get("degenerate_layers"),
    )
