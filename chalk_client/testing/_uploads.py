"""Writes and deletes of :class:`~chalk_client.testing.ChalkServer`: Arrow uploads, row and column deletions.

``POST /v1/upload_features/multi`` (API address) takes a byte model, whatever its ``Content-Type``
says (chalkpy labels it ``application/json``, the Rust client ``application/octet-stream``):
``CHALK_BYTE_TRANSMISSION``, the attributes ``{"features": [...], "table_compression": ...}``, ``{}``,
the item ``table_bytes`` (an Arrow IPC file or stream; its buffers may be LZ4- or ZSTD-compressed)
and no nested model. It is a 400 ``VALIDATION_FAILED`` (the shared error body) when the byte model
is malformed (:func:`~chalk_client.testing._feather.read_byte_model`), has no ``table_bytes``, or
they are not Arrow IPC; when ``features`` is not a list of strings that names each of the table's
columns once, in any order (the Go client sends a map's order); when ``table_compression`` is not
``"uncompressed"``, ``"lz4"`` or ``"zstd"`` (absent or null: ``"uncompressed"``; the IPC metadata
says what the buffers use, so a wrong claim does no harm); or when the table has no ``user.id``
column, or one name twice. Otherwise the answer is a 200 ``{"operation_id": <uuid4>, "errors":
[...]}`` and the columns are checked as ``POST /v1/upload_features`` checks its own: each a known
feature (``RESOLVER_NOT_FOUND`` for another, with ``feature``), each value of its type and not null
(``VALIDATION_FAILED``, ``FIELD``, naming the first bad row): ``user.id`` and the int features an
Arrow integer column (any width) of 64-bit values, ``user.name`` a string column. With any error,
nothing is stored; without, every row is (later rows win), as :attr:`ChalkServer.rows_stored` and
:attr:`ChalkServer.upload_requests` count (a table of no rows stores nothing and counts nothing).

``DELETE /v1/features/rows`` takes ``{"namespace", "primary_keys", "features", "tags",
"retain_online", "retain_offline"}`` and deletes the values of those users' features: ``features``
names them within the namespace (``name``, or ``user.name``), ``tags`` by tag, neither means every
feature but the primary key, and ``[]`` none. ChalkServer's features carry no tags, so ``tags``
selects nothing and deletes nothing. ``DELETE /v1/features/columns`` takes ``{"namespace",
"features", "retain_online", "retain_offline"}`` and deletes those features for every user, seeded
or uploaded. A deleted value answers null, without error and without ``cache_hit``, until that
user's next upload of that feature brings a value back. ``retain_online: true`` keeps the online
store (``/v1/query/online`` and ``/v1/query/feather`` answer as before), ``retain_offline: true``
the offline one (offline queries); both true deletes nothing. Deleting twice is deleting once.

A body that is not a JSON object of those fields and types (``primary_keys`` strings, or integers
as chalkpy's model would coerce them; flags booleans, absent meaning false), or that gives
both ``features`` and ``tags``, is a 400 ``VALIDATION_FAILED``. What the graph does not have is an
error of a 200 answer, and then nothing is deleted: a namespace other than ``user``
(``INVALID_QUERY``), an unknown feature (``RESOLVER_NOT_FOUND``, with ``feature``), the primary key
``id`` (``INVALID_QUERY``: it is never deleted), a primary key that is not a 64-bit integer's digits
(``VALIDATION_FAILED``). Deletions are shared by all environments, as uploads are.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from chalk_client.testing._auth import TokenService
from chalk_client.testing._data import FEATURE_TYPES, INT64_MAX, INT64_MIN, _user_id, column_problem
from chalk_client.testing._feather import FeatherRequestError, decode_arrow, read_byte_model
from chalk_client.testing._http import ApiError, Request, Response, chalk_error, json_response
from chalk_client.testing._store import OFFLINE, ONLINE, FeatureStore, StoreName

if TYPE_CHECKING:
    import pyarrow

__all__ = ["NAMESPACE", "UploadService"]

NAMESPACE: Final = "user"
_PRIMARY_KEY: Final = "user.id"
_COMPRESSIONS: Final = ("uncompressed", "lz4", "zstd")
_TABLE_ITEM: Final = "table_bytes"
_DELETABLE: Final = tuple(name for name in FEATURE_TYPES if name != _PRIMARY_KEY)


def _refused(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_FAILED", message)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class UploadService:
    """The handlers of ``/v1/upload_features/multi``, ``/v1/features/rows`` and ``/v1/features/columns``.

    Args:
        auth: Checks tokens and routing headers.
        store: Where uploaded values, and deletions, live.
    """

    def __init__(self, *, auth: TokenService, store: FeatureStore) -> None:
        self._auth = auth
        self._store = store

    async def multi_upload_features(self, request: Request) -> Response:
        """``POST /v1/upload_features/multi``: store an Arrow table's rows, all or nothing."""
        self._auth.authenticate(request)
        try:
            model = read_byte_model(request.body)
        except FeatherRequestError as err:
            raise _refused(
                f"the body is not a well-formed byte model (CHALK_BYTE_TRANSMISSION): {err}"
            ) from None
        features = model.attributes.get("features")
        if not isinstance(features, list) or not all(isinstance(name, str) for name in features):
            raise _refused("the attribute 'features' must be a list of feature names")
        compression = model.attributes.get("table_compression")
        if compression is not None and compression not in _COMPRESSIONS:
            raise _refused(
                f"the attribute 'table_compression' must be one of {', '.join(map(repr, _COMPRESSIONS))}, "
                f"not {_shown(compression)}"
            )
        data = model.items.get(_TABLE_ITEM)
        if data is None:
            raise _refused(f"the body has no {_TABLE_ITEM!r} item (the Arrow IPC table)")
        try:
            table = decode_arrow(data, f"the {_TABLE_ITEM!r} item")
        except FeatherRequestError as err:
            raise _refused(str(err)) from None
        names = table.column_names
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise _refused(f"the table names the column {_shown(twice[0])} more than once")
        if len(set(features)) != len(features) or set(features) != set(names):
            raise _refused(
                "the attribute 'features' must name each column of the table once (in any order): "
                f"it names {_shown(features)}, the table has {_shown(names)}"
            )
        if _PRIMARY_KEY not in names:
            raise _refused(f"the table must have a {_PRIMARY_KEY!r} column")
        columns: dict[str, list[Any]] = {}
        problems: list[dict[str, Any]] = []
        for name in names:
            values, problem = _column(name, table.column(name))
            if problem is None:
                columns[name] = values
            else:
                problems.append(problem)
        if not problems and table.num_rows:
            self._store.store(columns, table.num_rows)
        return json_response({"operation_id": str(uuid.uuid4()), "errors": problems})

    async def delete_features(self, request: Request) -> Response:
        """``DELETE /v1/features/rows``: delete some users' values of some features."""
        self._auth.authenticate(request)
        data = _object(request)
        namespace = _text(data, "namespace")
        keys = data.get("primary_keys")
        if not isinstance(keys, list) or not all(
            isinstance(key, str | int) and not isinstance(key, bool) for key in keys
        ):
            raise _refused("'primary_keys' must be a list of strings (integers are taken as their digits)")
        features = _names(data, "features", required=False)
        tags = _names(data, "tags", required=False)
        if features is not None and tags is not None:
            raise _refused("give 'features' or 'tags', not both")
        stores = _stores(data)
        problems = _namespace_problems(namespace)
        user_ids: list[int] = []
        for key in keys:
            user_id = _user_id(key)
            if user_id is None or not INT64_MIN <= user_id <= INT64_MAX:
                message = f"the primary key {_shown(key)} is not a user id: a 64-bit integer, or its digits"
                problems.append(chalk_error("VALIDATION_FAILED", message))
            else:
                user_ids.append(user_id)
        chosen: tuple[str, ...] = ()  # tags select none: no feature of the graph has a tag
        if features is None and tags is None:
            chosen = _DELETABLE
        elif features is not None and namespace == NAMESPACE:
            chosen, more = _features(namespace, features)
            problems.extend(more)
        if not problems:
            self._store.delete(user_ids, chosen, stores)
        return json_response({"errors": problems})

    async def drop_features(self, request: Request) -> Response:
        """``DELETE /v1/features/columns``: delete some features' values of every user."""
        self._auth.authenticate(request)
        data = _object(request)
        namespace = _text(data, "namespace")
        features = _names(data, "features", required=True) or []
        stores = _stores(data)
        problems = _namespace_problems(namespace)
        chosen: tuple[str, ...] = ()
        if not problems:
            chosen, problems = _features(namespace, features)
        if not problems:
            self._store.drop(chosen, stores)
        return json_response({"errors": problems})


