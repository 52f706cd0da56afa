"""Figures: cells, nodes, legend entries and pixels of every plot, saved as PNG."""

import matplotlib.image as mpimg
import networkx as nx
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection, QuadMesh
from matplotlib.legend import Legend
from numpy.testing import assert_allclose, assert_array_equal

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.testing import nrag_from_paths
from llm_mri_graphdb.viz import (
    figure_to_png_bytes,
    plot_graph,
    plot_heatmap,
    plot_metric_deltas,
    plot_probe,
    plot_scan,
)

pytestmark = pytest.mark.unit

NAMES = ("animals", "sports", "cooking", "space")


def _tiny():
    """2 layers, gridsize 3, 2 labels; edge 0->2 is shared by both labels."""
    return NRAG(
        "grid",
        2,
        ("cats", "dogs"),
        region_layer=[0, 0, 1, 1],
        region_x=[0, 2, 1, 2],
        region_y=[0, 1, 2, 0],
        region_counts=[[2, 1], [0, 3], [2, 1], [0, 3]],
        edge_source=[0, 0, 1],
        edge_target=[2, 2, 3],
        edge_label=[0, 1, 1],
        edge_weight=[2, 1, 3],
        layer_bounds=[[0, 3, 0, 3], [-1, 1, 10, 13]],
        settings={"gridsize": 3},
    )


def _grid_nrag(reduced, labels, names, gridsize):
    """Cut each layer's 2-D points into ``gridsize`` cells over the layer's bounds."""
    cells, bounds = [], []
    for pts in reduced:
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        cells.append(np.clip(((pts - lo) / (hi - lo) * gridsize).astype(int), 0, gridsize - 1))
        bounds.append([lo[0], hi[0], lo[1], hi[1]])
    return nrag_from_paths(np.stack(cells, axis=1), labels, names, layer_bounds=bounds, settings={"gridsize": gridsize})


@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    centres = rng.normal(size=(4, 2)) * 3
    reduced = [centres[labels] * layer / 4 + rng.normal(size=(120, 2)) for layer in range(5)]
    return _grid_nrag(reduced, labels, NAMES, 8)


def _components():
    return NRAG(
        "components",
        3,
        ("a",),
        region_layer=[0, 0, 1, 1, 2],
        region_x=[0, 1, 0, 1, 0],
        region_y=[-1] * 5,
        region_counts=np.zeros((5, 1)),
        edge_source=[0, 1, 2],
        edge_target=[2, 3, 4],
        edge_label=[0, 0, 0],
        edge_weight=[0.9, 0.5, 0.7],
        settings={"n_components": 2},
    )


def _save_nonblank(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert np.var(mpimg.imread(path)) > 0
    return path


def test_plot_heatmap_whole_grid_hand_counts(tmp_path):
    ax = plot_heatmap(_tiny(), 0, "dogs")
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    grid = np.asarray(mesh.get_array()).reshape(3, 3)
    expected = np.zeros((3, 3))
    expected[0, 0], expected[1, 2] = 1, 3  # [y, x]
    assert_array_equal(grid, expected)
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3"]
    assert ax.get_title() == "Layer 0: dogs"
    _save_nonblank(ax.figure, tmp_path, "heatmap")


def test_plot_heatmap_none_sums_labels_on_fixed_axes():
    ax = plot_heatmap(_tiny(), 1, None)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    grid = np.asarray(mesh.get_array()).reshape(3, 3)
    assert grid[2, 1] == 3 and grid[0, 2] == 3 and grid.sum() == 6
    assert ax.get_title() == "Layer 1: all labels"
    assert_allclose(ax.get_xlim(), (-1, 1))
    assert_allclose(ax.get_ylim(), (10, 13))


def test_plot_heatmap_labels_share_axes(scan):
    a, b = plot_heatmap(scan, 2, "sports"), plot_heatmap(scan, 2, "space")
    assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim()
    for ax in (a, b):
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        assert mesh.get_array().size == 8**2


def test_plot_heatmap_log_scale_keeps_counts():
    ax = plot_heatmap(_tiny(), 0, "dogs", scale="log", colorbar=True)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().sum() == 4
    assert mesh.norm(1.0) > 0.3  # a single text stays visible next to the maximum
    with pytest.raises(ValueError, match="scale must be 'linear' or 'log'; got 'sqrt'"):
        plot_heatmap(_tiny(), 0, scale="sqrt")


def test_plot_heatmap_errors():
    with pytest.raises(ValueError, match="a grid needs a 2-component scan; this scan has 2 components"):
        plot_heatmap(_components(), 0)
    with pytest.raises(ValueError, match=r"layer must be one of 0\.\.1; got 5"):
        plot_heatmap(_tiny(), 5)
    with pytest.raises(ValueError, match=r"labels must be names in \['cats', 'dogs'\] or indices below 2; got 'cows'"):
        plot_heatmap(_tiny(), 0, "cows")


def test_plot_graph_draws_every_label_of_a_shared_edge(tmp_path):
    ax = plot_graph(_tiny())
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes.get_offsets()) == 4
    segs = [s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()]
    assert len(segs) == 3  # one per edge row: 0->2 twice (cats, dogs), 1->3 once
    shared = sorted(s[0, 0] for s in segs if s[0, 1] == 0 and s[1, 1] == -1 and abs(s[0, 0] - 0) < 0.5)
    assert len(shared) == 2 and shared[0] < shared[1]  # side by side, not on top of each other
    assert [t.get_text() for t in ax.get_legend().texts] == ["cats", "dogs"]
    _save_nonblank(ax.figure, tmp_path, "graph_tiny")


