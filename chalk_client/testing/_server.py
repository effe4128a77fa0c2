"""ChalkServer: the Chalk API on two loopback ports, served by uvicorn from a background thread.

One uvicorn server listens on two sockets: the API address (every endpoint) and the engine address
(only the data-plane calls, ``POST /v1/query/online``, ``POST /v1/query/feather`` and ``POST /ping``,
as a Chalk query engine); the app tells them apart by the local port of each connection.
:class:`ChalkServer` routes the endpoints to the services (tokens, data, bulk queries, uploads and
deletions, the ping and the branches, runs, offline queries, faults, the request log);
``chalk_client.testing._serving`` binds the sockets and runs uvicorn in its thread, and
``chalk_client.testing._tls`` checks the TLS settings.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Final

from chalk_client.testing._account import DEFAULT_BRANCHES, AccountService, BranchBook
from chalk_client.testing._auth import TokenService
from chalk_client.testing._bulk import BulkService
from chalk_client.testing._data import DataService
from chalk_client.testing._faults._fault import Fault
from chalk_client.testing._faults._plan import FaultPlan
from chalk_client.testing._http import App, Router
from chalk_client.testing._log import RequestLog, RequestRecord
from chalk_client.testing._offline._jobs import OfflineJobRecord
from chalk_client.testing._offline._service import STORAGE_PREFIX, OfflineService
from chalk_client.testing._operations import OPERATIONS
from chalk_client.testing._runs import RunRecord, RunService
from chalk_client.testing._serving import HOST, Running, bind
from chalk_client.testing._store import FeatureStore
from chalk_client.testing._tls import tls_settings
from chalk_client.testing._uploads import UploadService

__all__ = ["ChalkServer"]

_HTTP_IMPL: Final = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
_DEFAULT_ENVIRONMENTS: Final = {"env-dev-1": "dev", "env-prod-1": "prod"}
ENGINE_OPERATIONS: Final = ("query_online", "query_bulk", "ping_engine")
"""The operations the engine address serves too: the data-plane calls."""


class ChalkServer:
    """A Chalk-compatible API server on ``127.0.0.1``, for demos, tests and benchmarks.

    It serves the API that ``openapi/chalk.yaml`` describes from a background thread, with real
    HTTP/1.1 (keep-alive included), so the SDK talks to it exactly as it talks to Chalk::

        with ChalkServer() as server:
            client = ChalkClient(client_id=server.client_id, client_secret=server.client_secret,
                                 api_server=server.url)

    It listens on two addresses: :attr:`url`, the API server (every endpoint), and
    :attr:`engine_url`, the query engine that the token answer's ``engines`` names for every
    environment (only ``POST /v1/query/online``, ``POST /v1/query/feather`` and ``POST /ping``;
    anything else there is a 404). Every endpoint but the token one wants a valid bearer token and
    checks the ``X-Chalk-*`` routing headers. The data it serves is the seeded feature graph of
    :mod:`chalk_client.testing._data` (see :func:`~chalk_client.testing.seeded_user`), plus what
    clients upload (as JSON columns, or an Arrow table to ``/v1/upload_features/multi``) and minus
    what they delete (``/v1/features/rows``, ``/v1/features/columns``): the rules are in
    :mod:`chalk_client.testing._uploads`. Bulk queries (``/v1/query/feather``, Arrow in and out)
    follow :mod:`chalk_client.testing._bulk`. Offline queries (``/v4/offline_query``) run as jobs
    timed by its clock and leave real parquet files behind signed URLs that expire; their datasets
    are found by name or id (``/v3/offline_query/{name or id}``) and by revision (the rules:
    :mod:`chalk_client.testing._offline`; the jobs: :attr:`offline_jobs`). ``/ping`` echoes, and
    ``/v1/branches`` lists the branches it knows (:attr:`branches`;
    :mod:`chalk_client.testing._account`). :attr:`requests` logs what came in, where.

    Given a certificate, it serves HTTPS on both addresses (and mTLS when it also requires a client
    certificate)::

        with ChalkServer(ssl_certfile="server.pem", ssl_keyfile="server-key.pem") as server:
            server.url  # https://127.0.0.1:<port>

    Args:
        token_lifetime: Seconds an issued token is valid for (settable later).
        client_id: The client id it accepts; a random one by default.
        client_secret: The client secret it accepts; a random one by default.
        port: The API address's port; 0 picks a free one.
        environments: Environment id to name; the first is the tokens' primary environment.
            Defaults to ``{"env-dev-1": "dev", "env-prod-1": "prod"}``.
        clock: The server's time source (Unix seconds) for issuing and checking tokens, for the
            ``ts`` of query answers, and for run status; tests pass a fake clock to expire tokens
            and finish runs without waiting.
        engine_port: The engine address's port; 0 picks a free one.
        run_duration: Seconds of `clock` from a run's trigger until it reports ``succeeded``
            (settable later).
        faults: Faults in force from the start (:class:`~chalk_client.testing.Fault`); change
            them later through :attr:`faults`.
        offline_duration: Seconds of `clock` from an offline query's submission until its job
            finishes (settable later, for later jobs); 0 finishes it at once.
        offline_rows_per_file: At most this many rows per parquet file of an offline query's result.
        offline_url_lifetime: Seconds of `clock` a signed result-file URL is good for (settable later).
        ssl_certfile: A PEM file with the server's certificate (and the chain under it, and the key
            too when `ssl_keyfile` is not given). Given, both addresses serve TLS, and :attr:`url`,
            :attr:`engine_url` and the token answer's ``api_server`` and ``engines`` are ``https://``.
            The certificate should name ``127.0.0.1``, the host those URLs use.
        ssl_keyfile: A PEM file with the certificate's private key (unencrypted); needs `ssl_certfile`.
        ssl_ca_certs: A PEM file of CA certificates that client certificates are checked against;
            needs `ssl_certfile`. Alone, a client certificate is optional but checked when presented.
        ssl_require_client_cert: Refuse the TLS handshake of a client that presents no certificate
            signed by `ssl_ca_certs` (mTLS); needs `ssl_ca_certs`.
        branches: The branches ``GET /v1/branches`` lists from the start (non-empty names; default
            ``("main",)``). Any branch name is accepted in ``X-Chalk-Branch-Id``, and each one a
            request names is listed too, from then on.

    Raises:
        ValueError: An argument is out of range or inconsistent (`ssl_keyfile`, `ssl_ca_certs` or
            `ssl_require_client_cert` without `ssl_certfile`; `ssl_require_client_cert` without
            `ssl_ca_certs`), a TLS file does not exist or does not load (the message names it), or
            a branch name is empty or not a string.
        TypeError: `branches` is a string, not an iterable of names.
    """

    def __init__(
        self,
        *,
        token_lifetime: float = 3600,
        client_id: str | None = None,
        client_secret: str | None = None,
        port: int = 0,
        environments: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        engine_port: int = 0,
        run_duration: float = 0.0,
        faults: Iterable[Fault] = (),
        offline_duration: float = 0.5,
        offline_rows_per_file: int = 500,
        offline_url_lifetime: float = 3600,
        ssl_certfile: str | os.PathLike[str] | None = None,
        ssl_keyfile: str | os.PathLike[str] | None = None,
        ssl_ca_certs: str | os.PathLike[str] | None = None,
        ssl_require_client_cert: bool = False,
        branches: Iterable[str] = DEFAULT_BRANCHES,
    ) -> None:
        for name, value in (("port", port), ("engine_port", engine_port)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
                raise ValueError(f"{name} must be an int in 0..65535, not {value!r}")
        if port != 0 and port == engine_port:
            raise ValueError("port and engine_port must differ")
        environments = dict(_DEFAULT_ENVIRONMENTS if environments is None else environments)
        if not environments:
            raise ValueError("environments must name at least one environment")
        self._tls = tls_settings(ssl_certfile, ssl_keyfile, ssl_ca_certs, ssl_require_client_cert)
        self._port = port
        self._engine_port = engine_port
        self._branches = BranchBook(branches, clock)
        self._auth = TokenService(
            client_id=client_id if client_id is not None else secrets.token_urlsafe(12),
            client_secret=client_secret if client_secret is not None else secrets.token_urlsafe(32),
            environments=environments,
            token_lifetime=token_lifetime,
            clock=clock,
            on_branch=self._branches.saw,
        )
        self._store = FeatureStore()
        self._uploads = UploadService(auth=self._auth, store=self._store)
        self._account = AccountService(auth=self._auth, branches=self._branches)
        self._data = DataService(auth=self._auth, store=self._store, clock=clock)
        self._bulk = BulkService(
            auth=self._auth, store=self._store, clock=clock, query_meta=self._data.query_meta
        )
        self._runs = RunService(auth=self._auth, clock=clock, run_duration=run_duration)
        self._offline = OfflineService(
            auth=self._auth,
            store=self._store,
            clock=clock,
            duration=offline_duration,
            rows_per_file=offline_rows_per_file,
            url_lifetime=offline_url_lifetime,
        )
        self._log = RequestLog()
        self._faults = FaultPlan(faults, revoke=self.revoke_tokens)
        router = Router()
        handlers = {
            "get_token": self._auth.exchange,
            "query_online": self._data.query_online,
            "query_bulk": self._bulk.query_bulk,
            "upload_features": self._data.upload_features,
            "multi_upload_features": self._uploads.multi_upload_features,
            "delete_features": self._uploads.delete_features,
            "drop_features": self._uploads.drop_features,
            "who_am_i": self._data.who_am_i,
            "ping_engine": self._account.ping,
            "get_branches": self._account.branches,
            "trigger_resolver_run": self._runs.trigger,
            "get_run_status": self._runs.status,
            "submit_offline_query": self._offline.submit,
            "get_offline_query_status": self._offline.status,
            "get_offline_query_progress": self._offline.progress,
            "cancel_offline_query": self._offline.cancel,
            "get_dataset_revision": self._offline.revision,
            "get_dataset": self._offline.dataset,
            "get_dataset_of_revision": self._offline.revision,
        }
        for name, operation in OPERATIONS.items():  # the spec's operations, from the generated package
            router.add(operation.method, operation.path, handlers[name])
        # Signed result-file URLs: no bearer token, the signature is the credential.
        router.add("GET", STORAGE_PREFIX + "/{job_id}/{file_name}", self._offline.download)
        self._engine_router = Router(
            not_found_hint=(
                " (this is an engine address: it serves only POST /v1/query/online,"
                " POST /v1/query/feather and POST /ping)"
            )
        )
        for name in ENGINE_OPERATIONS:
            self._engine_router.add(*OPERATIONS[name], handlers[name])
        self._faults.add_control_routes(router)
        self._app = App(router, name="api", observer=self._log.observe, faults=self._faults)
        self._lifecycle = threading.Lock()
        self._running: Running | None = None
        self._url: str | None = None
        self._engine_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ChalkServer:
        """Bind both ports and serve from a background thread; returns once it accepts requests.

        Raises:
            RuntimeError: It is already running, a port could not be bound, or it did not start.
        """
        with self._lifecycle:
            if self._running is not None:
                raise RuntimeError(f"{self!r} is already running")
            api_sock = bind(self._port)
            try:
                engine_sock = bind(self._engine_port)
            except BaseException:
                api_sock.close()
                raise
            try:
                http = self._faults.protocol_class(_HTTP_IMPL)
                running = Running(self._app, api_sock, engine_sock, http=http, tls=self._tls)
                scheme = "https" if self._tls is not None else "http"
                url = f"{scheme}://{HOST}:{running.port}"
                engine_url = f"{scheme}://{HOST}:{running.engine_port}"
                self._auth.set_addresses(
                    api_server=url, engine_url=engine_url, grpc_address=f"{HOST}:{running.port}"
                )
                self._offline.set_base_url(url)
                self._app.forget_listeners()
                self._app.listen(running.engine_port, "engine", self._engine_router)
                running.start()
            except BaseException:
                api_sock.close()
                engine_sock.close()
                raise
            self._running = running
            self._url = url
            self._engine_url = engine_url
        return self

    def stop(self) -> None:
        """Stop serving and release the port; does nothing when it is not running.

        Open connections are closed; requests still running get a few seconds to finish.
        """
        with self._lifecycle:
            running, self._running = self._running, None
            if running is not None:
                running.stop()

    def __enter__(self) -> ChalkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what it accepts and what it did -----------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, the API server's address (known once started).

        ``https://`` when it serves TLS (see `ssl_certfile`).
        """
        if self._url is None:
            raise RuntimeError("ChalkServer has not been started: call start() or use it in a with block")
        return self._url

    @property
    def engine_url(self) -> str:
        """``http://127.0.0.1:<port>``, the query engine's address (known once started).

        The token answer's ``engines`` maps every environment to it. It serves only
        ``POST /v1/query/online``, ``POST /v1/query/feather`` and ``POST /ping``. ``https://`` when
        it serves TLS (see `ssl_certfile`).
        """
        if self._engine_url is None:
            raise RuntimeError("ChalkServer has not been started: call start() or use it in a with block")
        return self._engine_url

    @property
    def tls(self) -> bool:
        """Whether it serves TLS (it was given `ssl_certfile`)."""
        return self._tls is not None

    @property
    def requires_client_cert(self) -> bool:
        """Whether its TLS handshake requires a client certificate (mTLS)."""
        return self._tls is not None and self._tls.cert_reqs == ssl.CERT_REQUIRED

    @property
    def client_id(self) -> str:
        """The client id it accepts."""
        return self._auth.client_id

    @property
    def client_secret(self) -> str:
        """The client secret it accepts."""
        return self._auth.client_secret

    @property
    def token_lifetime(self) -> float:
        """Seconds a newly issued token is valid for; setting it affects later exchanges only."""
        return self._auth.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float) -> None:
        self._auth.token_lifetime = value

    @property
    def token_exchanges(self) -> int:
        """How many token exchanges it answered with a token."""
        return self._auth.exchanges

    @property
    def token_requests(self) -> int:
        """How many requests its token endpoint handled, accepted or rejected."""
        return self._auth.requests

    def is_valid_token(self, token: str) -> bool:
        """Whether `token` was issued by this server, is not revoked, and has not expired by its clock."""
        return self._auth.issuer.is_valid(token)

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid; later exchanges issue valid ones again."""
        self._auth.issuer.revoke_all()

    @property
    def faults(self) -> FaultPlan:
        """The faults in force: add, remove and inspect them while it serves (any thread).

        Example::

            server.faults.fail_next("/v1/query/online", 2, status=503)
            server.faults.token_endpoint_down()

        :mod:`chalk_client.testing._faults` describes every kind of fault.
        """
        return self._faults

    def routes(self, served_by: str = "api") -> set[tuple[str, str]]:
        """Every ``(method, path or template)`` it serves on the API address (``"api"``) or on the
        engine address (``"engine"``): the spec's operations, the signed result-file path and
        the fault-control routes on the first; the online and bulk queries and the ping alone on
        the second."""
        if served_by not in ("api", "engine"):
            raise ValueError(f"served_by is 'api' or 'engine', not {served_by!r}")
        return (self._app.router if served_by == "api" else self._engine_router).routes()

    @property
    def requests(self) -> list[RequestRecord]:
        """The most recent requests it answered (up to 10,000), oldest first: a copy.

        Each record has ``method``, ``path``, ``served_by`` (``"api"`` or ``"engine"``), ``headers``
        (lower-case names, without ``authorization``), ``status`` and ``query_name``.
        """
        return self._log.snapshot()

    def clear_requests(self) -> None:
        """Empty :attr:`requests`."""
        self._log.clear()

    @property
    def rows_stored(self) -> int:
        """Rows that ``/v1/upload_features`` and ``/v1/upload_features/multi`` accepted and stored,
        in total (a row stored twice counts twice; deletions do not subtract)."""
        return self._store.counts()[0]

    @property
    def upload_requests(self) -> int:
        """Calls of ``/v1/upload_features`` and ``/v1/upload_features/multi`` that stored something."""
        return self._store.counts()[1]

    @property
    def branches(self) -> list[str]:
        """The branches ``GET /v1/branches`` lists now: the ones given, then the ones requests
        named, in the order it came to know them (a copy)."""
        return self._branches.names()

    @property
    def runs(self) -> list[RunRecord]:
        """The resolver runs triggered so far, oldest first (a copy)."""
        return self._runs.runs()

    @property
    def run_duration(self) -> float:
        """Seconds of the server's clock from a run's trigger until it reports ``succeeded``."""
        return self._runs.run_duration

    @run_duration.setter
    def run_duration(self, value: float) -> None:
        self._runs.run_duration = value

    @property
    def offline_jobs(self) -> list[OfflineJobRecord]:
        """The offline query jobs submitted so far, oldest first, as they are now (a copy)."""
        return self._offline.jobs()

    @property
    def offline_duration(self) -> float:
        """Seconds of the server's clock from an offline query's submission until its job finishes.

        Setting it affects jobs submitted later; 0 makes them finish at once.
        """
        return self._offline.duration

    @offline_duration.setter
    def offline_duration(self, value: float) -> None:
        self._offline.duration = value

    @property
    def offline_url_lifetime(self) -> float:
        """Seconds of the server's clock a signed result-file URL is good for (for URLs signed later)."""
        return self._offline.url_lifetime

    @offline_url_lifetime.setter
    def offline_url_lifetime(self, value: float) -> None:
        self._offline.url_lifetime = value

    def __repr__(self) -> str:
        # Never the secret, never a token.
        where = f"{self._url} engine={self._engine_url}" if self._running is not None else "stopped"
        return f"<ChalkServer {where} client_id={self.client_id!r}>"
