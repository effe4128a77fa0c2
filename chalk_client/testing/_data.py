"""The data plane of :class:`~chalk_client.testing.ChalkServer`: a seeded feature graph, uploads, queries.

The graph has one feature class, ``user``, keyed by ``user.id``, with users ``1..1000``
(:data:`SEEDED_USER_IDS`). Every value derives from the id alone, so tests can compute what to expect
(:func:`seeded_user` does it for them):

- ``user.id`` (``int``): ``n``; resolver ``resolvers.get_user_id``.
- ``user.name`` (``str``): ``f"{FIRST[n % 20]} {LAST[n // 20 % 50]}"``; resolver
  ``resolvers.get_user_name``.
- ``user.age`` (``int``): ``18 + n % 63``, so 18..80; resolver ``resolvers.get_user_age``.
- ``user.credit_score`` (``int``): ``300 + n * 37 % 551``, so 300..850; resolver
  ``resolvers.get_credit_score``.

``FIRST`` and ``LAST`` are the 20 first names and 50 last names below, so the 1000 seeded names are
distinct. Three users have famous names instead: 1 is ``"Ada Lovelace"``, 2 ``"Alan Turing"`` and
3 ``"Grace Hopper"`` (their age and credit score follow the rules). Examples: user 1 is 19 with a
credit score of 337; user 4 is ``"Erin Smith"``, 22, with 448; user 1000 is ``"Alice Smith"``.

One has-many feature, ``user.transactions`` (resolver ``resolvers.get_user_transactions``), gives
user ``n`` the ``n % 4`` transactions ``k = 0..n % 4 - 1`` (:func:`seeded_transactions`), each with
``transaction.id`` (``int``) ``n * 10 + k``, ``transaction.user_id`` (``int``) ``n`` and
``transaction.amount`` (``float``) ``(n * 37 + k * 53) % 10000 / 100``; ids outside ``1..1000``
have none. Only the bulk query (``POST /v1/query/feather``: :mod:`chalk_client.testing._bulk`)
answers it, as a table of its own. The JSON online query answers it with a ``RESOLVER_NOT_FOUND``
error that says so (the JSON shape Chalk gives a has-many value is not settled), and the offline
query as an unknown feature. It is in neither :data:`FEATURE_TYPES` nor :data:`FEATURE_RESOLVERS`
(the scalar features), but in :data:`HAS_MANY_RESOLVERS`; uploads cannot set it.

The credit-score resolver fails for :data:`FAILING_USER_ID` (13): a query answers its
``user.credit_score`` with a null value and a ``RESOLVER_FAILED`` error, and :func:`seeded_user` gives
None for it. Ids outside ``1..1000`` have no seeded values: their features answer null, without error.

Uploaded values (``POST /v1/upload_features``, and ``POST /v1/upload_features/multi`` with an Arrow
table: :mod:`chalk_client.testing._uploads`) override seeded ones, for any id (inside the seeded
range or not), feature by feature, until the server is discarded; a query marks them ``cache_hit``.
Uploads are shared by all environments; ``user.id`` must be an ``int`` there, the other columns of
their feature's type (``null`` is a wrong type too). Deleted values (``DELETE /v1/features/rows``
and ``/v1/features/columns``) answer null, without error and without ``cache_hit``, seeded ones
too (the failing user's deleted credit score is no failure), until the next upload of that feature
for that user; the online store and the offline store are apart (:mod:`chalk_client.testing._store`).

A query answers one ``data`` entry per known output, in the order asked: ``pkey`` is the user id,
``ts`` the server clock's now (RFC 3339, UTC, ``Z``), and ``valid`` is true unless ``error`` is set.
Every uploaded row carries ``user.id``, so for an uploaded user ``user.id`` is a ``cache_hit`` too.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from chalk_client.testing._auth import Caller, TokenService, rfc3339
from chalk_client.testing._http import ApiError, Request, Response, chalk_error, json_response
from chalk_client.testing._store import DELETED, MISSING, FeatureStore, lookup

__all__ = [
    "FAILING_USER_ID",
    "FEATURE_RESOLVERS",
    "FEATURE_TYPES",
    "HAS_MANY_RESOLVERS",
    "SEEDED_USER_IDS",
    "DataService",
    "FeatureStore",
    "column_problem",
    "parse_rfc3339",
    "seeded_transactions",
    "seeded_user",
]

FAILING_USER_ID: Final = 13
"""The user whose ``user.credit_score`` resolver fails."""

SEEDED_USER_IDS: Final = range(1, 1001)
"""The ids with seeded feature values."""

FEATURE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {"user.id": "int", "user.name": "str", "user.age": "int", "user.credit_score": "int"}
)
"""Feature name to its primitive type (``"int"`` or ``"str"``), as query metadata reports it."""

FEATURE_RESOLVERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "user.id": "resolvers.get_user_id",
        "user.name": "resolvers.get_user_name",
        "user.age": "resolvers.get_user_age",
        "user.credit_score": "resolvers.get_credit_score",
    }
)
"""Feature name to the fully qualified name of the resolver that computes it."""

HAS_MANY_RESOLVERS: Final[Mapping[str, str]] = MappingProxyType(
    {"user.transactions": "resolvers.get_user_transactions"}
)
"""Has-many feature name to its resolver; only the bulk query answers these."""

_FIRST_NAMES: Final = (
    "Alice", "Bob", "Carol", "David", "Erin", "Frank", "Gina", "Henry", "Iris", "Jack",
    "Karen", "Leo", "Maya", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts",
)  # fmt: skip
_FAMOUS: Final = {1: "Ada Lovelace", 2: "Alan Turing", 3: "Grace Hopper"}
_CREDIT_SCORE: Final = "user.credit_score"
_FAILURE_MESSAGE: Final = "the credit bureau did not answer for this user"
_FAILURE_EXCEPTION: Final = {
    "kind": "ConnectionError",
    "message": "credit bureau unavailable",
    "stacktrace": None,
}


def _seed(user_id: int) -> dict[str, Any]:
    name = _FAMOUS.get(user_id) or f"{_FIRST_NAMES[user_id % 20]} {_LAST_NAMES[user_id // 20 % 50]}"
    return {
        "user.id": user_id,
        "user.name": name,
        "user.age": 18 + user_id % 63,
        _CREDIT_SCORE: None if user_id == FAILING_USER_ID else 300 + user_id * 37 % 551,
    }


# Built once: a query reads it without a lock, and nothing writes it.
_SEEDED: Final[Mapping[int, Mapping[str, Any]]] = MappingProxyType(
    {user_id: MappingProxyType(_seed(user_id)) for user_id in SEEDED_USER_IDS}
)


def seeded_user(user_id: int) -> dict[str, Any] | None:
    """The seeded features of user `user_id` (feature name to value), or None outside ``1..1000``.

    The failing user's ``user.credit_score`` is None. Uploaded values are not included.
    """
    values = _SEEDED.get(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    return None if values is None else dict(values)


def seeded_transactions(user_id: int) -> list[dict[str, Any]]:
    """The seeded ``user.transactions`` of user `user_id`, in order; ``[]`` outside ``1..1000``.

    Each is ``{"transaction.id": n * 10 + k, "transaction.user_id": n, "transaction.amount": ...}``
    for ``k`` in ``0..n % 4 - 1``.
    """
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id not in _SEEDED:
        return []
    return [
        {
            "transaction.id": user_id * 10 + k,
            "transaction.user_id": user_id,
            "transaction.amount": (user_id * 37 + k * 53) % 10_000 / 100,
        }
        for k in range(user_id % 4)
    ]


_RFC3339: Final = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")


def parse_rfc3339(text: object) -> datetime | None:
    """`text` as an aware datetime if it is an RFC 3339 date-time with an offset (``Z`` or ``+hh:mm``)."""
    if not isinstance(text, str) or len(text) > 40 or _RFC3339.fullmatch(text) is None:
        return None
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:  # a well-formed but impossible date, such as month 13
        return None


_ARTICLE: Final = {"int": "an", "str": "a"}


INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


def _type_ok(value: object, kind: str) -> bool:
    """Whether `value` is a `kind` ("int" or "str") that every store can hold: a 64-bit int, or text
    that is valid UTF-8 (no lone surrogates)."""
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    return isinstance(value, str) and is_utf8(value)


def column_problem(name: str, column: list[Any]) -> dict[str, Any] | None:
    """The error of an uploaded column (its first bad value), or None: a known feature, every value
    of its type (not null)."""
    kind = FEATURE_TYPES.get(name)
    if kind is None:
        return chalk_error("RESOLVER_NOT_FOUND", f"unknown feature {name!r}", "FIELD", feature=name)
    for row, value in enumerate(column):
        if not _type_ok(value, kind):
            shown = type(value).__name__
            if isinstance(value, int | str) and not isinstance(value, bool) and shown == kind:
                shown = "one out of range" if kind == "int" else "text that is not valid UTF-8"
            wanted = f"{_ARTICLE[kind]} {'64-bit int' if kind == 'int' else kind}, not {shown}"
            return chalk_error(
                "VALIDATION_FAILED", f"row {row} of {name!r} must be {wanted}", "FIELD", feature=name
            )
    return None


def is_utf8(text: str) -> bool:
    """Whether `text` encodes as UTF-8 (a lone surrogate, which JSON can carry, does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_MAX_ID_DIGITS: Final = 30


def _user_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID_DIGITS:
        digits = value[1:] if value[0] == "-" else value
        if digits.isascii() and digits.isdigit():
            return int(value)
    return None


def _invalid_query(message: str) -> ApiError:
    return ApiError(400, "INVALID_QUERY", message, detail=f"invalid query: {message}")


def _query_name(request: Request, data: Mapping[str, Any]) -> str | None:
    name = data.get("query_name")
    return name if isinstance(name, str) else request.header("x-chalk-query-name")


def _check_string_map(data: Mapping[str, Any], field: str) -> None:
    value = data.get(field)
    if value is not None and (
        not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values())
    ):
        raise _invalid_query(f"'{field}' must be an object whose values are strings")


