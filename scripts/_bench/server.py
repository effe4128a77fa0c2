"""The benchmark server: ``scripts/_bench_server.py`` in a subprocess, and its counters.

It is the server of the query measurements (2 to 5 in ``scripts/bench.py``'s list), and of every
other one that needs a server. ChalkServer runs in the benchmark's own process and serves about a
thousand calls a second: it would be the bottleneck.
"""

from __future__ import annotations

import select
import subprocess
import sys
from typing import Any, Final

import httpx

from .profiles import CLIENT_SECRET, ROOT

SERVER_SCRIPT: Final = ROOT / "scripts" / "_bench_server.py"


class BenchServer:
    """``scripts/_bench_server.py`` in a subprocess; stopped (killed if need be) on exit."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.host = ""
        self.port = 0
        self._control: httpx.Client | None = None

    def __enter__(self) -> BenchServer:
        process = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), "--client-secret", CLIENT_SECRET],
            stdin=subprocess.PIPE,  # the server stops when this closes, even if we are killed
            stdout=subprocess.PIPE,
            text=True,
        )
        self._process = process
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 15.0)
            line = process.stdout.readline() if ready else ""
            if not line.startswith("PORT "):
                raise RuntimeError(f"the benchmark server did not start (it said {line!r})")
            self.host, self.port = "127.0.0.1", int(line.split()[1])
            self.url = f"http://{self.host}:{self.port}"
            self._control = httpx.Client(base_url=self.url, timeout=10.0)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._control is not None:
            self._control.close()
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5.0)
        if process.stdout is not None:
            process.stdout.close()

    def stats(self) -> dict[str, Any]:
        """The server's counters."""
        assert self._control is not None
        answer: dict[str, Any] = self._control.get("/_bench/stats").raise_for_status().json()
        return answer

    def queries(self) -> int:
        """How many queries the server has answered (200s) since its counters were last reset."""
        count: int = self.stats()["queries"]
        return count

    def reset(self, *, token_lifetime: float | None = None) -> dict[str, Any]:
        """Zero the counters (answering them first) and set the lifetime of later tokens."""
        assert self._control is not None
        options = {} if token_lifetime is None else {"token_lifetime": token_lifetime}
        answer: dict[str, Any] = self._control.post("/_bench/stats", json=options).raise_for_status().json()
        return answer

    def raw_token(self, client_id: str) -> str:
        """An access token exchanged with plain httpx (for the floors)."""
        assert self._control is not None
        body = {"client_id": client_id, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}
        token: str = (
            self._control.post("/v1/oauth/token", json=body).raise_for_status().json()["access_token"]
        )
        return token
