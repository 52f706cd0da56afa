"""Bad inputs to `scan` and friends: one line, the right exit status, nothing stored, no model loaded.

Tiny random-init models and CSV corpora in tmp_path; the embedded store, so no Java is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import llm_mri_graphdb.extract.run as extract_module
from llm_mri_graphdb.cli import main
from llm_mri_graphdb.store import MemoryStore

from .tiny_models import LABELS, TEXTS, save_tiny_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_tiny_model("bert", tmp_path_factory.mktemp("inputs") / "bert")


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


@pytest.fixture()
def no_model_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad input was caught")

    monkeypatch.setattr(extract_module, "load_model", refuse)


def _scan(model, corpus, tmp_path, *extra) -> list[str]:
    return [
        "scan",
        str(model),
        str(corpus),
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "out"),
        "--store",
        "local",
        "--store-path",
        str(tmp_path / "store"),
        *extra,
    ]


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    return err


def _nothing_stored(tmp_path) -> None:
    store = tmp_path / "store"
    assert not store.exists() or MemoryStore(store).runs() == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "ffn"], r"Invalid value for '--site': .*'ffn' is not one of 'hidden', 'mlp', 'attention'"),
        (
            ["--pooling", "cls"],
            r"Invalid value for '--pooling': .*'cls' is not one of 'auto', 'first', 'mean', 'last', 'mean_skip_first', 'max'",
        ),
        (["--components", "1"], r"Invalid value for '--components': .*greater than or equal to 2"),
        (["--gridsize", "0"], r"Invalid value for '--gridsize': .*greater than or equal to 1"),
        (["--reducer", "tsne"], r"Invalid value for '--reducer': .*'tsne' is not one of 'pca', 'svd', 'umap'"),
        (["--batch-size", "0"], r"Invalid value for '--batch-size': .*greater than or equal to 1"),
        (["--max-length", "0"], r"Invalid value for '--max-length': .*greater than or equal to 1"),
        (["--threshold", "1.5"], r"Invalid value for '--threshold': .*less than or equal to 1"),
        (["--binning", "log"], r"Invalid value for '--binning': .*'log' is not one of 'width', 'quantile'"),
        (
            ["--dtype", "float8"],
            r"Invalid value for '--dtype': .*'float8' is not one of 'float32', 'bfloat16', 'float16', 'auto'",
        ),
        (["--dtype", "float16"], r"Invalid value for '--dtype': dtype float16 needs device cuda or mps"),
        (["--encoding", "klingon"], r"Invalid value for '--encoding': encoding must be a text encoding"),
        (
            ["--gridsize", "10000"],
            r"Invalid value for '--gridsize': gridsize 10000 is above the limit 200: .* MiB "
            r"per label and layer\. .*--allow-large",
        ),
        (["--components", "600"], r"Invalid value for '--components': n_components 600 is above the limit 512"),
        (["--batch-size", "100000"], r"Invalid value for '--batch-size': batch_size 100000 is above the limit 4096"),
        (["--max-length", "200000"], r"Invalid value for '--max-length': max_length 200000 is above the limit 131072"),
        (
            ["--components", "20"],
            r"Invalid value for '--components': n_components 20 must be <= the number of texts "
            r"\(8\).*Use fewer components",
        ),
    ],
)
def test_scan_bad_argument_exits_2_in_one_line_before_loading(
    model, corpus, tmp_path, capsys, no_model_loading, args, message
):
    assert main(_scan(model, corpus, tmp_path, *args)) == 2
    err = _one_line_error(capsys)
    assert re.search(message, err), err
    assert err.endswith("(see llm-mri-graphdb scan --help)")
    _nothing_stored(tmp_path)


# Runs the CLI in a process where torch and transformers cannot be imported: a check that needs either has run
# something expensive (a model load, a forward pass) before it refused the input.
_WITHOUT_TORCH = (
    "import sys\nsys.modules['torch'] = sys.modules['transformers'] = None\n"
    "from llm_mri_graphdb.cli import main\nsys.exit(main(sys.argv[1:]))\n"
)


def test_scan_bad_settings_exit_2_in_a_new_process_before_torch_is_imported(model, corpus, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for bad in (["--device", "tpu"], ["--site", "ffn"], ["--gridsize", "10000"]):
        done = subprocess.run(
            [sys.executable, "-c", _WITHOUT_TORCH, *_scan(model, corpus, tmp_path, *bad)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and bad[0] in done.stderr
    # the guard can fail: a valid scan gets past the checks and fails (exit 1, not 2) where it first needs torch
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH, *_scan(model, corpus, tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 1 and done.stderr.startswith("Error: "), done.stderr
    _nothing_stored(tmp_path)


def test_scan_one_text_per_label_fails_before_extraction_naming_no_probe(model, tmp_path, capsys, no_model_loading):
    corpus = tmp_path / "two.csv"
    pd.DataFrame({"text": ["the cat sat", "a dog ran"], "label": ["yes", "no"]}).to_csv(corpus, index=False)
    assert main(_scan(model, corpus, tmp_path)) == 2
    err = _one_line_error(capsys)
    assert "'--probe': the probe needs at least 2 texts of every label" in err
    assert "skip the probe with probe=False (--no-probe)" in err
    _nothing_stored(tmp_path)


def test_scan_label_with_a_slash_writes_safe_figure_names(model, tmp_path, capsys):
    corpus = tmp_path / "slash.csv"
    pd.DataFrame({"text": TEXTS, "label": ["yes/no" if label == "pos" else "maybe" for label in LABELS]}).to_csv(
        corpus, index=False
    )
    assert main(_scan(model, corpus, tmp_path, "--gridsize", "3", "--no-probe")) == 0
    run_id = capsys.readouterr().out.split("Stored run ")[1][:16]
    figures = {p.name for p in (tmp_path / "out" / run_id / "figures").iterdir()}
    assert figures == {"graph.png", "scan.png", "heatmap_last_layer_yes_no.png", "heatmap_last_layer_maybe.png"}
    assert (tmp_path / "out" / run_id / "report.html").is_file()
    assert [r["run_id"] for r in MemoryStore(tmp_path / "store").runs()] == [run_id]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "text,label\ncaf\u00e9,a\nth\u00e9,b\n".encode("latin-1"),
            r"corpus\.csv: not utf-8 text \(line 2: byte 0xe9 cannot be decoded\); convert the file to UTF-8 .*"
            r"--encoding latin-1\)\.$",
        ),
        (b"", r"corpus\.csv: the file is empty; a CSV corpus needs a header \(e\.g\. text,label\)"),
        (b"text,label\n", r"corpus\.csv: corpus is empty; it must hold at least two texts"),
        (
            b"body,label\nthe cat,a\na dog,b\n",
            r"corpus\.csv: text column .text. is missing; the corpus has columns \[.body., .label.\]: "
            r"name one with text_column= \(--text-column\)\.$",
        ),
    ],
)
def test_scan_unreadable_corpus_exits_1_naming_the_file(model, tmp_path, capsys, no_model_loading, content, message):
    corpus = tmp_path / "corpus.csv"
    corpus.write_bytes(content)
    assert main(_scan(model, corpus, tmp_path)) == 1
    err = _one_line_error(capsys)
    assert re.search(message, err), err
    assert str(corpus) in err
    _nothing_stored(tmp_path)


def test_scan_folder_that_is_not_a_model_exits_1_in_one_whole_line(corpus, tmp_path, capsys):
    folder = tmp_path / "not_a_model"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    assert main(_scan(folder, corpus, tmp_path)) == 1
    err = _one_line_error(capsys)
    assert err == (
        f"Error: {folder}: not a model folder (it has no config.json); give a folder written by "
        "save_pretrained (config.json, weights, tokenizer), a .gguf file or a hub id."
    )
    _nothing_stored(tmp_path)


def test_scan_truncated_gguf_exits_1_saying_download_again(corpus, tmp_path, capsys):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (1).to_bytes(8, "little"))
    assert main(_scan(gguf, corpus, tmp_path)) == 1
    err = _one_line_error(capsys)
    assert err.startswith(f"Error: {gguf}: not a complete GGUF model (24 bytes; ")
    assert err.endswith("The file looks truncated or damaged: download it again.")
    _nothing_stored(tmp_path)


def test_metrics_unknown_label_exits_2_and_unknown_run_exits_1(model, corpus, tmp_path, capsys):
    assert main(_scan(model, corpus, tmp_path, "--gridsize", "3", "--no-probe")) == 0
    run_id = capsys.readouterr().out.split("Stored run ")[1][:16]
    store = ["--store", "local", "--store-path", str(tmp_path / "store")]
    assert main(["metrics", run_id, "--label", "nosuch", *store]) == 2
    err = _one_line_error(capsys)
    assert "Invalid value for '--label': labels must be names in ['neg', 'pos']" in err and "'nosuch'" in err
    assert main(["metrics", "0123456789abcdef", *store]) == 1
    assert "0123456789abcdef" in _one_line_error(capsys)
    assert main(["metrics", run_id, "--label", "pos", *store]) == 0
    assert '"density"' in capsys.readouterr().out


def test_query_on_the_embedded_store_is_an_error_not_no_rows(tmp_path, capsys):
    # the Cypher library needs Neo4j (an unknown run there: test_store_neo4j's RunNotFound tests)
    assert (
        main(
            [
                "query",
                "hub_regions",
                "--param",
                "run_id=0123456789abcdef",
                "--store",
                "local",
                "--store-path",
                str(tmp_path / "store"),
            ]
        )
        == 1
    )
    assert _one_line_error(capsys) == (
        "Error: query 'hub_regions' runs Cypher and needs Neo4j; set NEO4J_URI or "
        "start a server with `llm-mri-graphdb neo4j start`."
    )
