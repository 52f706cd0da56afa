"""The one loader of Cypher text: statements live in ``cypher/<verb>_<noun>.cypher``.

Queries are never assembled from strings in Python; every value travels as a
``$parameter``. The named query library in ``cypher/queries/`` is listed,
loaded and checked for parameters here as well.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from llm_mri_graphdb.errors import CypherFileMissing, QueryNotFound
from llm_mri_graphdb.settings import package_folder
from llm_mri_graphdb.values import INT64_MAX

__all__ = [
    "cypher_dir",
    "load",
    "statements",
    "query_names",
    "load_query",
    "query_parameters",
    "query_spec",
    "query_defaults",
    "query_minimums",
    "bind_parameters",
    "parse_value",
    "parse_params",
]

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_SPEC = re.compile(r"^//\s*\$([A-Za-z_][A-Za-z0-9_]*)\s+([a-z|]+)\b(?:.*?\(default:\s*(.+?)\))?.*$")
_MIN = re.compile(r"\(min:\s*(-?\d+)\)")
_TYPES = {"string": str, "int": int, "float": float, "bool": bool, "list": list}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NO_DEFAULT = object()


def cypher_dir() -> Path:
    """The ``cypher/`` folder: shipped in the wheel, or at the top of a source checkout."""
    return package_folder("cypher")


def _read(path: Path, what: str) -> str:
    """Text of a shipped Cypher file; :class:`~llm_mri_graphdb.errors.CypherFileMissing` names it."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CypherFileMissing(
            f"{what} is missing: cannot read {path} ({type(exc).__name__}); "
            "the package is incomplete, reinstall llm-mri-graphdb."
        ) from exc


