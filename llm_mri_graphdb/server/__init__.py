"""A local Neo4j 5.26 LTS Community server with Graph Data Science, without Docker.

- :mod:`.distribution`: the server, Browser and open GDS jars, resolved once
  from Maven Central through the Maven project files in ``loaders/neo4j/``.
- :mod:`.config`: the ``neo4j.conf`` it writes and the allowlisted GDS procedures.
- :mod:`.host`: Java, free loopback ports, memory sizing, and whose process a pid is.
- :mod:`.guide`, :mod:`.browser`: the loopback server of the Browser guide and
  style, and the Browser settings that open them on login.
- :mod:`.local`: :class:`LocalNeo4j`, one server home (config, data, logs,
  password file): the CLI uses ``cache_home()/neo4j/default``, tests a temporary one.
"""

from __future__ import annotations

from .browser import GuideServer, browser_conf, browser_folder, serves_guide, start_guide, stop_guide
from .config import GDS_PROCEDURES, neo4j_conf
from .distribution import Distribution, ensure_distribution, mvn_copy
from .host import (
    ServerMemory,
    format_size,
    free_port,
    java_major_version,
    parse_size,
    port_is_free,
    runs_home,
    server_memory,
)
from .local import LocalNeo4j, ServerInfo, password_command

__all__ = [
    "LocalNeo4j",
    "ServerInfo",
    "Distribution",
    "ensure_distribution",
    "mvn_copy",
    "GDS_PROCEDURES",
    "neo4j_conf",
    "GuideServer",
    "browser_conf",
    "browser_folder",
    "serves_guide",
    "start_guide",
    "stop_guide",
    "password_command",
    "ServerMemory",
    "server_memory",
    "parse_size",
    "format_size",
    "java_major_version",
    "port_is_free",
    "free_port",
    "runs_home",
]
