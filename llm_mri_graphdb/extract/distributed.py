"""Extraction on a Ray cluster: one model per worker, the local engine's batches, one cache entry.

Needs the optional extra ``pip install 'llm-mri-graphdb[ray]'``. The driver
reads only the model's config and tokenizer (:func:`~llm_mri_graphdb.extract.load_skeleton`),
checks the arguments, keys the cache exactly as the local engine does and
tokenises the corpus once into the same :class:`~llm_mri_graphdb.extract.BatchPlan`
(texts sorted longest first, cut into batches). Consecutive batches form
blocks; each block goes, with its token ids only, to one of ``num_workers``
Ray actors, each of which loads the model once (one GPU each when the cluster
has GPUs, else an equal share of the CPUs as torch threads) and runs
:meth:`~llm_mri_graphdb.extract.Extractor.pooled_batches`, the local engine's
own loop. The driver writes every returned block into the rows of the same
resumable cache entry (:func:`~llm_mri_graphdb.extract.run_job`), so the
result is in corpus order, written atomically, keyed like a local run, and a
scan started on a cluster is re-analysed on a laptop.

Actors are started with ``max_restarts=-1`` and ``max_task_retries=-1``: a
worker that dies (node lost, OOM, killed) is restarted, reloads the model and
its block is run again; blocks already written are not. The model path must
be readable at the same path on every node (or be a hub id).
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.extract.jobs import plan_batches, run_job
from llm_mri_graphdb.extract.local import Extractor, dtype_name, load_model, load_skeleton, prepare_job

__all__ = ["extract_with_ray"]

_BLOCKS_PER_WORKER = 4  # blocks per worker and pass: small enough to balance, large enough to amortise
_MAX_BLOCK_BATCHES = 16  # a lost worker costs at most this many batches
_IN_FLIGHT = 2  # blocks queued per worker, so it never waits for the driver


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "engine='ray' needs the optional package ray; install it with pip install 'llm-mri-graphdb[ray]'."
        ) from exc
    return ray


class _Worker:
    """A Ray actor: loads the model once, then pools the blocks it is sent."""

    def __init__(self, model: str, device: str, dtype, threads: int, gpus: int = 1) -> None:
        import torch
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # one bar per worker would garble the driver's
        if device == "cpu":
            torch.set_num_threads(threads)
        if device == "cuda" and gpus > 1:
            loaded, tokenizer, info = _load_spread(model, dtype)
            self.extractor = Extractor(loaded, tokenizer, info=info)
            return
        loaded, tokenizer, info = load_model(model, device=device, dtype=dtype)
        self.extractor = Extractor(loaded, tokenizer, info=info)

    def pid(self) -> int:
        return os.getpid()

    def run(self, plan, site: str, pooling: str) -> tuple[int, np.ndarray]:
        """Pool every batch of ``plan``: ``(pid, block [layers, rows, width])`` in the plan's row order."""
        parts = [
            block for _, block in self.extractor.pooled_batches(plan, range(plan.n_batches), site=site, pooling=pooling)
        ]
        return os.getpid(), np.concatenate(parts, axis=1)


def _load_spread(model: str, dtype):
    """Load ``model`` over every GPU this worker sees (Ray sets CUDA_VISIBLE_DEVICES) with device_map="auto"."""
    from transformers import AutoModel

    _, tokenizer, info = load_skeleton(model)
    loaded = AutoModel.from_pretrained(model, device_map="auto", dtype=dtype or "float32").eval()
    return loaded, tokenizer, info