# -- the multi-upload's columns ----------------------------------------------------------------


def _column(name: str, column: pyarrow.ChunkedArray) -> tuple[list[Any], dict[str, Any] | None]:
    """A table column's values, or the error that keeps the table from being stored."""
    import pyarrow as pa

    kind = FEATURE_TYPES.get(name)
    arrow_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if kind == "int":
        fits = pa.types.is_integer(arrow_type)
    else:
        fits = pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
        fits = fits or pa.types.is_string_view(arrow_type)
    if kind is not None and not fits:
        wanted = "an integer" if kind == "int" else "a string"
        message = (
            f"the column {name!r} must be {wanted} Arrow column (the feature is {kind}), not {arrow_type}"
        )
        return [], chalk_error("VALIDATION_FAILED", message[:400], "FIELD", feature=name)
    values = column.to_pylist() if kind is not None else []
    return values, column_problem(name, values)


# -- the deletions' bodies ---------------------------------------------------------------------


def _object(request: Request) -> Mapping[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise _refused("the request body must be a JSON object")
    return data


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str):
        raise _refused(f"'{field}' must be a string")
    return value


def _names(data: Mapping[str, Any], field: str, *, required: bool) -> list[str] | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise _refused(f"'{field}' must be a list of strings" + ("" if required else ", or null"))
    return value


