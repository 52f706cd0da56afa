"""Output files written whole or not at all, and output folders checked before the expensive work.

Every report, figure, ``metrics.json``, export and comparison page goes
through :func:`write_atomic`: the bytes go to a temporary file in the same
folder, which is flushed and renamed over the target, so a full disk or a
crash leaves the previous file (or none), never a truncated one that looks
whole. :func:`check_writable` proves a folder takes a file before a model is
loaded or a run stored.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError

__all__ = ["check_writable", "write_atomic"]


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def write_atomic(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` through a temporary file in its folder and a rename; returns the path.

    Raises
    ------
    OutputError
        One line naming the file and the cause (``No space left on device``,
        ``Permission denied``, ...); the temporary file is removed and an
        existing ``path`` is left as it was.
    """
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(path, _cause(exc)) from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(folder: str | os.PathLike, option: str) -> Path:
    """Prove ``folder`` takes a file (creating it, and the folders above it, for the test only); one line naming
    ``option`` otherwise.

    Parameters
    ----------
    folder : path
    option : str
        The command-line option that named the folder (``--out``, ``--cache``), for the message.
    """
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first; removed again after
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise OutputError(
            folder,
            _cause(exc),
            f"{option} {folder} is not writable ({_cause(exc)}); pass another {option} or make the folder writable.",
        ) from exc
    finally:
        for path in created:  # a failure later must not leave empty folders behind
            try:
                path.rmdir()
            except OSError:
                break
    return folder
