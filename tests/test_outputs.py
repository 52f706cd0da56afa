"""Issue 22, findings 3, 4, 5 and 8: full and read-only disks under the cache and the outputs, and input limits.

Full and read-only disks are real small filesystems (a tmpfs mounted for the
test, which needs root; elsewhere these tests skip and say so). The embedded
store and a tiny random-init model: no Java.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import llm_mri_graphdb.extract as extract_module
from llm_mri_graphdb.cli import main
from llm_mri_graphdb.errors import OutputError
from llm_mri_graphdb.files import write_atomic
from llm_mri_graphdb.store import LocalStore

from .tiny_models import LABELS, TEXTS, save_tiny_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_tiny_model("bert", tmp_path_factory.mktemp("outputs") / "bert")


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


@pytest.fixture()
def tmpfs(tmp_path):
    """``tmpfs(name, size, read_only=False)``: a real filesystem of ``size`` mounted at ``tmp_path/name``."""
    mounted = []

    def mount(name: str, size: str, read_only: bool = False):
        path = tmp_path / name
        path.mkdir()
        options = f"size={size},mode=0777" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"a small real filesystem is needed and mounting a tmpfs failed (root only): {done.stderr}")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture()
def no_model_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad input was caught")

    monkeypatch.setattr(extract_module, "load_model", refuse)


def _store(tmp_path) -> list[str]:
    return ["--store", "local", "--store-path", str(tmp_path / "store")]


def _scan(model, corpus, tmp_path, *extra) -> list[str]:
    return [
        "scan",
        str(model),
        str(corpus),
        "--device",
        "cpu",
        "--quiet",
        "--gridsize",
        "3",
        "--no-probe",
        *_store(tmp_path),
        *extra,
    ]


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    return err


_FILL_CACHE = """
import numpy as np, sys
from llm_mri_graphdb.extract.cache import CacheWriter
from llm_mri_graphdb.errors import CacheError
try:
    with CacheWriter(sys.argv[1], "k", n_layers={n_layers}, n_texts={n_texts}, width=256) as writer:
        for layer in writer.layers:
            layer[:] = 1.0
        writer.commit({{}})
except CacheError as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


@pytest.mark.parametrize(
    ("n_layers", "n_texts", "message"),
    [
        # the free-space check: 3.9 MiB of layers on a 2 MiB filesystem
        (
            4,
            1000,
            (
                r"has 2\.0 MiB free but this extraction needs 3\.9 MiB \(4 layers x 1000 texts x 256 values x 4 "
                r"bytes\); free space there, pass another --cache"
            ),
        ),
        # exactly 2 MiB of data passes the check; the .npy headers do not fit: posix_fallocate says so
        (2, 1024, r"has \d+\.\d KiB free but this extraction needs 2\.0 MiB \(2 layers x 1024 texts"),
    ],
)
def test_cache_on_a_full_disk_is_one_line_not_sigbus(tmp_path, tmpfs, n_layers, n_texts, message):
    """Finding 3: sparse memory maps on a full disk killed scan with SIGBUS (rc 135, nothing on stderr)."""
    root = tmpfs("cache", "2m")
    code = textwrap.dedent(_FILL_CACHE.format(n_layers=n_layers, n_texts=n_texts))
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])  # -7 is SIGBUS
    assert done.stderr.startswith(f"the activation cache {root} has ")
    assert re.search(message, done.stderr), done.stderr
    assert list(root.iterdir()) == []  # nothing left behind


def test_cache_writer_fits_when_the_disk_does(tmp_path, tmpfs):
    root = tmpfs("cache", "4m")
    code = textwrap.dedent(_FILL_CACHE.format(n_layers=3, n_texts=1000))
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (root / "k").iterdir()) == [
        "layer_000.npy",
        "layer_001.npy",
        "layer_002.npy",
        "manifest.json",
    ]


