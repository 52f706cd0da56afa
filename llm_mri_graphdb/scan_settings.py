"""Scan settings: the allowed value of every scan argument, and the record that names a run.

Two jobs, each done once for every entry point (CLI, :func:`llm_mri_graphdb.pipeline.scan`,
the facade, :func:`llm_mri_graphdb.extract.extract_activations`, :func:`llm_mri_graphdb.nrag.build_nrag`):

* **Validate first.** :func:`check_scan` (and its parts :func:`check_extraction`,
  :func:`check_graph`) check every argument before a model is loaded or a text
  tokenised, and :func:`check_corpus_size` checks that the corpus is big enough
  for the reducer and the graph before extraction. A mistake raises
  :class:`ScanArgumentError` (a ``ValueError``) naming the argument, its
  allowed values and the fix; the CLI turns it into exit status 2.
* **One run identity.** :func:`run_settings` builds the settings record stored
  with a run (extraction settings, reducer name and all its ``get_params()``,
  graph settings). The run id is a hash of it (:func:`llm_mri_graphdb.nrag.run_id_for`),
  so identical scans get one id whatever the path, and reducers that differ in
  any parameter (UMAP ``metric="cosine"`` vs ``"euclidean"``) get two.

Sizes have upper bounds (:data:`LIMITS`) that protect against a typo costing
all memory (``--gridsize 10000`` grew to 22 GB); ``allow_large=True``
(``--allow-large``) lifts them knowingly. The error gives a memory estimate.

This module imports nothing heavy (no numpy, torch or scikit-learn).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from .errors import LLMMRIError
from .values import plain

__all__ = [
    "SITES",
    "POOLINGS",
    "REDUCERS",
    "DTYPES",
    "DEVICES",
    "BINNINGS",
    "LIMITS",
    "ScanArgumentError",
    "check_dtype",
    "check_extraction",
    "check_graph",
    "check_scan",
    "check_corpus_size",
    "check_encoding",
    "reducer_settings",
    "graph_settings",
    "run_settings",
]

SITES = ("hidden", "mlp", "attention")
#: ``auto`` resolves to one of the others (:func:`llm_mri_graphdb.sites.resolve_pooling`).
POOLINGS = ("auto", "first", "mean", "last", "mean_skip_first", "max")
REDUCERS = ("pca", "svd", "umap")
DTYPES = ("float32", "bfloat16", "float16", "auto")
DEVICES = ("auto", "cpu", "cuda", "mps")
BINNINGS = ("width", "quantile")

#: Upper bounds of sizes, lifted by ``allow_large=True`` (``--allow-large``).
LIMITS = {"gridsize": 200, "n_components": 512, "batch_size": 4096, "max_length": 131072}

_DEVICE_RE = re.compile(r"^(cpu|cuda|mps)(:\d+)?$")


class ScanArgumentError(LLMMRIError, ValueError):
    """A scan argument is out of its allowed values; ``argument`` names it (library spelling).

    Bad usage: the CLI exits 2 and names the matching option.
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _estimate(name: str, value: int) -> str:
    """What a size costs, in words, for the error that refuses it."""
    if name == "gridsize":
        return f"each layer's heatmap holds {value}x{value} cells, {_bytes(8.0 * value * value)} per label and layer"
    if name == "n_components":
        return f"each layer pair holds {value}x{value} correlations, {_bytes(8.0 * value * value)} per label"
    if name == "batch_size":
        return f"one batch of 512-token texts at width 4096 holds {_bytes(4.0 * value * 512 * 4096)} per layer"
    return f"attention over {value} tokens needs {_bytes(4.0 * value * value)} per head and text"


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ScanArgumentError(name, f"{name} must be one of {', '.join(allowed)}; got {value!r}.")