def _stores(data: Mapping[str, Any]) -> tuple[StoreName, ...]:
    """The stores a deletion changes: those its ``retain_*`` flags do not keep."""
    stores: list[StoreName] = []
    for store, field in ((ONLINE, "retain_online"), (OFFLINE, "retain_offline")):
        value = data.get(field, False)
        if not isinstance(value, bool):
            raise _refused(f"'{field}' must be a boolean (absent: false)")
        if not value:
            stores.append(store)
    return tuple(stores)


def _namespace_problems(namespace: str) -> list[dict[str, Any]]:
    if namespace == NAMESPACE:
        return []
    message = f"unknown namespace {_shown(namespace)}: the feature graph has one feature class, {NAMESPACE!r}"
    return [chalk_error("INVALID_QUERY", message)]


def _features(namespace: str, names: list[str]) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The fully qualified features `names` stand for (``name`` or ``user.name``), and the errors."""
    chosen: list[str] = []
    problems: list[dict[str, Any]] = []
    for name in names:
        fqn = name if name.startswith(namespace + ".") else f"{namespace}.{name}"
        if fqn == _PRIMARY_KEY:
            message = f"{name!r} is the primary key of {namespace!r}: it is never deleted"
            problems.append(chalk_error("INVALID_QUERY", message, "FIELD", feature=fqn))
        elif fqn not in FEATURE_TYPES:
            message = f"unknown feature {fqn[:200]!r}"
            problems.append(chalk_error("RESOLVER_NOT_FOUND", message, "FIELD", feature=fqn))
        else:
            chosen.append(fqn)
    return tuple(chosen), problems