@pytest.mark.parametrize("option", ["--cache", "--out"])
def test_scan_read_only_cache_or_out_exits_2_before_the_model_loads(
    model, corpus, tmp_path, tmpfs, capsys, no_model_loading, option
):
    """Finding 8: a read-only --cache failed after the model loaded with a raw OSError."""
    read_only = tmpfs("ro", "1m", read_only=True)
    args = {"--cache": ["--cache", str(read_only), "--out", str(tmp_path / "out")], "--out": ["--out", str(read_only)]}[
        option
    ]
    assert main(_scan(model, corpus, tmp_path, *args)) == 2
    err = _one_line_error(capsys)
    assert f"Invalid value for '{option}': " in err and f"{read_only}" in err and "is not writable" in err, err
    assert not (tmp_path / "store").exists() or LocalStore(tmp_path / "store").runs() == []


def test_write_atomic_on_a_full_disk_keeps_the_previous_file(tmp_path, tmpfs):
    """Finding 4: a report written in place on a full disk was truncated and looked whole."""
    folder = tmpfs("out", "64k")
    report = folder / "report.html"
    write_atomic(report, "<html>the previous report</html>")
    with pytest.raises(OutputError, match=rf"^writing {report} failed: No space left on device$"):
        write_atomic(report, "x" * 200_000)
    assert report.read_text() == "<html>the previous report</html>"
    assert [p.name for p in folder.iterdir()] == ["report.html"]  # no temporary file left


def test_scan_out_of_space_after_the_store_names_the_run_the_file_and_the_fix(model, corpus, tmp_path, tmpfs, capsys):
    """Finding 4: the run is stored; the one line says which file failed and how to write it again."""
    out = tmpfs("out", "8k")
    assert main(_scan(model, corpus, tmp_path, "--out", str(out))) == 1
    err = _one_line_error(capsys)
    (run,) = LocalStore(tmp_path / "store").runs()
    assert err.startswith(f"Error: run {run['run_id']} stored; writing {out / run['run_id']}/")
    assert err.endswith(f" failed: No space left on device; `llm-mri-graphdb report {run['run_id']}` writes it again.")
    assert not [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert main(["report", run["run_id"], "--out", str(tmp_path / "reports"), *_store(tmp_path)]) == 0
    assert (tmp_path / "reports" / run["run_id"] / "report.html").read_text().endswith("</html>")


@pytest.fixture(scope="module")
def two_runs_store(model, tmp_path_factory):
    """Two grid runs of the tiny model on one corpus in an embedded store, scanned once for the module."""
    root = tmp_path_factory.mktemp("two-runs")
    corpus = root / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(corpus, index=False)
    ids = []
    for gridsize in ("3", "2"):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(
                [
                    "scan",
                    str(model),
                    str(corpus),
                    "--device",
                    "cpu",
                    "--quiet",
                    "--gridsize",
                    gridsize,
                    "--no-probe",
                    "--out",
                    str(root / "out"),
                    *_store(root),
                ]
            )
        assert code == 0, printed.getvalue()
        ids.append(printed.getvalue().split("Stored run ")[1][:16])
    return root / "store", ids


@pytest.fixture()
def two_runs(two_runs_store, tmp_path):
    """The module's two runs in a copy of its store at ``tmp_path / "store"`` (tests may write to it)."""
    store, ids = two_runs_store
    shutil.copytree(store, tmp_path / "store")
    return ids


def test_report_compare_export_to_a_read_only_out_exit_2_before_anything(two_runs, tmp_path, tmpfs, capsys):
    """Finding 8: raw OSErrors, and `compare` stored its alignment before failing on the page."""
    a, b = two_runs
    read_only = tmpfs("ro", "1m", read_only=True)
    for args, option in (
        (["report", a, "--out", str(read_only)], "--out"),
        (["compare", a, b, "--out", str(read_only)], "--out"),
        (["runs", "export", a, str(read_only / "export")], "FOLDER"),
    ):
        assert main([*args, *_store(tmp_path)]) == 2, args
        err = _one_line_error(capsys)
        assert f"{option} {read_only}" in err and "is not writable (Read-only file system)" in err, err
    assert (
        LocalStore(tmp_path / "store").query("layer_alignment", run_a=a, other=b, measure="ami") == []
    )  # compare stored none


def test_compare_out_of_space_after_the_store_says_the_alignment_is_stored(two_runs, tmp_path, tmpfs, capsys):
    a, b = two_runs
    out = tmpfs("full", "4k")
    assert main(["compare", a, b, "--out", str(out), *_store(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"Error: alignment of {a} and {b} stored; writing {out}/compare_")
    assert err.endswith(
        f"comparison.html failed: No space left on device; `llm-mri-graphdb compare {a} {b}` writes it again."
    )
    assert LocalStore(tmp_path / "store").query("layer_alignment", run_a=a, other=b, measure="ami") != []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["query", "hub_regions", "--param", "run_id=0123456789abcdef", "--param", "top=99999999999999999999"],
            r"Invalid value for --param: query 'hub_regions' parameter top must be at most 9223372036854775807 in size",
        ),
        (
            ["query", "metric_across_models", "--param", "corpus=c", "--param", "metric=nosuch"],
            (
                r"Invalid value for --param: query 'metric_across_models' parameter metric must be one of the keys "
                r"`llm-mri-graphdb metrics RUN` prints, such as 'density', 'mean_degree' or 'purity'; got 'nosuch'\."
            ),
        ),
        (
            ["texts", "0123456789abcdef", "0_0_0", "--limit", "99999999999999999999"],
            r"Invalid value for '--limit': .*less than or equal to 9223372036854775807",
        ),
        (
            ["texts", "0123456789abcdef", "0_0_0", "--offset", "99999999999999999999"],
            r"Invalid value for '--offset': .*less than or equal to 9223372036854775807",
        ),
    ],
)
def test_oversized_integers_and_unknown_metrics_exit_2_in_one_line(tmp_path, capsys, args, message):
    """Finding 8: raw OverflowErrors, and a metric name that answered "(no rows)"."""
    assert main([*args, *_store(tmp_path)]) == 2
    assert re.search(message, _one_line_error(capsys))


