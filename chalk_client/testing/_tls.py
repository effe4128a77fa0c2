"""The TLS settings of a :class:`~chalk_client.testing.ChalkServer`, checked when it is made.

``ssl_certfile``, ``ssl_keyfile``, ``ssl_ca_certs`` and ``ssl_require_client_cert`` are checked
together and loaded once at construction, so a missing file, one that does not load, or a setting
that needs another is a ``ValueError`` in the caller's thread, not a failed start.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

__all__ = ["TLSSettings", "tls_settings"]


class TLSSettings:
    """The TLS settings of a server, checked at construction so mistakes surface in the caller."""

    def __init__(
        self,
        certfile: str | os.PathLike[str],
        keyfile: str | os.PathLike[str] | None,
        ca_certs: str | os.PathLike[str] | None,
        require_client_cert: bool,
    ) -> None:
        self.certfile = _existing_file("ssl_certfile", certfile)
        self.keyfile = None if keyfile is None else _existing_file("ssl_keyfile", keyfile)
        self.ca_certs = None if ca_certs is None else _existing_file("ssl_ca_certs", ca_certs)
        if require_client_cert:
            self.cert_reqs = ssl.CERT_REQUIRED
        elif self.ca_certs is not None:
            self.cert_reqs = ssl.CERT_OPTIONAL
        else:
            self.cert_reqs = ssl.CERT_NONE
        # Load them once here, as uvicorn will in the serving thread, so a file that is not a PEM
        # certificate or key (or a key that does not match) is a ValueError now, not a failed start.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.certfile, self.keyfile)
        except (ssl.SSLError, OSError) as exc:
            files = self.certfile if self.keyfile is None else f"{self.certfile} and {self.keyfile}"
            raise ValueError(f"ChalkServer could not load a certificate and key from {files}: {exc}") from exc
        if self.ca_certs is not None:
            try:
                context.load_verify_locations(cafile=self.ca_certs)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(
                    f"ChalkServer could not load CA certificates from ssl_ca_certs={self.ca_certs}: {exc}"
                ) from exc


def _existing_file(name: str, value: str | os.PathLike[str]) -> str:
    if not isinstance(value, str | os.PathLike):
        raise ValueError(f"{name} must be a path (str or os.PathLike), not {value!r}")
    path = os.fspath(value)
    if not path:
        raise ValueError(f"{name} must not be empty")
    if not Path(path).is_file():
        what = "is not a file" if Path(path).exists() else "does not exist"
        raise ValueError(f"{name}: {path} {what}")
    return path


def tls_settings(
    certfile: str | os.PathLike[str] | None,
    keyfile: str | os.PathLike[str] | None,
    ca_certs: str | os.PathLike[str] | None,
    require_client_cert: bool,
) -> TLSSettings | None:
    if not isinstance(require_client_cert, bool):
        raise ValueError(f"ssl_require_client_cert must be a bool, not {require_client_cert!r}")
    if certfile is None:
        given = [
            name
            for name, value in (
                ("ssl_keyfile", keyfile),
                ("ssl_ca_certs", ca_certs),
                ("ssl_require_client_cert", require_client_cert or None),
            )
            if value is not None
        ]
        if given:
            verb = "needs" if len(given) == 1 else "need"
            raise ValueError(f"{' and '.join(given)} {verb} ssl_certfile: the server's own certificate")
        return None
    if require_client_cert and ca_certs is None:
        raise ValueError(
            "ssl_require_client_cert=True needs ssl_ca_certs: the CA that client certificates must be signed by"
        )
    return TLSSettings(certfile, keyfile, ca_certs, require_client_cert)
