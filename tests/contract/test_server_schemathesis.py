"""ChalkServer, property-tested against openapi/chalk.yaml with schemathesis: good and bad requests.

Every answer, to a request the spec allows or one it does not, must be one the spec documents: its
status (``200``, ``4XX``, ``5XX``), its content type and its body's schema; never a server error
(5xx); and a request the spec does not allow must be refused (4xx). Four kinds of requests:

- Coverage: schemathesis's deterministic cases for each operation (boundary values, each required
  field left out, wrong types, unexpected methods), positive and negative, headers as generated
  (so the routing-header checks are reached too).
- Fuzzing: hypothesis-generated cases per operation, positive and negative, with valid routing
  headers (so the body reaches the handler) and, for positive ones, the ids of a run and an offline
  job that exist (so the 200 answers are reached and checked).
- Fuzzing with the seeded graph: bodies whose names come from ChalkServer's feature graph (and
  sometimes not), so that generated values reach the code that computes answers; each offline job
  submitted is then asked for its status, progress, dataset and cancelled.
- Edge cases: values the generators rarely reach (integers beyond 64 bits, dates at the ends of
  the calendar, lone surrogates), each answered with a documented refusal (they once were 500s).
- Bulk envelopes: the spec gives ``query_bulk``'s body as bytes, so the cases above send random
  ones (all refused with a 400). These build ``chal1`` envelopes from the seeded graph: headers
  like the online query's, Arrow input tables of many column types, files and streams, some
  truncated or with bytes after the end; each answer is a 200 the SDK reads (one result per query)
  or a documented refusal.

Bounded: each operation's fuzzing stops at ``MAX_EXAMPLES`` cases, each case has ``DEADLINE``,
and generation is derandomized (the same cases on every run). This module uses schemathesis's
strategies with hypothesis's ``@given`` and not schemathesis's pytest plugin, so the suite may run
with ``-p no:schemathesis``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from chalk_client._api.feather import decode_response
from chalk_client.testing import FEATURE_RESOLVERS, FEATURE_TYPES, HAS_MANY_RESOLVERS, ChalkServer
from tests.contract import spec

MAX_EXAMPLES: Final = 25
DEADLINE: Final = datetime.timedelta(seconds=2)  # a case takes a few milliseconds

SCHEMA: Final = schemathesis.openapi.from_path(spec.SPEC_PATH)
OPERATIONS: Final[dict[str, Any]] = {}
for _result in SCHEMA.get_all_operations():
    _operation = _result.ok()
    _spec_operation = spec.match(_operation.method.upper(), _operation.path)
    assert _spec_operation is not None, _operation.label
    OPERATIONS[_spec_operation.operation_id] = _operation

# Every answer: documented status, content type and schema, never a 5xx; a negative case refused.
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

FUZZ_SETTINGS: Final = settings(
    max_examples=MAX_EXAMPLES,
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    print_blob=False,
)


@dataclass
class Target:
    """A running ChalkServer, a token for it, and a run and an offline job that exist."""

    server: ChalkServer
    session: requests.Session
    auth: dict[str, str]
    routing: dict[str, str]
    path_parameters: dict[str, str]

    def headers_for(self, operation: Any) -> dict[str, str]:
        """The routing headers `operation` declares, with values the server accepts."""
        return {p.name: self.routing[p.name] for p in operation.headers if p.name in self.routing}

    def parameters_for(self, operation: Any) -> dict[str, str]:
        return {p.name: self.path_parameters[p.name] for p in operation.path_parameters}

    def call(self, case: Any) -> Any:
        response = case.call(base_url=self.server.url, headers=self.auth, session=self.session, timeout=10)
        case.validate_response(response, checks=CHECKS, headers=self.auth)
        return response


@contextlib.contextmanager
def _running_target() -> Iterator[Target]:
    with ChalkServer(offline_duration=0, run_duration=0) as server, requests.Session() as session:
        answer = session.post(
            f"{server.url}/v1/oauth/token",
            json={
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "grant_type": "client_credentials",
            },
            timeout=10,
        )
        auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        job = session.post(f"{server.url}/v4/offline_query", json={"output": ["user.name"]}, headers=auth)
        run = session.post(
            f"{server.url}/v1/runs/trigger",
            json={"resolver_fqn": FEATURE_RESOLVERS["user.credit_score"]},
            headers=auth,
        )
        job_id = job.json()["revisions"][0]["revision_id"]
        dataset_id = job.json()["dataset_id"]
        yield Target(
            server=server,
            session=session,
            auth=auth,
            routing={
                "X-Chalk-Client-Id": server.client_id,
                "X-Chalk-Env-Id": "env-dev-1",
                "X-Chalk-Deployment-Type": "engine",
                "X-Chalk-Deployment-Tag": "contract-tests",
                "X-Chalk-Query-Name": "contract_tests",
            },
            path_parameters={
                "run_id": run.json()["id"],
                "job_id": job_id,
                "revision_id": job_id,
                "dataset_name_or_id": dataset_id,
            },
        )


@pytest.fixture(scope="module")
def shared_target() -> Iterator[Target]:
    """One server for the generated cases (derandomized, so what they store is the same every run)."""
    with _running_target() as running:
        yield running


@pytest.fixture
def target() -> Iterator[Target]:
    """A server of its own, for the edge cases: what one stores cannot change another's answers."""
    with _running_target() as running:
        yield running


