"""Offline query results as tables: parquet parts read into one ``pyarrow.Table``, and the optional extras.

pyarrow, pandas and polars are optional (``chalk-client[arrow]``, ``[pandas]``, ``[polars]``), so
each is imported only when a result is asked for in its form; :func:`_require` names the extra to
install when one is missing (:class:`ChalkMissingDependencyError`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalk_client._core.errors import ChalkMissingDependencyError

if TYPE_CHECKING:
    import pyarrow

__all__ = ["_read_table", "_require"]


def _require(module: str, extra: str, what: str) -> Any:  # noqa: ANN401 - a module
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ChalkMissingDependencyError(
            f"{what} needs {module}, which is not installed: pip install 'chalk-client[{extra}]'"
        ) from None


def _read_table(paths: Sequence[Path], columns: Sequence[str]) -> pyarrow.Table:
    """The parquet files at `paths` as one table; with none, an empty table of `columns` (typed null)."""
    pa = _require("pyarrow", "arrow", "reading offline query results")
    pq = _require("pyarrow.parquet", "arrow", "reading offline query results")
    if not paths:
        return pa.table({name: pa.array([], pa.null()) for name in columns})
    tables = [pq.read_table(path) for path in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
