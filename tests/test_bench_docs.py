"""The benchmarks' docs protocol (``bench/docs.py``, ``python -m bench``): blocks, tables, the writer."""

from __future__ import annotations

import ast
import datetime as dt

import pytest

from bench import docs
from bench.__main__ import BENCHES, main

pytestmark = pytest.mark.unit

DOC = """# Benchmarks

Prose a person wrote, kept as it is.

## Extraction

<!-- bench:extract -->
old figures 1.00x
<!-- /bench:extract -->

Notes between blocks.

## Store

<!-- bench:store -->
| a | b |
|---|---:|
| 1 | 2 |
<!-- /bench:store -->
"""


def test_blocks_reads_each_marked_block():
    assert docs.blocks(DOC) == {"extract": "old figures 1.00x\n", "store": "| a | b |\n|---|---:|\n| 1 | 2 |\n"}


def test_replace_block_changes_only_that_block():
    text, n = docs.replace_block(DOC, "extract", "new figures 0.98x")
    assert n == 1
    assert docs.blocks(text) == {"extract": "new figures 0.98x\n", "store": docs.blocks(DOC)["store"]}
    assert text.replace("new figures 0.98x", "old figures 1.00x") == DOC  # nothing else moved
    assert docs.replace_block(DOC, "gpu", "x") == (DOC, 0)


def test_write_replaces_blocks_in_every_file_and_appends_new_ones(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text(DOC)
    (tmp_path / "README.md").write_text("# Tool\n\n<!-- bench:extract -->\nstale\n<!-- /bench:extract -->\n\nEnd.\n")
    written = docs.write(
        {"extract": ("Extraction", "fresh\n"), "gpu": ("GPU extraction", "| x |\n|---|\n| 1 |\n")},
        root=tmp_path,
        files=("docs/benchmarks.md", "docs/missing.md", "README.md"),
    )
    assert written == ["docs/benchmarks.md: extract", "README.md: extract", "docs/benchmarks.md: gpu (new block)"]
    bench_md = (tmp_path / "docs" / "benchmarks.md").read_text()
    assert docs.blocks(bench_md) == {
        "extract": "fresh\n",
        "store": docs.blocks(DOC)["store"],
        "gpu": "| x |\n|---|\n| 1 |\n",
    }
    assert "Prose a person wrote, kept as it is." in bench_md and "Notes between blocks." in bench_md
    assert bench_md.index("## GPU extraction") > bench_md.index("<!-- /bench:store -->")
    assert (
        tmp_path / "README.md"
    ).read_text() == "# Tool\n\n<!-- bench:extract -->\nfresh\n<!-- /bench:extract -->\n\nEnd.\n"


def test_tables_parses_cells_and_refuses_a_ragged_row():
    (table,) = docs.tables("text\n\n| texts | ours s |\n|---:|---:|\n| 150 | 1.8 |\n| 600 | 5.6 |\n\nafter")
    assert table.header == ("texts", "ours s") and table.rows == (("150", "1.8"), ("600", "5.6"))
    with pytest.raises(ValueError, match=r"table row at line 4 has 3 cells, its header 2"):
        docs.tables("| a | b |\n|---|---|\n| 1 | 2 |\n| 1 | 2 | 3 |")


def test_provenance_names_command_date_cpu_load_and_the_shared_machine():
    line = docs.provenance(
        "python -m bench nrag", load_average=3.25, now=dt.datetime(2026, 12, 2, 17, 5, tzinfo=dt.timezone.utc)
    )
    assert line.startswith("`python -m bench nrag`, 2026-12-02 17:05 UTC, ")
    assert docs.cpu_model() in line and "load average 3.2 at the start" in line
    assert "shared with other jobs" in line


def _constants(tree: ast.Module) -> dict[str, object]:
    """Module-level ``NAME = "x"`` and ``NAME, TITLE = "x", "y"`` constants."""
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = (
                zip(target.elts, value.elts)
                if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                else [(target, value)]
            )
            out.update({t.id: v.value for t, v in pairs if isinstance(t, ast.Name) and isinstance(v, ast.Constant)})
    return out


@pytest.mark.parametrize("name", BENCHES)
def test_every_bench_follows_the_protocol(name):
    # read, not imported (some import torch); tests/integration/test_bench_quick.py runs every section
    tree = ast.parse((docs.ROOT / "bench" / f"{name}.py").read_text())
    constants = _constants(tree)
    assert constants.get("NAME") == name and constants.get("TITLE")
    (section,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "section"]
    assert [a.arg for a in section.args.args] == ["quick"] and ast.literal_eval(section.args.defaults[0]) is False


def test_quick_and_write_docs_together_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["nrag", "--quick", "--write-docs"])
    assert exc.value.code == 2
    assert "drop --quick or --write-docs" in capsys.readouterr().err


def test_unknown_bench_names_the_choices(capsys):
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "unknown benchmark ['nope']; choose from" in capsys.readouterr().err


def test_docs_blocks_are_the_benches_and_their_tables_parse():
    """Every block in the docs names a bench, and every table in them (hand-written ones too) is well formed."""
    for rel in docs.DOC_FILES:
        text = (docs.ROOT / rel).read_text()
        assert set(docs.blocks(text)) <= set(BENCHES), rel
        docs.tables(text)
    assert {"compare", "alignment"} <= set(docs.blocks((docs.ROOT / "README.md").read_text())) | set(
        docs.blocks((docs.ROOT / "docs/alignment.md").read_text())
    )


def test_precision_block_has_one_part_per_model_with_its_ratios():
    from bench.precision import MODELS, markdown

    machine = {"cpu": "a CPU", "cores": 2, "torch_threads": 2, "bf16_instructions": True, "load_average_1min": 0.5}
    scan = {"n_texts": 800, "sentences": "1-8", "repeats": 2, "speedup": 2.0}
    scan |= {"seconds": {"float32": [4.0, 4.2], "bfloat16": [2.0, 2.1]}, "median_s": {"float32": 4.1, "bfloat16": 2.05}}
    text = markdown([{"machine": machine, "model": name, "scan": [scan]} for name in MODELS])
    assert text.startswith("Machine: a CPU, 2 cores, torch threads 2, bf16 instructions: yes;")
    parts = text.split("\n### ")[1:]
    assert [p.splitlines()[0] for p in parts] == [
        "MiniLM-L6 (encoder, 6 layers)",
        "SmolLM2-135M (decoder, 30 layers, GGUF)",
    ]
    assert all("float32 median 4.1 s (4.0 / 4.2), bfloat16 median 2.0 s (2.0 / 2.1): **2.00x**." in p for p in parts)
