"""The data folders the package ships (cypher/, loaders/) are found, and a missing file is named."""

from __future__ import annotations

import pytest

from llm_mri_graphdb.errors import CypherFileMissing, LLMMRIError
from llm_mri_graphdb.settings import package_folder
from llm_mri_graphdb.store import cypher


@pytest.fixture()
def empty_cypher_dir(tmp_path, monkeypatch):
    """A cypher folder with no files (an install without its package data)."""
    monkeypatch.setattr(cypher, "cypher_dir", lambda: tmp_path)
    cypher.load.cache_clear()
    cypher.load_query.cache_clear()
    yield tmp_path
    cypher.load.cache_clear()
    cypher.load_query.cache_clear()


def test_package_folder_finds_the_shipped_files():
    assert (package_folder("cypher") / "schema.cypher").is_file()
    assert (package_folder("loaders") / "neo4j" / "server" / "pom.xml").is_file()
    assert "hub_regions" in cypher.query_names()


def test_missing_statement_file_is_named_not_a_connection_error(empty_cypher_dir):
    with pytest.raises(
        CypherFileMissing,
        match=r"Cypher statement 'schema' is missing: cannot read .*schema\.cypher"
        r" \(FileNotFoundError\); .*reinstall llm-mri-graphdb",
    ) as info:
        cypher.load("schema")
    assert str(empty_cypher_dir / "schema.cypher") in str(info.value)
    # the store maps OSError and ValueError to "cannot reach Neo4j"; this must not be either
    assert isinstance(info.value, LLMMRIError) and not isinstance(info.value, (OSError, ValueError))


def test_missing_query_library_is_named(empty_cypher_dir):
    with pytest.raises(CypherFileMissing, match=r"the query library is missing: no folder .*queries"):
        cypher.query_names()


def test_missing_library_query_file_is_named(empty_cypher_dir):
    (empty_cypher_dir / "queries").mkdir()
    (empty_cypher_dir / "queries" / "ghost.cypher").symlink_to(empty_cypher_dir / "nowhere.cypher")
    with pytest.raises(CypherFileMissing, match=r"library query 'ghost' is missing: cannot read .*ghost\.cypher"):
        cypher.load_query("ghost")


def test_missing_pom_is_named(tmp_path, monkeypatch):
    from llm_mri_graphdb.errors import ServerError
    from llm_mri_graphdb.server import distribution

    monkeypatch.setattr(distribution, "package_folder", lambda name: tmp_path / name)
    with pytest.raises(ServerError, match=r"the Maven project file .*loaders/neo4j/server/pom\.xml is missing"):
        distribution.ensure_distribution(root=tmp_path / "dist")
    assert not (tmp_path / "dist").exists()  # nothing fetched or created
