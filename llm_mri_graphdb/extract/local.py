"""Pooled activations of a language model over a labelled corpus.

The engine loads the model once, tokenises the corpus once without padding,
sorts texts by token count (longest first, so memory trouble shows at once)
and pads each batch only to its own longest text, always on the right: real
tokens then keep positions ``0..n-1``, so a text's activations do not depend
on its batch (GPT-2's learned positions would shift under left padding).
Pooling reads the attention mask, runs on the device, and only the pooled
``[layers, batch, d_model]`` block is copied back, as float32, into rows in
corpus order (in memory, or straight into the cache's memmaps).

``dtype`` is float32 unless asked otherwise. ``bfloat16`` runs on every
device: the weights are loaded in bfloat16, which CPUs with AMX-BF16 or
AVX512-BF16 (:func:`cpu_has_bf16`) multiply several times faster than
float32; ``float16`` needs ``cuda`` or ``mps`` (a ValueError on CPU, where its
kernels are slow or missing). ``auto`` resolves to float32 for now: bfloat16
keeps the probes' accuracy but moves texts between grid cells (region AMI
0.66 to 0.97 against float32) and metrics by several percent, measured in
``docs/precision.md``; it would pick bfloat16 on hardware that multiplies it
natively once :data:`AUTO_PICKS_BF16` is set. The resolved name is what the
run settings and the cache key record, so a bfloat16 run never shares an id
or a cache entry with a float32 one.

``extract_activations``, the entry point over this engine and the Ray one, is in
:mod:`llm_mri_graphdb.extract.run` (the Ray engine imports this module, so the entry point cannot live here).
Above 400 lines: model loading and the engine share the source, device and dtype resolution; kept as one
file while the other branches merge the layout move (git follows a rename only above 50% similarity).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.errors import ModelLoadError
from llm_mri_graphdb.extract import cache
from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.extract.jobs import (
    BatchPlan,
    ExtractionJob,
    cache_root,
    entry_key,
    plan_batches,
    read_cached,
    run_job,
)
from llm_mri_graphdb.extract.sites import (
    architecture,
    find_site_modules,
    folder_pooling,
    pool,
    resolve_pooling,
    sentence_transformers_pooling,
)
from llm_mri_graphdb.scan_settings import ScanArgumentError, check_dtype, check_extraction

__all__ = [
    "AUTO_PICKS_BF16",
    "Extractor",
    "ModelInfo",
    "cpu_has_bf16",
    "dtype_name",
    "load_model",
    "load_skeleton",
    "model_info",
    "prepare_job",
]

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2}  # positions start after padding_idx
_UNBOUNDED = 1_000_000  # tokenizers without a limit report ~1e30


@dataclass(frozen=True)
class ModelInfo:
    """What extraction needs to know about a loaded model (goes into ``Activations.model``).

    ``n_layers`` counts transformer blocks; ``hidden`` gives ``n_layers + 1``
    activation layers (embeddings first). ``max_length`` is the longest input
    the model accepts (``None`` when unknown). ``fingerprint`` identifies the
    weights (see :mod:`llm_mri_graphdb.extract.cache`); ``None`` means "hash the
    weights when a cache needs it". ``declared_pooling`` is the pooling the
    model's sentence-transformers files declare (``first``, ``mean``, ``max``,
    ``last``), None when it ships none; ``pooling="auto"`` uses it.
    """

    name: str
    architecture: str
    fingerprint: str | None
    n_layers: int
    width: int
    is_decoder: bool
    has_cls: bool
    max_length: int | None
    declared_pooling: str | None = None


@dataclass(frozen=True)
class _Source:
    kind: str  # "folder", "gguf" or "hub"
    model_id: str
    gguf_file: str | None
    name: str

    @property
    def gguf_path(self) -> Path:
        """The file of a ``gguf`` source."""
        if self.gguf_file is None:
            raise ValueError(f"model {self.name!r} is a {self.kind} source, not a GGUF file.")
        return Path(self.model_id) / self.gguf_file


def _folder_name(path: Path) -> str:
    """A readable model name: the folder's, or ``parent/folder`` for generic names like ``model``."""
    path = path.resolve()
    if path.name.lower() in {"model", "models", "checkpoint", "weights", "hf", "snapshot"} and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def _resolve_source(model: str | os.PathLike) -> _Source:
    text = os.fspath(model)
    path = Path(text).expanduser()
    if text.endswith(".gguf"):
        if not path.is_file():
            raise ModelLoadError(f"GGUF file {text!r} does not exist.")
        with open(path, "rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelLoadError(
                    f"{text}: not a GGUF file (it does not start with the GGUF magic bytes); "
                    "give a .gguf model file, a model folder or a hub id."
                )
        return _Source("gguf", str(path.parent), path.name, path.stem)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelLoadError(
                f"{text}: not a model folder (it has no config.json); give a folder written by "
                "save_pretrained (config.json, weights, tokenizer), a .gguf file or a hub id."
            )
        return _Source("folder", str(path), None, _folder_name(path))
    if isinstance(model, os.PathLike) or text.startswith(("/", ".", "~")) or path.exists():
        raise ModelLoadError(f"model folder {text!r} does not exist (or is not a folder).")
    return _Source("hub", text, None, text)


