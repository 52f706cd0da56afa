"""One local Neo4j server home: configure, start, check, stop, and reset its password.

Bolt and HTTP listen on 127.0.0.1 only, authentication is on, and the home
(config, data, logs, the password file) is private to its owner (mode 0700).
The password is never on a command line: ``set-initial-password`` reads it
from a private argument file. ``server.json`` records the pid, and a pid is
trusted (reported or signalled) only while it is a Java process serving this
very home. The config it writes is :func:`~.config.neo4j_conf`; next to the
server runs the Browser guide's loopback server (:mod:`.browser`), recorded in
``server.json`` too and trusted by the same rule.

``start``, ``stop`` and ``reset-password`` hold an exclusive lock on the home
(``fcntl.flock`` on ``server.lock``) from their first check to their last
write, so two commands on one home run one after the other: a second
``start`` waits and reports the server the first one started. While it waits
for Bolt, ``start`` trusts only its own JVM: alive and listening on the Bolt
port. Children (the JVM, the guide server, the admin tool) never inherit
``NEO4J_PASSWORD``.

Above 400 lines: one class, the server's life cycle, whose steps share its home and state file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError
from ..settings import Neo4jSettings, cache_home
from .browser import GuideServer, serves_guide, start_guide, stop_guide
from .config import JVM_FLAGS, neo4j_conf
from .distribution import Distribution, ensure_distribution
from .host import (
    ServerMemory,
    child_environment,
    java_major_version,
    listens_on,
    port_is_free,
    runs_home,
    server_memory,
    stop_process,
)

__all__ = ["LocalNeo4j", "ServerInfo", "password_command"]

_MIN_JAVA, _MAX_JAVA = 17, 21
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"


def password_command(dist: Distribution, argfile: Path) -> list[str]:
    """The ``set-initial-password`` command line: the password is in ``argfile``, never in the argv.

    Neo4j's admin tool expands ``@file`` arguments (picocli), so the password
    travels in a file only its owner can read.
    """
    return ["java", "-cp", f"{dist.lib}/*", _ADMIN_TOOL, "dbms", "set-initial-password", f"@{argfile}"]


def _quoted(password: str) -> str:
    """``password`` as one quoted picocli argument (backslashes and quotes escaped)."""
    return '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise ServerError("NEO4J_PASSWORD must be at least 8 characters long (Neo4j's minimum).")
    if any(c in password for c in "\r\n\0"):
        raise ServerError("NEO4J_PASSWORD must be one line (no newline or NUL characters).")


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running local server, the memory it was given, and its Browser guide server.

    ``guide_pid`` is None when the guide server recorded for it no longer runs.
    """

    uri: str
    http_url: str
    pid: int
    home: Path
    neo4j_version: str
    gds_version: str
    memory: str = ""
    guide_url: str = ""
    guide_pid: int | None = None

    def settings(self, password: str) -> Neo4jSettings:
        return Neo4jSettings(uri=self.uri, user="neo4j", password=password)


