"""The ``neo4j.conf`` of a local server home, the JVM flags, and the GDS procedures it allows."""

from __future__ import annotations

from pathlib import Path

from .browser import browser_conf
from .distribution import Distribution
from .host import ServerMemory

__all__ = ["GDS_PROCEDURES", "JVM_FLAGS", "neo4j_conf"]

# The JVM flags Neo4j's own launcher passes (server.jvm.additional in its default neo4j.conf).
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)

#: GDS procedures and functions the server loads: what the project calls, plus the
#: common algorithms a user exploring a run in the Browser reaches for. Documented
#: in loaders/neo4j/README.md; docker-compose.yml uses the same list.
GDS_PROCEDURES = (
    "gds.version",
    "gds.list",
    "gds.listProgress",
    "gds.userLog",
    "gds.license.state",
    "gds.debug.sysInfo",
    "gds.graph.*",
    "gds.util.*",
    "gds.degree.*",
    "gds.pageRank.*",
    "gds.articleRank.*",
    "gds.betweenness.*",
    "gds.closeness.*",
    "gds.eigenvector.*",
    "gds.louvain.*",
    "gds.leiden.*",
    "gds.modularity.*",
    "gds.labelPropagation.*",
    "gds.wcc.*",
    "gds.triangleCount.*",
    "gds.localClusteringCoefficient.*",
)


def neo4j_conf(
    home: Path, bolt_port: int, http_port: int, dist: Distribution, memory: ServerMemory, guide_url: str | None = None
) -> str:
    """Text of ``neo4j.conf``: loopback only, authentication on, allowlisted GDS, the given memory.

    With ``guide_url`` (the guide server's ``http://127.0.0.1:<port>``) the Browser
    applies ``nrag.grass`` and opens ``guide.html`` on login (:func:`~.browser.browser_conf`).
    """
    gds = ",".join(GDS_PROCEDURES)
    lines = [
        "# Written by llm-mri-graphdb; loopback only.",
        "server.default_listen_address=127.0.0.1",
        "server.default_advertised_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{bolt_port}",
        f"server.bolt.advertised_address=127.0.0.1:{bolt_port}",
        f"server.http.listen_address=127.0.0.1:{http_port}",
        f"server.http.advertised_address=127.0.0.1:{http_port}",
        "server.https.enabled=false",
        f"server.directories.plugins={dist.plugins}",
        f"server.directories.data={home / 'data'}",
        f"server.directories.logs={home / 'logs'}",
        f"server.directories.run={home / 'run'}",
        f"server.directories.import={home / 'import'}",
        "dbms.security.auth_enabled=true",
        # CORS: only pages served by this server's own Browser origin may call its HTTP API (Neo4j's default is *)
        f"dbms.security.http_access_control_allow_origin=http://127.0.0.1:{http_port}",
        f"dbms.security.procedures.unrestricted={gds}",
        f"dbms.security.procedures.allowlist={gds}",
        # browser.retain_connection_credentials is not declared by Community 5.26 (strict config
        # validation refuses it); loaders/neo4j/README.md says how to keep the Browser from storing it.
        f"server.memory.heap.initial_size={memory.heap}",
        f"server.memory.heap.max_size={memory.heap}",
        f"server.memory.pagecache.size={memory.pagecache}",
        "dbms.usage_report.enabled=false",
        *(browser_conf(guide_url) if guide_url else ()),
    ]
    return "\n".join(lines) + "\n"
