"""Rules the spec itself must keep, and that ChalkServer and the SDK cover exactly the spec's operations.

- Every object schema lists its ``required`` fields, so that "absent" is a decision of the spec and
  not an accident: a ``required`` key on every object with properties, non-empty unless the object
  is listed in :data:`ONLY_OPTIONAL_FIELDS` with the reason.
- ChalkServer registers a route for every operation and none the spec lacks (its non-API routes,
  named in :data:`NON_API_ROUTES`, apart).
- The SDK's public methods, run against a ChalkServer, call every operation of the spec and nothing
  else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any, Final

import pytest

from chalk_client import AsyncChalkClient, BulkQuery, ChalkClient
from chalk_client.testing import FEATURE_RESOLVERS, ChalkServer
from chalk_client.testing._faults._control import CONTROL_PATH
from chalk_client.testing._offline._service import STORAGE_PREFIX
from tests.contract import spec

# -- every object schema lists its required fields --------------------------------------------

ONLY_OPTIONAL_FIELDS: Final[Mapping[str, str]] = {
    "/components/schemas/OnlineQueryContext": (
        "the query's context: environment and tags are each optional; the SDK sends only those set"
    ),
    "/components/schemas/FeatureMeta": (
        "per-feature metadata (include_meta): Chalk fills in what it knows, and any of it may be absent"
    ),
    "/components/schemas/QueryMeta": (
        "query metadata (include_meta): Chalk fills in what it knows, and any of it may be absent"
    ),
    "/components/schemas/UploadFeaturesResponse": (
        "an upload that stored everything may be answered with an empty object"
    ),
    "/components/schemas/PersistenceSettings": (
        "each flag is optional: one left out keeps the resolver's own setting"
    ),
    "/components/schemas/FeatureDeletionResponse": (
        "a deletion that met no error may be answered with an empty object (errors null or absent)"
    ),
    "/components/schemas/PingRequest": (
        "the ping's number is optional: chalkpy sends null when none is given"
    ),
    "/components/schemas/ErrorResponse": (
        "the shared error body: a gateway or framework in front of Chalk may send only some of "
        "detail, trace and errors, and the SDK reads whichever are there"
    ),
}
"""Object schemas whose every field is optional (their ``required`` is ``[]``), and why."""


def _is_object(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if isinstance(kind, list):
        return "object" in kind
    return kind == "object" or (kind is None and "properties" in schema)


def object_schemas() -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object schema of the spec (components and inline, recursively), with its pointer."""
    for location, schema in spec.schemas():
        if _is_object(schema):
            yield location, schema


def test_the_walk_reaches_components_and_inline_schemas() -> None:
    found = dict(object_schemas())
    assert "/components/schemas/TokenRequest" in found
    assert "/components/schemas/OnlineQueryRequest/properties/inputs" in found  # an inline map
    assert len(found) >= len(spec.spec().document["components"]["schemas"]) - 3  # the enums are not objects


def test_every_object_schema_lists_its_required_fields() -> None:
    problems: list[str] = []
    for location, schema in object_schemas():
        properties = schema.get("properties") or {}
        if not properties:
            # A map (names to values: `additionalProperties` only) has no named fields to require;
            # `required` there could only name keys a map happens to have.
            continue
        if "required" not in schema:
            reason = (
                ""
                if location not in ONLY_OPTIONAL_FIELDS
                else " (listed as all-optional: say `required: []`)"
            )
            problems.append(
                f"{location}: no `required` list; its properties: {', '.join(properties)}{reason}"
            )
            continue
        required = schema["required"]
        if not isinstance(required, list):
            problems.append(f"{location}: `required` is not a list: {required!r}")
            continue
        unknown = [name for name in required if name not in properties]
        if unknown:
            problems.append(f"{location}: `required` names fields it does not define: {', '.join(unknown)}")
        if not required and location not in ONLY_OPTIONAL_FIELDS:
            problems.append(
                f"{location}: `required` is empty; require the fields every answer has, or add it to "
                "ONLY_OPTIONAL_FIELDS with the reason"
            )
        if required and location in ONLY_OPTIONAL_FIELDS:
            problems.append(
                f"{location}: requires {', '.join(required)}, so drop it from ONLY_OPTIONAL_FIELDS"
            )
    locations = {location for location, _ in object_schemas()}
    problems.extend(
        f"{location}: in ONLY_OPTIONAL_FIELDS but not an object schema of the spec"
        for location in ONLY_OPTIONAL_FIELDS
        if location not in locations
    )
    assert not problems, "object schemas without their required fields:\n" + "\n".join(problems)


# -- ChalkServer implements exactly the spec's operations -------------------------------------

SPEC_ROUTES: Final = frozenset(operation.route for operation in spec.operations().values())