class LocalNeo4j:
    """One local Neo4j server home: configure, start, query and stop it.

    Parameters
    ----------
    home : path, default=cache_home()/"neo4j"/"default"
        Config, data, logs, pid and password live here (mode 0700).
    bolt_port, http_port : int, default=7687, 7474
    heap : str or None, default=None
        JVM heap (``-Xms``/``-Xmx``), e.g. ``"4g"``; GDS projections and write
        transactions live on the heap. ``None`` sizes it from the available RAM
        (:func:`~llm_mri_graphdb.server.host.server_memory`).
    pagecache : str or None, default=None
        Neo4j page cache; ``None`` sizes it from the available RAM.
    distribution : Distribution, optional
        Jars to run (default: :func:`ensure_distribution`).
    """

    def __init__(
        self,
        home: Path | str | None = None,
        *,
        bolt_port: int = 7687,
        http_port: int = 7474,
        heap: str | None = None,
        pagecache: str | None = None,
        distribution: Distribution | None = None,
    ) -> None:
        self.home = Path(home).expanduser().absolute() if home else cache_home() / "neo4j" / "default"
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.heap = heap
        self.pagecache = pagecache
        self._distribution = distribution
        self._lock_fd: int | None = None

    @contextlib.contextmanager
    def locked(self, timeout: float = 600.0):
        """Hold the home's exclusive lock (``server.lock``; re-entrant within this object).

        Another process's ``start``/``stop``/``reset-password`` on the same home
        waits until this one is done; after ``timeout`` seconds of waiting, one
        line names the lock file.
        """
        if self._lock_fd is not None:
            yield
            return
        if not self.home.exists():
            self.home.mkdir(parents=True)
            self.home.chmod(0o700)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children (PEP 446)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ServerError(
                            f"Another llm-mri-graphdb neo4j command has held {self.lock_file} for over "
                            f"{timeout:.0f}s; wait for it to finish (or end it), then try again."
                        ) from None
                    time.sleep(0.1)
            self._lock_fd = fd
            try:
                yield
            finally:
                self._lock_fd = None
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- files ------------------------------------------------------------------------
    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def lock_file(self) -> Path:
        return self.home / "server.lock"

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "neo4j.log"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    def password(self) -> str:
        """The password of this home's ``neo4j`` user (generated on first start)."""
        if not self.password_file.exists():
            raise ServerError(f"No password file at {self.password_file}: start the server first.")
        return self.password_file.read_text().rstrip("\r\n")

    def _write_password(self, password: str) -> None:
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")

    def _state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def configure(self, dist: Distribution, memory: ServerMemory, guide_url: str | None = None) -> Path:
        """Create the home (mode 0700) and write ``conf/neo4j.conf``; returns the config folder.

        ``guide_url`` is the Browser guide server's base URL (see :func:`~.config.neo4j_conf`).
        """
        self._make_home()
        (self.conf_dir / "neo4j.conf").write_text(
            neo4j_conf(self.home, self.bolt_port, self.http_port, dist, memory, guide_url)
        )
        return self.conf_dir

    def _make_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        self.conf_dir.mkdir(exist_ok=True)

    def _guide(self, state: dict) -> GuideServer | None:
        """The recorded guide server while it is this home's, else None."""
        pid = state.get("guide_pid")
        return GuideServer(int(pid), state["guide_url"]) if pid and serves_guide(pid, self.home) else None

    # -- lifecycle ----------------------------------------------------------------------
    def is_running(self) -> bool:
        """Whether ``server.json`` names a live Java process serving this home."""
        state = self._state()
        return bool(state and runs_home(state.get("pid", -1), self.home))

    def info(self) -> ServerInfo | None:
        """How to reach the running server, or None (also when ``server.json`` is stale)."""
        state = self._state()
        if not state or not runs_home(state.get("pid", -1), self.home):
            return None
        guide = self._guide(state)
        return ServerInfo(
            uri=state["uri"],
            http_url=state["http_url"],
            pid=int(state["pid"]),
            home=self.home,
            neo4j_version=state["neo4j_version"],
            gds_version=state["gds_version"],
            memory=state.get("memory", ""),
            guide_url=state.get("guide_url", ""),
            guide_pid=guide.pid if guide else None,
        )

    def check_password(self, password: str | None) -> None:
        """Raise one line when ``password`` is not the one this home was given (nothing starts).

        ``None`` (no ``NEO4J_PASSWORD``) always passes: the home's own password file is used.
        """
        if password is None or not self.password_file.exists() or password == self.password():
            return
        raise ServerError(
            f"NEO4J_PASSWORD is not the password of the Neo4j home {self.home} (that one is in "
            f"{self.password_file}): unset NEO4J_PASSWORD, or run `llm-mri-graphdb neo4j reset-password "
            f"--home {self.home}` to make it the password, or start a fresh --home."
        )

    def start(self, *, password: str | None = None, timeout: float = 180.0) -> ServerInfo:
        """Start the server (installing jars on first use) and wait until Bolt answers.

        ``password`` (default: ``NEO4J_PASSWORD``, else generated) becomes the
        password of a new home; for an existing home it must be the one it has.
        """
        requested = password or os.environ.get("NEO4J_PASSWORD") or None
        with self.locked():
            return self._start(requested, timeout)

    def _start(self, requested: str | None, timeout: float) -> ServerInfo:
        self.check_password(requested)
        running = self.info()  # a start that held the lock before this one may have started it
        if running:
            return running
        self.stop()  # stale: its pid is not this home's server (a guide server left behind is stopped)
        if not self.password_file.exists() and (self.home / "data" / "databases" / "system").exists():
            raise ServerError(
                f"The Neo4j home {self.home} holds a database but no password file: run "
                f"`llm-mri-graphdb neo4j reset-password --home {self.home}`, or start a fresh --home."
            )
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
                raise ServerError(f"Port {port} on 127.0.0.1 is in use: stop what listens there or pass --{name}-port.")
        try:
            memory = server_memory(self.heap, self.pagecache)
        except ValueError as exc:
            raise ServerError(str(exc)) from None
        dist = self._distribution or ensure_distribution()
        self._make_home()
        guide = start_guide(self.home, self.http_port)
        try:
            conf_dir = self.configure(dist, memory, guide.url)
            if not self.password_file.exists():
                self._set_initial_password(dist, requested or secrets.token_urlsafe(18))
            return self._start_java(dist, memory, conf_dir, guide, timeout)
        except BaseException:
            stop_guide(guide.pid, self.home)
            raise

    def _start_java(
        self, dist: Distribution, memory: ServerMemory, conf_dir: Path, guide: GuideServer, timeout: float
    ) -> ServerInfo:
        """Run the server with the Browser pointed at ``guide``; record both pids; wait for Bolt."""
        console = open(self.home / "logs" / "console.log", "ab")
        cmd = [
            "java",
            f"-Xms{memory.heap}",
            f"-Xmx{memory.heap}",
            *JVM_FLAGS,
            "-cp",
            dist.classpath,
            _ENTRY_POINT,
            f"--home-dir={self.home}",
            f"--config-dir={conf_dir}",
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.home,
            start_new_session=True,
            env=child_environment(),
        )
        console.close()
        info = ServerInfo(
            uri=f"bolt://127.0.0.1:{self.bolt_port}",
            http_url=f"http://127.0.0.1:{self.http_port}",
            pid=proc.pid,
            home=self.home,
            neo4j_version=dist.neo4j_version,
            gds_version=dist.gds_version,
            memory=memory.describe(),
            guide_url=guide.url,
            guide_pid=guide.pid,
        )
        self.state_file.write_text(
            json.dumps(
                {
                    "pid": proc.pid,
                    "uri": info.uri,
                    "http_url": info.http_url,
                    "neo4j_version": dist.neo4j_version,
                    "gds_version": dist.gds_version,
                    "memory": info.memory,
                    "guide_url": guide.url,
                    "guide_pid": guide.pid,
                }
            )
        )
        self._wait_for_bolt(proc, info, timeout)
        return info

    def _set_initial_password(self, dist: Distribution, password: str) -> None:
        """Give a home without a system database its first password (read from a private file)."""
        _check_password(password)
        argfile = self.home / ".initial-password"
        fd = os.open(argfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(_quoted(password) + "\n")
            env = child_environment(NEO4J_HOME=str(self.home), NEO4J_CONF=str(self.conf_dir))
            proc = subprocess.run(
                password_command(dist, argfile), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
            )
        finally:
            argfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise ServerError(f"Could not set the initial password: {proc.stderr.strip()[:300]}")
        self._write_password(password)

    def _wait_for_bolt(self, proc: subprocess.Popen, info: ServerInfo, timeout: float) -> None:
        """Wait until ``proc`` (our JVM) listens on the Bolt port and accepts the home's password.

        A server of anyone else answering on that port is never taken for ours.
        """
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, ServiceUnavailable

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.state_file.unlink(missing_ok=True)
                raise ServerError(f"Neo4j exited with status {proc.returncode} while starting; see {self.log_file}.")
            if not listens_on(proc.pid, self.bolt_port):
                time.sleep(0.5)
                continue
            try:
                with GraphDatabase.driver(info.uri, auth=("neo4j", self.password())) as driver:
                    driver.verify_connectivity()
                return
            except AuthError:
                self.stop()
                raise ServerError(
                    f"Neo4j refused the password in {self.password_file}: run `llm-mri-graphdb neo4j "
                    f"reset-password --home {self.home}`, or start a fresh --home."
                ) from None
            except (ServiceUnavailable, OSError):
                time.sleep(0.5)
        self.stop()
        raise ServerError(f"Neo4j did not answer on {info.uri} within {timeout:.0f}s; see {self.log_file}.")

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout``); False if none ran.

        A pid in ``server.json`` that is not this home's Java is never
        signalled: the stale file is removed and False returned. The guide
        server is stopped with it (only while it is this home's).
        """
        if not self.home.is_dir():
            return False
        with self.locked():
            return self._stop(timeout)

    def _stop(self, timeout: float) -> bool:
        state = self._state()
        if not state:
            return False
        if state.get("guide_pid"):
            stop_guide(state["guide_pid"], self.home)
        pid = state.get("pid", -1)
        if not runs_home(pid, self.home):
            self.state_file.unlink(missing_ok=True)
            return False
        pid = int(pid)
        stopped = stop_process(pid, lambda: runs_home(pid, self.home), timeout=timeout, poll=0.2)
        self.state_file.unlink(missing_ok=True)
        return stopped

    def reset_password(self, password: str | None = None) -> tuple[str, bool]:
        """Make ``password`` (default: ``NEO4J_PASSWORD``, else generated) this home's password.

        A running server whose stored password still works changes it in place
        (``ALTER CURRENT USER``). Otherwise the server is stopped, its ``system``
        database (users and the database list; never the ``neo4j`` data) is
        removed, and the new password is set as the initial one; the next start
        recreates ``system``. Returns ``(password, restart_needed)``.
        """
        new = password or os.environ.get("NEO4J_PASSWORD") or secrets.token_urlsafe(18)
        _check_password(new)
        if not (self.conf_dir / "neo4j.conf").exists():
            raise ServerError(f"{self.home} is not a Neo4j home started by llm-mri-graphdb (no conf/neo4j.conf).")
        with self.locked():
            return self._reset_password(new)

    def _reset_password(self, new: str) -> tuple[str, bool]:
        if self.info() is not None and self.password_file.exists() and self._alter_password(new):
            self._write_password(new)
            return new, False
        self.stop()
        data = self.home / "data"
        if not (self.conf_dir / "neo4j.conf").exists():
            raise ServerError(f"{self.home} is not a Neo4j home started by llm-mri-graphdb (no conf/neo4j.conf).")
        for sub in ("databases/system", "transactions/system"):
            shutil.rmtree(data / sub, ignore_errors=True)
        (data / "dbms" / "auth.ini").unlink(missing_ok=True)
        self.password_file.unlink(missing_ok=True)
        self._set_initial_password(self._distribution or ensure_distribution(), new)
        return new, True

    def _alter_password(self, new: str) -> bool:
        """Change the password on the running server; False when the stored one is refused (or it stopped)."""
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError

        from ..store import cypher

        info = self.info()
        if info is None:  # stopped since the caller looked
            return False
        try:
            with GraphDatabase.driver(info.uri, auth=("neo4j", self.password())) as driver:
                driver.execute_query(
                    cypher.load("update_current_user_password"), old=self.password(), new=new, database_="system"
                )
        except AuthError:
            return False
        return True

    def versions(self) -> dict[str, str]:
        """Neo4j version, edition and GDS version (``"not installed"``) as the running server reports them."""
        from neo4j import GraphDatabase
        from neo4j.exceptions import ClientError

        from ..store import cypher

        info = self.info()
        if info is None:
            raise ServerError(f"No server is running from {self.home}.")
        with GraphDatabase.driver(info.uri, auth=("neo4j", self.password())) as driver:
            records, _, _ = driver.execute_query(cypher.load("read_server_versions"))
            row = records[0]
            try:
                gds = driver.execute_query(cypher.load("read_gds_version"))[0][0]["version"]
            except ClientError:
                gds = "not installed"
        return {"neo4j": row["neo4j"], "edition": row["edition"], "gds": gds}

    def settings(self) -> Neo4jSettings:
        """Connection settings of this running server."""
        info = self.info()
        if info is None:
            raise ServerError(f"No server is running from {self.home}: run `llm-mri-graphdb neo4j start`.")
        return info.settings(self.password())