# -- coverage: schemathesis's deterministic cases ---------------------------------------------


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_coverage_cases(shared_target: Target, operation_id: str) -> None:
    target = shared_target
    operation = OPERATIONS[operation_id]
    cases = SCHEMA.iter_coverage_cases(
        operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=SCHEMA.config.generation,
    )
    failures: list[str] = []
    count = 0
    for case in cases:
        count += 1
        try:
            target.call(case)
        except BaseExceptionGroup as group:  # schemathesis's FailureGroup: every failed check
            failures.append(str(group))
    assert count > 0
    assert not failures, f"{len(failures)} of {count} coverage cases failed:\n\n" + "\n\n".join(failures)


# -- fuzzing: generated cases, positive and negative ------------------------------------------


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_fuzzing(shared_target: Target, operation_id: str, mode: GenerationMode) -> None:
    target = shared_target
    operation = OPERATIONS[operation_id]
    headers = target.headers_for(operation) or None
    # Positive cases name a run and a job that exist, to reach the 200 answers; negative ones
    # keep their generated (and mutated) path parameters.
    parameters = target.parameters_for(operation) if mode is GenerationMode.POSITIVE else {}
    strategy = operation.as_strategy(
        generation_mode=mode, headers=headers, path_parameters=parameters or None
    )

    @FUZZ_SETTINGS
    @given(case=strategy)
    def check(case: Any) -> None:
        target.call(case)

    check()


# -- edge cases the generators rarely reach ---------------------------------------------------

BIG: Final = 10**30  # beyond int64: JSON has no limit, parquet's int64 columns do
LATE: Final = "9999-12-31T23:59:59-14:00"  # a valid RFC 3339 time whose UTC is after year 9999
EARLY: Final = "0001-01-01T00:00:00+14:00"  # ... and one whose UTC is before year 1
LONE_SURROGATE: Final = "\ud800"  # valid JSON as an escape ("\\ud800"), not encodable as UTF-8


def _offline(columns: list[str], values: list[list[Any]], output: str = "user.name") -> dict[str, Any]:
    return {"output": [output], "input": {"columns": columns, "values": values}}


