"""A lean Chalk-shaped HTTP/1.1 server for ``scripts/bench``, run in a subprocess of its own.

ChalkServer (``chalk_client.testing``) runs uvicorn in a thread of the caller's process: it shares the
GIL with the client it serves and answers about a thousand requests a second, so it would be the
bottleneck of any throughput figure. This server does as little as a Chalk-compatible server can:

- ``asyncio.Protocol`` with ``httptools`` parsing, keep-alive and pipelining, one process (so it
  runs on a core the benchmark does not use);
- ``POST /v1/oauth/token``: checks the client secret and answers the shape ChalkServer answers
  (``access_token``, ``token_type``, ``expires_in``, ``expires_at``, ``api_server``,
  ``primary_environment``, ``engines``, ``grpc_engines``, ``environment_id_to_name``). It names no
  engines, so the SDK sends online queries to ``api_server``, this same server;
- ``POST /v1/query/online``: checks that the bearer token is one it issued and has not expired (a
  dict lookup and a clock read), reads the body's ``user.id`` (a byte search for a plain integer, a
  JSON parse for anything else: any JSON scalar), and answers a body
  of the real shape with that id echoed (``user.id``'s value and every feature's ``pkey``): a
  precomputed template joined around the id. Every query answered is counted, so a benchmark can
  check that each call it made reached the server (nothing coalesced or cached on the way);
- ``POST /v1/query/feather`` (a bulk query), on the same host and with the same token check: reads
  the ``chal1`` body's one query (its header's ``outputs``; its Arrow input's row count, no column
  copied) and answers a byte model of one LZ4 Arrow IPC file of one row per input row: ``user.id``
  0..n-1, then each output (a string for a name, an int for an age, else a float). The answer for a
  (rows, outputs) shape is made once, with pyarrow (imported at the first bulk query;
  ``_bench/bulk_answers.py``), then sent as it is. A bulk query counts as a query;
- ``POST /v1/upload_features/multi`` and ``POST /v1/upload_features``, on the same host and with the
  same token check: count the rows of the body (a multi-upload's byte model walked and its Arrow
  file read whole with pyarrow; a JSON upload parsed whole) and answer ``{"operation_id", "errors"}``
  or ``{"errors", "trace_id"}``, the id naming the rows counted (``_bench/upload_answers.py``). An
  upload counts as a query;
- ``GET /_bench/stats``: counters (exchanges per client id, queries answered, 401s split into
  requests that carried an *expired* token and those with an unknown or missing one, bodies it
  could not read, connections, and bulk queries apart: their count, their rows, and the server's
  time on those answered from its cache; uploads by kind: their count, rows and the server's time);
  ``POST /_bench/stats`` answers the same, then resets them and applies the JSON body's options
  (``{"token_lifetime": seconds}``).

It listens on 127.0.0.1, port 0, and prints ``PORT <n>`` on stdout once it accepts connections. It
stops when its stdin closes (so it never outlives the benchmark) or on SIGTERM.

Usage: ``python scripts/_bench_server.py --client-secret SECRET [--token-lifetime SECONDS]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Final

import httptools
from _bench.bulk_answers import bulk_answer, bulk_table, feather_request, input_rows
from _bench.upload_answers import (
    json_upload_answer,
    json_upload_rows,
    load_pyarrow,
    multi_upload_answer,
    multi_upload_rows,
)

HOST: Final = "127.0.0.1"
TOKEN_PATH: Final = b"/v1/oauth/token"
QUERY_PATH: Final = b"/v1/query/online"
FEATHER_PATH: Final = b"/v1/query/feather"
MULTI_UPLOAD_PATH: Final = b"/v1/upload_features/multi"
UPLOAD_PATH: Final = b"/v1/upload_features"
STATS_PATH: Final = b"/_bench/stats"
ENVIRONMENT_ID: Final = "env-1"
ENVIRONMENT_NAME: Final = "dev"
# The features the benchmark asks for, and user 1's values for them (as ChalkServer seeds them).
QUERY_VALUES: Final = {"user.id": 1, "user.name": "Ada Lovelace", "user.age": 19, "user.credit_score": 337}
# Tokens kept before expired ones are swept out (each exchange adds one); a token is swept only
# once it has been expired this long, so a late request with it still counts as "expired".
_SWEEP_AT: Final = 1024
_EXPIRED_KEPT: Final = 600.0
# Where the echoed id goes in the answer template: a JSON string no fixed value of it contains.
_ID_MARK: Final = b"@@bench-user-id@@"
_USER_ID: Final = "user.id"
_BINARY: Final = b"application/octet-stream"
_SHAPES_KEPT: Final = 8  # bulk answers kept, one per (rows, outputs) shape
_encode = json.JSONEncoder(separators=(",", ":")).encode


def rfc3339(timestamp: float) -> str:
    """`timestamp` (Unix seconds) as RFC 3339 UTC with microseconds, as ChalkServer writes it."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def http_response(
    status: int, body: bytes, extra_headers: bytes = b"", content_type: bytes = b"application/json"
) -> bytes:
    """A complete HTTP/1.1 answer (JSON unless told; no Date header: every answer has the same length)."""
    reason = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}[status]
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n"
        % (status, reason, content_type, len(body), extra_headers)
    ) + body


