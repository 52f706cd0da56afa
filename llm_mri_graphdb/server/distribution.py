"""The Neo4j 5.26 server, Browser and open GDS jars, resolved once from Maven Central.

The two Maven project files ship with the package (``loaders/neo4j/server``
and ``loaders/neo4j/gds``, read through
:func:`llm_mri_graphdb.settings.package_folder`). Their jars are copied once
into ``cache_home()/neo4j-dist/<versions>/`` and reused, so a second start needs
no network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError
from ..settings import cache_home, package_folder

__all__ = ["Distribution", "ensure_distribution", "mvn_copy", "pinned_versions"]


def _pom_property(pom: Path, name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    try:
        root = ET.parse(pom).getroot()
    except OSError as exc:
        raise ServerError(
            f"the Maven project file {pom} is missing ({type(exc).__name__}); "
            "the package is incomplete, reinstall llm-mri-graphdb."
        ) from exc
    node = root.find(f"m:properties/m:{name}", ns)
    if node is None or not node.text:
        raise ServerError(f"{pom} has no <{name}> property.")
    return node.text.strip()


def pinned_versions() -> tuple[str, str]:
    """``(neo4j_version, gds_version)`` that the shipped Maven project files pin (nothing is fetched)."""
    poms = package_folder("loaders") / "neo4j"
    return (
        _pom_property(poms / "server" / "pom.xml", "neo4j.version"),
        _pom_property(poms / "gds" / "pom.xml", "gds.version"),
    )


@dataclass(frozen=True)
class Distribution:
    """Resolved jars of one Neo4j + GDS version pair."""

    root: Path
    neo4j_version: str
    gds_version: str

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def classpath(self) -> str:
        return f"{self.lib}/*{os.pathsep}{self.plugins}/*"


def _artifact_key(jar: Path) -> str:
    """``group.artifact`` of a jar named ``group.artifact-version.jar``."""
    return re.sub(r"-\d[^-]*(-[A-Za-z]+)?\.jar$", "", jar.name)


def mvn_copy(pom: Path, out: Path) -> None:
    """Copy the dependencies of the Maven project ``pom`` into ``out``; ServerError names Maven Central."""
    if shutil.which("mvn") is None:
        raise ServerError(
            "Maven (mvn) was not found on PATH: it fetches Neo4j from Maven Central (apt-get install maven)."
        )
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={out}",
        "-Dmdep.prependGroupId=true",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line] or [proc.stderr.strip()]
        raise ServerError(
            f"Maven could not resolve {pom.parent.name} jars from Maven Central: {errors[0][:300]} "
            "(check network access to Maven Central, or a mirror in ~/.m2/settings.xml)."
        )


def ensure_distribution(root: Path | None = None) -> Distribution:
    """Resolve Neo4j server + Browser + open GDS jars once and return where they are.

    The plugins folder keeps only the GDS jars Neo4j does not already ship
    (same ``group.artifact`` in ``lib`` wins), so no library sits twice on the
    classpath. The result is built in a temporary folder and renamed into place,
    so an interrupted download never leaves a half distribution.
    """
    poms = package_folder("loaders") / "neo4j"
    neo4j_version = _pom_property(poms / "server" / "pom.xml", "neo4j.version")
    gds_version = _pom_property(poms / "gds" / "pom.xml", "gds.version")
    base = root or cache_home() / "neo4j-dist"
    target = base / f"neo4j-{neo4j_version}-gds-{gds_version}"
    if (target / "distribution.json").exists():
        return Distribution(target, neo4j_version, gds_version)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
    try:
        mvn_copy(poms / "server" / "pom.xml", staging / "lib")
        mvn_copy(poms / "gds" / "pom.xml", staging / "gds-all")
        shipped = {_artifact_key(j) for j in (staging / "lib").glob("*.jar")}
        (staging / "plugins").mkdir()
        for jar in sorted((staging / "gds-all").glob("*.jar")):
            if _artifact_key(jar) not in shipped:
                jar.rename(staging / "plugins" / jar.name)
        shutil.rmtree(staging / "gds-all")
        (staging / "distribution.json").write_text(json.dumps({"neo4j": neo4j_version, "gds": gds_version}, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Distribution(target, neo4j_version, gds_version)