EDGE_CASES: Final = [
    pytest.param("query_online", {"inputs": {"user.id": BIG}, "outputs": ["user.name"]}, id="query-big-id"),
    pytest.param(
        "query_online", {"inputs": {"user.id": 1}, "outputs": ["user.name"], "now": LATE}, id="query-late-now"
    ),
    pytest.param(
        "query_online",
        {"inputs": {"user.id": LONE_SURROGATE}, "outputs": ["user.name"]},
        id="query-surrogate-id",
    ),
    pytest.param("upload_features", {"input": {"user.id": [BIG], "user.age": [1]}}, id="upload-big-id"),
    pytest.param("upload_features", {"input": {"user.id": [1], "user.age": [1.5]}}, id="upload-float-int"),
    pytest.param(
        "trigger_resolver_run",
        {"resolver_fqn": FEATURE_RESOLVERS["user.age"], "lower_bound": EARLY, "upper_bound": LATE},
        id="trigger-calendar-ends",
    ),
    pytest.param(
        "submit_offline_query", {"output": ["user.name"], "max_samples": BIG}, id="offline-big-max-samples"
    ),
    pytest.param(
        "submit_offline_query",
        {"output": ["user.name"], "observed_at_lower_bound": EARLY, "observed_at_upper_bound": LATE},
        id="offline-calendar-ends",
    ),
    # These five were 500s (an int beyond int64 or a lone surrogate reached the parquet writer, a
    # __ts__ whose UTC leaves years 1..9999 overflowed): ChalkServer now refuses them with a 400.
    pytest.param("submit_offline_query", _offline(["user.id"], [[BIG]]), id="offline-big-id"),
    pytest.param(
        "submit_offline_query", _offline(["user.id", "user.age"], [[1], [BIG]]), id="offline-big-age"
    ),
    pytest.param(
        "submit_offline_query", _offline(["user.id", "__ts__"], [[1], [LATE]]), id="offline-late-ts"
    ),
    pytest.param(
        "submit_offline_query", _offline(["user.id", "__ts__"], [[1], [EARLY]]), id="offline-early-ts"
    ),
    pytest.param(
        "submit_offline_query",
        _offline(["user.id", "user.name"], [[1], [LONE_SURROGATE]]),
        id="offline-surrogate-name",
    ),
    pytest.param("get_offline_query_status", {"job_id": LONE_SURROGATE}, id="status-surrogate-job"),
]


@pytest.mark.parametrize(("operation_id", "body"), EDGE_CASES)
def test_edge_case(target: Target, operation_id: str, body: dict[str, Any]) -> None:
    operation = OPERATIONS[operation_id]
    case = operation.Case(
        body=body,
        headers=target.headers_for(operation),
        path_parameters=target.parameters_for(operation),
        media_type="application/json",
    )
    target.call(case)


def test_the_refused_edge_cases_are_documented_refusals(target: Target) -> None:
    for columns, values in (
        (["user.id"], [[BIG]]),
        (["user.id", "user.age"], [[1], [BIG]]),
        (["user.id", "__ts__"], [[1], [LATE]]),
        (["user.id", "user.name"], [[1], [LONE_SURROGATE]]),
    ):
        operation = OPERATIONS["submit_offline_query"]
        case = operation.Case(
            body=_offline(columns, values),
            headers=target.headers_for(operation),
            media_type="application/json",
        )
        answer = target.call(case)
        assert answer.status_code == 400, (columns, answer.text)


# What one call stores, a later call reads: an upload the server accepts must not break later answers.
STORED_THEN_READ: Final = [
    pytest.param({"input": {"user.id": [1], "user.age": [BIG]}}, "user.age", id="big-age"),
    pytest.param(
        {"input": {"user.id": [1], "user.name": [LONE_SURROGATE]}}, "user.name", id="surrogate-name"
    ),
]


@pytest.mark.parametrize(("upload", "feature"), STORED_THEN_READ)
def test_an_accepted_upload_is_readable_offline(target: Target, upload: dict[str, Any], feature: str) -> None:
    uploaded = OPERATIONS["upload_features"].Case(
        body=upload, headers=target.headers_for(OPERATIONS["upload_features"]), media_type="application/json"
    )
    answer = target.call(uploaded)
    assert answer.json().get("errors"), "a value no store can hold is refused, and nothing is stored"
    submitted = OPERATIONS["submit_offline_query"].Case(
        body={"output": [feature]},
        headers=target.headers_for(OPERATIONS["submit_offline_query"]),
        media_type="application/json",
    )
    job_id = target.call(submitted).json()["revisions"][-1]["revision_id"]
    status = OPERATIONS["get_offline_query_status"]
    finished = target.call(
        status.Case(
            body={"job_id": job_id}, headers=target.headers_for(status), media_type="application/json"
        )
    )
    assert finished.json()["is_finished"] is True
    assert target.server.offline_jobs  # readable from the test's thread too


# -- fuzzing with the seeded graph's names --------------------------------------------------------
#
# The spec's schemas say "a string" where ChalkServer wants a feature it knows ("user.age"), a
# resolver it has, a user id: cases generated from the spec alone are refused at the first check
# (400 or 404) and never reach the code that computes an answer. These bodies draw names from the
# seeded graph (and sometimes not), values of every JSON type, and times with offsets.
#
# They reach the values the edge cases above pin too: integers beyond int64, lone surrogates, and
# times whose UTC leaves years 1..9999.

