"""bench.gpu runs to completion on the CPU with --tiny, and writes the table docs/benchmarks.md holds."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_pack_rows_holds_every_text_once_within_capacity():
    from bench.gpu import pack_rows

    lengths = np.random.default_rng(0).integers(1, 40, 200)
    rows = pack_rows(lengths, 64)
    assert sorted(i for row in rows for i in row) == list(range(200))
    assert all(lengths[row].sum() <= 64 for row in rows)
    assert len(rows) <= int(np.ceil(lengths.sum() / 64 * 1.3))  # no worse than 30% above the bound


def test_packed_pooling_equals_padded_batches_on_a_tiny_llama():
    import torch
    from transformers import AutoModel, LlamaConfig

    from bench.gpu import pack_rows, packed_pooled
    from llm_mri_graphdb.extract.sites import pool

    torch.manual_seed(0)
    model = AutoModel.from_config(
        LlamaConfig(
            vocab_size=50,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    ).eval()
    rng = np.random.default_rng(1)
    encoded = [rng.integers(1, 50, n).tolist() for n in (7, 3, 12, 5, 1, 9)]
    rows = pack_rows(np.array([len(e) for e in encoded]), 16)
    for pooling in ("last", "first", "mean"):
        packed = packed_pooled(model, encoded, rows, pooling=pooling, pad_id=0, device="cpu", rows_per_batch=2)
        with torch.inference_mode():
            for i, ids in enumerate(encoded):  # one text at a time: no padding at all
                states = model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
                mask = torch.ones(1, len(ids), dtype=torch.long)
                want = np.stack([pool(h, mask, pooling)[0].numpy() for h in states])
                np.testing.assert_allclose(packed[:, i], want, rtol=1e-4, atol=1e-5)


def test_bench_gpu_tiny_runs_on_cpu_and_writes_the_docs_table(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.gpu", "--device", "cpu", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loading" in done.stderr and "warm-up" in done.stderr  # progress as it goes
    table = (tmp_path / "bench_gpu.md").read_text()
    from bench.gpu import HEADER

    assert HEADER in table
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    assert HEADER in docs  # the docs table has the columns the script writes
    rows = [line for line in table.splitlines() if "| float32 |" in line]
    assert len(rows) == 3  # MiniLM, SmolLM2 and Llama shapes in float32
    decoder = next(line for line in rows if "SmolLM2" in line)
    cells = [c.strip() for c in decoder.strip("|").split("|")]
    assert float(cells[-1]) < 1e-3  # packed rows give the padded batches' activations
    assert re.search(r"\| bfloat16 \| sdpa \|", table)
