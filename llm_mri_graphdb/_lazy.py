"""The lazy re-exports of the packages' ``__init__``: a name is imported from its submodule on first use.

Each ``__init__`` keeps its table as ``_LAZY = {name: submodule}`` (``tests/test_layering.py`` reads those
tables as imports) and sets ``__getattr__ = lazy_getattr(__name__, _LAZY)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from ``package.table[name]``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    table : mapping of str to str
        Each re-exported name and the submodule (relative to ``package``) that defines it.

    Returns
    -------
    __getattr__ : callable
        Returns the name's value, or raises :class:`AttributeError` for a name not in ``table``.

    Examples
    --------
    >>> getattr_ = lazy_getattr("os", {"join": "path"})
    >>> getattr_("join") is __import__("os.path").path.join
    True
    """

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(import_module(f"{package}.{table[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
