"""The ``llm_mri`` 0.2.1 flows (README and examples/FakeNews.py) on our import, with the real MiniLM."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_allclose

from llm_mri_graphdb import ActivationAreas, Evaluation, Metrics, demo
from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.dimensionality_reduction import PCA
from llm_mri_graphdb.store import MemoryStore

from ..test_metrics import LlmMriMetrics
from ..tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.integration

MODEL = str(demo.model_path())


@pytest.fixture(scope="module")
def corpus():
    """120 demo texts of two labels, as a Dataset with a ClassLabel (what llm_mri reads)."""
    frame = pd.read_csv(demo.corpus_path())
    frame = frame[frame.label.isin(["animals", "space"])].groupby("label").head(60)
    return load_corpus(frame.reset_index(drop=True))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("activations")


@pytest.fixture(scope="module")
def areas_2d(corpus, cache):
    areas = ActivationAreas(
        model=MODEL, device="cpu", dataset=corpus, reduction_method=PCA(n_components=2), cache=cache, progress=False
    )
    areas.process_activation_areas()
    return areas


def test_readme_flow_grid_graph_image_metrics(areas_2d):
    ax = areas_2d.get_grid(3, "animals")
    assert ax.collections[0].get_array().size == 10 * 10  # the whole grid, never cropped
    g_animals = areas_2d.get_graph("animals")
    g_both = areas_2d.get_graph(["animals", "space"])
    assert g_both.graph["label_names"] == ["animals", "space"] and g_both.graph["layers"] == 7
    assert all(d["label"] == 0 for _, _, d in g_animals.edges(data=True))
    # every text of a label flows through each layer pair once
    per_level = {}
    for _, _, d in g_animals.edges(data=True):
        per_level[d["level"]] = per_level.get(d["level"], 0) + d["weight"]
    assert per_level == {level: 60 for level in range(6)}
    shared = [d for _, _, d in g_both.edges(data=True) if len(d["weights"]) == 2]
    assert shared, "some edge is used by both labels"
    assert all(d["weight"] == sum(d["weights"].values()) for d in shared)
    assert isinstance(areas_2d.get_graph_image(g_both), Figure)
    basic = Metrics(g_animals, label="animals", model_name="minilm").get_basic_metrics()
    expected = LlmMriMetrics(g_animals.copy()).basic()  # llm_mri's own formulas, networkx and pandas
    assert basic["mean_degree"] > 0 and basic["var_degree"] > 0
    for key in ("mean_degree", "var_degree", "skew_strength", "density", "assortativity", "center_of_mass"):
        assert basic[key] == pytest.approx(expected[key], rel=1e-12, nan_ok=True)
    assert basic["label"] == "animals" and basic["model_name"] == "minilm"


def test_metrics_accepts_readme_argument_order(areas_2d):
    g = areas_2d.get_graph("space")
    swapped = Metrics(g, "minilm", "space").get_basic_metrics()
    assert swapped["label"] == "space" and swapped["model_name"] == "minilm"


def test_evaluation_reports_mean_delta_per_metric(areas_2d):
    result = Evaluation(areas_2d).evaluate_model(n_splits=3)
    assert set(result["delta"]) == {
        "f1_macro",
        "f1_weighted",
        "recall_macro",
        "recall_weighted",
        "accuracy",
        "balanced_accuracy",
    }
    acc = result["delta"]["accuracy"]
    assert len(acc["per_split"]) == 3 and acc["mean"] == pytest.approx(np.mean(acc["per_split"]))
    assert isinstance(Evaluation(areas_2d).display_metrics(result), Figure)


def test_evaluation_probe_layers_with_controls_on_the_real_minilm(areas_2d):
    evaluation = Evaluation(areas_2d)
    result = evaluation.probe_layers(n_repeats=1, random_weights=True, bag_of_words=True)
    assert result["layer"] == list(range(7)) and result["majority"]["mean"] == pytest.approx(0.5)
    full = result["full"]
    assert all(low <= mean <= high for low, mean, high in zip(full["low"], full["mean"], full["high"]))
    # The facade pools [CLS] (llm_mri's default): at layer 0 it is the same embedding for every text, so the
    # probe is at chance there; every later MiniLM layer reads animals vs space, far above the shuffled control.
    assert full["mean"][0] == pytest.approx(0.5)
    assert min(full["mean"][1:]) > 0.8
    assert min(full["selectivity_low"][1:]) > 0.2
    assert result["layer0"] == full["mean"][0]
    assert len(result["random_weights"]["mean"]) == 7 and 0.0 <= result["bag_of_words"]["mean"] <= 1.0
    table = evaluation.selectivity(result, side="reduced")
    assert (
        list(table["layer"]) == list(range(7))
        and table["selectivity_mean"].tolist() == result["reduced"]["selectivity_mean"]
    )
    assert isinstance(evaluation.display_probe(result), Figure)
    codes = evaluation.mdl()
    # the constant [CLS] of layer 0 carries nothing: its online code is no shorter than the uniform code
    assert len(codes) == 7 and codes[0]["codelength"] > 0.95 * codes[0]["uniform"]
    assert all(c["codelength"] < 0.5 * c["uniform"] for c in codes[1:])


def test_save_writes_the_scan_to_a_store(areas_2d):
    store = MemoryStore()
    run_id = areas_2d.save(store)
    assert store.read(run_id).equals(areas_2d.nrag)


def test_fakenews_example_flow_with_40_components(corpus, cache):
    llm_mri = ActivationAreas(
        model=MODEL, device="cpu", dataset=corpus, reduction_method=PCA(n_components=40), cache=cache, progress=False
    )
    llm_mri.process_activation_areas()  # activations come from the cache written above
    g_true = llm_mri.get_graph("animals")
    assert isinstance(llm_mri.get_graph_image(g_true, fix_node_dimensions=False), Figure)
    g_full = llm_mri.get_graph(["animals", "space"])
    assert isinstance(llm_mri.get_graph_image(g_full, fix_node_dimensions=True), Figure)
    assert set(g_full.nodes) <= {f"{layer}_{c}" for layer in range(7) for c in range(40)}
    assert all(d["weight"] > 0.3 * len(d["weights"]) - 1e-12 for _, _, d in g_full.edges(data=True))
    basic = Metrics(g_true, model_name=MODEL, label="animals").get_basic_metrics()
    expected = LlmMriMetrics(g_true.copy()).basic()  # llm_mri's own formulas, networkx and pandas
    for key in ("mean_degree", "var_degree", "mean_strength", "density", "assortativity", "center_of_mass"):
        assert basic[key] == pytest.approx(expected[key], rel=1e-12, nan_ok=True)
    assert basic["mean_degree"] > 0 and (basic["label"], basic["model_name"]) == ("animals", MODEL)
    results = Evaluation(activation_areas=llm_mri, n_components=20).evaluate_model(n_splits=2)
    assert len(results["delta"]["accuracy"]["per_split"]) == 2
    with pytest.raises(ValueError, match="a grid needs a scan with 2 components; this scan has 40"):
        llm_mri.get_grid(1, "animals")


def test_get_graph_threshold_rebuilds_edges_without_refitting(corpus, cache):
    areas = ActivationAreas(MODEL, corpus, PCA(n_components=5), cache=cache, progress=False)
    areas.process_activation_areas()
    loose, strict = areas.get_graph(threshold=0.1), areas.get_graph(threshold=0.6)
    assert strict.number_of_edges() < loose.number_of_edges()
    assert all(w > 0.6 for _, _, d in strict.edges(data=True) for w in d["weights"].values())


def test_unknown_category_is_a_clear_error(areas_2d):
    names = r"labels must be names in \['animals', 'space'\] or indices below 2; got 'cooking'"
    with pytest.raises(ValueError, match=names):
        areas_2d.get_graph(["cooking"])
    with pytest.raises(ValueError, match=names):
        areas_2d.get_grid(3, "cooking")
    with pytest.raises(ValueError, match=r"layer must be one of 0\.\.6; got 99"):
        areas_2d.get_grid(99, "animals")


def test_first_token_pooling_on_a_decoder_warns_and_names_last(tmp_path):
    folder = save_tiny_model("gpt2", tmp_path / "gpt2")
    corpus = load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}))
    areas = ActivationAreas(str(folder), corpus, PCA(n_components=2), progress=False)
    with pytest.warns(UserWarning, match="pooling='last'"):
        areas.process_activation_areas()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ActivationAreas(
            str(folder), corpus, PCA(n_components=2), pooling="last", progress=False
        ).process_activation_areas()


def test_region_texts_and_text_path_rebuilt_from_the_reduced_coordinates(areas_2d):
    import pandas as pd

    # the cell of every text at layer 4, computed again from the reduced coordinates with pandas.cut
    coords = areas_2d.reduced[4]
    cells = list(zip(pd.cut(coords[:, 0], 10, labels=False), pd.cut(coords[:, 1], 10, labels=False)))
    x, y = cells[0]
    got = areas_2d.region_texts(4, (int(x), int(y)))
    want = [i for i, c in enumerate(cells) if c == (x, y)]
    assert got["index"].tolist() == want
    assert got["text"].tolist() == [areas_2d.dataset["text"][i] for i in want]
    names = areas_2d.dataset.features["label"].names
    assert got["label"].tolist() == [names[areas_2d.dataset["label"][i]] for i in want]
    path = areas_2d.text_path(0)
    assert path["region"].tolist()[4] == f"4_{x}_{y}" and path["layer"].tolist() == list(range(7))


def test_show_gives_an_nvl_view_with_example_texts(areas_2d):
    view = areas_2d.show()
    assert len(view.nodes) == areas_2d.nrag.n_regions
    region0 = next(n for n in view.nodes if n.id == areas_2d.text_path(0)["region"][6])
    examples = [v for k, v in sorted(region0.properties.items()) if k.startswith("example ")]
    # examples are a region's first texts in corpus order, so text 0 leads those of its own region
    assert examples[0] == " ".join(areas_2d.dataset["text"][0].split())[:160]


def test_compare_minilm_with_itself_and_with_its_mlp_site(areas_2d, corpus, cache):
    from llm_mri_graphdb import compare

    same = compare(areas_2d, areas_2d)
    assert_allclose(np.diag(same.cka)[1:], 1.0, atol=1e-9)  # layer 0 ([CLS] before any layer) is constant
    assert_allclose(np.diag(same.ami), 1.0, atol=1e-9)
    mlp = ActivationAreas(
        model=MODEL,
        device="cpu",
        dataset=corpus,
        reduction_method=PCA(n_components=2),
        cache=cache,
        progress=False,
        site="mlp",
    )
    mlp.process_activation_areas()
    result = compare(areas_2d, mlp)
    assert result.cka.shape == (7, 6) and result.ami.shape == (7, 6)
    assert np.nanmax(result.cka) <= 1.0 + 1e-12 and np.nanmin(result.cka) >= -1e-12
