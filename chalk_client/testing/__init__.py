"""Testing helpers for chalk_client: a Chalk-compatible API server on a loopback port.

:class:`ChalkServer` implements the Chalk REST API as ``openapi/chalk.yaml`` describes it, over real
HTTP, so the SDK's demo, its tests and your own tests can run without a Chalk account::

    from chalk_client.testing import ChalkServer

    with ChalkServer() as server:
        ...  # point a client at server.url with server.client_id and server.client_secret

It listens on two addresses: ``server.url`` (the API server) and ``server.engine_url`` (the query
engine the token answer routes online queries to), and logs what came in where
(``server.requests``). It serves a seeded feature graph, users ``1..1000`` with ``user.id``,
``user.name``, ``user.age`` and ``user.credit_score``: :func:`seeded_user` gives the values a query
answers (user 1 is ``"Ada Lovelace"``), and the credit-score resolver fails for
:data:`FAILING_USER_ID`. Each user also has ``user.transactions``, a has-many feature that only the
bulk query answers (:func:`seeded_transactions`). The module ``chalk_client.testing._data``
documents the rules. Bulk queries (``POST /v1/query/feather``: Arrow tables in and out, one query or
several per call) follow ``chalk_client.testing._bulk``; uploads of Arrow tables
(``POST /v1/upload_features/multi``) and deletions of rows and columns (``DELETE /v1/features/rows``,
``/v1/features/columns``) follow ``chalk_client.testing._uploads``. Offline queries run as jobs in
the background and leave real parquet files behind signed URLs (``server.offline_jobs`` lists them;
their ids are UUIDs; datasets are found by name, id or revision; ``chalk_client.testing._offline``
documents the rules). ``POST /ping`` echoes its number, and ``GET /v1/branches`` lists the branches
the server was given (``ChalkServer(branches=...)``) and those requests named
(``chalk_client.testing._account``). ``server.faults`` injects failures
(:class:`Fault`: error statuses, 429s, delays, dropped connections, malformed answers, revoked
tokens); ``chalk_client.testing._faults`` documents them.

It needs the ``testing`` extra: ``pip install 'chalk-client[testing]'`` (uvicorn, httptools and
pyarrow); without it, importing this module raises ``ChalkMissingDependencyError`` naming it.
"""

from __future__ import annotations

from chalk_client import ChalkMissingDependencyError

try:
    import uvicorn as _uvicorn
except ImportError as exc:  # exercised with uvicorn hidden, in a subprocess
    raise ChalkMissingDependencyError(
        "chalk_client.testing (ChalkServer) needs the testing extra, which is not installed "
        f"({exc.name or 'uvicorn'} is missing): pip install 'chalk-client[testing]'",
        name=exc.name or "uvicorn",
    ) from exc

from chalk_client.testing._data import (
    FAILING_USER_ID,
    FEATURE_RESOLVERS,
    FEATURE_TYPES,
    HAS_MANY_RESOLVERS,
    SEEDED_USER_IDS,
    seeded_transactions,
    seeded_user,
)
from chalk_client.testing._faults._fault import Fault, FaultKind
from chalk_client.testing._faults._plan import FaultPlan, FaultRule
from chalk_client.testing._log import RequestRecord
from chalk_client.testing._offline._jobs import OfflineJobRecord
from chalk_client.testing._runs import RunRecord
from chalk_client.testing._server import ChalkServer

del _uvicorn

__all__ = [
    "FAILING_USER_ID",
    "FEATURE_RESOLVERS",
    "FEATURE_TYPES",
    "HAS_MANY_RESOLVERS",
    "SEEDED_USER_IDS",
    "ChalkServer",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "OfflineJobRecord",
    "RequestRecord",
    "RunRecord",
    "seeded_transactions",
    "seeded_user",
]
