"""What the machine offers a local Neo4j: Java, free loopback ports, memory, and whose process a pid is."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError

__all__ = [
    "java_major_version",
    "port_is_free",
    "free_port",
    "ServerMemory",
    "server_memory",
    "parse_size",
    "format_size",
    "runs_home",
    "stop_process",
    "child_environment",
    "listens_on",
]

_MIB = 1 << 20
_GIB = 1 << 30
_SIZE = re.compile(r"^(\d+)([kKmMgG]?)$")
_UNITS = {"": 1, "k": 1 << 10, "m": _MIB, "g": _GIB}


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
    """Whether nothing listens on ``host:port`` (TCP)."""
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


def parse_size(text: str) -> int:
    """Bytes of a JVM-style size (``512m``, ``4g``, ``1048576``); ValueError names the accepted forms.

    >>> parse_size("512m"), parse_size("2G")
    (536870912, 2147483648)
    """
    match = _SIZE.match(str(text).strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"memory size must look like 512m or 4g; got {text!r}.")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def format_size(n_bytes: int) -> str:
    """A JVM size string: whole gibibytes as ``Ng``, else mebibytes as ``Nm``.

    >>> format_size(4 << 30), format_size(1536 << 20)
    ('4g', '1536m')
    """
    return f"{n_bytes // _GIB}g" if n_bytes % _GIB == 0 else f"{max(1, n_bytes // _MIB)}m"


@dataclass(frozen=True)
class ServerMemory:
    """Heap and page cache of a local server, and the available RAM they were sized from."""

    heap: str
    pagecache: str
    available: int | None = None

    def describe(self) -> str:
        """``heap 2g, page cache 2g (sized from 9.8 GiB available RAM)``, or ``(as given)``."""
        source = f"sized from {self.available / _GIB:.1f} GiB available RAM" if self.available else "as given"
        return f"heap {self.heap}, page cache {self.pagecache} ({source})"


def _share(available: int, floor: int, cap: int) -> int:
    """A quarter of ``available``, within ``[floor, cap]``, rounded down to 128 MiB."""
    quarter = max(floor, min(cap, available // 4))
    return max(floor, quarter - quarter % (128 * _MIB))


def server_memory(
    heap: str | None = None, pagecache: str | None = None, *, available: int | None = None
) -> ServerMemory:
    """Heap and page cache for a server on this machine; given values win.

    Each unset one takes a quarter of the available RAM, rounded down to
    128 MiB: heap between 512 MiB and 8 GiB (GDS projections and write
    transactions live there), page cache between 256 MiB and 8 GiB (the
    store's pages). Half the RAM stays for the OS, Python and the model.

    >>> server_memory(available=16 << 30)
    ServerMemory(heap='4g', pagecache='4g', available=17179869184)
    >>> server_memory(available=1 << 30).heap, server_memory("1g", available=64 << 30).pagecache
    ('512m', '8g')
    """
    for name, value in (("heap", heap), ("pagecache", pagecache)):
        if value is not None:
            try:
                parse_size(value)
            except ValueError as exc:
                raise ValueError(f"--{name}: {exc}") from None
    if heap is not None and pagecache is not None:
        return ServerMemory(heap, pagecache)
    if available is None:
        import psutil

        available = int(psutil.virtual_memory().available)
    return ServerMemory(
        heap=heap or format_size(_share(available, 512 * _MIB, 8 * _GIB)),
        pagecache=pagecache or format_size(_share(available, 256 * _MIB, 8 * _GIB)),
        available=available,
    )


def runs_home(pid: int, home: Path) -> bool:
    """Whether ``pid`` is a live Java process serving the Neo4j home ``home``.

    Checks the process's command line for ``--home-dir=<home>``; a pid reused
    by any other process (or one we may not inspect) is not ours.
    """
    import psutil

    try:
        cmdline = psutil.Process(int(pid)).cmdline()
        if psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.Error, ValueError, TypeError, OSError):
        return False
    return bool(cmdline) and Path(cmdline[0]).name.startswith("java") and f"--home-dir={home}" in cmdline


def stop_process(pid: int, is_alive: Callable[[], bool], *, timeout: float, poll: float = 0.05) -> bool:
    """Stop ``pid``: SIGTERM, wait up to ``timeout`` seconds for it to end, then SIGKILL.

    Parameters
    ----------
    pid : int
        The process; the caller has checked that it is the one it means to stop.
    is_alive : callable
        Whether the process is still the one we mean (and not a zombie). It ends the wait for a
        process that is not our child, which ``waitpid`` cannot reap; a child is reaped.
    timeout : float
        Seconds between SIGTERM and SIGKILL.
    poll : float, default=0.05
        Seconds between checks.

    Returns
    -------
    stopped : bool
        False when ``pid`` was gone before the SIGTERM, else True (ended by SIGTERM or killed).
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:  # not our child: watch it instead
            if not is_alive():
                return True
        time.sleep(poll)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)  # a child: reap it, so no zombie is left
    return True


#: Variables a child process (the JVM, the guide server, the admin tool) never inherits.
SECRET_VARIABLES = ("NEO4J_PASSWORD",)


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment without :data:`SECRET_VARIABLES`, plus ``extra``: what children get."""
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    env.update(extra)
    return env


def listens_on(pid: int, port: int) -> bool:
    """Whether the live process ``pid`` holds a listening TCP socket on ``port`` (IPv4 or IPv6)."""
    import psutil

    try:
        connections = psutil.Process(int(pid)).net_connections(kind="tcp")
    except (psutil.Error, ValueError, TypeError, OSError):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)