def _check_size(name: str, value: Any, low: int, *, allow_large: bool, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        extra = " or None" if none_ok else ""
        raise ScanArgumentError(name, f"{name} must be an integer >= {low}{extra}; got {value!r}.")
    limit = LIMITS[name]
    if int(value) > limit and not allow_large:
        raise ScanArgumentError(
            name,
            f"{name} {value} is above the limit {limit}: {_estimate(name, int(value))}. "
            f"Use {name} <= {limit}, or pass allow_large=True (--allow-large) if you mean it.",
        )


def check_encoding(encoding: str) -> None:
    """Raise ScanArgumentError when ``encoding`` is not a codec Python knows."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ScanArgumentError(
            "encoding", f"encoding must be a text encoding such as utf-8 or latin-1; got {encoding!r}."
        ) from None


def check_extraction(
    *,
    site: str = "hidden",
    pooling: str = "auto",
    device: str = "auto",
    dtype: Any = None,
    batch_size: int = 32,
    max_length: int | None = None,
    allow_large: bool = False,
) -> None:
    """Check the extraction arguments (no model needed).

    Raises
    ------
    ScanArgumentError
        Naming the argument and its allowed values; also for float16 asked on
        ``device="cpu"`` (bfloat16 and ``auto`` are fine there).

    Examples
    --------
    >>> check_extraction(site="ffn")
    Traceback (most recent call last):
    ...
    llm_mri_graphdb.scan_settings.ScanArgumentError: site must be one of hidden, mlp, attention; got 'ffn'.
    """
    _check_choice("site", site, SITES)
    _check_choice("pooling", pooling, POOLINGS)
    if not isinstance(device, str) or not (device == "auto" or _DEVICE_RE.match(device)):
        raise ScanArgumentError("device", f"device must be one of {', '.join(DEVICES)} (or cuda:N); got {device!r}.")
    check_dtype(dtype, device)
    _check_size("batch_size", batch_size, 1, allow_large=allow_large)
    _check_size("max_length", max_length, 1, allow_large=allow_large, none_ok=True)


def check_graph(
    *,
    n_components: int = 2,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    fdr: float | None = None,
    allow_large: bool = False,
) -> None:
    """Check the reduction and graph arguments: ``n_components >= 2``, ``gridsize >= 1``,
    ``threshold`` in [-1, 1], ``binning`` width or quantile, ``fdr`` in (0, 1] or None, sizes under :data:`LIMITS`."""
    _check_size("n_components", n_components, 2, allow_large=allow_large)
    _check_size("gridsize", gridsize, 1, allow_large=allow_large)
    if isinstance(threshold, bool) or not isinstance(threshold, Real) or not -1.0 <= threshold <= 1.0:
        raise ScanArgumentError("threshold", f"threshold must be a number in [-1, 1]; got {threshold!r}.")
    if fdr is not None and (isinstance(fdr, bool) or not isinstance(fdr, Real) or not 0.0 < fdr <= 1.0):
        raise ScanArgumentError(
            "fdr",
            f"fdr must be a number in (0, 1] or None; got {fdr!r}. "
            "Use 0.05 (the scan's default) or 1 for no correction.",
        )
    _check_choice("binning", binning, BINNINGS)


def check_scan(
    *,
    site: str = "hidden",
    pooling: str = "auto",
    reducer: str = "pca",
    n_components: int = 2,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    device: str = "auto",
    dtype: Any = None,
    batch_size: int = 32,
    max_length: int | None = None,
    random_state: int | None = 42,
    allow_large: bool = False,
    fdr: float | None = 0.05,
) -> None:
    """Check every argument of a scan; see :func:`check_extraction` and :func:`check_graph`."""
    check_extraction(
        site=site,
        pooling=pooling,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        max_length=max_length,
        allow_large=allow_large,
    )
    _check_choice("reducer", reducer.lower() if isinstance(reducer, str) else reducer, REDUCERS)
    check_graph(
        n_components=n_components,
        gridsize=gridsize,
        threshold=threshold,
        binning=binning,
        fdr=fdr,
        allow_large=allow_large,
    )
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral) or random_state < 0
    ):
        raise ScanArgumentError("random_state", f"random_state must be an integer >= 0 or None; got {random_state!r}.")


def check_corpus_size(label_counts: Mapping[str, int], *, n_components: int = 2) -> None:
    """Check before extraction that the corpus is big enough for the reducer and the graph.

    A reducer needs at least ``n_components`` texts (and two); a component NRAG
    (``n_components > 2``) needs three texts of every label for a Spearman
    correlation. The message names the fix.

    >>> check_corpus_size({"a": 2, "b": 2}, n_components=3)
    Traceback (most recent call last):
    ...
    llm_mri_graphdb.scan_settings.ScanArgumentError: n_components 3 needs at least 3 texts of every label for a Spearman correlation; got {'a': 2, 'b': 2}. Use n_components=2 (a grid) or add texts.
    """
    n_texts = sum(int(v) for v in label_counts.values())
    if n_components > n_texts:
        raise ScanArgumentError(
            "n_components",
            f"n_components {n_components} must be <= the number of texts "
            f"({n_texts}): each component needs a text. Use fewer components.",
        )
    if n_components > 2:
        small = {k: int(v) for k, v in label_counts.items() if v < 3}
        if small:
            raise ScanArgumentError(
                "n_components",
                f"n_components {n_components} needs at least 3 texts of every label for a "
                f"Spearman correlation; got {small}. Use n_components=2 (a grid) or add texts.",
            )


def check_dtype(dtype: Any, device: str) -> str:
    """The name of ``dtype`` (a name, a ``torch.dtype``, ``"auto"`` or None for float32), checked against
    ``device`` (float16 needs cuda or mps; bfloat16 and auto run on cpu too); ScanArgumentError otherwise.
    The one dtype check of the package."""
    name = "float32" if dtype is None else dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    _check_choice("dtype", name, DTYPES)
    if name == "float16" and device == "cpu":
        raise ScanArgumentError(
            "dtype",
            "dtype float16 needs device cuda or mps; on cpu use bfloat16 "
            "(fast where the CPU has AMX-BF16 or AVX512-BF16) or float32.",
        )
    return name


# -- the run record ----------------------------------------------------------------------
def reducer_settings(reducer: Any) -> dict[str, Any]:
    """The record of a reducer: its class name and every ``get_params()`` value.

    ``n_components``, ``random_state`` and ``scale`` are repeated at the top
    level, where stores and reports read them.
    """
    params = plain(dict(sorted(reducer.get_params(deep=False).items()))) if hasattr(reducer, "get_params") else {}
    k = params.get("n_components", getattr(reducer, "n_components", None))
    return {
        "reducer": type(reducer).__name__,
        "n_components": None if k is None else int(k),
        "random_state": params.get("random_state"),
        "scale": params.get("scale"),
        "reducer_params": params,
    }


def graph_settings(
    n_components: int,
    *,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    abs_threshold: bool = False,
    fdr: float | None = None,
) -> dict[str, Any]:
    """The graph construction record: grid settings for 2 components, threshold settings for more.

    ``fdr`` (the Benjamini-Hochberg rate of component edges) is recorded only
    when a correction is made, so runs without one keep their ids.
    """
    grid = n_components == 2
    record = {
        "n_components": int(n_components),
        "gridsize": int(gridsize) if grid else None,
        "binning": binning if grid else None,
        "threshold": None if grid else float(threshold),
        "abs_threshold": None if grid else bool(abs_threshold),
    }
    if not grid and fdr is not None:
        record["fdr"] = float(fdr)
    return record


def run_settings(
    extraction: Mapping[str, Any],
    reducer: Any,
    *,
    gridsize: int = 10,
    threshold: float = 0.3,
    binning: str = "width",
    abs_threshold: bool = False,
    refit_per_label: bool = False,
    n_components: int | None = None,
    fdr: float | None = None,
) -> dict[str, Any]:
    """The settings record of a run, the same for every entry point.

    Parameters
    ----------
    extraction : mapping
        ``Activations.settings`` (site, resolved pooling, max_length, dtype).
    reducer : estimator
        The reducer (its class name and all of ``get_params()`` are recorded).
    gridsize, threshold, binning, abs_threshold, refit_per_label, fdr
        Graph construction settings (see :func:`llm_mri_graphdb.nrag.build_nrag`).
    n_components : int, optional
        Components of the reduced layers; the reducer's ``n_components`` when None.

    Returns
    -------
    settings : dict
        Hashed into the run id by :func:`llm_mri_graphdb.nrag.run_id_for`.

    Examples
    --------
    >>> class R:
    ...     n_components = 2
    ...     def get_params(self, deep=True): return {"n_components": 2, "metric": "cosine"}
    >>> s = run_settings({"site": "hidden"}, R())
    >>> s["reducer"], s["reducer_params"], s["gridsize"], s["threshold"]
    ('R', {'metric': 'cosine', 'n_components': 2}, 10, None)
    """
    record = {**dict(extraction), **reducer_settings(reducer)}
    k = record["n_components"] if n_components is None else int(n_components)
    record.update(
        graph_settings(k, gridsize=gridsize, threshold=threshold, binning=binning, abs_threshold=abs_threshold, fdr=fdr)
    )
    record["refit_per_label"] = bool(refit_per_label)
    return record