def _flag(data: Mapping[str, Any], field: str) -> bool:
    value = data.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid_query(f"'{field}' must be a boolean")
    return value


class _Query(NamedTuple):
    user_id: int
    outputs: list[str]
    include_meta: bool
    explain: bool


def _parse_query(request: Request) -> _Query:
    """The parts of an online query that shape the answer; raises a 400 for a malformed one."""
    data = request.json()
    if not isinstance(data, dict):
        raise _invalid_query("the request body must be a JSON object")
    request.query_name = _query_name(request, data)
    inputs = data.get("inputs")
    if not isinstance(inputs, dict) or "user.id" not in inputs:
        raise _invalid_query("'inputs' must be an object with a 'user.id'")
    user_id = _user_id(inputs["user.id"])
    if user_id is None:
        raise _invalid_query("'inputs'['user.id'] must be an integer or a string of digits")
    outputs = data.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(name, str) for name in outputs):
        raise _invalid_query("'outputs' must be a non-empty list of feature names")
    now = data.get("now")
    if now is not None and parse_rfc3339(now) is None:
        raise ApiError(
            400,
            "PARSE_FAILED",
            "'now' must be an RFC 3339 date-time with an offset, e.g. 2026-01-01T00:00:00Z",
        )
    _check_string_map(data, "staleness")
    return _Query(user_id, outputs, _flag(data, "include_meta"), _flag(data, "explain"))


