"""One cleaner of values for JSON, hashing and Neo4j results: :func:`plain`.

Settings, metadata, metrics and query rows cross three borders: they are
hashed into run ids, written as JSON files, and read back from Neo4j. Each
needs plain Python values, and this module is the one place that makes them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

__all__ = ["INT64_MAX", "plain", "to_json"]

#: The largest integer Neo4j stores (its 64-bit INTEGER): the bound of every count and integer parameter.
INT64_MAX = (1 << 63) - 1


def plain(value: Any, *, nan: Any = math.nan) -> Any:
    """A plain-Python copy of ``value``: what ``json`` writes and a hash can rely on.

    Mappings become dicts with string keys (order kept), tuples and lists become
    lists, numpy scalars and arrays become Python numbers and lists, Neo4j
    temporal values become ISO strings, paths become strings, and any other
    object its ``repr``. A float that is NaN becomes ``nan`` (default: stays NaN;
    ``nan=None`` for strict JSON).

    Examples
    --------
    >>> import numpy as np
    >>> plain({"a": np.int64(3), "b": (np.float32(0.5), float("nan"))}, nan=None)
    {'a': 3, 'b': [0.5, None]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar or 0-d array
        return plain(value.item(), nan=nan)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return nan if math.isnan(number) else number
    if isinstance(value, Mapping):
        return {str(k): plain(v, nan=nan) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, nan=nan) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays
        return plain(value.tolist(), nan=nan)
    if hasattr(value, "iso_format"):  # neo4j.time values
        return value.iso_format()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


def to_json(value: Any, *, indent: int | None = None, strict: bool = False) -> str:
    """``value`` as JSON with sorted keys; ``strict=True`` writes NaN as ``null`` (else ``NaN``)."""
    return json.dumps(plain(value, nan=None if strict else math.nan), sort_keys=True, indent=indent)
