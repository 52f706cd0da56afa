"""Scan settings: argument validation before any work, size limits, and one run identity for every entry point."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import build_nrag
from llm_mri_graphdb.reduce.layers import PCA, SVD, UMAP
from llm_mri_graphdb.scan_settings import (
    LIMITS,
    ScanArgumentError,
    check_corpus_size,
    check_scan,
    run_settings,
)
from llm_mri_graphdb.store import MemoryStore

from .tiny_models import LABELS, TEXTS, save_tiny_model


@pytest.mark.parametrize(
    ("kwargs", "argument", "message"),
    [
        ({"site": "ffn"}, "site", r"^site must be one of hidden, mlp, attention; got 'ffn'\.$"),
        (
            {"pooling": "cls"},
            "pooling",
            r"^pooling must be one of auto, first, mean, last, mean_skip_first, max; got 'cls'\.$",
        ),
        ({"reducer": "tsne"}, "reducer", r"^reducer must be one of pca, svd, umap; got 'tsne'\.$"),
        ({"n_components": 1}, "n_components", r"^n_components must be an integer >= 2; got 1\.$"),
        ({"n_components": 2.0}, "n_components", r"^n_components must be an integer >= 2; got 2\.0\.$"),
        ({"gridsize": 0}, "gridsize", r"^gridsize must be an integer >= 1; got 0\.$"),
        ({"gridsize": True}, "gridsize", r"^gridsize must be an integer >= 1; got True\.$"),
        ({"threshold": 1.5}, "threshold", r"^threshold must be a number in \[-1, 1\]; got 1\.5\.$"),
        ({"binning": "log"}, "binning", r"^binning must be one of width, quantile; got 'log'\.$"),
        ({"batch_size": 0}, "batch_size", r"^batch_size must be an integer >= 1; got 0\.$"),
        ({"max_length": -3}, "max_length", r"^max_length must be an integer >= 1 or None; got -3\.$"),
        ({"dtype": "float8"}, "dtype", r"^dtype must be one of float32, bfloat16, float16, auto; got 'float8'\.$"),
        (
            {"dtype": "float16", "device": "cpu"},
            "dtype",
            r"^dtype float16 needs device cuda or mps; on cpu use bfloat16",
        ),
        ({"device": "tpu"}, "device", r"^device must be one of auto, cpu, cuda, mps \(or cuda:N\); got 'tpu'\.$"),
        ({"device": "cuda:x"}, "device", r"got 'cuda:x'"),
        ({"random_state": -1}, "random_state", r"^random_state must be an integer >= 0 or None; got -1\.$"),
    ],
)
def test_check_scan_names_the_argument_and_its_allowed_values(kwargs, argument, message):
    with pytest.raises(ScanArgumentError, match=message) as info:
        check_scan(**kwargs)
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)


def test_check_scan_accepts_good_arguments():
    check_scan(
        site="mlp",
        pooling="last",
        reducer="UMAP",
        n_components=3,
        gridsize=200,
        threshold=-1.0,
        binning="quantile",
        device="cuda:1",
        dtype="bfloat16",
        batch_size=4096,
        max_length=131072,
        random_state=None,
    )


@pytest.mark.parametrize(
    ("argument", "value", "estimate"),
    [
        ("gridsize", 10000, r"each layer's heatmap holds 10000x10000 cells, 762\.9 MiB per label and layer"),
        ("n_components", 513, r"each layer pair holds 513x513 correlations, 2\.0 MiB per label"),
        ("batch_size", 4097, r"one batch of 512-token texts at width 4096 holds 32\.0 GiB per layer"),
        ("max_length", 131073, r"attention over 131073 tokens needs 64\.0 GiB per head and text"),
    ],
)
def test_check_scan_upper_bounds_give_an_estimate_and_can_be_lifted(argument, value, estimate):
    limit = LIMITS[argument]
    with pytest.raises(
        ScanArgumentError,
        match=rf"^{argument} {value} is above the limit {limit}: {estimate}\. "
        rf"Use {argument} <= {limit}, or pass allow_large=True "
        r"\(--allow-large\) if you mean it\.$",
    ):
        check_scan(**{argument: value})
    check_scan(**{argument: value}, allow_large=True)
    check_scan(**{argument: limit})


def test_check_corpus_size_needs_a_text_per_component_and_three_per_label():
    with pytest.raises(ScanArgumentError, match=r"n_components 5 must be <= the number of texts \(4\).*fewer"):
        check_corpus_size({"a": 2, "b": 2}, n_components=5)
    with pytest.raises(ScanArgumentError, match=r"needs at least 3 texts of every label .*got \{'b': 2\}"):
        check_corpus_size({"a": 3, "b": 2}, n_components=3)
    check_corpus_size({"a": 3, "b": 3}, n_components=3)
    check_corpus_size({"a": 1, "b": 1}, n_components=2)


def test_run_settings_records_every_reducer_parameter():
    s = run_settings({"site": "hidden", "pooling": "first"}, UMAP(2, metric="cosine", random_state=0), gridsize=4)
    assert s["reducer"] == "UMAP" and s["site"] == "hidden"
    assert s["reducer_params"] == {
        "metric": "cosine",
        "min_dist": 0.1,
        "n_components": 2,
        "n_neighbors": 15,
        "random_state": 0,
        "scale": "minmax",
    }
    assert (s["gridsize"], s["binning"], s["threshold"], s["abs_threshold"]) == (4, "width", None, None)
    s3 = run_settings({}, SVD(3), threshold=0.5)
    assert (s3["n_components"], s3["gridsize"], s3["threshold"], s3["abs_threshold"]) == (3, None, 0.5, False)


def _activations(seed: int = 0) -> Activations:
    rng = np.random.default_rng(seed)
    layers = [rng.normal(size=(12, 6)) for _ in range(3)]
    return Activations(
        layers,
        np.array([0, 1] * 6),
        ("a", "b"),
        model={"fingerprint": "m"},
        corpus={"fingerprint": "c"},
        settings={"site": "hidden", "pooling": "first"},
    )


def test_umap_metrics_give_two_run_ids_and_both_runs_stay_stored(tmp_path):
    acts = _activations()
    reduced = [np.column_stack([x[:, 0], x[:, 1]]) for x in acts.layers]  # the same plane for both
    cosine = build_nrag(acts, UMAP(2, metric="cosine", random_state=0), reduced=reduced, gridsize=3)
    euclid = build_nrag(acts, UMAP(2, metric="euclidean", random_state=0), reduced=reduced, gridsize=3)
    assert cosine.equals(euclid)  # the same graph ...
    assert cosine.run_id != euclid.run_id  # ... of two different scans
    store = MemoryStore(tmp_path)
    assert {store.write(cosine), store.write(euclid)} == {cosine.run_id, euclid.run_id}
    reopened = MemoryStore(tmp_path)
    assert {r["run_id"] for r in reopened.runs()} == {cosine.run_id, euclid.run_id}
    assert reopened.read(euclid.run_id).settings["reducer_params"]["metric"] == "euclidean"


def test_build_nrag_with_or_without_reduced_layers_gives_one_run_id():
    acts = _activations()
    reducer = PCA(2, random_state=3)
    from llm_mri_graphdb.reduce.layers import reduce_layers

    fitted = build_nrag(acts, reducer, gridsize=3)
    given = build_nrag(acts, reducer, reduced=reduce_layers(acts, reducer), gridsize=3)
    assert fitted.equals(given) and fitted.run_id == given.run_id
    assert build_nrag(acts, PCA(2, random_state=4), gridsize=3).run_id != fitted.run_id


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identity")
    corpus = folder / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(corpus, index=False)
    return save_tiny_model("bert", folder / "bert"), corpus


def test_build_nrag_pipeline_and_facade_give_one_run_id_for_one_scan(tiny, tmp_path):
    from llm_mri_graphdb.extract import extract_activations
    from llm_mri_graphdb.facade import ActivationAreas
    from llm_mri_graphdb.pipeline import scan

    model, corpus = tiny
    acts = extract_activations(model, corpus, device="cpu", progress=False)
    direct = build_nrag(acts, PCA(2, random_state=42), gridsize=10)
    store = MemoryStore(tmp_path / "store")
    result = scan(str(model), corpus, device="cpu", store=store, out=tmp_path / "out", probe=False, progress=False)
    areas = ActivationAreas(
        str(model), corpus, PCA(2, random_state=42), device="cpu", pooling="auto", progress=False
    )  # the facade defaults to first, for llm_mri parity
    facade_id = areas.process_activation_areas().save(store)
    assert direct.run_id == result.run_id == facade_id
    assert dict(direct.settings) == dict(result.nrag.settings) == dict(areas.nrag.settings)
    assert [r["run_id"] for r in store.runs()] == [direct.run_id]  # one scan, one stored run


def test_importing_pipeline_and_cli_loads_no_heavy_module():
    code = (
        "import sys, llm_mri_graphdb.pipeline, llm_mri_graphdb.cli, llm_mri_graphdb.scan_settings; "
        "print(sorted(m for m in ('torch', 'transformers', 'neo4j', 'matplotlib', 'sklearn', 'datasets') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture()
def no_model_loading(monkeypatch):
    import llm_mri_graphdb.extract.run as extract_module

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the arguments were checked")

    monkeypatch.setattr(extract_module, "load_model", refuse)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"site": "ffn"}, "site"),
        ({"pooling": "cls"}, "pooling"),
        ({"reducer": "tsne"}, "reducer"),
        ({"n_components": 1}, "n_components"),
        ({"gridsize": 0}, "gridsize"),
        ({"gridsize": 10000}, "gridsize"),
        ({"batch_size": 0}, "batch_size"),
        ({"dtype": "float8"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"encoding": "nope"}, "encoding"),
        ({"n_components": 9}, "n_components"),
        ({"out": "FILE"}, "out"),
    ],
)
def test_pipeline_scan_checks_arguments_before_loading_and_stores_nothing(
    tiny, tmp_path, no_model_loading, kwargs, argument
):
    from llm_mri_graphdb.pipeline import scan

    model, corpus = tiny
    if kwargs.get("out") == "FILE":
        (tmp_path / "file").write_text("x")
        kwargs = {"out": tmp_path / "file" / "reports"}
    store = MemoryStore(tmp_path / "store")
    with pytest.raises(ScanArgumentError) as info:
        scan(str(model), corpus, store=store, **{"out": tmp_path / "out", **kwargs})
    assert info.value.argument == argument
    assert store.runs() == [] and not (tmp_path / "out").exists()


def test_activation_areas_checks_arguments_at_construction(tiny, no_model_loading):
    from llm_mri_graphdb.dimensionality_reduction import PCA as LlmMriPCA
    from llm_mri_graphdb.facade import ActivationAreas

    model, corpus = tiny
    with pytest.raises(ScanArgumentError, match=r"^gridsize must be an integer >= 1; got 0\.$"):
        ActivationAreas(str(model), corpus, LlmMriPCA(2, gridsize=0))
    with pytest.raises(ScanArgumentError, match=r"^site must be one of hidden, mlp, attention; got 'ffn'\.$"):
        ActivationAreas(str(model), corpus, LlmMriPCA(2), site="ffn")
    with pytest.raises(ScanArgumentError, match=r"n_components 3 needs at least 3 texts of every label"):
        ActivationAreas(str(model), pd.DataFrame({"text": TEXTS[:4], "label": LABELS[:4]}), LlmMriPCA(3))
    with pytest.raises(ScanArgumentError, match=r"gridsize 500 is above the limit 200"):
        ActivationAreas(str(model), corpus, LlmMriPCA(2, gridsize=500))
    assert ActivationAreas(str(model), corpus, LlmMriPCA(2, gridsize=500), allow_large=True).gridsize == 500