INT64: Final = 2**63
INTS: Final = st.integers(min_value=-INT64, max_value=INT64 - 1) | st.integers(
    min_value=-(10**30), max_value=10**30
)
TEXTS: Final = st.text(max_size=16)
TIMES: Final = st.builds(
    lambda moment, minutes: moment.replace(
        tzinfo=datetime.timezone(datetime.timedelta(minutes=minutes))
    ).isoformat(),
    st.datetimes(),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
FEATURES: Final = st.sampled_from([*FEATURE_TYPES, "__ts__"]) | TEXTS
SCALARS: Final = st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | TEXTS
USER_IDS: Final = INTS | INTS.map(str) | st.sampled_from(["", "007", "-1", "1.0"])


def _mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` nine times in ten, else `invalid`."""
    # Not on 0 or 9: hypothesis draws the ends of a range more often than the middle.
    return st.integers(min_value=0, max_value=9).flatmap(lambda n: invalid if n == 7 else valid)


# Feature names as a deletion gives them: within the namespace, or qualified, or unknown.
DELETABLE: Final = st.sampled_from(["name", "age", "credit_score", "id", "user.name"]) | TEXTS


def _merged(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


@st.composite
def _offline_input(draw: st.DrawFn) -> dict[str, Any]:
    rows = draw(st.integers(min_value=0, max_value=4))
    columns = draw(st.lists(FEATURES, max_size=3, unique=True))
    if draw(st.booleans()) and "user.id" not in columns:
        columns.insert(0, "user.id")
    values = []
    for column in columns:
        cell = USER_IDS if column == "user.id" else TIMES if column == "__ts__" else SCALARS
        values.append(draw(st.lists(cell, min_size=rows, max_size=rows)))
    return {"columns": columns, "values": values}


GRAPH_BODIES: Final = {
    "query_online": st.builds(
        _merged,
        st.fixed_dictionaries(
            {
                "inputs": st.builds(
                    _merged,
                    st.fixed_dictionaries({}, optional={"user.id": USER_IDS}),
                    st.dictionaries(FEATURES, SCALARS, max_size=3),
                ),
                "outputs": st.lists(FEATURES, max_size=4),
            },
            optional={
                "now": TIMES | TEXTS,
                "staleness": st.dictionaries(
                    FEATURES, st.sampled_from(["0s", "1h", "bad"]) | TEXTS, max_size=2
                ),
                "include_meta": st.booleans(),
                "explain": st.booleans(),
                "query_name": st.none() | TEXTS,
                "context": st.none()
                | st.fixed_dictionaries(
                    {}, optional={"environment": st.none() | TEXTS, "tags": st.lists(TEXTS)}
                ),
            },
        ),
    ),
    "upload_features": st.fixed_dictionaries(
        {
            "input": st.builds(
                _merged,
                st.fixed_dictionaries({}, optional={"user.id": st.lists(USER_IDS, max_size=4)}),
                st.dictionaries(FEATURES, st.lists(SCALARS, max_size=4) | SCALARS, max_size=3),
            )
        },
        optional={"correlation_id": st.none() | TEXTS, "query_name": st.none() | TEXTS},
    ),
    "trigger_resolver_run": st.fixed_dictionaries(
        {"resolver_fqn": st.sampled_from(list(FEATURE_RESOLVERS.values())) | TEXTS},
        optional={
            "lower_bound": st.none() | TIMES | TEXTS,
            "upper_bound": st.none() | TIMES | TEXTS,
            "timestamping_mode": st.none()
            | st.sampled_from(["feature_time", "online_store_write_time"])
            | TEXTS,
            "persistence_settings": st.none()
            | st.fixed_dictionaries(
                {},
                optional={
                    "persist_online_storage": st.none() | st.booleans(),
                    "persist_offline_storage": st.booleans(),
                },
            ),
            "idempotency_key": st.none() | TEXTS,
        },
    ),
    "delete_features": st.fixed_dictionaries(
        {
            "namespace": _mostly(st.just("user"), TEXTS),
            "primary_keys": st.lists(USER_IDS.map(str) | st.sampled_from(["1", "13", "abc"]), max_size=4),
        },
        optional={
            "features": st.none() | st.lists(DELETABLE, max_size=3),
            "tags": st.none() | st.lists(TEXTS, max_size=2),
            "retain_online": st.booleans(),
            "retain_offline": st.booleans(),
        },
    ),
    "drop_features": st.fixed_dictionaries(
        {"namespace": _mostly(st.just("user"), TEXTS), "features": st.lists(DELETABLE, max_size=3)},
        optional={"retain_online": st.booleans(), "retain_offline": st.booleans()},
    ),
    "ping_engine": st.fixed_dictionaries({}, optional={"num": st.none() | INTS}),
    "submit_offline_query": st.fixed_dictionaries(
        {"output": st.lists(FEATURES, max_size=3)},
        optional={
            "required_output": st.lists(FEATURES, max_size=2),
            "input": st.none() | _offline_input(),
            "max_samples": st.none() | INTS,
            "observed_at_lower_bound": st.none() | TIMES | TEXTS,
            "observed_at_upper_bound": st.none() | TIMES | TEXTS,
            "dataset_name": st.none() | st.sampled_from(["daily", "weekly"]) | TEXTS,
            "recompute_features": st.none() | st.booleans(),
            "destination_format": st.none() | st.sampled_from(["PARQUET", "CSV"]),
            "tags": st.none() | st.lists(TEXTS, max_size=2),
        },
    ),
}

# What a submitted job answers afterwards: its status, progress, datasets and cancel.
_FOLLOW_UPS: Final = (
    "get_offline_query_status",
    "get_offline_query_progress",
    "get_dataset_revision",
    "get_dataset_of_revision",
    "get_dataset",
    "cancel_offline_query",
)


@pytest.mark.parametrize("operation_id", list(GRAPH_BODIES))
def test_fuzzing_with_the_seeded_graph(target: Target, operation_id: str) -> None:
    operation = OPERATIONS[operation_id]
    headers = target.headers_for(operation)

    @FUZZ_SETTINGS
    @given(body=GRAPH_BODIES[operation_id])
    def check(body: dict[str, Any]) -> None:
        answer = target.call(operation.Case(body=body, headers=headers, media_type="application/json"))
        if operation_id != "submit_offline_query" or answer.status_code != 200:
            return
        job_id = answer.json()["revisions"][0]["revision_id"]
        names = {"dataset_name_or_id": answer.json()["dataset_name"] or answer.json()["dataset_id"]}
        for follow_up in _FOLLOW_UPS:
            then = OPERATIONS[follow_up]
            target.call(
                then.Case(
                    body={"job_id": job_id} if follow_up == "get_offline_query_status" else NOT_SET,
                    headers=target.headers_for(then),
                    path_parameters={p.name: names.get(p.name, job_id) for p in then.path_parameters},
                    media_type="application/json" if follow_up == "get_offline_query_status" else None,
                )
            )

    check()


# -- fuzzing bulk envelopes built from the seeded graph -------------------------------------------

BULK_FEATURES: Final = st.sampled_from([*FEATURE_TYPES, *HAS_MANY_RESOLVERS]) | FEATURES


# Arrow types of a `user.id` column, and the values each can hold; some are refused by the server.
ID_COLUMNS: Final = [
    (pa.int64(), st.none() | st.integers(min_value=-INT64, max_value=INT64 - 1)),
    (pa.int8(), st.none() | st.integers(min_value=-128, max_value=127)),
    (pa.uint64(), st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
    (pa.int32(), st.none() | st.integers(min_value=1, max_value=1000)),
    (pa.string(), st.none() | USER_IDS.map(str)),
    (pa.large_string(), st.none() | st.integers(min_value=-5, max_value=1005).map(str)),
    (pa.float64(), st.none() | st.floats(allow_nan=False)),
    (pa.bool_(), st.none() | st.booleans()),
    (pa.null(), st.none()),
]


@st.composite
def _input_table(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(min_value=0, max_value=5))
    columns: dict[str, pa.Array] = {}
    if draw(_mostly(st.just(True), st.just(False))):  # mostly with a user.id
        kind, values = draw(st.sampled_from(ID_COLUMNS))
        columns["user.id"] = pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), kind)
    for name in draw(
        st.lists(st.sampled_from(["user.name", "user.age", "__ts__", "x"]), max_size=2, unique=True)
    ):
        columns[name] = pa.array(
            draw(
                st.lists(st.none() | INTS.filter(lambda n: -INT64 <= n < INT64), min_size=rows, max_size=rows)
            ),
            pa.int64(),
        )
    return pa.table(columns) if columns else pa.table({"other": pa.array([None] * rows, pa.null())})


BULK_HEADERS: Final = st.fixed_dictionaries(
    # Mostly what the server accepts, so that most queries reach the answer; sometimes not.
    {"outputs": _mostly(st.lists(BULK_FEATURES, min_size=1, max_size=4), st.just([]) | SCALARS)},
    optional={
        "now": _mostly(
            st.none() | TIMES | st.lists(TIMES, min_size=1, max_size=1),
            st.lists(TIMES, max_size=6) | TEXTS | SCALARS,
        ),
        "staleness": _mostly(
            st.dictionaries(BULK_FEATURES, st.sampled_from(["0s", "1h"]), max_size=2), SCALARS
        ),
        "context": _mostly(
            st.none()
            | st.fixed_dictionaries(
                {}, optional={"environment": st.none() | TEXTS, "tags": st.none() | st.lists(TEXTS)}
            ),
            SCALARS | st.fixed_dictionaries({"tags": TEXTS}),
        ),
        "include_meta": _mostly(st.booleans(), SCALARS),
        "explain": st.booleans(),
        "query_name": _mostly(st.none() | TEXTS, INTS),
        "correlation_id": st.none() | TEXTS,
        "branch_id": st.none() | st.just(""),
    },
)
# The answer's encoding: the same for every query of a request, unless one query asks otherwise.
ENCODINGS: Final = st.fixed_dictionaries(
    {},
    optional={
        "response_compression_scheme": st.sampled_from(["uncompressed", "lz4"]),
        "feather_body_type": st.sampled_from(["TABLE", "RECORD_BATCHES"]),
    },
)
ODD_ENCODINGS: Final = st.fixed_dictionaries(
    {},
    optional={
        "response_compression_scheme": st.sampled_from(["zstd", "uncompressed"]) | SCALARS,
        "feather_body_type": st.sampled_from(["ROWS", "RECORD_BATCHES"]) | SCALARS,
    },
)


def _arrow(table: pa.Table, stream: bool, compression: str | None) -> bytes:
    sink = pa.BufferOutputStream()
    opener = pa.ipc.new_stream if stream else pa.ipc.new_file
    with opener(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


@st.composite
def _envelope(draw: st.DrawFn) -> tuple[bytes, int]:
    """A ``chal1`` body and its number of queries; sometimes cut short or with bytes after it."""
    body = bytearray(b"chal1")
    queries = draw(st.integers(min_value=1, max_value=3))
    encoding = draw(ENCODINGS)
    for _ in range(queries):
        odd = draw(_mostly(st.just({}), ODD_ENCODINGS))
        header = json.dumps({**draw(BULK_HEADERS), **encoding, **odd}).encode()
        arrow = _arrow(
            draw(_input_table()), draw(st.booleans()), draw(st.sampled_from([None, "lz4", "zstd"]))
        )
        body += len(header).to_bytes(8, "big") + header + len(arrow).to_bytes(8, "big") + arrow
    damage = draw(st.integers(min_value=0, max_value=9))  # as in _mostly: not at the ends
    if damage == 6:
        body = body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif damage == 7:
        body += draw(st.binary(min_size=1, max_size=16))
    return bytes(body), queries


def test_fuzzing_bulk_envelopes(target: Target) -> None:
    # Uploaded values at the ends of their types, for the answer's columns to hold.
    upload = OPERATIONS["upload_features"]
    columns = {"user.id": [1, 2, 3], "user.age": [-INT64, INT64 - 1, 0], "user.name": ["", "\U0001f600", "x"]}
    target.call(
        upload.Case(
            body={"input": columns}, headers=target.headers_for(upload), media_type="application/json"
        )
    )
    operation = OPERATIONS["query_bulk"]
    headers = target.headers_for(operation)
    answered: set[int] = set()

    @settings(FUZZ_SETTINGS, max_examples=4 * MAX_EXAMPLES)
    @given(envelope=_envelope())
    def check(envelope: tuple[bytes, int]) -> None:
        body, queries = envelope
        answer = target.call(
            operation.Case(body=body, headers=headers, media_type="application/octet-stream")
        )
        answered.add(answer.status_code)
        if answer.status_code == 200:
            assert len(decode_response(answer.content, what="the bulk query")) == queries
        else:
            assert answer.status_code == 400, answer.text

    check()
    assert answered == {200, 400}  # both reached


# -- fuzzing multi-upload byte models built from the seeded graph ---------------------------------
#
# The spec gives ``multi_upload_features``'s body as bytes too: these build byte models of Arrow
# tables whose columns come from the graph (and sometimes not), of many types, with ``features``
# naming the columns in any order (and sometimes not), some cut short or with bytes after the end.
# Each answer is a 200 ``{operation_id, errors}`` or a documented refusal; then the online and bulk
# queries still answer what was stored.

UPLOAD_COLUMNS: Final = [
    (pa.int64(), st.none() | st.integers(min_value=-INT64, max_value=INT64 - 1)),
    (pa.uint64(), st.integers(min_value=0, max_value=2**64 - 1)),
    (pa.int16(), st.integers(min_value=-(2**15), max_value=2**15 - 1)),
    (pa.string(), st.none() | TEXTS),
    (pa.large_string(), TEXTS),
    (pa.float64(), st.floats(allow_nan=False)),
    (pa.bool_(), st.booleans()),
]


def _section(value: dict[str, Any]) -> bytes:
    encoded = json.dumps(value).encode()
    return len(encoded).to_bytes(8, "big") + encoded


@st.composite
def _upload_model(draw: st.DrawFn) -> bytes:
    rows = draw(st.integers(min_value=0, max_value=4))
    names = draw(
        st.lists(st.sampled_from(["user.name", "user.age", "user.credit_score"]) | FEATURES, max_size=3)
    )
    if draw(_mostly(st.just(True), st.just(False))):
        names.insert(0, "user.id")
    arrays = []
    for name in names:
        if name == "user.id" and draw(st.booleans()):
            arrays.append(
                pa.array(draw(st.lists(st.integers(1, 1005), min_size=rows, max_size=rows)), pa.int64())
            )
            continue
        kind, values = draw(st.sampled_from(UPLOAD_COLUMNS))
        arrays.append(pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), kind))
    table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
    compression = draw(st.sampled_from([None, "lz4", "zstd"]))
    arrow = _arrow(table, draw(st.booleans()), compression)
    features = draw(_mostly(st.permutations(names), st.lists(FEATURES, max_size=3)))
    attributes: dict[str, Any] = {
        "features": features,
        "table_compression": draw(_mostly(st.just(compression or "uncompressed"), SCALARS)),
    }
    body = bytearray(b"CHALK_BYTE_TRANSMISSION" + _section(attributes) + _section({}))
    body += _section({"table_bytes": len(arrow)}) + arrow + _section({})
    damage = draw(st.integers(min_value=0, max_value=9))
    if damage == 6:
        body = body[: draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif damage == 7:
        body += draw(st.binary(min_size=1, max_size=16))
    return bytes(body)


def test_fuzzing_multi_upload_byte_models(target: Target) -> None:
    operation = OPERATIONS["multi_upload_features"]
    headers = target.headers_for(operation)
    answered: set[int] = set()

    @settings(FUZZ_SETTINGS, max_examples=4 * MAX_EXAMPLES)
    @given(body=_upload_model())
    def check(body: bytes) -> None:
        answer = target.call(
            operation.Case(body=body, headers=headers, media_type="application/octet-stream")
        )
        answered.add(answer.status_code)
        assert answer.status_code in (200, 400), answer.text

    check()
    assert answered == {200, 400}  # both reached
    assert target.server.rows_stored > 0  # some tables were stored
    bulk = OPERATIONS["query_bulk"]
    table = _arrow(pa.table({"user.id": pa.array(range(1, 1006), pa.int64())}), False, None)
    header = json.dumps({"outputs": ["user.name", "user.age", "user.credit_score"]}).encode()
    envelope = b"chal1" + len(header).to_bytes(8, "big") + header + len(table).to_bytes(8, "big") + table
    answer = target.call(
        bulk.Case(body=envelope, headers=target.headers_for(bulk), media_type="application/octet-stream")
    )
    assert answer.status_code == 200
    assert len(decode_response(answer.content, what="the bulk query")) == 1