def _not_found_message(name: str) -> str:
    """The message of the ``RESOLVER_NOT_FOUND`` error for output `name` of a JSON query."""
    if name in HAS_MANY_RESOLVERS:
        return f"{name!r} is a has-many feature: only the bulk query (POST /v1/query/feather) answers it"
    return f"no resolver computes the feature {name!r}"


class DataService:
    """The handlers of ``/v1/query/online``, ``/v1/upload_features`` and ``/v1/who-am-i``.

    Args:
        auth: Checks tokens and routing headers.
        store: Where uploaded values live.
        clock: The server's time source (Unix seconds), for ``ts`` and ``query_timestamp``.
        deployment_id: Reported in query metadata.
        team_id: Reported by who-am-i.
    """

    def __init__(
        self,
        *,
        auth: TokenService,
        store: FeatureStore,
        clock: Callable[[], float],
        deployment_id: str = "deployment-local",
        team_id: str = "team-local",
    ) -> None:
        self._auth = auth
        self._store = store
        self._clock = clock
        self.deployment_id = deployment_id
        self.team_id = team_id

    # -- online query ----------------------------------------------------------------------------

    async def query_online(self, request: Request) -> Response:
        """``POST /v1/query/online``: the outputs of one user, with per-feature errors."""
        started = time.perf_counter()
        caller = self._auth.authenticate(request)
        user_id, outputs, include_meta, explain = _parse_query(request)
        uploaded = self._store.get(user_id)
        seeded = _SEEDED.get(user_id)
        timestamp = self._clock()
        ts = rfc3339(timestamp)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        plan: list[dict[str, Any]] = []
        for name in outputs:
            resolver = FEATURE_RESOLVERS.get(name)
            if resolver is None:
                errors.append(chalk_error("RESOLVER_NOT_FOUND", _not_found_message(name), feature=name))
                continue
            error: dict[str, Any] | None = None
            stored = lookup(uploaded, name)
            cache_hit = stored is not MISSING and stored is not DELETED
            if cache_hit:
                value = stored
            elif seeded is not None and stored is MISSING:
                value = seeded[name]
                if name == _CREDIT_SCORE and user_id == FAILING_USER_ID:
                    error = chalk_error(
                        "RESOLVER_FAILED",
                        _FAILURE_MESSAGE,
                        "FIELD",
                        feature=name,
                        resolver=resolver,
                        display_primary_key=str(user_id),
                        exception=dict(_FAILURE_EXCEPTION),
                    )
            else:
                value = None
            result: dict[str, Any] = {
                "field": name,
                "value": value,
                "pkey": user_id,
                "error": error,
                "ts": ts,
                "valid": error is None,
            }
            if include_meta:
                result["meta"] = {
                    "chosen_resolver_fqn": resolver,
                    "cache_hit": cache_hit,
                    "primitive_type": FEATURE_TYPES[name],
                    "version": 1,
                }
            if explain:
                computed = seeded is not None and stored is MISSING
                source = "online_store" if cache_hit else ("resolver" if computed else "none")
                plan.append({"feature": name, "resolver": resolver, "source": source})
            results.append(result)

        answer: dict[str, Any] = {"data": results, "errors": errors}
        if include_meta:
            answer["meta"] = self.query_meta(caller, outputs, ts, started, plan if explain else None)
        return json_response(answer)

    def query_meta(
        self,
        caller: Caller,
        outputs: list[str],
        query_timestamp: str,
        started: float,
        plan: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """The ``meta`` of a query's answer (``include_meta``): `started` is its ``perf_counter()``
        start, `plan` the explain steps (None: no ``explain_output``)."""
        meta: dict[str, Any] = {
            "execution_duration_s": time.perf_counter() - started,
            "deployment_id": self.deployment_id,
            "environment_id": caller.environment_id,
            "environment_name": caller.environment_name,
            "query_id": "query-" + secrets.token_hex(8),
            "query_timestamp": query_timestamp,
            "query_hash": hashlib.sha256("\n".join(outputs).encode("utf-8", "surrogatepass")).hexdigest()[
                :32
            ],
        }
        if plan is not None:
            meta["explain_output"] = {"namespace": "user", "primary_key": "user.id", "steps": plan}
        return meta

    # -- upload ------------------------------------------------------------------------------------

    async def upload_features(self, request: Request) -> Response:
        """``POST /v1/upload_features``: store column values per user id, all or nothing."""
        self._auth.authenticate(request)
        data = request.json()
        if not isinstance(data, dict):
            raise ApiError(400, "VALIDATION_FAILED", "the request body must be a JSON object")
        request.query_name = _query_name(request, data)
        columns = data.get("input")
        if not isinstance(columns, dict) or not columns:
            raise ApiError(400, "VALIDATION_FAILED", "'input' must be a non-empty object of feature columns")
        lengths = set()
        for column in columns.values():
            if not isinstance(column, list):
                raise ApiError(400, "VALIDATION_FAILED", "every column of 'input' must be a list of values")
            lengths.add(len(column))
        if len(lengths) != 1 or 0 in lengths:
            raise ApiError(
                400, "VALIDATION_FAILED", "the columns of 'input' must all have the same length, at least 1"
            )
        if "user.id" not in columns:
            raise ApiError(400, "VALIDATION_FAILED", "'input' must have a 'user.id' column")
        problems = [
            problem
            for name, column in columns.items()
            if (problem := column_problem(name, column)) is not None
        ]
        if not problems:
            self._store.store(columns, lengths.pop())
        return json_response({"errors": problems, "trace_id": secrets.token_hex(16)})

    # -- who am i ----------------------------------------------------------------------------------

    async def who_am_i(self, request: Request) -> Response:
        """``GET /v1/who-am-i``: the token's client id, the effective environment, the team."""
        caller = self._auth.authenticate(request)
        return json_response(
            {"user": caller.client_id, "environment_id": caller.environment_id, "team_id": self.team_id}
        )
