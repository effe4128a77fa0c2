"""Test certificates (made with trustme) and HTTPS ChalkServers, as pytest fixtures.

Registered as a plugin in conftest.py, so every test module can ask for:

- ``tls_files`` (module scope): a :class:`TLSFiles` of PEM files in a temporary directory: a CA, a
  server certificate for ``127.0.0.1`` and ``localhost`` signed by it, a client certificate signed by
  it, and a client certificate from an unrelated CA (a stranger's).
- ``https_server``: a started ChalkServer serving TLS with that server certificate.
- ``mtls_server``: the same, requiring a client certificate signed by the CA.

Outside fixtures, :func:`make_tls_files` writes a fresh set into any directory, and
:func:`ssl_context_from` builds the client-side ``ssl.SSLContext`` that httpx (``verify=``) and
aiohttp (``ssl=``) take.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from chalk_client.testing import ChalkServer

SERVER_NAMES = ("127.0.0.1", "localhost")
CLIENT_NAME = "chalk-test-client.example"


@dataclass(frozen=True)
class TLSFiles:
    """Paths of PEM files for TLS tests; every certificate but the stranger's is signed by `ca`."""

    directory: Path
    ca: Path  # ca.pem: the CA certificate, to verify the server (and, on the server, clients)
    server_cert: Path  # server.pem: the server's certificate chain, for 127.0.0.1 and localhost
    server_key: Path  # server-key.pem: its private key
    server_combined: Path  # server-combined.pem: the key and the chain in one file
    client_cert: Path  # client.pem: a client certificate chain, for mTLS
    client_key: Path  # client-key.pem: its private key
    client_combined: Path  # client-combined.pem: the key and the chain in one file
    other_ca: Path  # other-ca.pem: a CA that signed none of the above
    stranger_cert: Path  # stranger.pem: a client certificate signed by other_ca
    stranger_key: Path  # stranger-key.pem

    def server_kwargs(self, *, require_client_cert: bool = False) -> dict[str, Any]:
        """ChalkServer's TLS arguments for these files (with the CA and mTLS when asked)."""
        kwargs: dict[str, Any] = {
            "ssl_certfile": self.server_cert,
            "ssl_keyfile": self.server_key,
        }
        if require_client_cert:
            kwargs["ssl_ca_certs"] = self.ca
            kwargs["ssl_require_client_cert"] = True
        return kwargs


def make_tls_files(directory: str | os.PathLike[str]) -> TLSFiles:
    """Make a CA, server and client certificates with trustme, and write them as PEM into `directory`.

    `directory` is created if it does not exist; files of the same names are overwritten.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="chalk-client tests")
    server = ca.issue_cert(*SERVER_NAMES, common_name="127.0.0.1")
    client = ca.issue_cert(CLIENT_NAME, common_name=CLIENT_NAME)
    other_ca = trustme.CA(organization_name="chalk-client tests, a stranger")
    stranger = other_ca.issue_cert(CLIENT_NAME, common_name=CLIENT_NAME)

    def write(name: str, *pems: bytes) -> Path:
        path = root / name
        path.write_bytes(b"".join(pems))
        return path

    def chain(cert: trustme.LeafCert) -> list[bytes]:
        return [blob.bytes() for blob in cert.cert_chain_pems]

    return TLSFiles(
        directory=root,
        ca=write("ca.pem", ca.cert_pem.bytes()),
        server_cert=write("server.pem", *chain(server)),
        server_key=write("server-key.pem", server.private_key_pem.bytes()),
        server_combined=write("server-combined.pem", server.private_key_pem.bytes(), *chain(server)),
        client_cert=write("client.pem", *chain(client)),
        client_key=write("client-key.pem", client.private_key_pem.bytes()),
        client_combined=write("client-combined.pem", client.private_key_pem.bytes(), *chain(client)),
        other_ca=write("other-ca.pem", other_ca.cert_pem.bytes()),
        stranger_cert=write("stranger.pem", *chain(stranger)),
        stranger_key=write("stranger-key.pem", stranger.private_key_pem.bytes()),
    )


def ssl_context_from(
    ca: str | os.PathLike[str] | None,
    cert: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
) -> ssl.SSLContext:
    """A client ``ssl.SSLContext`` that trusts `ca` (the system's CAs when None) and, given `cert`
    (and `key`, unless `cert` holds it too), presents that client certificate."""
    context = ssl.create_default_context(cafile=None if ca is None else os.fspath(ca))
    if cert is not None:
        context.load_cert_chain(os.fspath(cert), None if key is None else os.fspath(key))
    return context


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A CA and certificates signed by it, as PEM files (one set per test module)."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_server(tls_files: TLSFiles) -> Iterator[ChalkServer]:
    """A started ChalkServer serving TLS on both addresses (``server.url`` is ``https://``)."""
    with ChalkServer(ssl_certfile=tls_files.server_cert, ssl_keyfile=tls_files.server_key) as server:
        yield server


@pytest.fixture
def mtls_server(tls_files: TLSFiles) -> Iterator[ChalkServer]:
    """A started ChalkServer serving TLS that requires a client certificate signed by ``tls_files.ca``."""
    with ChalkServer(
        ssl_certfile=tls_files.server_cert,
        ssl_keyfile=tls_files.server_key,
        ssl_ca_certs=tls_files.ca,
        ssl_require_client_cert=True,
    ) as server:
        yield server