def error_response(status: int, code: str, message: str, extra_headers: bytes = b"") -> bytes:
    """An answer with the shared Chalk error body ``{detail, trace, errors}``."""
    error = {"code": code, "category": "REQUEST", "message": message}
    body = {"detail": message, "trace": secrets.token_hex(16), "errors": [error]}
    return http_response(status, _encode(body).encode(), extra_headers)


def query_answer_pieces(timestamp: float) -> list[bytes]:
    """The online-query answer for `QUERY_VALUES`, shaped as ChalkServer shapes it, split where the id goes.

    ``id.join(pieces)`` is the answer for the user whose id (JSON-encoded) is ``id``: ``user.id``'s
    value and every feature's ``pkey`` are that id; the other values are user 1's.
    """
    ts = rfc3339(timestamp)
    mark = _ID_MARK.decode()
    data = [
        {
            "field": name,
            "value": mark if name == _USER_ID else value,
            "pkey": mark,
            "error": None,
            "ts": ts,
            "valid": True,
        }
        for name, value in QUERY_VALUES.items()
    ]
    encoded = _encode({"data": data, "errors": []}).encode()
    pieces = encoded.split(b'"' + _ID_MARK + b'"')
    if len(pieces) != len(QUERY_VALUES) + 2:  # a mark for user.id's value and one per pkey
        raise AssertionError("the answer template does not hold the id where expected")
    return pieces


def encode_id(value: object) -> bytes | None:
    """`value` as JSON, if it is a scalar an id can be (an int, a string, a float), else None."""
    if type(value) is int:
        return str(value).encode()
    if isinstance(value, str | float) and not isinstance(value, bool):
        try:
            return _encode(value).encode()
        except ValueError:  # NaN or an infinity
            return None
    return None


_ID_KEY: Final = b'"user.id":'
_ID_END: Final = frozenset(b",} \t\r\n")


def user_id_fast(body: bytes) -> bytes | None:
    """The body's ``user.id`` when it is a plain integer right after the key, else None (then parse).

    A byte search instead of a JSON parse: the server answers tens of thousands of queries a second
    on one core, and the benchmark needs it to stay well ahead of the fastest client.
    """
    start = body.find(_ID_KEY)
    if start < 0 or body.find(_ID_KEY, start + 1) >= 0:  # absent, or more than once: parse it
        return None
    start += len(_ID_KEY)
    while start < len(body) and body[start] == 0x20:
        start += 1
    end = start
    while end < len(body) and 0x30 <= body[end] <= 0x39:
        end += 1
    if end == start or end - start > 18 or end >= len(body) or body[end] not in _ID_END:
        return None
    if body[start] == 0x30 and end - start > 1:  # a leading zero is not JSON
        return None
    return body[start:end]


