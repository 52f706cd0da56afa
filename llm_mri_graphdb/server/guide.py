"""The loopback HTTP server of the Neo4j Browser guide: two files, readable by the Browser only.

Neo4j has no static file server, and the Browser fetches ``:play URL`` and
``:style URL`` with ``fetch`` from its own origin, with ``pragma`` and
``cache-control`` headers, so the guide's server must answer a CORS preflight.
This one serves exactly :data:`GUIDE_FILES` from one folder, binds 127.0.0.1
only, and allows the origins of the local Browser (``http://127.0.0.1:<http>``
and ``http://localhost:<http>``) and no other: any other path is 404, any other
origin gets no ``Access-Control-Allow-Origin``.

The guide holds no copy of a library query: a block
``<pre class="code runnable" data-query="NAME"></pre>`` is filled on every
request with ``cypher/queries/NAME.cypher`` (:func:`render_guide`), so the
Browser runs exactly what ``llm-mri-graphdb query NAME`` runs.

Standard library only: ``neo4j start`` runs this file as a detached script
(``python -I guide.py --home H ...``, see :mod:`.browser`), so it needs nothing
from the package's import path.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["GUIDE_FILES", "LOOPBACK", "browser_origins", "library_body", "make_server", "main", "render_guide"]

#: The files served, by URL path, with their content type.
GUIDE_FILES = {
    "/guide.html": "text/html; charset=utf-8",
    "/nrag.grass": "text/plain; charset=utf-8",
}
LOOPBACK = "127.0.0.1"
# What the Browser's guide fetch sends (neo4j-browser fetchRemoteGuideAsync): not CORS-safelisted.
_PREFLIGHT_HEADERS = "cache-control, pragma"


#: An empty runnable block the server fills with the library query NAME.
_LIBRARY_BLOCK = re.compile(r'(<pre class="code runnable" data-query="([a-z][a-z0-9_]*)">)</pre>')


def library_body(path: Path) -> str:
    """A library query as the guide shows it: without its header (the comment lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("//")).strip()


def render_guide(folder: Path) -> bytes:
    """``folder/guide.html`` with each block marked ``data-query="NAME"`` holding ``../queries/NAME.cypher``.

    ``folder`` is the package's ``cypher/browser``; an unknown NAME raises ``OSError`` (the file is read).
    """
    guide = (folder / "guide.html").read_text(encoding="utf-8")
    queries = folder.parent / "queries"

    def fill(block: re.Match[str]) -> str:
        return block.group(1) + html.escape(library_body(queries / f"{block.group(2)}.cypher"), quote=False) + "</pre>"

    return _LIBRARY_BLOCK.sub(fill, guide).encode("utf-8")


def browser_origins(http_port: int) -> frozenset[str]:
    """Origins of the local Neo4j Browser on ``http_port``: the only ones allowed to read the files."""
    return frozenset({f"http://{LOOPBACK}:{http_port}", f"http://localhost:{http_port}"})


class GuideHandler(BaseHTTPRequestHandler):
    """GET/HEAD of :data:`GUIDE_FILES` from ``folder``; CORS for ``origins`` only; 404 for anything else."""

    folder: Path
    origins: frozenset[str]
    server_version = "llm-mri-graphdb-guide"

    def version_string(self) -> str:
        return self.server_version

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        if origin in self.origins:
            self.send_header("Access-Control-Allow-Origin", origin)
        self.send_header("Vary", "Origin")

    def _file(self) -> tuple[Path, str] | None:
        path = urlsplit(self.path).path
        return (self.folder / path.lstrip("/"), GUIDE_FILES[path]) if path in GUIDE_FILES else None

    def _body(self, path: Path) -> bytes:
        return render_guide(self.folder) if path.name == "guide.html" else path.read_bytes()

    def _answer(self, with_body: bool) -> None:
        found = self._file()
        try:
            body = self._body(found[0]) if found else None
        except OSError:
            body = None
        if found is None or body is None:
            self.send_error(HTTPStatus.NOT_FOUND, "only /guide.html and /nrag.grass are served here")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", found[1])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self._cors()
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def do_OPTIONS(self) -> None:  # noqa: N802
        """The CORS preflight: 204 with the allowed method and headers, for an allowed origin only."""
        if self._file() is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        if self.headers.get("Origin") in self.origins:
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD")
            self.send_header("Access-Control-Allow-Headers", _PREFLIGHT_HEADERS)
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()


def make_server(folder: Path | str, http_port: int, port: int = 0) -> ThreadingHTTPServer:
    """A server on ``127.0.0.1:port`` (0: any free port) for the Browser on ``http_port``; not yet serving.

    Parameters
    ----------
    folder : path
        Holds ``guide.html`` and ``nrag.grass`` (the package's ``cypher/browser``).
    http_port : int
        The Neo4j Browser's HTTP port: its origins are the only ones allowed.
    port : int, default=0
        Port to bind on 127.0.0.1.
    """
    handler = type(
        "Handler", (GuideHandler,), {"folder": Path(folder).absolute(), "origins": browser_origins(http_port)}
    )
    return ThreadingHTTPServer((LOOPBACK, port), handler)


def main(argv: list[str] | None = None) -> None:
    """Serve until terminated; the bound port is written to ``--port-file`` (atomically) once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="the Neo4j home this server belongs to (its identity)")
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--browser-port", required=True, type=int)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True, type=Path)
    args = parser.parse_args(argv)
    server = make_server(args.folder, args.browser_port, args.port)
    partial = args.port_file.with_name(args.port_file.name + ".partial")
    partial.write_text(f"{server.server_address[1]}\n")
    os.replace(partial, args.port_file)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