def test_plot_graph_fixed_positions_are_cells():
    ax = plot_graph(_tiny())
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    # x * gridsize + y, and -layer
    assert_allclose(nodes.get_offsets(), [[0, 0], [7, 0], [5, -1], [6, -1]])


def test_plot_graph_four_labels(scan, tmp_path):
    ax = plot_graph(scan)
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes.get_offsets()) == scan.n_regions
    assert len(ax.get_legend().texts) == 4
    n_segs = sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection))
    assert n_segs == scan.edge_source.size
    _save_nonblank(ax.figure, tmp_path, "graph_four")


def test_plot_graph_label_subset_and_free_layout_deterministic(scan, tmp_path):
    a = plot_graph(scan, labels=["sports", "space"], fix_node_positions=False)
    b = plot_graph(scan, labels=["sports", "space"], fix_node_positions=False)
    offs = [[c for c in ax.collections if isinstance(c, PathCollection)][0].get_offsets() for ax in (a, b)]
    assert_array_equal(offs[0], offs[1])
    keep = np.isin(scan.edge_label, [1, 3])
    assert len(offs[0]) == np.unique(np.concatenate([scan.edge_source[keep], scan.edge_target[keep]])).size
    assert [t.get_text() for t in a.get_legend().texts] == ["sports", "space"]
    _save_nonblank(a.figure, tmp_path, "graph_free")


def test_plot_graph_networkx_input_with_weights():
    G = nx.DiGraph(label_names=["cats", "dogs"], layers=2)
    G.add_edge("0_0_0", "1_1_2", weights={"cats": 2, "dogs": 1}, weight=3)
    G.add_edge("0_2_1", "1_2_0", weights={"dogs": 3}, weight=3)
    ax = plot_graph(G)
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert_allclose(nodes.get_offsets(), [[0, 0], [7, 0], [5, -1], [6, -1]])
    assert sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)) == 3
    assert len(ax.get_legend().texts) == 2