def _source_fingerprint(src: _Source) -> str | None:
    """Fingerprint computable without loading: folder/GGUF hashes, or a cached hub commit."""
    if src.kind == "folder":
        return cache.folder_fingerprint(src.model_id)
    if src.kind == "gguf":
        return cache.gguf_fingerprint(src.gguf_path)
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(src.model_id, "config.json")
    return _hub_fingerprint(src.model_id, Path(found).parent.name) if isinstance(found, str) else None


def _hub_fingerprint(repo_id: str, commit: str) -> str:
    return hashlib.sha256(f"hub-v1\0{repo_id}\0{commit}".encode()).hexdigest()


def _source_pooling(src: _Source) -> str | None:
    """The sentence-transformers pooling a model folder or hub snapshot declares (None for a GGUF file)."""
    if src.kind == "folder":
        return folder_pooling(src.model_id)
    if src.kind != "hub":
        return None
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    def read(name: str) -> str | None:
        found = try_to_load_from_cache(src.model_id, name)
        if not isinstance(found, str):
            try:  # the model itself came from the hub: its small files may too
                found = hf_hub_download(src.model_id, name)
            except Exception:  # noqa: BLE001 - absent, offline or gated: the model declares nothing we can read
                return None
        return Path(found).read_text(encoding="utf-8")

    return sentence_transformers_pooling(read)


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    check_extraction(device=device)
    kind = str(device).split(":")[0]
    if (
        kind == "cuda"
        and not torch.cuda.is_available()
        or (kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()))
    ):
        raise ScanArgumentError(
            "device", f"device {device!r} is not available on this machine; use device 'cpu' or 'auto'."
        )
    index = str(device).partition(":")[2]
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise ScanArgumentError(
            "device",
            f"device {device!r} is not available on this machine: it has "
            f"{torch.cuda.device_count()} CUDA device(s), cuda:0 to "
            f"cuda:{torch.cuda.device_count() - 1}.",
        )
    return torch.device(device)


def cpu_has_bf16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bfloat16 natively (the ``amx_bf16`` or ``avx512_bf16`` flag).

    Read from ``/proc/cpuinfo`` (Linux); False where that file is missing.
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "amx_bf16" in flags or "avx512_bf16" in flags


#: Whether ``dtype="auto"`` picks bfloat16 where the hardware multiplies it natively. False: bfloat16
#: is not yet equivalent enough to float32 to be chosen silently (``docs/precision.md``).
AUTO_PICKS_BF16 = False


