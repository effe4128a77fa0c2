"""0. The benchmark server's capacity, measured in the same run with a minimal client (it is reported
against the floors' rates).
"""

from __future__ import annotations

import json
import selectors
import socket
import statistics
import time

from .profiles import QUERY_OUTPUT, QUERY_PATH, USER_ID, Profile
from .server import BenchServer


def measure_capacity(profile: Profile, server: BenchServer, connections: int = 16) -> float:
    """Calls/s the server answers: `connections` raw keep-alive sockets, one query in flight each.

    The client is a selector loop sending pre-built request bytes, so it costs far less than httpx;
    it is still Python, so the figure is a lower bound of what the server can do.
    """
    token = server.raw_token("bench-capacity")
    body = json.dumps({"inputs": {USER_ID: 1}, "outputs": list(QUERY_OUTPUT)}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        f"POST {QUERY_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    answer_size = _answer_size(host, int(port), request)
    rates = []
    for _ in range(profile.capacity_rounds):
        before = server.stats()["queries"]
        answered, elapsed = _drive_sockets(
            host,
            int(port),
            request,
            answer_size=answer_size,
            connections=connections,
            seconds=profile.capacity_seconds,
        )
        if server.stats()["queries"] - before < answered:
            raise RuntimeError("the capacity client counted answers the server did not give")
        rates.append(answered / elapsed)
    return statistics.median(rates)


def _answer_size(host: str, port: int, request: bytes) -> int:
    """The size of the server's (fixed-size) answer to `request`, checking that it is a 200."""
    with socket.create_connection((host, port), timeout=10.0) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            data += sock.recv(65536)
        head, _, _ = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"the server refused the capacity query: {head[:60]!r}")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return len(head) + 4 + length


def _drive_sockets(
    host: str, port: int, request: bytes, *, answer_size: int, connections: int, seconds: float
) -> tuple[int, float]:
    """Send `request` on each socket again as soon as its answer is in; (answers, seconds)."""
    selector = selectors.DefaultSelector()
    sockets = []
    try:
        for _ in range(connections):
            sock = socket.create_connection((host, port), timeout=10.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            sockets.append(sock)
            selector.register(sock, selectors.EVENT_READ, [0])  # bytes of the answer received
        answered = 0
        start = time.perf_counter()
        deadline = start + seconds
        for sock in sockets:
            sock.sendall(request)
        for _ in range(10_000_000):
            for key, _events in selector.select(timeout=5.0):
                ready, pending = key.fileobj, key.data
                assert isinstance(ready, socket.socket)
                data = ready.recv(65536)
                if not data:
                    raise RuntimeError("the server closed a capacity connection")
                pending[0] += len(data)
                if pending[0] >= answer_size:
                    pending[0] -= answer_size
                    answered += 1
                    if ready.send(request) != len(request):  # a few hundred bytes: sent whole
                        raise RuntimeError("a capacity request was sent in part")
            if time.perf_counter() >= deadline:
                break
        return answered, time.perf_counter() - start
    finally:
        for sock in sockets:
            selector.unregister(sock)
            sock.close()
        selector.close()
