"""Bulk writes and deletes, the engine's ping and the branch list, as :class:`Call` builders and parsers.

- ``multi_upload_features``: one ``POST /v1/upload_features/multi`` per Arrow table (a byte model,
  :func:`chalk_client._api.feather.encode_upload`), to the API server; a list of row mappings
  becomes one table per set of keys, in the order each set first appears.
- ``delete_features`` / ``drop_features``: JSON bodies on ``DELETE /v1/features/rows`` and
  ``/columns``, to the API server, never on a branch (the official client refuses it too);
  idempotent, so retried as safe calls.
- ``ping_engine``: ``POST /ping`` to the engine (never a branch); ``get_branches``: ``GET /v1/branches``.

Every argument is checked before anything is sent (:class:`ChalkInputError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from chalk_client._api.arguments import _bool, _header_string, _string, _strings
from chalk_client._api.bulk_input import bulk_input_table
from chalk_client._api.calls import Call, _answer_errors, generated_call
from chalk_client._api.feather import encode_upload
from chalk_client._api.results import Branch, UploadResult
from chalk_client._core.answers import Answer, invalid_response, json_object, model_from
from chalk_client._core.defaults import TimeoutArg, UseClientDefault
from chalk_client._core.errors import ChalkInputError, ChalkResultError, ChalkSDKError
from chalk_client._core.retry import Idempotency
from chalk_client._core.routing import Plane
from chalk_client._core.steps import Flow
from chalk_client._core.token import parse_rfc3339

if TYPE_CHECKING:
    from chalk_client._api.flow import CallFlows

__all__ = [
    "delete_features_call",
    "drop_features_call",
    "get_branches_call",
    "multi_upload_calls",
    "multi_upload_flow",
    "parse_branches",
    "parse_deletion",
    "parse_multi_upload",
    "parse_ping",
    "ping_call",
]

_ON_A_BRANCH: Final = (
    "is not possible on a branch (the client's branch is {branch!r}): use a client without one"
)


# ---------------------------------------------------------------------------------------------------
# Multi-upload


def multi_upload_calls(input: object, *, environment: str | None = None) -> list[Call]:
    """One upload call per table of `input`: a mapping of columns or a pandas, polars or pyarrow
    table (one call), or a list of row mappings (one call per distinct set of keys)."""
    environment = _header_string(environment, "environment")
    tables = [bulk_input_table(table, what="multi_upload_features()") for table in _tables(input)]
    from chalk_openapi.api.query import multi_upload_features

    calls = []
    for table in tables:
        calls.append(
            generated_call(
                multi_upload_features,
                None,
                encode_upload(table),
                idempotency=Idempotency.UNSAFE,  # no idempotency key: a repeat could store the rows twice
                what="the multi-upload",
                environment=environment,
                rows=table.num_rows,
                features=tuple(table.column_names),
            )
        )
    return calls


def _tables(input: object) -> list[object]:
    """`input` as what :func:`bulk_input_table` takes: itself, or one column mapping per key set."""
    if isinstance(input, Mapping) or not isinstance(input, Sequence) or isinstance(input, str | bytes):
        return [input]  # a mapping, a table, or something bulk_input_table refuses with its message
    if not input:
        raise ChalkInputError(
            "input is empty: give at least one row, e.g. [{'user.id': 1, 'user.name': 'Ada'}]"
        )
    groups: dict[tuple[str, ...], dict[str, list[Any]]] = {}
    for position, row in enumerate(input):
        if not isinstance(row, Mapping):
            raise ChalkInputError(
                f"input[{position}] must be a mapping of feature name to value, got {type(row).__name__}"
            )
        keys = tuple(row)
        for key in keys:
            if not isinstance(key, str) or not key:
                raise ChalkInputError(f"input[{position}] has a key that is not a feature name: {key!r}")
        columns = groups.setdefault(tuple(sorted(keys)), {key: [] for key in keys})
        for key in keys:
            columns[key].append(row[key])
    return list(groups.values())


def parse_multi_upload(call: Call, response: Answer, secrets: Iterable[str | None]) -> str:
    """The operation id of one stored table; errors in the answer raise :class:`ChalkResultError`."""
    from chalk_openapi.models.multi_upload_features_response import MultiUploadFeaturesResponse

    payload = json_object(response, secrets)
    errors = _answer_errors(payload, response, secrets)
    if errors:
        raise ChalkResultError(f"the multi-upload of {call.rows} row(s) (this table was not stored)", errors)
    operation_id = model_from(MultiUploadFeaturesResponse, payload, response).operation_id
    if not isinstance(operation_id, str) or not operation_id:
        raise invalid_response(response, "the field 'operation_id' is missing or not a string")
    return operation_id


def multi_upload_flow(
    flows: CallFlows, uploads: Sequence[Call], timeout: TimeoutArg | UseClientDefault
) -> Flow[UploadResult]:
    """Send each table in turn; the first failure ends the upload. When tables were stored before
    it, the error carries their ids (``operation_ids``) and a note saying so."""
    stored: list[str] = []
    for position, call in enumerate(uploads):
        try:
            stored.append((yield from flows.call(call, parse_multi_upload, timeout)))
        except ChalkSDKError as err:
            if stored:
                err.operation_ids = tuple(stored)
                err.add_note(
                    f"multi_upload_features: table {position + 1} of {len(uploads)} failed; the "
                    f"{len(stored)} before it were stored (operation ids {', '.join(stored)})"
                )
            raise
    return upload_result(uploads, stored)


def upload_result(calls: Sequence[Call], operation_ids: Sequence[str]) -> UploadResult:
    """What a whole multi-upload stored: every table's rows, features and operation id."""
    features: list[str] = []
    for call in calls:
        features.extend(name for name in call.features if name not in features)
    return UploadResult(
        rows=sum(call.rows for call in calls), features=tuple(features), operation_ids=tuple(operation_ids)
    )