def _auto_dtype(device: torch.device) -> torch.dtype:
    if not AUTO_PICKS_BF16:
        return torch.float32
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if dtype == "auto":
        return _auto_dtype(device)
    return _DTYPES[check_dtype(dtype, device.type)]


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@contextmanager
def _quiet_loading(quiet: bool):
    """Silence transformers' own weight-loading bar when the caller asked for no progress."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if quiet and was_enabled:
            hf_logging.enable_progress_bar()


def load_model(model: str | os.PathLike, *, device: str = "auto", dtype: str | torch.dtype | None = None):
    """Load a model and tokenizer once, in eval mode on ``device``.

    Parameters
    ----------
    model : str or path
        A Hugging Face hub id, a local model folder, or a single ``.gguf``
        file (dequantised to ``dtype`` by transformers).
    device : {"auto", "cpu", "cuda", "mps"}, default="auto"
    dtype : {"float32", "bfloat16", "float16", "auto"} or None, default=None
        ``None`` is float32; float16 only off the CPU; ``auto`` as
        :func:`dtype_name` resolves it.

    Returns
    -------
    model : transformers.PreTrainedModel
    tokenizer : transformers tokenizer (given ``eos`` as pad token when it has none)
    info : ModelInfo
    """
    from transformers import AutoModel, AutoTokenizer

    dev = _resolve_device(device)
    torch_dtype = _resolve_dtype(dtype, dev)
    src = _resolve_source(model)
    if src.kind == "gguf":
        _require_gguf_packages(src.gguf_file)
    extra = {"gguf_file": src.gguf_file} if src.gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(src.model_id, **extra)
        loaded = AutoModel.from_pretrained(src.model_id, dtype=torch_dtype, **extra)
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(model, src, exc) from exc
    except Exception as exc:  # a damaged GGUF fails inside the gguf reader (struct.error, IndexError, ...)
        if src.kind != "gguf":
            raise
        raise _load_error(model, src, exc) from exc
    loaded = loaded.eval().to(dev)
    fingerprint = _source_fingerprint(src) if src.kind != "hub" else None
    if fingerprint is None and getattr(loaded.config, "_commit_hash", None):
        fingerprint = _hub_fingerprint(src.model_id, loaded.config._commit_hash)
    return (
        loaded,
        tokenizer,
        model_info(loaded, tokenizer, name=src.name, fingerprint=fingerprint, declared_pooling=_source_pooling(src)),
    )


# What transformers needs to read a GGUF file: the reader, and accelerate to place the dequantised weights.
GGUF_PACKAGES = {"gguf": "gguf", "accelerate": "accelerate"}  # import name -> distribution


def _require_gguf_packages(gguf_file: str | None) -> None:
    """Raise one line naming every package a GGUF load needs that is missing, and the install command."""
    missing = [dist for module, dist in GGUF_PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ModelLoadError(
            f"reading the GGUF file {gguf_file!r} needs the package{'s' if len(missing) > 1 else ''} "
            f'{" and ".join(missing)}: pip install "llm-mri-graphdb[gguf]".'
        )


def _gguf_damage(path: Path) -> str | None:
    """Why the bytes of ``path`` are not a complete GGUF file, or None when the gguf reader parses it whole."""
    from gguf import GGUFReader

    try:
        GGUFReader(path)
    except Exception as exc:  # the reader fails on short or corrupt files with struct/index/value errors
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def _load_error(model, src: _Source, exc: Exception) -> ModelLoadError:
    """One line naming the model, the cause (whole, on one line) and the fix."""
    cause = " ".join(str(exc).split()) or type(exc).__name__
    cause = cause if len(cause) <= 400 else cause[:397] + "..."
    if src.kind == "gguf":
        path = src.gguf_path
        damage = _gguf_damage(path)
        if damage is not None:
            return ModelLoadError(
                f"{os.fspath(model)}: not a complete GGUF model ({path.stat().st_size} bytes; "
                f"the GGUF reader says: {damage}). The file looks truncated or damaged: download it again."
            )
        return ModelLoadError(
            f"could not load the GGUF model {os.fspath(model)} (the file itself reads whole): {cause}"
        )
    from huggingface_hub import constants

    offline = " (offline: only cached models load)" if constants.HF_HUB_OFFLINE else ""
    return ModelLoadError(f"could not load model {os.fspath(model)!r}{offline}: {cause}")


def load_skeleton(model: str | os.PathLike):
    """Tokenizer, config and ModelInfo of ``model`` without its weights (they stay on ``meta``).

    What a coordinator needs to plan and key an extraction that workers run
    (see :mod:`llm_mri_graphdb.extract.distributed`): nothing is read but the config
    and tokenizer files.

    Returns
    -------
    model : transformers.PreTrainedModel on the meta device
    tokenizer : transformers tokenizer
    info : ModelInfo
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    src = _resolve_source(model)
    extra = {"gguf_file": src.gguf_file} if src.gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(src.model_id, **extra)
        config = AutoConfig.from_pretrained(src.model_id, **extra)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"could not load model {os.fspath(model)!r}: {first}") from exc
    with torch.device("meta"):  # no memory for the weights
        skeleton = AutoModel.from_config(config)
    fingerprint = _source_fingerprint(src)
    if fingerprint is None and getattr(config, "_commit_hash", None):
        fingerprint = _hub_fingerprint(src.model_id, config._commit_hash)
    return (
        skeleton,
        tokenizer,
        model_info(skeleton, tokenizer, name=src.name, fingerprint=fingerprint, declared_pooling=_source_pooling(src)),
    )


