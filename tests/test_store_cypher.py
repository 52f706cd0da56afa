"""The Cypher loader: statements, the query library's parameters and CLI value parsing."""

from __future__ import annotations

import re

import pytest

from llm_mri_graphdb.errors import QueryNotFound
from llm_mri_graphdb.store import cypher

pytestmark = pytest.mark.unit

REQUIRED = {
    "runs_per_model",
    "layer_profile",
    "metric_across_models",
    "label_divergence_regions",
    "heaviest_label_paths",
    "hub_regions",
    "compare_runs",
}


def test_statements_split_schema():
    statements = cypher.statements("schema")
    assert all(s.startswith("CREATE ") and "IF NOT EXISTS" in s for s in statements)
    assert any("region_uid" in s for s in statements)


def test_load_rejects_bad_name():
    with pytest.raises(ValueError, match="lower_snake_case"):
        cypher.load("../etc/passwd")


def test_query_names_ships_required():
    assert REQUIRED <= set(cypher.query_names())


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_query_header_documents_every_parameter(name):
    text = cypher.load_query(name)
    assert text.startswith(f"// name: {name}\n// purpose:")
    assert "// example: store.query(" in text
    assert set(cypher.query_parameters(name)) == set(cypher.query_spec(name))


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_query_never_splices_values(name):
    body = "\n".join(line for line in cypher.load_query(name).splitlines() if not line.startswith("//"))
    assert "+ '" not in body.replace("+ ':'", "") and not re.search(r"\{\d|%s|\{[a-z_]+\}", body)


def test_bind_parameters_fills_defaults():
    assert cypher.bind_parameters("hub_regions", {"run_id": "r"}) == {"run_id": "r", "label": None, "top": 3}


def test_bind_parameters_names_missing_and_unknown():
    with pytest.raises(ValueError, match=r"needs parameter \$label_a"):
        cypher.bind_parameters("label_divergence_regions", {"run_id": "r", "label_b": "x"})
    with pytest.raises(ValueError, match=r"got unknown \['lable'\]"):
        cypher.bind_parameters("hub_regions", {"run_id": "r", "lable": "x"})


def test_load_query_unknown_lists_names():
    with pytest.raises(QueryNotFound, match=r"query must be one of \[.*'compare_runs'.*\]; got 'x'"):
        cypher.load_query("x")


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3),
        ("-0.5", -0.5),
        ("true", True),
        ("null", None),
        ("[a, 2]", ["a", 2]),
        ("'12'", "12"),
        ("pos", "pos"),
        ("[]", []),
    ],
)
def test_parse_value(text, value):
    assert cypher.parse_value(text) == value


def test_parse_params_typed_by_query_header():
    assert cypher.parse_params(["run_id=1e5", "label=null", "top=2"], query="hub_regions") == {
        "run_id": "1e5",
        "label": None,
        "top": 2,
    }
    with pytest.raises(ValueError, match="parameter must be int"):
        cypher.parse_params(["top=two"], query="hub_regions")
    with pytest.raises(ValueError, match="key=value"):
        cypher.parse_params(["top"])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"run_id": "r", "top": -1}, "parameter top must be >= 1; got -1"),
        ({"run_id": "r", "top": 0}, "parameter top must be >= 1; got 0"),
        ({"run_id": "r", "top": "3"}, "parameter top must be int; got '3'"),
        ({"run_id": "r", "top": 1.5}, "parameter top must be int; got 1.5"),
        ({"run_id": None}, "parameter run_id must be string, not null"),
    ],
)
def test_bind_parameters_rejects_bad_values(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cypher.bind_parameters("hub_regions", params)


def test_bind_parameters_int_parameters_default_to_non_negative():
    with pytest.raises(ValueError, match="from_layer must be >= 0; got -2"):
        cypher.bind_parameters("heaviest_label_paths", {"run_id": "r", "label": "a", "from_layer": -2})
    bound = cypher.bind_parameters("heaviest_label_paths", {"run_id": "r", "label": "a", "from_layer": 0})
    assert bound == {"run_id": "r", "label": "a", "from_layer": 0, "limit": 5}
    assert cypher.bind_parameters("hub_regions", {"run_id": "r", "top": 2.0})["top"] == 2


def test_parse_params_then_bind_rejects_negative_top_from_cli():
    params = cypher.parse_params(["run_id=r", "top=-1"], query="hub_regions")
    with pytest.raises(ValueError, match="top must be >= 1"):
        cypher.bind_parameters("hub_regions", params)


def test_cli_query_out_of_range_param_is_bad_usage(tmp_path, capsys):
    from llm_mri_graphdb.cli import main

    code = main(
        [
            "query",
            "hub_regions",
            "--param",
            "run_id=r",
            "--param",
            "top=-1",
            "--store",
            "local",
            "--store-path",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "parameter top must be >= 1; got -1" in capsys.readouterr().err