def user_id_parsed(body: bytes) -> bytes | None:
    """The body's ``inputs["user.id"]`` (JSON-encoded), read with a JSON parser; None if it has none."""
    try:
        request = json.loads(body)
    except ValueError:
        return None
    if not isinstance(request, dict):
        return None
    inputs = request.get("inputs")
    return encode_id(inputs.get(_USER_ID)) if isinstance(inputs, dict) else None


class State:
    """What every connection shares: issued tokens, counters, options."""

    def __init__(self, *, client_secret: str, token_lifetime: float, port: int = 0) -> None:
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.api_server = f"http://{HOST}:{port}"
        self.tokens: dict[bytes, float] = {}  # access token -> expiry (Unix seconds)
        self.exchanges: Counter[str] = Counter()
        self.queries = 0
        self.expired = 0  # 401s for a token this server issued that had expired
        self.unknown = 0  # 401s for a missing token, or one this server never issued (or swept)
        self.bad_bodies = 0  # 400s for a query body without a readable user.id (or not chal1)
        self.connections = 0
        self.bulk_queries = 0  # /v1/query/feather answers (counted in `queries` too)
        self.bulk_rows = 0  # the rows they held
        self.bulk_cached = 0  # those sent from the cache (all but the first of each shape)
        self.bulk_seconds = 0.0  # the time those took, from the body to the answer's bytes
        self._bulk_answers: dict[tuple[int, tuple[str, ...]], bytes] = {}  # (rows, outputs) -> answer
        self.uploads: Counter[str] = Counter()  # "multi" / "json" -> uploads answered (200s)
        self.upload_rows: Counter[str] = Counter()  # the rows they held
        self.upload_seconds: dict[str, float] = {}  # the server's time on them, body to answer
        self._pieces = query_answer_pieces(time.time())
        self._head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        self._fixed = sum(len(piece) for piece in self._pieces)

    def stats(self) -> dict[str, Any]:
        """The counters, as ``GET /_bench/stats`` answers them."""
        return {
            "exchanges": dict(self.exchanges),
            "exchanges_total": sum(self.exchanges.values()),
            "queries": self.queries,
            "unauthorized": self.expired + self.unknown,
            "expired": self.expired,
            "unknown": self.unknown,
            "bad_bodies": self.bad_bodies,
            "connections": self.connections,
            "bulk_queries": self.bulk_queries,
            "bulk_rows": self.bulk_rows,
            "bulk_cached": self.bulk_cached,
            "bulk_seconds": self.bulk_seconds,
            "uploads": dict(self.uploads),
            "upload_rows": dict(self.upload_rows),
            "upload_seconds": dict(self.upload_seconds),
            "token_lifetime": self.token_lifetime,
        }

    def reset(self, options: dict[str, Any]) -> None:
        """Zero the counters and apply `options` (``token_lifetime``)."""
        lifetime = options.get("token_lifetime")
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
            self.token_lifetime = float(lifetime)
        self.exchanges.clear()
        self.queries = self.expired = self.unknown = self.bad_bodies = self.connections = 0
        self.bulk_queries = self.bulk_rows = self.bulk_cached = 0
        self.bulk_seconds = 0.0
        self.uploads.clear()
        self.upload_rows.clear()
        self.upload_seconds.clear()

    def exchange(self, body: bytes) -> bytes:
        """``POST /v1/oauth/token``."""
        try:
            request = json.loads(body)
        except ValueError:
            return error_response(400, "VALIDATION_FAILED", "the request body must be JSON")
        if not isinstance(request, dict) or request.get("grant_type") != "client_credentials":
            return error_response(400, "VALIDATION_FAILED", "grant_type must be 'client_credentials'")
        client_id = request.get("client_id")
        if not isinstance(client_id, str) or request.get("client_secret") != self.client_secret:
            return error_response(401, "UNAUTHENTICATED", "the client id or the client secret is not valid")
        now = time.time()
        if len(self.tokens) >= _SWEEP_AT:
            keep_after = now - _EXPIRED_KEPT
            self.tokens = {token: until for token, until in self.tokens.items() if until > keep_after}
        token = secrets.token_urlsafe(32)
        expires_at = now + self.token_lifetime
        self.tokens[token.encode()] = expires_at
        self.exchanges[client_id] += 1
        answer = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": max(1, int(self.token_lifetime)),
            "expires_at": rfc3339(expires_at),
            "api_server": self.api_server,
            "primary_environment": ENVIRONMENT_ID,
            "engines": {},
            "grpc_engines": {},
            "environment_id_to_name": {ENVIRONMENT_ID: ENVIRONMENT_NAME},
        }
        return http_response(200, _encode(answer).encode())

    def authorize(self, authorization: bytes | None) -> bytes | None:
        """None for a live token this server issued; else the 401 to answer (counted)."""
        expires_at = None
        if authorization is not None and authorization[:7].lower() == b"bearer ":
            expires_at = self.tokens.get(authorization[7:].strip())
        if expires_at is None:
            self.unknown += 1
            return self._unauthorized("the access token is not valid: not issued by this server")
        if time.time() >= expires_at:
            self.expired += 1
            return self._unauthorized("the access token has expired")
        return None

    def query(self, authorization: bytes | None, body: bytes) -> bytes:
        """``POST /v1/query/online``: the answer for the body's ``user.id``, for a live token it issued."""
        refused = self.authorize(authorization)
        if refused is not None:
            return refused
        encoded = user_id_fast(body) or user_id_parsed(body)
        if encoded is None:
            self.bad_bodies += 1
            return error_response(400, "VALIDATION_FAILED", "the body must be JSON with inputs['user.id']")
        self.queries += 1
        return (self._head % (self._fixed + len(encoded) * (len(self._pieces) - 1))) + encoded.join(
            self._pieces
        )

    def feather(self, authorization: bytes | None, body: bytes) -> bytes:
        """``POST /v1/query/feather``: a bulk answer of one row per input row, for a live token it issued.

        The answer for a (rows, outputs) shape is made once (:func:`bulk_answer`) and then sent as it
        is; each request costs a parse of its envelope and a zero-copy read of its Arrow input.
        """
        started = time.perf_counter()
        refused = self.authorize(authorization)
        if refused is not None:
            return refused
        request = feather_request(body)
        rows = None if request is None else input_rows(request[1])
        if request is None or rows is None:
            self.bad_bodies += 1
            return error_response(400, "VALIDATION_FAILED", "the body must be one chal1 query")
        key = (rows, request[0])
        answer = self._bulk_answers.get(key)
        if answer is None:
            if len(self._bulk_answers) >= _SHAPES_KEPT:
                self._bulk_answers.clear()
            answer = http_response(200, bulk_answer(bulk_table(*key)), content_type=_BINARY)
            self._bulk_answers[key] = answer
        else:
            self.bulk_cached += 1
            self.bulk_seconds += time.perf_counter() - started
        self.queries += 1
        self.bulk_queries += 1
        self.bulk_rows += rows
        return answer

    def upload(self, kind: str, authorization: bytes | None, body: bytes) -> bytes:
        """``POST /v1/upload_features/multi`` (`kind` "multi") or ``/v1/upload_features`` ("json"):
        the body's rows counted, for a live token it issued, and the JSON answer naming them."""
        if kind == "multi":
            load_pyarrow()  # pyarrow's first import is no upload's time
        started = time.perf_counter()
        refused = self.authorize(authorization)
        if refused is not None:
            return refused
        rows = multi_upload_rows(body) if kind == "multi" else json_upload_rows(body)
        if rows is None:
            self.bad_bodies += 1
            return error_response(400, "VALIDATION_FAILED", f"the body is not a {kind} upload")
        self.queries += 1
        self.uploads[kind] += 1
        self.upload_rows[kind] += rows
        answer = (multi_upload_answer if kind == "multi" else json_upload_answer)(self.uploads[kind], rows)
        self.upload_seconds[kind] = self.upload_seconds.get(kind, 0.0) + time.perf_counter() - started
        return http_response(200, answer)

    @staticmethod
    def _unauthorized(message: str) -> bytes:
        return error_response(401, "UNAUTHENTICATED", message, b"www-authenticate: Bearer\r\n")

    def control(self, method: bytes, body: bytes) -> bytes:
        """``/_bench/stats``: GET reads the counters; POST reads, then resets them (with options)."""
        stats = self.stats()
        if method == b"POST":
            try:
                options = json.loads(body) if body else {}
            except ValueError:
                return error_response(400, "VALIDATION_FAILED", "the options must be a JSON object")
            self.reset(options if isinstance(options, dict) else {})
        return http_response(200, _encode(stats).encode())


