"""Packaging: the code in ``llm_mri_graphdb/`` plus the top-level ``cypher/`` and ``loaders/``.

``cypher/`` (statements and the query library) and ``loaders/`` (the Maven
project files of the local Neo4j) stay at the top of the checkout and ship in
the wheel as ``llm_mri_graphdb/cypher`` and ``llm_mri_graphdb/loaders``;
``llm_mri_graphdb.settings.package_folder`` finds them in either place. Every
other setting is in ``pyproject.toml``.
"""

from setuptools import find_namespace_packages, find_packages, setup

DATA_FOLDERS = {"cypher": "llm_mri_graphdb.cypher", "loaders": "llm_mri_graphdb.loaders"}

packages = find_packages(include=["llm_mri_graphdb", "llm_mri_graphdb.*"])
package_dir = {"": "."}
package_data = {"llm_mri_graphdb": ["demo/*"], "llm_mri_graphdb.report": ["web/*"]}
for folder, name in DATA_FOLDERS.items():
    package_dir[name] = folder
    for sub in ["", *find_namespace_packages(where=folder, exclude=["*__pycache__*"])]:
        package = f"{name}.{sub}" if sub else name
        packages.append(package)
        package_data[package] = ["*"]

setup(packages=packages, package_dir=package_dir, package_data=package_data)
