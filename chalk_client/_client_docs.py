"""The clients' class docstrings: each one's own opening, and the constructor arguments both document."""

ASYNC_CLIENT_DOC = """The asyncio Chalk client; one instance serves many tasks, and successive event loops.

    Example::

        import asyncio
        from chalk_client import AsyncChalkClient

        async def main() -> None:
            async with AsyncChalkClient() as client:
                result = await client.query(input={"user.id": 1}, output=["user.name"])
                print(result.get_value("user.name"))

        asyncio.run(main())
"""

CLIENT_DOC = """The synchronous Chalk client; safe to share between threads.

    Example::

        from chalk_client import ChalkClient

        with ChalkClient() as client:  # credentials from the environment or `chalk login`
            result = client.query(input={"user.id": 1}, output=["user.name", "user.credit_score"])
            print(result.get_value("user.name"))
"""

CLIENT_ARGS_DOC = """
    Every argument is optional; what is not given is resolved from the environment and the
    ``chalk login`` file (see :class:`ChalkClientConfig` for the order).

    Args:
        client_id: The client id of a Chalk service token.
        client_secret: Its secret. Never printed: masked in every repr and message.
        api_server: The API server, ``https://api.chalk.ai`` by default.
        environment: An environment id or name (any case); default: the token's primary environment.
        branch: A branch to send every call to (on the API server).
        deployment_tag: A deployment tag.
        query_server: Where online queries go, overriding the token's engine URL.
        config: An already resolved configuration; the arguments above override single fields.
        allow_insecure_http: Allow credentials over plain ``http://`` to a non-loopback host.
        refresh_buffer: Refresh the token this many seconds before it expires (default 60,
            capped at half the token's lifetime).
        token_timeout: Seconds the token exchange may take (default 10).
        timeout: The timeout for API calls (default: 5 s to connect, 30 s to read); each call
            can override it.
        limits: Limits of each connection pool (``httpx.Limits``). A client keeps two pools,
            alive across calls: one for the API server (API calls, the token exchange, result
            downloads) and one for the query engines (online queries). Default: 100
            connections, all of which may stay open when idle, for 30 s. A call waits for one
            of ``max_connections`` slots (at most ``Timeout.pool``) before it reads the token it
            sends, so no token expires in the queue.
        max_retries: Retries after a failed attempt of a call that is safe to repeat (default 2).
        proxy: A proxy URL for every call (``http://user:pass@proxy:3128``), overriding the
            environment's. ``AsyncChalkClient`` can use ``http://`` proxies only.
        verify: Verify TLS certificates: True (certifi's bundle, or ``SSL_CERT_FILE`` /
            ``SSL_CERT_DIR`` under `trust_env`), False, a CA bundle file or directory, or an
            ``ssl.SSLContext`` used as given.
        cert: A client certificate for mutual TLS: a PEM file with its key, or a (certificate,
            key) pair of files.
        trust_env: Read ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``,
            ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` (default True), as httpx does.
        token_retries: Retries of a token exchange after a connection failure, a timeout, 408,
            429 or 5xx, inside its single flight (default 2); rejected credentials are final.
        transport: An httpx transport to send through, replacing the default one (httpx's for
            ``ChalkClient``, aiohttp for ``AsyncChalkClient``); tests pass ``httpx.MockTransport``.
        clock: Where the token layer reads time (tests pass a fake clock).
        rand: A source of floats in [0, 1) for jitter (tests pass ``lambda: 0.0``).
        sleep: How to wait between attempts (tests pass one that records the delays).
"""