class HttpProtocol(asyncio.Protocol):
    """One keep-alive connection: parses requests with httptools and answers them in order."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._authorization: bytes | None = None
        self._out: list[bytes] = []
        self._close = False

    # -- asyncio ----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._state.connections += 1

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._out.append(error_response(400, "VALIDATION_FAILED", "upgrades are not supported"))
            self._close = True
        except httptools.HttpParserError:
            self._out.append(error_response(400, "VALIDATION_FAILED", "malformed HTTP request"))
            self._close = True
        if self._out:  # every answer to a pipelined batch in one write
            transport.write(b"".join(self._out))
            self._out.clear()
        if self._close:
            transport.close()

    # -- httptools callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._body.clear()
        self._authorization = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 13 and name.lower() == b"authorization":
            self._authorization = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self._parser.get_method()
        path = self._url.partition(b"?")[0]
        if method == b"POST" and path == QUERY_PATH:
            answer = self._state.query(self._authorization, b"".join(self._body))
        elif method == b"POST" and path == FEATHER_PATH:
            answer = self._state.feather(self._authorization, b"".join(self._body))
        elif method == b"POST" and path in (MULTI_UPLOAD_PATH, UPLOAD_PATH):
            kind = "multi" if path == MULTI_UPLOAD_PATH else "json"
            answer = self._state.upload(kind, self._authorization, b"".join(self._body))
        elif method == b"POST" and path == TOKEN_PATH:
            answer = self._state.exchange(b"".join(self._body))
        elif path == STATS_PATH and method in (b"GET", b"POST"):
            answer = self._state.control(method, b"".join(self._body))
        else:
            answer = error_response(404, "NOT_FOUND", f"no route for {method.decode()} {path.decode()}")
        self._out.append(answer)
        if not self._parser.should_keep_alive():
            self._close = True


async def serve(client_secret: str, token_lifetime: float) -> None:
    """Listen on 127.0.0.1 (port 0), print ``PORT <n>``, and serve until stdin closes or SIGTERM."""
    loop = asyncio.get_running_loop()
    state = State(client_secret=client_secret, token_lifetime=token_lifetime)
    server = await loop.create_server(lambda: HttpProtocol(state), HOST, 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    state.api_server = f"http://{HOST}:{port}"
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    def stdin_readable() -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # EOF: the benchmark is gone
            stop.set()

    loop.add_reader(sys.stdin.fileno(), stdin_readable)
    print(f"PORT {port}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--token-lifetime", type=float, default=3600.0)
    args = parser.parse_args()
    asyncio.run(serve(args.client_secret, args.token_lifetime))


if __name__ == "__main__":
    main()