NON_API_ROUTES: Final = frozenset(
    {
        # Signed result-file URLs of offline queries (the signature is the credential), as a storage
        # bucket serves them: the spec gives them as opaque URLs, not as operations.
        ("GET", STORAGE_PREFIX + "/{job_id}/{file_name}"),
        # The fault-injection control API of chalk_client.testing (tests in other processes).
        ("GET", CONTROL_PATH),
        ("POST", CONTROL_PATH),
        ("DELETE", CONTROL_PATH),
        ("POST", CONTROL_PATH + "/revoke_tokens"),
    }
)
"""ChalkServer's routes that are not API operations: excluded by name, and required to exist."""


def test_chalk_server_routes_exactly_the_spec_operations() -> None:
    server = ChalkServer()  # the routes are made in the constructor; nothing is started
    routes = server.routes()
    assert routes >= NON_API_ROUTES, f"non-API routes gone (update NON_API_ROUTES): {NON_API_ROUTES - routes}"
    api_routes = routes - NON_API_ROUTES
    assert sorted(SPEC_ROUTES - api_routes) == [], "spec operations ChalkServer does not route"
    assert sorted(api_routes - SPEC_ROUTES) == [], "ChalkServer routes the spec does not have"


def test_the_engine_address_routes_only_the_queries() -> None:
    server = ChalkServer()
    # The data-plane calls: the online and bulk queries, and the ping (always sent to the engine).
    expected = {spec.operations()[name].route for name in ("query_online", "query_bulk", "ping_engine")}
    assert server.routes("engine") == expected


# -- the SDK calls exactly the spec's operations ----------------------------------------------

RESOLVER: Final = FEATURE_RESOLVERS["user.credit_score"]
OUTPUTS: Final = ["user.name", "user.credit_score"]


@pytest.fixture(scope="module")
def server() -> Iterator[ChalkServer]:
    # Offline jobs finish at once and runs report `succeeded` at once: every call has its answer.
    with ChalkServer(offline_duration=0, run_duration=0) as running:
        yield running


def _credentials(server: ChalkServer) -> dict[str, Any]:
    return {"client_id": server.client_id, "client_secret": server.client_secret, "api_server": server.url}


def _every_public_method(client: ChalkClient) -> None:
    client.get_token()
    client.query({"user.id": 1}, OUTPUTS)
    client.query_bulk({"user.id": [1, 2]}, OUTPUTS)
    client.multi_query([BulkQuery(input={"user.id": [1]}, output=OUTPUTS)])
    client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    client.whoami()
    run = client.trigger_resolver_run(RESOLVER)
    client.get_run_status(run.id)
    client.multi_upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    client.delete_features("user", [2], features=["name"])
    client.drop_features("user", ["age"])
    client.ping_engine(3)
    client.get_branches()
    job = client.offline_query({"user.id": [1, 2]}, OUTPUTS, dataset_name="contract")
    job.wait(timeout=30)
    job.status()
    job.cancel()
    client.get_offline_query(job.job_id).status()
    client.get_dataset(name="contract")
    client.get_dataset(job_id=job.job_id)


async def _every_public_method_async(client: AsyncChalkClient) -> None:
    await client.get_token()
    await client.query({"user.id": 1}, OUTPUTS)
    await client.query_bulk({"user.id": [1, 2]}, OUTPUTS)
    await client.multi_query([BulkQuery(input={"user.id": [1]}, output=OUTPUTS)])
    await client.upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    await client.whoami()
    run = await client.trigger_resolver_run(RESOLVER)
    await client.get_run_status(run.id)
    await client.multi_upload_features({"user.id": [1, 2], "user.name": ["Ada", "Grace"]})
    await client.delete_features("user", [2], features=["name"])
    await client.drop_features("user", ["age"])
    await client.ping_engine(3)
    await client.get_branches()
    job = await client.offline_query({"user.id": [1, 2]}, OUTPUTS, dataset_name="contract")
    await job.wait(timeout=30)
    await job.status()
    await job.cancel()
    await (await client.get_offline_query(job.job_id)).status()
    await client.get_dataset(name="contract")
    await client.get_dataset(job_id=job.job_id)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_sdk_calls_exactly_the_spec_operations(server: ChalkServer, kind: str) -> None:
    server.clear_requests()
    if kind == "sync":
        with ChalkClient(**_credentials(server)) as client:
            _every_public_method(client)
    else:

        async def main() -> None:
            async with AsyncChalkClient(**_credentials(server)) as client:
                await _every_public_method_async(client)

        asyncio.run(main())
    called: set[str] = set()
    outside: list[str] = []
    for record in server.requests:
        operation = spec.match(record.method, record.path)
        if operation is None:
            outside.append(f"{record.method} {record.path} ({record.status})")
            continue
        assert record.status == 200, f"{operation} answered {record.status}"
        called.add(operation.operation_id)
    assert outside == [], "the SDK called what is not an operation of the spec"
    assert sorted(set(spec.operations()) - called) == [], "operations of the spec the SDK never calls"