# ---------------------------------------------------------------------------------------------------
# Deletes


def delete_features_call(
    namespace: str,
    primary_keys: Sequence[str | int],
    *,
    features: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    retain_offline: bool = False,
    retain_online: bool = False,
    environment: str | None = None,
    client_branch: str | None = None,
) -> Call:
    """The request deleting `primary_keys`' values (of `features`, or of `tags`, or all)."""
    namespace = _string(namespace, "namespace")
    _refuse_branch("delete_features()", client_branch)
    if features is not None and tags is not None:
        raise ChalkInputError("give features or tags, not both: each chooses what to delete")
    keys = _primary_keys(primary_keys)
    body = {
        "namespace": namespace,
        "features": None if features is None else _relative(namespace, features),
        "tags": None if tags is None else _strings(tags, "tags"),
        "primary_keys": keys,
        "retain_offline": _bool(retain_offline, "retain_offline"),
        "retain_online": _bool(retain_online, "retain_online"),
    }
    from chalk_openapi.api.query import delete_features
    from chalk_openapi.models.feature_deletion_request import FeatureDeletionRequest

    return generated_call(
        delete_features,
        FeatureDeletionRequest,
        body,
        body_what="arguments",
        idempotency=Idempotency.SAFE,  # deleting twice leaves the same store
        what=f"the deletion of {len(keys)} {namespace}(s)",
        environment=_header_string(environment, "environment"),
        rows=len(keys),
    )


def drop_features_call(
    namespace: str,
    features: Sequence[str],
    *,
    retain_offline: bool = False,
    retain_online: bool = False,
    environment: str | None = None,
    client_branch: str | None = None,
) -> Call:
    """The request deleting `features`' values for every entity of `namespace`."""
    namespace = _string(namespace, "namespace")
    _refuse_branch("drop_features()", client_branch)
    names = _relative(namespace, features)
    if not names:
        raise ChalkInputError("features is empty: name at least one feature to drop, e.g. ['email']")
    body = {
        "namespace": namespace,
        "features": names,
        "retain_offline": _bool(retain_offline, "retain_offline"),
        "retain_online": _bool(retain_online, "retain_online"),
    }
    from chalk_openapi.api.query import drop_features
    from chalk_openapi.models.feature_drop_request import FeatureDropRequest

    return generated_call(
        drop_features,
        FeatureDropRequest,
        body,
        body_what="arguments",
        idempotency=Idempotency.SAFE,
        what=f"the drop of {', '.join(names)}",
        environment=_header_string(environment, "environment"),
    )


