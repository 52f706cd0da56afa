import json
import os

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.errors import CacheError
from llm_mri_graphdb.extract import cache, extract_activations
from llm_mri_graphdb.extract import local as extract
from tests.tiny_models import LABELS, TEXTS, save_tiny_model

# unit by default (tests/conftest.py); the SIGKILL test below is slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny_model("gpt2", tmp_path_factory.mktemp("models") / "gpt2")


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}), name="tiny")


def _forbid_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded")

    import transformers

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", refuse)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)


def test_cache_key_is_stable_and_sensitive():
    fields = dict(model="m", corpus="c", site="hidden", pooling="auto", max_length=None, dtype="float32")
    assert cache.cache_key(**fields) == cache.cache_key(**dict(reversed(fields.items())))
    assert cache.cache_key(**fields) != cache.cache_key(**{**fields, "site": "mlp"})


def test_folder_fingerprint_tracks_config_and_weights(tmp_path):
    (tmp_path / "config.json").write_text('{"a": 1}')
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    (tmp_path / "README.md").write_text("ignored")
    first = cache.folder_fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("still ignored")
    assert cache.folder_fingerprint(tmp_path) == first
    os.utime(tmp_path / "model.safetensors", ns=(1, 1))
    assert cache.folder_fingerprint(tmp_path) != first


def test_gguf_fingerprint_reads_size_and_ends(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"a" * (3 << 20))
    first = cache.gguf_fingerprint(path)
    with open(path, "r+b") as f:  # the middle MiB is not read
        f.seek(3 << 19)
        f.write(b"b")
    assert cache.gguf_fingerprint(path) == first
    with open(path, "ab") as f:
        f.write(b"c")
    assert cache.gguf_fingerprint(path) != first


