"""A local Neo4j 5.26 LTS Community server with Graph Data Science, without Docker.

The jars come from Maven Central through the two Maven project files in
``loaders/neo4j/`` (server + Browser, and the open GDS modules). They are
resolved once into ``cache_home()/neo4j-dist/<versions>/`` and reused, so a
second start needs no network. Each server *home* (config, data, logs, the
password file) is a folder of its own: the CLI uses
``cache_home()/neo4j/default``, tests use a temporary one.

Bolt and HTTP listen on 127.0.0.1 only; authentication is on, with a generated
password kept in ``<home>/password`` (mode 0600) unless ``NEO4J_PASSWORD`` is
given; ``gds.*`` procedures are allowed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .errors import ServerError
from .settings import Neo4jSettings, cache_home, project_root

__all__ = ["LocalNeo4j", "ServerInfo", "Distribution", "ensure_distribution", "java_major_version", "port_is_free"]

_POMS = project_root() / "loaders" / "neo4j"
_MIN_JAVA, _MAX_JAVA = 17, 21
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"
# The JVM flags Neo4j's own launcher passes (server.jvm.additional in its default neo4j.conf).
_JVM_FLAGS = (
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


def _pom_property(pom: Path, name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find(f"m:properties/m:{name}", ns)
    if node is None or not node.text:
        raise ServerError(f"{pom} has no <{name}> property.")
    return node.text.strip()


def java_major_version(java: str = "java") -> int:
    """Major version of the ``java`` on PATH; raises ServerError when there is none."""
    if shutil.which(java) is None:
        raise ServerError(
            "Java was not found on PATH: Neo4j 5.26 needs Java 17 or 21 "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)."
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise ServerError(f"Could not read the Java version from: {out.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def _mvn_copy(pom: Path, out: Path) -> None:
    if shutil.which("mvn") is None:
        raise ServerError("Maven (mvn) was not found on PATH: it fetches Neo4j from Maven Central (apt-get install maven).")
    cmd = ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
           f"-DoutputDirectory={out}", "-Dmdep.prependGroupId=true"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [l for l in (proc.stdout + proc.stderr).splitlines() if "ERROR" in l] or [proc.stderr.strip()]
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
    neo4j_version = _pom_property(_POMS / "server" / "pom.xml", "neo4j.version")
    gds_version = _pom_property(_POMS / "gds" / "pom.xml", "gds.version")
    base = root or cache_home() / "neo4j-dist"
    target = base / f"neo4j-{neo4j_version}-gds-{gds_version}"
    if (target / "distribution.json").exists():
        return Distribution(target, neo4j_version, gds_version)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
    try:
        _mvn_copy(_POMS / "server" / "pom.xml", staging / "lib")
        _mvn_copy(_POMS / "gds" / "pom.xml", staging / "gds-all")
        shipped = {_artifact_key(j) for j in (staging / "lib").glob("*.jar")}
        (staging / "plugins").mkdir()
        for jar in sorted((staging / "gds-all").glob("*.jar")):
            if _artifact_key(jar) not in shipped:
                jar.rename(staging / "plugins" / jar.name)
        shutil.rmtree(staging / "gds-all")
        (staging / "distribution.json").write_text(
            json.dumps({"neo4j": neo4j_version, "gds": gds_version}, indent=2)
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Distribution(target, neo4j_version, gds_version)


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running local server."""

    uri: str
    http_url: str
    pid: int
    home: Path
    neo4j_version: str
    gds_version: str

    def settings(self, password: str) -> Neo4jSettings:
        return Neo4jSettings(uri=self.uri, user="neo4j", password=password)