def dtype_name(dtype: str | torch.dtype | None, device: str) -> str:
    """Name of the dtype a model loaded with ``dtype`` on ``device`` computes in.

    ``None`` is float32; ``"auto"`` is float32 while :data:`AUTO_PICKS_BF16`
    is False (see ``docs/precision.md``), else bfloat16 on a CPU with
    AMX-BF16 or AVX512-BF16 (:func:`cpu_has_bf16`) and on a CUDA device that
    supports it, float32 elsewhere.
    """
    return _dtype_name(_resolve_dtype(dtype, _resolve_device(device)))


def model_info(
    model, tokenizer, *, name: str | None = None, fingerprint: str | None = None, declared_pooling: str | None = None
) -> ModelInfo:
    """Describe an already-loaded model; sets ``eos`` as the tokenizer's pad token if it has none.

    ``declared_pooling`` is read from the model's folder (``model.name_or_path``)
    when not given, so a loaded sentence-transformers model keeps its pooling.
    """
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is masked out: results do not change
    config = model.config
    model_type = config.model_type
    arch = architecture(model_type)
    if arch is not None:
        decoder = arch.decoder
    else:
        from transformers.models.auto.modeling_auto import (
            MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        )

        decoder = model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    limits = [getattr(tokenizer, "model_max_length", None)]
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int):
        limits.append(positions - _POSITION_OFFSET.get(model_type, 0))
    bounds = [v for v in limits if isinstance(v, int) and 0 < v < _UNBOUNDED]
    source = getattr(model, "name_or_path", "") or ""
    if fingerprint is None and source and Path(source).is_dir():
        fingerprint = cache.folder_fingerprint(source)
    if declared_pooling is None and source and Path(source).is_dir():
        declared_pooling = folder_pooling(source)
    return ModelInfo(
        name=name or source or model_type,
        architecture=model_type,
        fingerprint=fingerprint,
        n_layers=int(config.num_hidden_layers),
        width=int(config.hidden_size),
        is_decoder=decoder,
        has_cls=tokenizer.cls_token is not None,
        max_length=min(bounds) if bounds else None,
        declared_pooling=declared_pooling,
    )


