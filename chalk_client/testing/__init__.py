"""Testing helpers for chalk_client: a Chalk-compatible API server on a loopback port.

:class:`ChalkServer` implements the Chalk REST API as ``openapi/chalk.yaml`` describes it, over real
HTTP, so the SDK's demo, its tests and your own tests can run without a Chalk account::

    from chalk_client.testing import ChalkServer

    with ChalkServer() as server:
        ...  # point a client at server.url with server.client_id and server.client_secret

It needs the ``testing`` extra: ``pip install 'chalk-client[testing]'``.
"""

from __future__ import annotations

try:
    import uvicorn as _uvicorn
except ImportError as exc:  # pragma: no cover - exercised with uvicorn hidden
    raise ImportError(
        "chalk_client.testing needs uvicorn, which is not installed: pip install 'chalk-client[testing]'"
    ) from exc

from chalk_client.testing._server import ChalkServer

del _uvicorn

__all__ = ["ChalkServer"]
