"""Statistics in the scan pipeline and the `statistics` / `sensitivity` commands (tiny model, embedded store)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.analysis.statistics import STATISTICS_COLUMNS, metric_statistics
from llm_mri_graphdb.cli import main
from llm_mri_graphdb.store import LocalStore

from .tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.slow  # a tiny BERT scanned several times end to end: minutes on 2 loaded cores


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    root = tmp_path_factory.mktemp("statistics_cli")
    model = save_tiny_model("bert", root / "bert")
    corpus = root / "corpus.csv"
    pd.DataFrame({"text": TEXTS * 3, "label": LABELS * 3}).to_csv(corpus, index=False)
    args = [
        "scan",
        str(model),
        str(corpus),
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(root / "out"),
        "--store",
        "local",
        "--store-path",
        str(root / "store"),
        "--gridsize",
        "3",
        "--no-probe",
        "--cache",
        str(root / "cache"),
        "--permutations",
        "30",
        "--bootstrap",
        "20",
        "--seed",
        "1",
    ]
    assert main(args) == 0
    store = LocalStore(root / "store")
    run_id = store.runs()[0]["run_id"]
    return root, store, run_id


def test_scan_writes_statistics_to_metrics_json_the_store_and_the_report(scanned):
    root, store, run_id = scanned
    saved = json.loads((root / "out" / run_id / "metrics.json").read_text())["statistics"]
    assert saved["settings"]["n_permutations"] == 30 and saved["settings"]["seed"] == 1
    expected = metric_statistics(store.read(run_id), n_permutations=30, n_bootstrap=20, seed=1)
    written = pd.DataFrame(saved["rows"])[list(STATISTICS_COLUMNS)]
    assert written.label.tolist() == expected.label.tolist()
    np.testing.assert_allclose(written.iloc[:, 2:].to_numpy(float), expected.iloc[:, 2:].to_numpy(float), atol=1e-12)
    kept = json.loads((root / "store" / f"{run_id}.statistics.json").read_text())
    assert [r["settings"]["n_bootstrap"] for r in kept.values()] == [20]
    report = (root / "out" / run_id / "report.html").read_text()
    assert "<h2 id='statistics'>Statistics</h2>" in report and "30 permutations" in report
    assert "n_regions" in report.split("id='statistics'")[1]
    # shape metrics only beside their null: not in the Metrics table, in Statistics with "null [a, b]"
    metrics_part = report.split("<h2 id='metrics'>")[1].split("<h2")[0]
    statistics_part = report.split("<h2 id='statistics'>")[1].split("<h2")[0]
    assert "<td>n_regions</td>" in metrics_part and "<td>skew_degree</td>" not in metrics_part
    skew_row = statistics_part.split("<td>skew_degree</td>")[1].split("</tr>")[0]
    assert skew_row.count(" null [") == 2  # one per label of the scanned corpus
    assert " null [" not in statistics_part.split("<td>n_regions</td>")[1].split("</tr>")[0]


def test_statistics_command_prints_the_stores_frame(scanned, capsys):
    root, store, run_id = scanned
    capsys.readouterr()
    assert (
        main(
            [
                "statistics",
                run_id,
                "--store",
                "local",
                "--store-path",
                str(root / "store"),
                "--permutations",
                "25",
                "--bootstrap",
                "0",
                "--format",
                "json",
            ]
        )
        == 0
    )
    rows = pd.DataFrame(json.loads(capsys.readouterr().out))
    expected = store.metric_statistics(run_id, n_permutations=25, n_bootstrap=0)
    assert rows.metric.tolist() == expected.metric.tolist()
    np.testing.assert_allclose(rows.p.astype(float), expected.p, equal_nan=True)
    assert (
        main(
            [
                "statistics",
                run_id,
                "--store",
                "local",
                "--store-path",
                str(root / "store"),
                "--contrasts",
                "--permutations",
                "10",
                "--bootstrap",
                "10",
            ]
        )
        == 0
    )
    assert "label_a" in capsys.readouterr().out


def test_sensitivity_command_flags_metrics(scanned, capsys):
    root, _, run_id = scanned
    capsys.readouterr()
    assert (
        main(["sensitivity", run_id, "--store", "local", "--store-path", str(root / "store"), "--format", "json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {r["metric"] for r in rows} >= {"n_regions", "mean_degree"}
    known = [r for r in rows if r["spread_settings"] is not None and r["spread_labels"] is not None]
    assert known and all(r["flagged"] == (r["spread_settings"] > r["spread_labels"]) for r in known)
    assert all(not r["flagged"] for r in rows if r not in known)  # nan spreads (a moment of < 4 regions) never flag


def test_bad_resampling_counts_exit_2(scanned, capsys):
    root, _, run_id = scanned
    assert (
        main(["statistics", run_id, "--store", "local", "--store-path", str(root / "store"), "--permutations", "-1"])
        == 2
    )
    assert "--permutations" in capsys.readouterr().err
    assert (
        main(
            [
                "statistics",
                run_id,
                "--store",
                "local",
                "--store-path",
                str(root / "store"),
                "--correction",
                "bonferroni",
            ]
        )
        == 2
    )


def test_report_on_request_shows_the_sensitivity_panel(scanned):
    root, _, run_id = scanned
    assert (
        main(
            [
                "report",
                run_id,
                "--store",
                "local",
                "--store-path",
                str(root / "store"),
                "--out",
                str(root / "again"),
                "--sensitivity",
                "--permutations",
                "10",
                "--bootstrap",
                "5",
            ]
        )
        == 0
    )
    report = (root / "again" / run_id / "report.html").read_text()
    assert "<h2 id='sensitivity'>" in report and "spread over settings" in report
    assert "10 permutations" in report