def _weights_fingerprint(model) -> str:
    h = hashlib.sha256(model.config.to_json_string().encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def prepare_job(
    model,
    info: ModelInfo,
    dataset,
    *,
    dtype_name: str,
    site: str = "hidden",
    pooling: str = "auto",
    batch_size: int = 32,
    max_length: int | None = None,
    cache_dir=None,
    fingerprint=None,
    allow_large: bool = False,
) -> ExtractionJob:
    """Check the arguments against the model and look the result up in the cache.

    ``model`` may hold its weights on the ``meta`` device (only its modules are
    read). ``fingerprint`` is a callable giving the weights' fingerprint when
    ``info`` has none. ``job.cached`` is the cached result, if any.
    """
    check_extraction(site=site, pooling=pooling, batch_size=batch_size, max_length=max_length, allow_large=allow_large)
    resolved = resolve_pooling(pooling, decoder=info.is_decoder, configured=info.declared_pooling)
    length = _check_max_length(max_length, info.max_length)
    if site != "hidden":
        find_site_modules(model.base_model, info.architecture, site)
    dataset = load_corpus(dataset)
    job = ExtractionJob(
        dataset,
        site,
        resolved,
        batch_size,
        length,
        n_layers=info.n_layers + 1 if site == "hidden" else info.n_layers,
        width=info.width,
        model_meta=asdict(info),
        settings_meta={"site": site, "pooling": resolved, "max_length": length, "dtype": dtype_name},
    )
    job.root = cache_root(cache_dir)
    if job.root is not None:
        fp = info.fingerprint or fingerprint()
        job.model_meta["fingerprint"] = fp
        job.key = entry_key(fp, dataset, site, pooling, max_length, dtype_name)
        job.cached = read_cached(job.root, job.key, dataset)
    return job


class Extractor:
    """Pooled activations from one already-loaded model, reused across corpora and sites.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any model whose ``base_model`` is a supported transformer; it is put in eval mode.
    tokenizer : transformers tokenizer
    info : ModelInfo or None, default=None
        From :func:`load_model`; built by :func:`model_info` when ``None``.
        Its ``fingerprint`` keys the cache: pass your own if you changed the weights.
    """

    def __init__(self, model, tokenizer, *, info: ModelInfo | None = None) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.info = info or model_info(model, tokenizer)

    def extract(
        self,
        dataset,
        *,
        site: str = "hidden",
        pooling: str = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        cache_dir=None,
        progress: bool = True,
        allow_large: bool = False,
    ) -> Activations:
        """Pool every text at every layer of ``site``; see :func:`extract_activations`."""
        param = next(self.model.parameters())
        job = prepare_job(
            self.model,
            self.info,
            dataset,
            dtype_name=_dtype_name(param.dtype),
            site=site,
            pooling=pooling,
            batch_size=batch_size,
            max_length=max_length,
            cache_dir=cache_dir,
            fingerprint=lambda: _weights_fingerprint(self.model),
            allow_large=allow_large,
        )
        if job.cached is not None:
            return job.cached
        plan = plan_batches(self.tokenizer, job.dataset["text"], max_length=job.max_length, batch_size=batch_size)
        return run_job(
            job, plan, lambda todo: self.pooled_batches(plan, todo, site=site, pooling=job.pooling), progress=progress
        )

    def pooled_batches(self, plan: BatchPlan, batches, *, site: str, pooling: str):
        """Yield ``(batch, block)`` for each batch index: ``block`` is float32 ``[layers, batch, width]``.

        ``pooling`` is resolved (not ``auto``; see :mod:`llm_mri_graphdb.sites`). Each batch is
        padded on the right to its own longest text.
        """
        base = self.model.base_model
        modules = [] if site == "hidden" else find_site_modules(base, self.info.architecture, site)
        device = next(self.model.parameters()).device
        tok = self.tokenizer
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        encoded, lengths = plan.encoded, plan.lengths
        pooled_parts: list[torch.Tensor] = []
        state: dict[str, torch.Tensor] = {}

        def hook(module, args, output):
            hidden = output[0] if isinstance(output, tuple) else output  # [batch, pos, d_model]
            # a model spread over GPUs (device_map="auto") runs each layer on its own device
            pooled_parts.append(pool(hidden, state["mask"].to(hidden.device), pooling).to(device))  # [batch, d_model]

        handles = [m.register_forward_hook(hook) for m in modules]
        try:
            with torch.inference_mode():
                for b in batches:
                    rows = plan.batch(b)
                    ids = np.full((len(rows), int(lengths[rows[0]])), pad_id, dtype=np.int64)
                    mask = np.zeros(ids.shape, dtype=np.int64)
                    for r, i in enumerate(rows):  # right padding: positions 0..n-1 stay put
                        ids[r, : lengths[i]] = encoded[i]
                        mask[r, : lengths[i]] = 1
                    input_ids = torch.from_numpy(ids).to(device)  # [batch, pos]
                    state["mask"] = attention = torch.from_numpy(mask).to(device)  # [batch, pos]
                    if modules:
                        base(input_ids=input_ids, attention_mask=attention)
                        stacked = torch.stack(pooled_parts)  # [layers, batch, d_model]
                        pooled_parts.clear()
                    else:
                        states = base(
                            input_ids=input_ids, attention_mask=attention, output_hidden_states=True
                        ).hidden_states
                        stacked = torch.stack(
                            [pool(h, attention.to(h.device), pooling).to(device) for h in states]
                        )  # [layers, batch, d_model]
                    yield b, stacked.float().cpu().numpy()
        finally:
            for handle in handles:
                handle.remove()


def _check_max_length(max_length: int | None, limit: int | None) -> int | None:
    if max_length is None:
        return limit
    if not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be an int >= 1 or None; got {max_length!r}.")
    if limit is not None and max_length > limit:
        raise ValueError(f"max_length ({max_length}) must be <= the model's limit ({limit}).")
    return max_length
