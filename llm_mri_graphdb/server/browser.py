"""The Neo4j Browser of a local server: its guide server, and the settings that open the guide on login.

``neo4j start`` runs :mod:`.guide` as a detached process serving the package's
``cypher/browser/guide.html`` and ``nrag.grass`` on a free loopback port, and
writes :func:`browser_conf` into ``neo4j.conf``: the Browser (5.24, bundled
with Neo4j 5.26) reads ``browser.post_connect_cmd`` after each login and runs
its ``;``-separated commands (each prefixed with ``:``), and fetches remote
guides and styles only from hosts named in
``browser.remote_content_hostname_whitelist`` (its 5.26 name; the Browser
compares the URL's host name, not the port). ``client.allow_telemetry=false``
keeps the Browser of a loopback-only server from reporting usage. The guide process is trusted
(reported or signalled) only while its command line is this package's guide
script serving this very home, like the server's own pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError
from ..settings import package_folder
from .guide import LOOPBACK
from .host import child_environment, stop_process

__all__ = ["GuideServer", "browser_conf", "browser_folder", "guides_of", "serves_guide", "start_guide", "stop_guide"]

GUIDE_SCRIPT = Path(__file__).with_name("guide.py")
#: Hosts the Browser may fetch guides and styles from: Neo4j 5.26's default plus the guide server's.
_DEFAULT_REMOTE_HOSTS = ("guides.neo4j.com", "localhost")


def browser_folder() -> Path:
    """The package's ``cypher/browser`` folder (guide and style), from a checkout or an installed wheel."""
    return package_folder("cypher") / "browser"


def browser_conf(guide_url: str) -> list[str]:
    """``neo4j.conf`` lines that apply the style and open the guide served at ``guide_url`` on login.

    >>> browser_conf("http://127.0.0.1:8001")[1]
    'browser.post_connect_cmd=style http://127.0.0.1:8001/nrag.grass; play http://127.0.0.1:8001/guide.html'
    """
    hosts = ",".join((*_DEFAULT_REMOTE_HOSTS, LOOPBACK))
    return [
        f"browser.remote_content_hostname_whitelist={hosts}",
        # style first: frames stack newest on top, so the guide is the frame the user sees
        f"browser.post_connect_cmd=style {guide_url}/nrag.grass; play {guide_url}/guide.html",
        "client.allow_telemetry=false",
    ]


@dataclass(frozen=True)
class GuideServer:
    """A running guide server: its pid and base URL (``http://127.0.0.1:<port>``)."""

    pid: int
    url: str


def _home_arg(home: Path) -> str:
    return f"--home={home}"


def serves_guide(pid: int, home: Path) -> bool:
    """Whether ``pid`` is a live guide server (this package's guide script) of the Neo4j home ``home``."""
    import psutil

    try:
        process = psutil.Process(int(pid))
        cmdline = process.cmdline()
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.Error, ValueError, TypeError, OSError):
        return False
    script = os.path.join("llm_mri_graphdb", "server", "guide.py")
    return any(arg.endswith(script) for arg in cmdline[1:3]) and _home_arg(home) in cmdline


def guides_of(home: Path) -> list[int]:
    """Pids of every live guide server of ``home`` (recorded in ``server.json`` or not)."""
    import psutil

    pids = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if _home_arg(home) in cmdline and serves_guide(process.info["pid"], home):
            pids.append(process.info["pid"])
    return pids


def start_guide(home: Path, http_port: int, *, port: int = 0, timeout: float = 15.0) -> GuideServer:
    """Start the guide server of ``home`` for the Browser on ``http_port``, detached; wait until it listens.

    ``port`` 0 takes a free one (chosen by the server itself, so no other
    process can take it in between). Its output goes to ``home/logs/guide.log``.
    A guide server of ``home`` still running (one left by a crash) is stopped
    first: a home has one guide server. The caller holds the home's lock
    (:class:`~.local.LocalNeo4j`), so no other start shares the port file.
    """
    folder = browser_folder()
    missing = [name for name in ("guide.html", "nrag.grass") if not (folder / name).is_file()]
    if missing:
        raise ServerError(f"{folder} lacks {', '.join(missing)}: the package is incomplete, reinstall llm-mri-graphdb.")
    (home / "logs").mkdir(parents=True, exist_ok=True)
    (home / "run").mkdir(exist_ok=True)
    for stray in guides_of(home):
        stop_guide(stray, home)
    port_file = home / "run" / "guide.port"
    port_file.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-I",
        str(GUIDE_SCRIPT),
        _home_arg(home),
        f"--folder={folder}",
        f"--browser-port={http_port}",
        f"--port={port}",
        f"--port-file={port_file}",
    ]
    with open(home / "logs" / "guide.log", "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home,
            start_new_session=True,
            env=child_environment(),
        )
    deadline = time.monotonic() + timeout
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            where = f"port {port} on {LOOPBACK} may be in use; " if port else ""
            raise ServerError(f"The Browser guide server did not start ({where}see {home / 'logs' / 'guide.log'}).")
        time.sleep(0.05)
    return GuideServer(proc.pid, f"http://{LOOPBACK}:{int(port_file.read_text())}")


def stop_guide(pid: int, home: Path, timeout: float = 10.0) -> bool:
    """Stop the guide server ``pid`` of ``home`` (SIGTERM, then SIGKILL); False when it is not one."""
    if not serves_guide(pid, home):
        return False
    pid = int(pid)
    return stop_process(pid, lambda: serves_guide(pid, home), timeout=timeout)