@cache
def load(name: str) -> str:
    """Text of ``cypher/<name>.cypher``.

    Raises :class:`~llm_mri_graphdb.errors.CypherFileMissing` (not ``OSError``)
    naming the file when it is not there.

    >>> "UNWIND $rows" in load("create_regions")
    True
    """
    if not _NAME.match(name):
        raise ValueError(f"name must be lower_snake_case; got {name!r}.")
    return _read(cypher_dir() / f"{name}.cypher", f"Cypher statement {name!r}")


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file (``schema``), split on ``;`` at line ends."""
    body = _strip_comments(load(name))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def query_names() -> list[str]:
    """Names of the shipped queries (``cypher/queries/*.cypher``), sorted.

    Raises :class:`~llm_mri_graphdb.errors.CypherFileMissing` when the library
    folder itself is missing (an install without its package data).
    """
    folder = cypher_dir() / "queries"
    if not folder.is_dir():
        raise CypherFileMissing(f"the query library is missing: no folder {folder}; reinstall llm-mri-graphdb.")
    return sorted(p.stem for p in folder.glob("*.cypher"))


#: Old query names still answered, with a warning the first time: ``{old: new}``.
QUERY_ALIASES = {"circuits": "cross_layer_communities"}


@cache
def load_query(name: str) -> str:
    """Text of the library query ``name``; :class:`~llm_mri_graphdb.errors.QueryNotFound` lists the others.

    A name of :data:`QUERY_ALIASES` gives its new query (a FutureWarning once).
    """
    if name in QUERY_ALIASES:
        import warnings

        warnings.warn(
            f"query {name!r} is now {QUERY_ALIASES[name]!r} (modularity communities are not "
            "mechanistic circuits); the old name will go.",
            FutureWarning,
            stacklevel=2,
        )
        name = QUERY_ALIASES[name]
    names = query_names()
    if name not in names:
        raise QueryNotFound(f"query must be one of {names}; got {name!r}.")
    return _read(cypher_dir() / "queries" / f"{name}.cypher", f"library query {name!r}")


def query_parameters(name: str) -> list[str]:
    """The ``$parameters`` a library query uses, in order of first use (comments ignored)."""
    return list(dict.fromkeys(_PARAM.findall(_strip_comments(load_query(name)))))


def query_spec(name: str) -> dict[str, tuple[str, Any]]:
    """Types and defaults declared in the header: ``// $name <type>[|null] text (default: <value>)``.

    Returns ``{param: (type, default)}``; a parameter without a default maps to
    ``(type, NO_DEFAULT)``.
    """
    out: dict[str, tuple[str, Any]] = {}
    for line in load_query(name).splitlines():
        m = _SPEC.match(line.strip())
        if m:
            out[m.group(1)] = (m.group(2), NO_DEFAULT if m.group(3) is None else parse_value(m.group(3)))
    return out


def query_defaults(name: str) -> dict[str, Any]:
    """Defaults declared in the query's header."""
    return {k: d for k, (_, d) in query_spec(name).items() if d is not NO_DEFAULT}


def query_minimums(name: str) -> dict[str, int]:
    """Smallest allowed value of each numeric parameter: ``(min: N)`` in its header line, else 0.

    >>> query_minimums("hub_regions")
    {'top': 1}
    """
    out: dict[str, int] = {}
    for line in load_query(name).splitlines():
        m = _SPEC.match(line.strip())
        if m and m.group(2).split("|")[0] in ("int", "float"):
            low = _MIN.search(line)
            out[m.group(1)] = int(low.group(1)) if low else 0
    return out


def _check_value(name: str, key: str, value: Any, kind: str, low: int | None) -> None:
    """ValueError naming ``key`` when ``value`` is not of the declared ``kind`` or below ``low``."""
    kinds = kind.split("|")
    if value is None:
        if "null" not in kinds:
            raise ValueError(f"query {name!r} parameter {key} must be {kinds[0]}, not null.")
        return
    base = kinds[0]
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = {
        "string": isinstance(value, str),
        "int": numeric and float(value).is_integer(),
        "float": numeric,
        "bool": isinstance(value, bool),
        "list": isinstance(value, (list, tuple)),
    }.get(base, True)
    if not ok:
        raise ValueError(f"query {name!r} parameter {key} must be {kind}; got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"query {name!r} parameter {key} must be >= {low}; got {value!r}.")
    if base in ("int", "float") and not -INT64_MAX <= value <= INT64_MAX:
        raise ValueError(
            f"query {name!r} parameter {key} must be at most {INT64_MAX} in size (a 64-bit "
            f"integer, what Neo4j stores); got {value!r}."
        )
    if key == "metric":
        from llm_mri_graphdb.analysis.metrics import METRIC_KEYS

        if value not in METRIC_KEYS:
            raise ValueError(
                f"query {name!r} parameter metric must be one of the keys `llm-mri-graphdb metrics RUN` "
                f"prints, such as 'density', 'mean_degree' or 'purity'; got {value!r}."
            )


def bind_parameters(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check ``params`` against the query's header and fill in its defaults.

    Raises ValueError naming a missing or unknown parameter, a value of the
    wrong type, or a number below its minimum (``(min: N)`` in the header,
    else 0).
    """
    wanted = query_parameters(name)
    unknown = sorted(set(params) - set(wanted))
    if unknown:
        raise ValueError(f"query {name!r} takes parameters {wanted}; got unknown {unknown}.")
    bound = {**query_defaults(name), **params}
    missing = [p for p in wanted if p not in bound]
    if missing:
        raise ValueError(f"query {name!r} needs parameter ${missing[0]}; pass {missing[0]}=<value> (takes {wanted}).")
    spec, lows = query_spec(name), query_minimums(name)
    for key in wanted:
        if key in spec:
            _check_value(name, key, bound[key], spec[key][0], lows.get(key))
    return {
        k: int(bound[k]) if k in spec and spec[k][0].startswith("int") and isinstance(bound[k], float) else bound[k]
        for k in wanted
    }


def parse_value(text: str) -> Any:
    """Type a command-line value: int, float, ``true``/``false``, ``null``, ``[a, b]`` lists, else str.

    >>> parse_value("3"), parse_value("0.5"), parse_value("null"), parse_value("[a, 2]")
    (3, 0.5, None, ['a', 2])
    >>> parse_value('"7"')
    '7'
    """
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    low = s.lower()
    if low in ("null", "none"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return [parse_value(p) for p in inner.split(",")] if inner else []
    for cast in (int, float):
        try:
            return cast(s)
        except ValueError:
            pass
    return s


def _typed(text: str, kind: str) -> Any:
    """``text`` as the declared ``kind`` (``string``, ``int|null``, ...)."""
    kinds = kind.split("|")
    if "null" in kinds and text.strip().lower() in ("null", "none"):
        return None
    base = kinds[0]
    if base == "string":
        s = text.strip()
        return s[1:-1] if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"" else s
    if base == "list":
        value = parse_value(text)
        return value if isinstance(value, list) else [value]
    value = parse_value(text)
    if base in _TYPES and not isinstance(value, _TYPES[base]) and not (base == "float" and isinstance(value, int)):
        raise ValueError(f"parameter must be {kind}; got {text!r}.")
    return float(value) if base == "float" else value


def parse_params(pairs: list[str], query: str | None = None) -> dict[str, Any]:
    """``["k=v", ...]`` from the CLI to a typed dict.

    With ``query``, each value takes the type its header declares (so a run id
    of digits stays a string); otherwise :func:`parse_value` guesses.

    >>> parse_params(["run_id=ab12", "limit=5"])
    {'run_id': 'ab12', 'limit': 5}
    >>> parse_params(["run_id=0123", "top=2"], query="hub_regions")
    {'run_id': '0123', 'top': 2}
    """
    spec = query_spec(query) if query is not None else {}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"param must look like key=value; got {pair!r}.")
        out[key] = _typed(value, spec[key][0]) if key in spec else parse_value(value)
    return out
