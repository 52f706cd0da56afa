"""The comparison report and the `compare` command on the embedded store."""

from __future__ import annotations

import base64
import re

import numpy as np

from llm_mri_graphdb.analysis.alignment import LayerAlignment
from llm_mri_graphdb.cli import main
from llm_mri_graphdb.report.compare import build_comparison_report, write_comparison_report
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.alignment import read_alignment
from tests.alignment_runs import TEXTS, cached_scan


def test_comparison_report_embeds_both_heatmaps_and_best_match_tables(tmp_path):
    cka = np.array([[0.9, 0.2, 0.1], [0.3, 0.4, 0.8]])
    ami = np.array([[0.5, 0.6, 0.1], [0.1, 0.2, 0.3]])
    alignment = LayerAlignment(cka, ami, ("MiniLM", "SmolLM2"), ("ra", "rb"))
    page = build_comparison_report(alignment)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "http://" not in page and "https://" not in page  # opens offline
    assert "<h1>MiniLM vs SmolLM2: which layers agree</h1>" in page
    # best matches: CKA 0->0 (0.9), 1->2 (0.8); AMI 0->1 (0.6), 1->2 (0.3); depth = layer / (layers - 1)
    assert "<tr><td>0</td><td>0</td><td>0.9000</td><td>0.0000</td><td>0.0000</td></tr>" in page
    assert "<tr><td>1</td><td>2</td><td>0.8000</td><td>1.0000</td><td>1.0000</td></tr>" in page
    assert "<tr><td>0</td><td>1</td><td>0.6000</td><td>0.0000</td><td>0.5000</td></tr>" in page
    path = write_comparison_report(alignment, tmp_path)
    assert path == tmp_path / "compare_ra_rb" / "comparison.html" and path.read_text() == page


def test_comparison_report_without_cka_has_its_note_and_one_heatmap():
    note = "run rb records no activation cache; CKA is skipped and only AMI is stored."
    page = build_comparison_report(LayerAlignment(None, np.eye(2), ("a", "b"), ("ra", "rb"), (note,)))
    assert page.count("data:image/png") == 1 and note in page and "Linear CKA" not in page


def test_cli_compare_stores_the_alignment_and_writes_the_report(tmp_path, capsys):
    a, _ = cached_scan(tmp_path / "cache", "cli", "mini", 1, 3, 6)
    b, _ = cached_scan(tmp_path / "cache", "cli", "smol", 2, 2, 4, cache=False)
    store = LocalStore(tmp_path / "runs")
    store.write(a, texts=TEXTS)
    store.write(b, texts=TEXTS)
    code = main(
        [
            "compare",
            a.run_id,
            b.run_id,
            "--out",
            str(tmp_path / "reports"),
            "--store",
            "local",
            "--store-path",
            str(tmp_path / "runs"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"Note: run {b.run_id} records no activation cache" in captured.err
    assert "Best AMI match of each layer of mini-cli in smol-cli: 0->" in captured.out
    assert "Best CKA" not in captured.out
    report = tmp_path / "reports" / f"compare_{a.run_id}_{b.run_id}" / "comparison.html"
    assert f"Report: {report}" in captured.out and report.is_file()
    assert read_alignment(LocalStore(tmp_path / "runs"), a.run_id, b.run_id).ami.shape == (3, 2)


def test_cli_compare_unknown_run_fails_in_one_line(tmp_path, capsys):
    code = main(["compare", "nope-a", "nope-b", "--store", "local", "--store-path", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "nope-a" in err


def test_cli_compare_runs_of_different_corpora_fail_in_one_line(tmp_path, capsys):
    a, _ = cached_scan(tmp_path, "dc", "mini", 1, 3, 6)
    b, _ = cached_scan(tmp_path, "dc", "smol", 2, 2, 4, corpus="other")
    store = LocalStore(tmp_path / "runs")
    store.write(a, texts=TEXTS)
    store.write(b, texts=TEXTS)
    code = main(
        [
            "compare",
            a.run_id,
            b.run_id,
            "--store",
            "local",
            "--store-path",
            str(tmp_path / "runs"),
            "--out",
            str(tmp_path / "reports"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "must scan the same corpus" in err
    assert not (tmp_path / "reports").exists() and not (tmp_path / "runs" / "alignments.json").exists()


def test_comparison_report_leads_with_debiased_cka_and_marks_pairs_not_above_their_null():
    cka = np.array([[0.9, 0.6, 0.6], [0.6, 0.7, 0.8]])
    debiased = np.array([[0.5, 0.02, 0.01], [0.03, 0.2, 0.6]])
    p = np.array([[1 / 101, 0.4, 0.6], [0.3, 0.03, 1 / 101]])
    alignment = LayerAlignment(
        cka,
        None,
        ("MiniLM", "SmolLM2"),
        ("ra", "rb"),
        ("SmolLM2 layer 1: one coordinate",),
        cka_debiased=debiased,
        cka_null_p=p,
        stability=np.array([0.97, 0.55]),
        null={"n_permutations": 100, "n_rows": 300, "n_bootstrap": 100, "random_state": 0},
        context=(
            {"ami_labels": [0.2, 0.4], "variance_kept": [0.3, 0.25], "n_components": 2},
            {"ami_labels": [0.1, 0.1, 0.3], "variance_kept": None},
        ),
    )
    page = build_comparison_report(alignment)
    assert page.index("Debiased linear CKA") < page.index("Linear CKA of the activations (plain")
    assert "<td>pairs above their null (debiased CKA)</td><td>3 of 6</td>" in page
    # layer 1 -> 2: debiased 0.6, p = 1/101, above null, stability 0.55, depths 1 and 1
    assert "<tr><td>1</td><td>2</td><td>0.6000</td><td>0.0099</td><td>yes</td><td>0.5500</td><td>1.0000</td>" in page
    assert "SmolLM2 layer 1: one coordinate" in page and "100 permutations" in page
    assert page.count("data:image/png") == 2  # debiased and plain CKA
    without_ami = build_comparison_report(LayerAlignment(None, np.eye(2), ("a", "b"), context=alignment.context))
    assert "<tr><td>1</td><td>0.4000</td><td>0.2500</td></tr>" in without_ami  # what the grid of a carries