def _refuse_branch(what: str, branch: str | None) -> None:
    if branch is not None:
        raise ChalkInputError(f"{what} {_ON_A_BRANCH.format(branch=branch)}")


def _relative(namespace: str, features: Sequence[str]) -> list[str]:
    """Feature names within `namespace`: ``email`` stays, ``user.email`` becomes ``email``."""
    prefix = namespace + "."
    names = []
    for name in _strings(features, "features"):
        relative = name.removeprefix(prefix)
        if not relative:
            raise ChalkInputError(f"features: {name!r} names no feature of {namespace!r}")
        names.append(relative)
    return names


def _primary_keys(value: object) -> list[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ChalkInputError(f"primary_keys must be a list of str or int, got {type(value).__name__}")
    keys = []
    for key in value:
        if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
            raise ChalkInputError(f"primary_keys must hold non-empty strings or ints, got {key!r}")
        keys.append(str(key))
    if not keys:
        raise ChalkInputError("primary_keys is empty: give at least one, e.g. [1, 2]")
    return keys


def parse_deletion(call: Call, response: Answer, secrets: Iterable[str | None]) -> None:
    """Nothing, or :class:`ChalkResultError` with the errors the answer reported."""
    payload = json_object(response, secrets)
    errors = _answer_errors(payload, response, secrets)
    if errors:
        raise ChalkResultError(call.what, errors, trace=response.headers.get("x-chalk-trace-id") or None)


# ---------------------------------------------------------------------------------------------------
# Ping, branches


def ping_call(num: int | None = None, *, environment: str | None = None) -> Call:
    """The engine's ping (`num` is echoed), routed to the engine and never to a branch."""
    if num is not None and (isinstance(num, bool) or not isinstance(num, int) or not -(2**63) <= num < 2**63):
        raise ChalkInputError(f"num must be a 64-bit int or None, got {num!r}")
    from chalk_openapi.api.account import ping_engine
    from chalk_openapi.models.ping_request import PingRequest

    return generated_call(
        ping_engine,
        PingRequest,
        {"num": num},
        body_what="arguments",
        plane=Plane.DATA,
        idempotency=Idempotency.SAFE,
        what="the engine ping",
        environment=_header_string(environment, "environment"),
        branchless=True,  # the engine's, even on a branch client
        headers=(("X-Chalk-Server", "go-api"),),  # as the official client sends it
    )


def parse_ping(call: Call, response: Answer, secrets: Iterable[str | None]) -> int:
    """The number the engine answered."""
    payload = json_object(response, secrets)
    num = payload.get("num")
    if isinstance(num, bool) or not isinstance(num, int):
        raise invalid_response(response, "the field 'num' is missing or not an integer")
    return num


def get_branches_call(*, environment: str | None = None) -> Call:
    """The branch list, from the API server (without a branch)."""
    from chalk_openapi.api.account import get_branches

    return generated_call(
        get_branches,
        idempotency=Idempotency.SAFE,
        what="the branch list",
        environment=_header_string(environment, "environment"),
        branchless=True,
    )


def parse_branches(call: Call, response: Answer, secrets: Iterable[str | None]) -> list[Branch]:
    """The branches (the generated ``BranchesResponse``), in the server's order."""
    from chalk_openapi.models.branches_response import BranchesResponse
    from chalk_openapi.types import Unset

    payload = json_object(response, secrets)
    raw = payload.get("branches")
    if not isinstance(raw, list) or not all(
        isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in raw
    ):
        raise invalid_response(response, "the field 'branches' is not a list of objects with a string 'name'")
    parsed = model_from(BranchesResponse, payload, response)
    branches = []
    for item in parsed.branches:
        deployments = item.deployments if isinstance(item.deployments, list) else []
        latest = item.latest_deployment
        branches.append(
            Branch(
                name=item.name,
                latest_deployment=latest
                if isinstance(latest, str) and not isinstance(latest, Unset)
                else None,
                latest_deployment_time=parse_rfc3339(item.latest_deployment_time),
                deployment_ids=tuple(
                    d.deployment_id for d in deployments if isinstance(d.deployment_id, str)
                ),
            )
        )
    return branches
