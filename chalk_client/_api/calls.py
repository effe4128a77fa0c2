"""Each data-plane call as pure functions: check the arguments and build the request, then read the answer.

A builder turns a method's arguments into a :class:`Call` (method, path, encoded body, routing and
retry facts) or raises :class:`ChalkInputError` before anything is sent. A parser turns the 2xx
answer into the result type. Neither does I/O: both clients use the same ones, and a test checks
that each request matches what the generated ``chalk_openapi`` endpoint would send for it. The
argument checks and the JSON encoding they share are in :mod:`chalk_client._api.arguments`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import httpx

from chalk_client._api.arguments import (
    _aware,
    _bool,
    _column,
    _feature_mapping,
    _header_string,
    _is_number,
    _string,
    _string_map,
    _strings,
    _time,
    generated_request,
)
from chalk_client._api.results import OnlineQueryResult, QueryMeta, ResolverRun, UploadResult, WhoAmI
from chalk_client._core.answers import (
    MODEL_ERRORS,
    Answer,
    invalid_response,
    json_object,
    model_from,
    parse_model,
)
from chalk_client._core.errors import REDACTED, ChalkInputError, ChalkResultError
from chalk_client._core.retry import Idempotency
from chalk_client._core.routing import Plane, Route
from chalk_client._core.server_errors import ChalkServerErrorInfo, from_generated
from chalk_client._core.token import opt_str

__all__ = ["Call", "build_request"]

TIMESTAMPING_MODES: Final = ("feature_time", "online_store_write_time")

JSON: Final = "application/json"
BINARY: Final = "application/octet-stream"


@attrs.frozen
class Call:
    """One API call, ready to route: everything but the base URL and the credentials."""

    method: str
    path: str
    plane: Plane
    idempotency: Idempotency
    what: str  # names the call in messages: "the online query"
    body: bytes | None = None
    query_name: str | None = None
    environment: str | None = None
    branch: str | None = None
    rows: int = 0  # uploads: rows sent
    features: tuple[str, ...] = ()  # uploads: the features sent; online queries: the outputs asked for
    idempotency_key: str | None = None
    queries: int = 0  # bulk queries: how many the request carries
    branchless: bool = False  # the client's branch does not apply (the engine's ping, branches, datasets)
    headers: tuple[tuple[str, str], ...] = ()  # the call's own headers, after the route's
    media: str = JSON  # the body's Content-Type
    accept: str = JSON  # the answer's wanted type


def generated_call(
    endpoint: Any,  # noqa: ANN401 - a chalk_openapi.api module
    model: Any = None,  # noqa: ANN401 - its request model (None: the body as it is)
    body: Mapping[str, Any] | bytes | None = None,
    /,
    *,
    what: str,
    idempotency: Idempotency,
    plane: Plane = Plane.API,
    body_what: str = "the body",
    path_params: Mapping[str, str] | None = None,
    **fields: Any,  # noqa: ANN401 - the other fields of Call
) -> Call:
    """The :class:`Call` whose method, path and body the generated `endpoint` builds
    (:func:`~chalk_client._api.arguments.generated_request`); `fields` are its routing facts."""
    method, path, content, media = generated_request(
        endpoint, model, body, what=body_what, **(path_params or {})
    )
    return Call(
        method=method,
        path=path,
        plane=plane,
        idempotency=idempotency,
        what=what,
        body=content,
        media=media,
        **fields,
    )


def build_request(call: Call, route: Route, *, user_agent: str, timeout: httpx.Timeout) -> httpx.Request:
    """The httpx request for `call` along `route` (the auth flow adds ``Authorization``).

    The URL and the headers are parsed once per route and path (:func:`_template`); each request
    gets its own copy of the headers, which httpx makes cheaply from an ``httpx.Headers``.
    """
    media = call.media if call.body is not None else None
    url, headers = _template(
        route.base_url, call.path, route.headers + call.headers, media, call.accept, user_agent=user_agent
    )
    return httpx.Request(
        call.method, url, headers=headers, content=call.body, extensions={"timeout": timeout.as_dict()}
    )


@functools.lru_cache(maxsize=512)
def _template(
    base_url: str,
    path: str,
    route_headers: tuple[tuple[str, str], ...],
    body_type: str | None,
    accept: str,
    *,
    user_agent: str,
) -> tuple[httpx.URL, httpx.Headers]:
    """The parsed URL and the constant headers of a request: the same for every call of a route."""
    return httpx.URL(base_url + path), httpx.Headers(_headers(route_headers, body_type, accept, user_agent))


@functools.lru_cache(maxsize=512)
def wire_template(
    base_url: str,
    path: str,
    route_headers: tuple[tuple[str, str], ...],
    body_type: str | None,
    accept: str,
    *,
    user_agent: str,
) -> tuple[str, dict[str, str]]:
    """The URL and constant headers of a request as plain values, for a driver that sends without
    httpx types (the async client's aiohttp path); callers copy the dict before adding to it.

    `body_type` is the body's Content-Type (None: no body), `accept` the answer's wanted type.
    """
    return base_url + path, dict(_headers(route_headers, body_type, accept, user_agent))


def _headers(
    route_headers: tuple[tuple[str, str], ...], body_type: str | None, accept: str, user_agent: str
) -> list[tuple[str, str]]:
    typed = [("Content-Type", body_type)] if body_type is not None else []
    return [("User-Agent", user_agent), ("Accept", accept), *typed, *route_headers]


# ---------------------------------------------------------------------------------------------------
# Online query


def online_query_call(
    input: Mapping[str, Any],
    output: Sequence[str],
    *,
    now: datetime | None = None,
    staleness: Mapping[str, str] | None = None,
    tags: Sequence[str] | None = None,
    query_name: str | None = None,
    correlation_id: str | None = None,
    include_meta: bool = False,
    explain: bool = False,
    environment: str | None = None,
    branch: str | None = None,
    default_branch: str | None = None,
) -> Call:
    """The online query request, or :class:`ChalkInputError` naming the bad argument.

    `branch` is the call's own; `default_branch` the client's, used when the call names none (the
    body carries it as ``branch_id``).
    """
    branch = _header_string(branch, "branch") or default_branch
    inputs = _feature_mapping(input, "input")
    if not inputs:
        raise ChalkInputError("input is empty: give at least one primary key, e.g. {'user.id': 1}")
    outputs = _strings(output, "output")
    if not outputs:
        raise ChalkInputError("output is empty: name at least one feature, e.g. ['user.name']")
    body: dict[str, Any] = {"inputs": inputs, "outputs": outputs}
    if now is not None:
        body["now"] = _aware(now, "now").astimezone(UTC).isoformat()
    if staleness is not None:
        body["staleness"] = _string_map(staleness, "staleness")
    if tags is not None:
        body["context"] = {"tags": _strings(tags, "tags")}
    if include_meta:
        body["include_meta"] = _bool(include_meta, "include_meta")
    if explain:
        body["explain"] = _bool(explain, "explain")
    for name, value in (
        ("query_name", query_name),
        ("correlation_id", correlation_id),
        ("branch_id", branch),
    ):
        if value is not None:
            body[name] = _string(value, name)
    from chalk_openapi.api.query import query_online

    # The body as built (the hot path): tests check it against the spec and OnlineQueryRequest.
    return generated_call(
        query_online,
        None,
        body,
        body_what="input",
        plane=Plane.DATA,
        idempotency=Idempotency.SAFE,  # a query reads: sending it twice changes nothing
        what="the online query",
        query_name=_header_string(query_name, "query_name"),
        environment=_header_string(environment, "environment"),
        branch=branch,
        features=tuple(outputs),
    )


def parse_online_query(call: Call, response: Answer, secrets: Iterable[str | None]) -> OnlineQueryResult:
    """The result of a 200 online-query answer, or :class:`ChalkInvalidResponseError`."""
    payload = json_object(response, secrets)
    data = payload.get("data")
    if not isinstance(data, list):
        raise invalid_response(response, "the field 'data' is missing or not a list")
    feature_errors: dict[int, ChalkServerErrorInfo] = {}
    for position, item in enumerate(data):
        if type(item) is not dict or type(item.get("field")) is not str:
            raise invalid_response(response, f"data[{position}] is not an object with a string 'field'")
        raw_error = item.get("error")
        if raw_error is not None:
            feature_errors[position] = _chalk_error(raw_error, response, f"data[{position}].error", secrets)
    request_errors = _answer_errors(payload, response, secrets)
    raw_meta = payload.get("meta")
    return OnlineQueryResult(
        data,
        feature_errors=feature_errors,
        request_errors=request_errors,
        meta=_query_meta(raw_meta) if isinstance(raw_meta, Mapping) else None,
        trace=response.headers.get("x-chalk-trace-id") or None,
        outputs=call.features,
    )


def _query_meta(raw: Mapping[str, Any]) -> QueryMeta:
    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    duration = raw.get("execution_duration_s")
    return QueryMeta(
        execution_duration_s=float(duration)
        if isinstance(duration, int | float) and _is_number(duration)
        else None,
        deployment_id=text("deployment_id"),
        environment_id=text("environment_id"),
        environment_name=text("environment_name"),
        query_id=text("query_id"),
        query_timestamp=text("query_timestamp"),
        query_hash=text("query_hash"),
        explain_output=raw.get("explain_output"),
    )


# ---------------------------------------------------------------------------------------------------
# Upload features


def upload_features_call(
    input: Mapping[str, Any],
    *,
    correlation_id: str | None = None,
    query_name: str | None = None,
    environment: str | None = None,
    branch: str | None = None,
) -> Call:
    """The upload request: every value a column of the same length (a scalar is a column of one)."""
    mapping = _feature_mapping(input, "input")
    if not mapping:
        raise ChalkInputError("input is empty: give at least one feature column, e.g. {'user.id': [1]}")
    columns: dict[str, list[Any]] = {}
    for name, value in mapping.items():
        columns[name] = _column(value, name)
    lengths = {name: len(column) for name, column in columns.items()}
    distinct = set(lengths.values())
    if 0 in distinct:
        empty = [name for name, n in lengths.items() if n == 0]
        raise ChalkInputError(f"input has empty columns ({', '.join(empty)}): every column needs a value")
    if len(distinct) > 1:
        shown = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ChalkInputError(
            f"input columns have different lengths ({shown}); every column needs one value per row"
        )
    body: dict[str, Any] = {"input": columns}
    for key, value in (("correlation_id", correlation_id), ("query_name", query_name)):
        if value is not None:
            body[key] = _string(value, key)
    from chalk_openapi.api.query import upload_features
    from chalk_openapi.models.upload_features_request import UploadFeaturesRequest

    return generated_call(
        upload_features,
        UploadFeaturesRequest,
        body,
        body_what="input",
        idempotency=Idempotency.UNSAFE,  # no idempotency key: a repeat could store the rows twice
        what="the upload",
        query_name=_header_string(query_name, "query_name"),
        environment=_header_string(environment, "environment"),
        branch=_header_string(branch, "branch"),
        rows=distinct.pop(),
        features=tuple(columns),
    )


def parse_upload(call: Call, response: Answer, secrets: Iterable[str | None]) -> UploadResult:
    """What the server reported for an upload (the generated ``UploadFeaturesResponse``); errors in
    the answer raise :class:`ChalkResultError`."""
    from chalk_openapi.models.upload_features_response import UploadFeaturesResponse
    from chalk_openapi.types import Unset

    payload = json_object(response, secrets)
    raw_trace = model_from(UploadFeaturesResponse, payload, response).trace_id
    if not isinstance(raw_trace, str | None | Unset):
        raise invalid_response(response, "the field 'trace_id' is not a string")
    trace_id = raw_trace if isinstance(raw_trace, str) and raw_trace else None
    errors = _answer_errors(payload, response, secrets)
    if errors:
        raise ChalkResultError(
            f"the upload of {call.rows} row(s) (nothing was stored)", errors, trace=trace_id
        )
    return UploadResult(rows=call.rows, features=call.features, trace_id=trace_id)


# ---------------------------------------------------------------------------------------------------
# Who am I, resolver runs


def whoami_call(*, environment: str | None = None, branch: str | None = None) -> Call:
    """The who-am-i request."""
    from chalk_openapi.api.account import who_am_i

    return generated_call(
        who_am_i,
        idempotency=Idempotency.SAFE,
        what="who-am-i",
        environment=_header_string(environment, "environment"),
        branch=_header_string(branch, "branch"),
    )


def parse_whoami(call: Call, response: Answer, secrets: Iterable[str | None]) -> WhoAmI:
    """The identity in a who-am-i answer."""
    from chalk_openapi.models.who_am_i_response import WhoAmIResponse

    parsed = parse_model(WhoAmIResponse, response, required=("user",), secrets=secrets)
    return WhoAmI(
        user=parsed.user, environment_id=opt_str(parsed.environment_id), team_id=opt_str(parsed.team_id)
    )


def trigger_run_call(
    resolver_fqn: str,
    *,
    lower_bound: datetime | str | None = None,
    upper_bound: datetime | str | None = None,
    timestamping_mode: str | None = None,
    persist_online: bool | None = None,
    persist_offline: bool | None = None,
    idempotency_key: str | None = None,
    environment: str | None = None,
    branch: str | None = None,
) -> Call:
    """The trigger request; a missing idempotency key is generated, so retries cannot start two runs."""
    body: dict[str, Any] = {"resolver_fqn": _string(resolver_fqn, "resolver_fqn")}
    bounds = {"lower_bound": lower_bound, "upper_bound": upper_bound}
    parsed_bounds = {name: _time(value, name) for name, value in bounds.items() if value is not None}
    if len(parsed_bounds) == 2 and parsed_bounds["lower_bound"] >= parsed_bounds["upper_bound"]:
        raise ChalkInputError("lower_bound must be before upper_bound")
    for name, when in parsed_bounds.items():
        body[name] = when.astimezone(UTC).isoformat()
    if timestamping_mode is not None:
        if timestamping_mode not in TIMESTAMPING_MODES:
            raise ChalkInputError(
                f"timestamping_mode must be one of {', '.join(TIMESTAMPING_MODES)}, got {timestamping_mode!r}"
            )
        body["timestamping_mode"] = timestamping_mode
    settings = {
        name: _bool(value, name)
        for name, value in (
            ("persist_online_storage", persist_online),
            ("persist_offline_storage", persist_offline),
        )
        if value is not None
    }
    if settings:
        body["persistence_settings"] = settings
    key = _string(idempotency_key, "idempotency_key") if idempotency_key is not None else str(uuid.uuid4())
    body["idempotency_key"] = key
    from chalk_openapi.api.runs import trigger_resolver_run
    from chalk_openapi.models.trigger_run_request import TriggerRunRequest

    return generated_call(
        trigger_resolver_run,
        TriggerRunRequest,
        body,
        body_what="arguments",
        idempotency=Idempotency.SAFE,  # the key stays the same across attempts: one run at most
        what="the resolver run trigger",
        environment=_header_string(environment, "environment"),
        branch=_header_string(branch, "branch"),
        idempotency_key=key,
    )


def run_status_call(run_id: str, *, environment: str | None = None, branch: str | None = None) -> Call:
    """The run-status request."""
    from chalk_openapi.api.runs import get_run_status

    return generated_call(
        get_run_status,
        path_params={"run_id": _string(run_id, "run_id")},
        idempotency=Idempotency.SAFE,
        what="the run status",
        environment=_header_string(environment, "environment"),
        branch=_header_string(branch, "branch"),
    )


def parse_run(call: Call, response: Answer, secrets: Iterable[str | None]) -> ResolverRun:
    """The run in a trigger or status answer."""
    from chalk_openapi.models.run_response import RunResponse

    parsed = parse_model(RunResponse, response, required=("id",), secrets=secrets)
    status = getattr(parsed.status, "value", parsed.status)
    if not isinstance(status, str):
        raise invalid_response(response, "the field 'status' is not a string")
    return ResolverRun(id=parsed.id, status=status, idempotency_key=call.idempotency_key)


# ---------------------------------------------------------------------------------------------------
# Error objects in answers (also read by the offline parsers)


def _answer_errors(
    payload: Mapping[str, Any], response: Answer, secrets: Iterable[str | None]
) -> list[ChalkServerErrorInfo]:
    """The answer's ``errors`` (absent or null: none), each read by :func:`_chalk_error`."""
    raw = payload.get("errors")
    if raw is not None and not isinstance(raw, list):
        raise invalid_response(response, "the field 'errors' is not a list")
    return [_chalk_error(error, response, f"errors[{i}]", secrets) for i, error in enumerate(raw or ())]


def _chalk_error(
    raw: object, response: Answer, where: str, secrets: Iterable[str | None] = ()
) -> ChalkServerErrorInfo:
    """A server error object, parsed by the generated ``ChalkError``; a secret in its message is replaced."""
    from chalk_openapi.models.chalk_error import ChalkError

    if isinstance(raw, Mapping) and isinstance(raw.get("code"), str) and isinstance(raw.get("message"), str):
        try:
            error = ChalkError.from_dict(raw)
        except MODEL_ERRORS:
            pass
        else:
            message = error.message
            for secret in secrets:
                if secret and secret in message:
                    message = message.replace(secret, REDACTED)
            return from_generated(error, message)
    raise invalid_response(response, f"{where} is not a ChalkError object (code and message strings)")