def test_cache_writer_round_trip_is_memory_mapped(tmp_path):
    with cache.CacheWriter(tmp_path, "k", n_layers=2, n_texts=3, width=4) as writer:
        writer.layers[0][[2, 0]] = np.ones((2, 4))
        writer.layers[1][:] = np.arange(12).reshape(3, 4)
        writer.layers[0][1] = 5
        writer.commit({"note": "x"})
    layers, manifest = cache.load_entry(tmp_path, "k")
    assert isinstance(layers[0], np.memmap)
    assert_array_equal(layers[0], [[1] * 4, [5] * 4, [1] * 4])
    assert_array_equal(layers[1], np.arange(12).reshape(3, 4))
    assert manifest["note"] == "x" and manifest["n_layers"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_cache_writer_without_commit_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with cache.CacheWriter(tmp_path, "k", n_layers=1, n_texts=2, width=2) as writer:
            writer.layers[0][0] = 1
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    assert cache.load_entry(tmp_path, "k") is None


def test_load_entry_refuses_partial_entries(tmp_path):
    (tmp_path / "nomanifest").mkdir()
    np.save(tmp_path / "nomanifest" / "layer_000.npy", np.zeros((2, 2), np.float32))
    with pytest.raises(CacheError, match="has no manifest.json; it is incomplete"):
        cache.load_entry(tmp_path, "nomanifest")
    with cache.CacheWriter(tmp_path, "short", n_layers=2, n_texts=3, width=2) as writer:
        writer.commit({})
    np.save(tmp_path / "short" / "layer_001.npy", np.zeros((2, 2), np.float32))
    with pytest.raises(CacheError, match=r"layer_001.npy has shape \(2, 2\) float32; the manifest says \(3, 2\)"):
        cache.load_entry(tmp_path, "short")
    (tmp_path / "short" / "layer_000.npy").unlink()
    with pytest.raises(CacheError, match="cannot be read"):
        cache.load_entry(tmp_path, "short")


def test_extract_activations_second_run_reads_cache_without_model(folder, corpus, tmp_path, monkeypatch):
    first = extract_activations(folder, corpus, site="mlp", cache_dir=tmp_path, progress=False)
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
    _forbid_loading(monkeypatch)
    second = extract_activations(folder, corpus, site="mlp", cache_dir=tmp_path, progress=False)
    assert all(isinstance(layer, np.memmap) for layer in second.layers)
    for a, b in zip(first.layers, second.layers):
        assert_array_equal(a, b)
    assert (second.model, second.settings, second.corpus) == (first.model, first.settings, first.corpus)
    assert_array_equal(second.labels, first.labels)
    with pytest.raises(AssertionError, match="the model was loaded"):  # another key does need the model
        extract_activations(folder, corpus, site="attention", cache_dir=tmp_path, progress=False)


def test_extract_activations_cache_matches_uncached(folder, corpus, tmp_path):
    cached = extract_activations(folder, corpus, pooling="mean", cache_dir=tmp_path, progress=False)
    plain = extract_activations(folder, corpus, pooling="mean", progress=False)
    for a, b in zip(cached.layers, plain.layers):
        assert_array_equal(a, b)


def test_extract_activations_interrupted_write_resumes_the_remainder(folder, corpus, tmp_path, monkeypatch):
    calls = []
    real_pool = extract.pool

    def counting_pool(*args):
        calls.append(1)
        if fail[0] and len(calls) > 3:  # 3 pooled layers a batch: fail in the second batch
            raise RuntimeError("killed")
        return real_pool(*args)

    fail = [True]
    monkeypatch.setattr(extract, "pool", counting_pool)
    with pytest.raises(RuntimeError, match="killed"):
        extract_activations(folder, corpus, batch_size=4, cache_dir=tmp_path, progress=False)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []  # no entry to read
    (partial,) = tmp_path.glob(".partial-*[!k]")
    assert json.loads((partial / "progress.json").read_text())["done"] == [[0, 1]]
    fail[0], calls[:] = False, []
    import tqdm.auto

    starts = []

    class RecordingBar(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            starts.append((kwargs.get("initial"), kwargs.get("total")))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    acts = extract_activations(folder, corpus, batch_size=4, cache_dir=tmp_path, progress=True)
    assert len(calls) == 3  # only the second batch was computed
    assert [s for s in starts if s[1] == len(TEXTS)] == [(4, 8)]  # the bar starts at the texts already done
    assert [p.name for p in tmp_path.iterdir()] == [_entry(tmp_path).name]  # partial folder and lock gone
    plain = extract_activations(folder, corpus, batch_size=4, progress=False)
    for a, b in zip(acts.layers, plain.layers):
        assert_array_equal(a, b)


def _entry(root):
    (entry,) = [p for p in root.iterdir() if not p.name.startswith(".")]
    return entry


def test_cache_writer_resumes_units_of_the_same_plan(tmp_path):
    with cache.CacheWriter(tmp_path, "k", n_layers=1, n_texts=4, width=2, plan="p") as writer:
        assert writer.resumable and writer.done == set()
        writer.layers[0][0:2] = 7
        writer.mark_done(0)
    with cache.CacheWriter(tmp_path, "k", n_layers=1, n_texts=4, width=2, plan="p") as writer:
        assert writer.done == {0}
        assert_array_equal(writer.layers[0][:2], 7)
        with cache.CacheWriter(tmp_path, "k", n_layers=1, n_texts=4, width=2, plan="p") as second:
            assert not second.resumable and second.done == set()  # the lock is taken: private folder
    with cache.CacheWriter(tmp_path, "k", n_layers=1, n_texts=4, width=2, plan="other") as writer:
        assert writer.done == set()  # another plan starts again
        assert_array_equal(writer.layers[0], 0)
        writer.commit({})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["layer_000.npy", "manifest.json"]


def test_extract_activations_recomputes_a_broken_entry(folder, corpus, tmp_path):
    good = extract_activations(folder, corpus, cache_dir=tmp_path, progress=False)
    (entry,) = [p for p in tmp_path.iterdir()]
    (entry / "manifest.json").unlink()  # as if a file was lost
    with pytest.warns(UserWarning, match="incomplete. Recomputing it"):
        again = extract_activations(folder, corpus, cache_dir=tmp_path, progress=False)
    for a, b in zip(good.layers, again.layers):
        assert_array_equal(a, b)
    assert json.loads((entry / "manifest.json").read_text())["n_texts"] == len(TEXTS)


def test_extract_activations_cache_true_uses_cache_home(folder, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_MRI_GRAPHDB_HOME", str(tmp_path))
    extract_activations(folder, corpus, cache_dir=True, progress=False)
    assert len(list((tmp_path / "activations").iterdir())) == 1


_SLOW_EXTRACTION = """
import sys, time
import pandas as pd
from llm_mri_graphdb.extract import cache, extract_activations, local as extract
cache.CHECKPOINT_SECONDS = 0.0
real_pool = extract.pool
def slow_pool(*args):
    time.sleep(0.03)
    return real_pool(*args)
extract.pool = slow_pool
texts, labels, folder, root = eval(sys.argv[1])
corpus = pd.DataFrame({"text": texts, "label": labels})
extract_activations(folder, corpus, batch_size=2, cache_dir=root, progress=False)
"""


@pytest.mark.slow  # a child process imports torch + transformers and is SIGKILLed: 18 CPU s, the unit tier's largest
def test_extract_activations_resumes_after_sigkill_byte_for_byte(folder, tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    texts, labels = TEXTS * 6, LABELS * 6  # 48 texts, 24 batches of 2
    frame = pd.DataFrame({"text": texts, "label": labels})
    killed_root, clean_root = tmp_path / "killed", tmp_path / "clean"
    arg = repr((texts, labels, str(folder), str(killed_root)))
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_EXTRACTION, arg], cwd=os.getcwd())
    deadline = time.monotonic() + 120
    done = 0
    try:
        while done < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            for progress in killed_root.glob(".partial-*/progress.json"):
                try:
                    done = sum(b - a for a, b in json.loads(progress.read_text())["done"])
                except (OSError, ValueError):
                    pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 10 <= done < 24, f"the extraction was not stopped half way ({done} batches done)"
    (progress,) = killed_root.glob(".partial-*/progress.json")
    recorded = sum(b - a for a, b in json.loads(progress.read_text())["done"])

    batches = []
    real = extract.Extractor.pooled_batches

    def counting(self, plan, todo, **kwargs):
        batches.extend(todo)
        return real(self, plan, todo, **kwargs)

    monkeypatch.setattr(extract.Extractor, "pooled_batches", counting)
    extract_activations(folder, frame, batch_size=2, cache_dir=killed_root, progress=False)
    assert len(batches) == 24 - recorded  # only the remainder was computed
    extract_activations(folder, frame, batch_size=2, cache_dir=clean_root, progress=False)
    resumed, clean = _entry(killed_root), _entry(clean_root)
    assert [p.name for p in killed_root.iterdir()] == [resumed.name] and resumed.name == clean.name
    names = sorted(p.name for p in clean.iterdir())
    assert names == sorted(p.name for p in resumed.iterdir()) and "manifest.json" in names
    for name in names:
        assert (resumed / name).read_bytes() == (clean / name).read_bytes(), name


def test_read_rows_reads_memory_mapped_and_plain_arrays(tmp_path):
    values = np.arange(30, dtype=np.float32).reshape(10, 3)
    np.save(tmp_path / "x.npy", values)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert_array_equal(cache.read_rows(mapped, 2, 5), values[2:5])
    assert_array_equal(cache.read_rows(mapped, 8, 20), values[8:])  # past the end: the rows there are
    assert_array_equal(cache.read_rows(mapped[1:], 2, 5), values[3:6])  # a view is sliced, not read at offset
    assert_array_equal(cache.read_rows(values, 0, 2), values[:2])
