"""The Ray engine against the local engine, on a local two-CPU Ray cluster."""

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray  # the test extra installs the optional [ray] engine
from numpy.testing import assert_allclose, assert_array_equal

from llm_mri_graphdb.extract import distributed, extract_activations
from tests.tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray():
    # workers import this checkout of the package, as the tests do
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level="warning",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {kind: save_tiny_model(kind, root / kind) for kind in ("bert", "gpt2")}


@pytest.fixture(scope="module")
def corpus():
    return pd.DataFrame({"text": TEXTS * 3, "label": LABELS * 3})


def _entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_extract_with_ray_equals_local_engine(local_ray, models, corpus, kind, tmp_path, monkeypatch):
    local = extract_activations(models[kind], corpus, batch_size=4, cache_dir=tmp_path / "local", progress=False)
    on_ray = extract_activations(
        models[kind], corpus, engine="ray", num_workers=2, batch_size=4, cache_dir=tmp_path / "ray", progress=False
    )
    assert _entries(tmp_path / "ray") == _entries(tmp_path / "local")  # same cache key
    assert (on_ray.model, on_ray.settings, on_ray.corpus) == (local.model, local.settings, local.corpus)
    assert_array_equal(on_ray.labels, local.labels)
    for a, b in zip(on_ray.layers, local.layers):  # corpus order: row i is text i in both
        assert_allclose(a, b, atol=1e-5, rtol=0)
    uncached = extract_activations(models[kind], corpus, engine="ray", num_workers=1, batch_size=4, progress=False)
    assert_allclose(np.stack(uncached.layers), np.stack(local.layers), atol=1e-5, rtol=0)


def test_extract_with_ray_retries_a_killed_worker(local_ray, models, corpus, tmp_path, monkeypatch):
    killed = []

    def kill_once(pid, batches):  # the worker still has a queued block: it must be restarted and rerun
        if not killed:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)

    monkeypatch.setattr(distributed, "_BLOCKS_PER_WORKER", 3)
    monkeypatch.setattr(distributed, "_on_block", kill_once)
    on_ray = extract_activations(
        models["gpt2"],
        corpus,
        engine="ray",
        num_workers=2,
        batch_size=2,
        cache_dir=tmp_path,
        pooling="mean",
        progress=False,
    )
    assert len(killed) == 1
    local = extract_activations(models["gpt2"], corpus, batch_size=2, pooling="mean", progress=False)
    for a, b in zip(on_ray.layers, local.layers):
        assert_allclose(a, b, atol=1e-5, rtol=0)


def test_extract_with_ray_refuses_a_loaded_model(local_ray, models, corpus):
    from llm_mri_graphdb.extract import load_model

    pair = load_model(models["gpt2"], device="cpu")[:2]
    with pytest.raises(ValueError, match="engine='ray' needs a model folder, .gguf file or hub id"):
        extract_activations(pair, corpus, engine="ray", progress=False)
    with pytest.raises(ValueError, match="engine must be 'local' or 'ray'; got 'spark'"):
        extract_activations(models["gpt2"], corpus, engine="spark", progress=False)
    with pytest.raises(ValueError, match="num_workers must be an int >= 1 or None; got 0"):
        extract_activations(models["gpt2"], corpus, engine="ray", num_workers=0, progress=False)


def test_extract_with_ray_checks_arguments_and_cache_before_starting_ray(models, corpus, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(ValueError, match="site must be one of"):
        extract_activations(models["bert"], corpus, engine="ray", site="bogus", progress=False)
    local = extract_activations(models["bert"], corpus, cache_dir=tmp_path, progress=False)
    cached = extract_activations(models["bert"], corpus, engine="ray", cache_dir=tmp_path, progress=False)
    assert isinstance(cached.layers[0], np.memmap)
    assert_array_equal(np.stack(cached.layers), np.stack(local.layers))