def test_plot_graph_components_and_empty():
    ax = plot_graph(_components())
    (nodes,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert_allclose(nodes.get_offsets(), [[0, 0], [1, 0], [0, -1], [1, -1], [0, -2]])
    with pytest.raises(ValueError, match="no edges to draw"):
        plot_graph(nx.DiGraph())


def test_plot_scan_one_panel_per_layer_same_scale(scan, tmp_path):
    fig = plot_scan(scan, label="cooking")
    assert len(fig.axes) == scan.n_layers + 1  # panels, then the colour bar
    meshes = [c for ax in fig.axes[:-1] for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == scan.n_layers
    assert all(m.get_array().size == 64 for m in meshes)
    assert len({m.get_clim() for m in meshes}) == 1
    _save_nonblank(fig, tmp_path, "scan")


def test_plot_probe_and_metric_deltas(tmp_path):
    curve = {
        "layer": [0, 1, 2],
        "metric": "accuracy",
        "chance": 0.25,
        "full_mean": [0.3, 0.8, 1.0],
        "full_std": [0.05, 0.02, 0.0],
        "reduced_mean": [0.25, 0.6, 0.9],
        "reduced_std": [0.04, 0.05, 0.03],
    }
    ev = {"delta": {"accuracy": {"per_split": [0.1, 0.0], "mean": 0.05}}}
    ax = plot_probe(curve, evaluation=ev)
    assert len(ax.get_lines()) == 3  # full, reduced, chance
    assert_allclose(ax.get_lines()[1].get_ydata(), [0.25, 0.6, 0.9])
    assert [t.get_text() for t in ax.get_legend().texts] == ["accuracy: +0.050"]
    _save_nonblank(ax.figure, tmp_path, "probe")
    bars = plot_metric_deltas(ev)
    assert len(bars.patches) == 1 and bars.patches[0].get_height() == pytest.approx(0.05)


def test_figure_to_png_bytes_is_png():
    data = figure_to_png_bytes(plot_heatmap(_tiny(), 0))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure_to_png_bytes(plot_heatmap(_tiny(), 0).figure) == data  # deterministic


def test_plot_graph_same_picture_from_nrag_and_its_networkx():
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 20)
    reduced = [rng.normal(size=(40, 2)) + labels[:, None] * layer for layer in range(3)]
    nrag = build_nrag_from_reduced(reduced, labels, ["cats", "dogs"], gridsize=6)
    a, b = plot_graph(nrag), plot_graph(nrag.to_networkx())
    pa, pb = ([c for c in ax.collections if isinstance(c, PathCollection)][0].get_offsets() for ax in (a, b))
    assert_allclose(pa, pb)
    segs = [sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)) for ax in (a, b)]
    assert segs == [nrag.edge_source.size] * 2


def test_plot_graph_rejects_unparseable_node_ids():
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=1)
    with pytest.raises(ValueError, match=r"node ids must be .*; got 'a'"):
        plot_graph(G)


def test_plot_probe_draws_bands_and_every_control(tmp_path):
    side = {
        "mean": [0.9, 0.95],
        "low": [0.85, 0.9],
        "high": [0.95, 1.0],
        "control_mean": [0.5, 0.52],
        "control_low": [0.45, 0.46],
        "control_high": [0.55, 0.58],
    }
    curve = {
        "layer": [0, 1],
        "metric": "accuracy",
        "full": side,
        "reduced": {**side, "mean": [0.7, 0.8]},
        "random_weights": {**side, "mean": [0.4, 0.45]},
        "majority": {"mean": 0.5, "low": 0.5, "high": 0.5},
        "layer0": 0.9,
        "bag_of_words": {"mean": 0.6, "low": 0.55, "high": 0.65},
        "method": {"n_components": 2},
    }
    ax = plot_probe(curve)
    labels = [t.get_text() for t in ax.get_legend().texts]
    assert labels == [
        "full activations",
        "full: shuffled-label control",
        "reduced (2-D, fitted per fold)",
        "reduced: shuffled-label control",
        "random weights (full)",
        "majority class",
        "layer 0 (embeddings), full",
        "bag of words",
    ]
    assert_allclose(ax.get_lines()[2].get_ydata(), [0.7, 0.8])
    assert len(ax.collections) == 5 and len(ax.patches) == 1  # bands: full, control, reduced, control, random; BoW
    _save_nonblank(ax.figure, tmp_path, "probe_controls")


def test_plot_probe_keeps_both_legends_inside_the_figure_and_bands_in_unit_range():
    curve = {
        "layer": [0, 1],
        "metric": "accuracy",
        "majority": {"mean": 0.5, "low": 0.5, "high": 0.5},
        "layer0": 0.9,
        "method": {"n_components": 2},
    }
    side = {"mean": [0.9, 0.99], "low": [0.85, 0.97], "high": [0.95, 1.01]}
    control = {"control_mean": [0.5, 0.5], "control_low": [0.4, 0.4], "control_high": [0.6, 0.6]}
    curve["full"] = curve["reduced"] = {**side, **control}
    ev = {"delta": {"accuracy": {"per_split": [0.1, 0.0], "mean": 0.05}}}
    ax = plot_probe(curve, evaluation=ev)
    fig = ax.figure
    figure_to_png_bytes(fig)  # lays the figure out as the report does
    canvas = fig._get_renderer()
    legends = [a for a in ax.get_children() if isinstance(a, Legend)]
    assert len(legends) == 2
    for legend in legends:  # add_artist used to clip the first one out of the layout: its labels were cut off
        box = legend.get_window_extent(canvas)
        assert box.x1 <= fig.bbox.x1 + 0.5 and box.x0 >= fig.bbox.x0
    assert max(p.vertices[:, 1].max() for c in ax.collections for p in c.get_paths()) <= 1.0
