"""``server.host.stop_process``: the one SIGTERM-then-SIGKILL stop of the guide server and of Neo4j, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llm_mri_graphdb.server.host import stop_process

pytestmark = pytest.mark.unit

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped (its /proc state is Z)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def test_stop_process_ends_a_child_with_sigterm_and_reaps_it():
    child = subprocess.Popen(["sleep", "30"])
    start = time.monotonic()
    assert stop_process(child.pid, lambda: not _gone(child.pid), timeout=10)
    assert time.monotonic() - start < 5  # SIGTERM ended it, no SIGKILL timeout
    with pytest.raises(ChildProcessError):  # already reaped by stop_process: no zombie left
        os.waitpid(child.pid, os.WNOHANG)
    child.returncode = 0  # tell Popen the pid is gone


def test_stop_process_kills_a_child_that_ignores_sigterm():
    child = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"  # the handler is set
    start = time.monotonic()
    assert stop_process(child.pid, lambda: not _gone(child.pid), timeout=0.5)
    assert 0.5 <= time.monotonic() - start < 5  # waited the timeout, then SIGKILL
    assert _gone(child.pid)
    child.returncode = -9
    child.stdout.close()


def test_stop_process_watches_a_process_that_is_not_its_child():
    # A grandchild: its parent shell exits, so waitpid cannot see it and ``is_alive`` must.
    shell = subprocess.run(
        ["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True
    )
    pid = int(shell.stdout)
    calls = []

    def is_alive() -> bool:
        calls.append(1)
        return not _gone(pid)

    assert stop_process(pid, is_alive, timeout=10)
    assert _gone(pid) and calls  # ended by SIGTERM, seen through is_alive


def test_stop_process_is_false_for_a_pid_that_is_gone():
    child = subprocess.Popen(["true"])
    child.wait()
    assert stop_process(child.pid, lambda: True, timeout=1) is False