class LocalNeo4j:
    """One local Neo4j server home: configure, start, query and stop it.

    Parameters
    ----------
    home : path, default=cache_home()/"neo4j"/"default"
        Config, data, logs, pid and password live here.
    bolt_port, http_port : int, default=7687, 7474
    heap : str, default="1g"
        JVM heap (-Xms/-Xmx); GDS projections live on the heap.
    pagecache : str, default="256m"
    """

    def __init__(self, home: Path | str | None = None, *, bolt_port: int = 7687, http_port: int = 7474,
                 heap: str = "1g", pagecache: str = "256m", distribution: Distribution | None = None) -> None:
        self.home = Path(home) if home else cache_home() / "neo4j" / "default"
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.heap = heap
        self.pagecache = pagecache
        self._distribution = distribution

    # -- files ------------------------------------------------------------------------
    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "neo4j.log"

    def password(self) -> str:
        """The password of this home's ``neo4j`` user (generated on first start)."""
        if not self.password_file.exists():
            raise ServerError(f"No password file at {self.password_file}: start the server first.")
        return self.password_file.read_text().strip()

    def _state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _write_config(self, dist: Distribution) -> Path:
        conf_dir = self.home / "conf"
        conf_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Written by llm-mri-graphdb; loopback only.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{self.bolt_port}",
            f"server.bolt.advertised_address=127.0.0.1:{self.bolt_port}",
            f"server.http.listen_address=127.0.0.1:{self.http_port}",
            f"server.http.advertised_address=127.0.0.1:{self.http_port}",
            "server.https.enabled=false",
            f"server.directories.plugins={dist.plugins}",
            f"server.directories.data={self.home / 'data'}",
            f"server.directories.logs={self.home / 'logs'}",
            f"server.directories.run={self.home / 'run'}",
            f"server.directories.import={self.home / 'import'}",
            "dbms.security.auth_enabled=true",
            "dbms.security.procedures.unrestricted=gds.*",
            "dbms.security.procedures.allowlist=gds.*",
            f"server.memory.heap.initial_size={self.heap}",
            f"server.memory.heap.max_size={self.heap}",
            f"server.memory.pagecache.size={self.pagecache}",
            "dbms.usage_report.enabled=false",
        ]
        (conf_dir / "neo4j.conf").write_text("\n".join(lines) + "\n")
        return conf_dir

    # -- lifecycle ----------------------------------------------------------------------
    def is_running(self) -> bool:
        state = self._state()
        if not state:
            return False
        try:
            os.kill(int(state["pid"]), 0)
        except (OSError, ValueError, KeyError):
            return False
        return True

    def info(self) -> ServerInfo | None:
        state = self._state()
        if not state or not self.is_running():
            return None
        return ServerInfo(
            uri=state["uri"], http_url=state["http_url"], pid=int(state["pid"]), home=self.home,
            neo4j_version=state["neo4j_version"], gds_version=state["gds_version"],
        )

    def start(self, *, password: str | None = None, timeout: float = 180.0) -> ServerInfo:
        """Start the server (installing jars on first use) and wait until Bolt answers."""
        running = self.info()
        if running:
            return running
        major = java_major_version()
        if major < _MIN_JAVA:
            raise ServerError(
                f"Neo4j 5.26 needs Java {_MIN_JAVA} or {_MAX_JAVA}; found Java {major}. "
                "Install openjdk-17-jre-headless or put a Java 17/21 first on PATH."
            )
        if major > _MAX_JAVA:
            warnings.warn(f"Neo4j 5.26 supports Java {_MIN_JAVA} and {_MAX_JAVA}; found Java {major}.", stacklevel=2)
        for name, port in (("bolt", self.bolt_port), ("http", self.http_port)):
            if not port_is_free(port):
                raise ServerError(
                    f"Port {port} on 127.0.0.1 is in use: stop what listens there or pass --{name}-port."
                )
        dist = self._distribution or ensure_distribution()
        self.home.mkdir(parents=True, exist_ok=True)
        conf_dir = self._write_config(dist)
        self._set_password(dist, conf_dir, password)
        (self.home / "logs").mkdir(exist_ok=True)
        console = open(self.home / "logs" / "console.log", "ab")
        cmd = ["java", f"-Xms{self.heap}", f"-Xmx{self.heap}", *_JVM_FLAGS, "-cp", dist.classpath,
               _ENTRY_POINT, f"--home-dir={self.home}", f"--config-dir={conf_dir}"]
        proc = subprocess.Popen(cmd, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.home, start_new_session=True)
        console.close()
        info = ServerInfo(
            uri=f"bolt://127.0.0.1:{self.bolt_port}", http_url=f"http://127.0.0.1:{self.http_port}",
            pid=proc.pid, home=self.home, neo4j_version=dist.neo4j_version, gds_version=dist.gds_version,
        )
        self.state_file.write_text(json.dumps({
            "pid": proc.pid, "uri": info.uri, "http_url": info.http_url,
            "neo4j_version": dist.neo4j_version, "gds_version": dist.gds_version,
        }))
        self._wait_for_bolt(proc, info, timeout)
        return info

    def _set_password(self, dist: Distribution, conf_dir: Path, password: str | None) -> None:
        """Set the initial password before the first start (later ones keep theirs)."""
        if (self.home / "data" / "dbms").exists() and self.password_file.exists():
            return
        chosen = password or os.environ.get("NEO4J_PASSWORD") or secrets.token_urlsafe(18)
        if len(chosen) < 8:
            raise ServerError("NEO4J_PASSWORD must be at least 8 characters long (Neo4j's minimum).")
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(conf_dir)}
        proc = subprocess.run(
            ["java", "-cp", f"{dist.lib}/*", _ADMIN_TOOL, "dbms", "set-initial-password", chosen],
            capture_output=True, text=True, env=env,
        )
        if proc.returncode != 0:
            raise ServerError(f"Could not set the initial password: {proc.stderr.strip()[:300]}")
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(chosen + "\n")

    def _wait_for_bolt(self, proc: subprocess.Popen, info: ServerInfo, timeout: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, ServiceUnavailable

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.state_file.unlink(missing_ok=True)
                raise ServerError(f"Neo4j exited with status {proc.returncode} while starting; see {self.log_file}.")
            try:
                with GraphDatabase.driver(info.uri, auth=("neo4j", self.password())) as driver:
                    driver.verify_connectivity()
                return
            except AuthError as exc:
                self.stop()
                raise ServerError(f"Neo4j refused the stored password in {self.password_file}: {exc}") from exc
            except (ServiceUnavailable, OSError):
                time.sleep(0.5)
        self.stop()
        raise ServerError(f"Neo4j did not answer on {info.uri} within {timeout:.0f}s; see {self.log_file}.")

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout``); False if none ran."""
        state = self._state()
        if not state:
            return False
        pid = int(state["pid"])
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            self.state_file.unlink(missing_ok=True)
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                finished, _ = os.waitpid(pid, os.WNOHANG)
                if finished:
                    break
            except ChildProcessError:  # not our child: poll its existence
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.state_file.unlink(missing_ok=True)
        return True

    def versions(self) -> dict[str, str]:
        """Neo4j and GDS versions as the running server reports them."""
        from neo4j import GraphDatabase

        info = self.info()
        if info is None:
            raise ServerError(f"No server is running from {self.home}.")
        with GraphDatabase.driver(info.uri, auth=("neo4j", self.password())) as driver:
            records, _, _ = driver.execute_query(
                "CALL dbms.components() YIELD name, versions, edition "
                "RETURN versions[0] AS neo4j, edition, gds.version() AS gds"
            )
        row = records[0]
        return {"neo4j": row["neo4j"], "edition": row["edition"], "gds": row["gds"]}

    def settings(self) -> Neo4jSettings:
        """Connection settings of this running server."""
        info = self.info()
        if info is None:
            raise ServerError(f"No server is running from {self.home}: run `llm-mri-graphdb neo4j start`.")
        return info.settings(self.password())