def _blocks(todo: list[int], n_workers: int) -> list[list[int]]:
    size = max(1, min(_MAX_BLOCK_BATCHES, -(-len(todo) // (n_workers * _BLOCKS_PER_WORKER))))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def _on_block(pid: int, batches: list[int]) -> None:
    """Called on the driver after each block arrives (a seam for tests and logging)."""


def _dispatch(ray, actors, plan, todo: list[int], *, site: str, pooling: str):
    """Yield ``(batch, block)`` as blocks come back, keeping every actor busy."""
    queue = _blocks(todo, len(actors))
    pending: dict = {}  # future -> (actor, batches)

    def submit(actor) -> None:
        if queue:
            batches = queue.pop(0)
            pending[actor.run.remote(plan.subset(batches), site, pooling)] = (actor, batches)

    for actor in actors:
        for _ in range(_IN_FLIGHT):
            submit(actor)
    while pending:
        (ready,), _ = ray.wait(list(pending), num_returns=1)
        actor, batches = pending.pop(ready)
        pid, block = ray.get(ready)
        start = 0
        for b in batches:
            n = len(plan.batch(b))
            yield b, block[:, start : start + n]
            start += n
        _on_block(pid, batches)
        submit(actor)


def _worker_count(ray, num_workers: int | None, use_gpu: bool, gpus_per_worker: int) -> int:
    if num_workers is not None:
        return num_workers
    if use_gpu:
        return max(1, int(ray.cluster_resources().get("GPU", 1)) // gpus_per_worker)
    return max(1, len([n for n in ray.nodes() if n.get("Alive")]))


def extract_with_ray(
    model: str | os.PathLike,
    dataset,
    *,
    site: str = "hidden",
    pooling: str = "auto",
    device: str = "auto",
    dtype=None,
    batch_size: int = 32,
    max_length: int | None = None,
    cache_dir=None,
    progress: bool = True,
    ray_address: str | None = None,
    num_workers: int | None = None,
    gpus_per_worker: int = 1,
) -> Activations:
    """Pooled activations of ``model`` computed by Ray workers; see :func:`~llm_mri_graphdb.extract.extract_activations`.

    Parameters
    ----------
    ray_address : str or None, default=None
        ``"auto"`` or ``"ray://host:10001"`` joins a running cluster (``ray start``);
        ``None`` joins the cluster this process is already connected to, or
        starts a local one on this machine (shut down again at the end).
    num_workers : int or None, default=None
        Model replicas; ``None`` is one per ``gpus_per_worker`` GPUs of the
        cluster, else one per node.
    gpus_per_worker : int, default=1
        GPUs of each worker. Above 1, the worker loads the model with
        ``device_map="auto"``, which places its layers over those GPUs: the
        way to run a model larger than one GPU.

    Other parameters are those of the local engine. ``device="auto"`` uses
    one GPU per worker when the cluster has GPUs, else the CPUs.
    """
    ray = _import_ray()
    if isinstance(model, tuple) or not isinstance(model, (str, os.PathLike)):
        raise ValueError(
            "engine='ray' needs a model folder, .gguf file or hub id (workers load it); got an already-loaded model."
        )
    if num_workers is not None and (
        isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1
    ):
        raise ValueError(f"num_workers must be an int >= 1 or None; got {num_workers!r}.")
    if isinstance(gpus_per_worker, bool) or not isinstance(gpus_per_worker, int) or gpus_per_worker < 1:
        raise ValueError(f"gpus_per_worker must be an int >= 1; got {gpus_per_worker!r}.")
    model = os.fspath(model)
    if os.path.exists(model):
        model = os.path.abspath(model)
    skeleton, tokenizer, info = load_skeleton(model)
    prepare = partial(
        prepare_job,
        skeleton,
        info,
        dataset,
        site=site,
        pooling=pooling,
        batch_size=batch_size,
        max_length=max_length,
        fingerprint=lambda: _no_fingerprint(model),
    )
    # float32 needs no cluster to name: check the arguments and the cache before starting Ray
    known = dtype_name(dtype, "cpu") if dtype is None or str(dtype).removeprefix("torch.") == "float32" else None
    job = prepare(dtype_name=known or "float32", cache_dir=cache_dir if known else None)
    if job.cached is not None:
        return job.cached
    started = not ray.is_initialized()
    if started:
        # A local cluster's workers run this interpreter. Under `uv run`, Ray would otherwise start each worker
        # through `uv run` again (RAY_ENABLE_UV_RUN_RUNTIME_ENV), which fails on a locked or offline environment.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        ray.init(address=ray_address, include_dashboard=False, logging_level="warning", log_to_driver=False)
    actors = []
    try:
        use_gpu = device in ("auto", "cuda") and ray.cluster_resources().get("GPU", 0) > 0
        worker_device = "cuda" if use_gpu else "cpu"
        n_workers = _worker_count(ray, num_workers, use_gpu, gpus_per_worker)
        if known is None:  # half precision or auto: resolved for the workers' device
            dtype = dtype_name(dtype, worker_device)
            job = prepare(dtype_name=dtype, cache_dir=cache_dir)
            if job.cached is not None:
                return job.cached
        threads = max(1, int(ray.cluster_resources().get("CPU", 1)) // n_workers)
        worker = ray.remote(
            num_cpus=0 if use_gpu else threads,
            num_gpus=gpus_per_worker if use_gpu else 0,
            max_restarts=-1,
            max_task_retries=-1,
        )(_Worker)
        actors = [worker.remote(model, worker_device, dtype, threads, gpus_per_worker) for _ in range(n_workers)]
        # the workers load the model while the driver tokenises
        plan = plan_batches(tokenizer, job.dataset["text"], max_length=job.max_length, batch_size=batch_size)
        return run_job(
            job,
            plan,
            lambda todo: _dispatch(ray, actors, plan, todo, site=site, pooling=job.pooling),
            progress=progress,
        )
    finally:
        for actor in actors:
            ray.kill(actor)
        if started:
            ray.shutdown()


def _no_fingerprint(model: str) -> str:
    raise ValueError(
        f"engine='ray' with a cache needs a model whose fingerprint is known without loading it "
        f"(a folder, a .gguf file or a hub id with a known revision); got {model!r}."
    )