def test_path_minus_one_is_the_last_text(two_runs, tmp_path, capsys):
    """Finding 8: `path RUN -1` was read as an option."""
    a, _ = two_runs
    capsys.readouterr()
    assert main(["path", a, "-1", "--format", "json", *_store(tmp_path)]) == 0
    last = capsys.readouterr().out
    assert main(["path", a, str(len(TEXTS) - 1), "--format", "json", *_store(tmp_path)]) == 0
    assert last == capsys.readouterr().out and '"layer"' in last
    assert main(["path", a, str(-len(TEXTS) - 1), *_store(tmp_path)]) == 2
    assert "idx must be a text index in [0, 7] (or -8 to -1, counted from the end); got -9." in _one_line_error(capsys)


def test_scan_draws_each_figure_once_and_the_report_embeds_the_saved_pngs(model, corpus, tmp_path, monkeypatch):
    import base64

    from llm_mri_graphdb import viz

    calls = {"plot_graph": 0, "plot_scan": 0, "plot_heatmap": 0}
    for name in calls:
        original = getattr(viz, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(viz, name, counted)
    assert main(_scan(model, corpus, tmp_path, "--out", str(tmp_path / "out"))) == 0
    assert calls == {"plot_graph": 1, "plot_scan": 1, "plot_heatmap": len(set(LABELS))}
    (run_dir,) = (tmp_path / "out").iterdir()
    report = (run_dir / "report.html").read_text()
    for png in sorted((run_dir / "figures").glob("*.png")):
        assert base64.b64encode(png.read_bytes()).decode() in report, png.name
