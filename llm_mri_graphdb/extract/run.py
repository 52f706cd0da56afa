"""``extract_activations``: load a model and pool a corpus through it, locally or on Ray.

The one entry point over the local engine (:mod:`llm_mri_graphdb.extract.local`) and the Ray engine
(:mod:`llm_mri_graphdb.extract.distributed`), which builds on the local one.
"""

from __future__ import annotations

import os

import torch

from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.extract.jobs import cache_root, entry_key, read_cached
from llm_mri_graphdb.extract.local import (
    Extractor,
    _dtype_name,
    _quiet_loading,
    _resolve_device,
    _resolve_dtype,
    _resolve_source,
    _source_fingerprint,
    load_model,
)
from llm_mri_graphdb.scan_settings import check_extraction

__all__ = ["extract_activations"]


def extract_activations(
    model,
    dataset,
    *,
    site: str = "hidden",
    pooling: str = "auto",
    device: str = "auto",
    dtype: str | torch.dtype | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    cache_dir: str | os.PathLike | bool | None = None,
    progress: bool = True,
    allow_large: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    num_workers: int | None = None,
) -> Activations:
    """Pooled activations of ``model`` over a labelled corpus, one array per layer.

    Parameters
    ----------
    model : str, path or (model, tokenizer)
        Hub id, model folder, ``.gguf`` file, or an already-loaded pair.
    dataset : Dataset or path
        Anything :func:`llm_mri_graphdb.data.load_corpus` reads.
    site : {"hidden", "mlp", "attention"}, default="hidden"
        See :mod:`llm_mri_graphdb.extract.sites`.
    pooling : {"auto", "first", "mean", "last", "mean_skip_first", "max"}, default="auto"
        ``auto``: the model's own sentence-transformers pooling when it ships
        ``modules.json`` + ``1_Pooling/config.json``; else ``mean`` for
        encoders and ``mean_skip_first`` (mean over positions >= 1, skipping
        the attention sink) for decoders. See :mod:`llm_mri_graphdb.extract.sites`.
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
    dtype : {"float32", "bfloat16", "float16", "auto"} or None, default=None
        ``None`` is float32; ``bfloat16`` runs anywhere (2-3x faster on CPUs
        with AMX-BF16, see ``docs/precision.md``); float16 needs cuda or mps;
        ``auto`` as :func:`~llm_mri_graphdb.extract.local.dtype_name` resolves
        it. The resolved name is recorded in ``settings`` and keys the cache.
    batch_size : int, default=32
    max_length : int or None, default=None
        Truncate texts to this many tokens; ``None`` is the model's limit.
    cache_dir : path, True or None, default=None
        ``None``: no cache. ``True``: ``settings.cache_home()/"activations"``.
        With a cache, a second call with the same key reads the arrays
        memory-mapped from disk without loading the model.
    progress : bool, default=True
        Show a tqdm bar (texts/s); a resumed extraction starts at the texts already done.
    allow_large : bool, default=False
        Lift the upper bounds of ``batch_size`` and ``max_length``
        (:data:`llm_mri_graphdb.scan_settings.LIMITS`).
    engine : {"local", "ray"}, default="local"
        ``"ray"`` spreads the batches over Ray workers (optional extra
        ``[ray]``; see :mod:`llm_mri_graphdb.extract.distributed`); same activations,
        same cache entry.
    ray_address : str or None, default=None
        Cluster to join with ``engine="ray"`` (``"auto"``, ``"ray://host:10001"``).
    num_workers : int or None, default=None
        Model replicas with ``engine="ray"``: one per GPU, else one per node.

    With a cache, an interrupted extraction (Ctrl-C, a killed process, a lost
    worker) resumes where it stopped when run again with the same arguments,
    and the finished entry is identical to an uninterrupted run's.

    Returns
    -------
    Activations
        ``layers[i]`` of shape ``(n_texts, width)`` in corpus order; metadata
        ``model`` (name, architecture, fingerprint, n_layers, width,
        is_decoder), ``corpus`` (fingerprint, name, n_texts, label_names) and
        ``settings`` (site, resolved pooling, max_length, dtype).

    Raises
    ------
    ScanArgumentError
        For a bad argument, before the corpus is read or the model loaded.
    """
    check_extraction(
        site=site,
        pooling=pooling,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        max_length=max_length,
        allow_large=allow_large,
    )  # before any loading or tokenising
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray'; got {engine!r}.")
    dataset = load_corpus(dataset)
    root = cache_root(cache_dir)
    if engine == "ray":
        return _extract_on_ray(
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
            ray_address=ray_address,
            num_workers=num_workers,
        )
    if isinstance(model, tuple):
        return Extractor(*model).extract(
            dataset,
            site=site,
            pooling=pooling,
            batch_size=batch_size,
            max_length=max_length,
            cache_dir=cache_dir,
            progress=progress,
            allow_large=allow_large,
        )
    if root is not None:
        dev = _resolve_device(device)
        fingerprint = _source_fingerprint(_resolve_source(model))
        if fingerprint is not None:
            key = entry_key(fingerprint, dataset, site, pooling, max_length, _dtype_name(_resolve_dtype(dtype, dev)))
            hit = read_cached(root, key, dataset)
            if hit is not None:
                return hit
    with _quiet_loading(not progress):
        loaded, tokenizer, info = load_model(model, device=device, dtype=dtype)
    return Extractor(loaded, tokenizer, info=info).extract(
        dataset,
        site=site,
        pooling=pooling,
        batch_size=batch_size,
        max_length=max_length,
        cache_dir=cache_dir,
        progress=progress,
        allow_large=allow_large,
    )


def _extract_on_ray(model, dataset, **kwargs) -> Activations:
    from llm_mri_graphdb.extract.distributed import (
        extract_with_ray,  # optional extra, imported only when asked for
    )

    return extract_with_ray(model, dataset, **kwargs)
