"""The URL rule of the configuration: ``https://`` added when there is no scheme, no trailing ``/``,
and plain ``http://`` only to a loopback host unless ``allow_insecure_http`` is set.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Final

from chalk_client._core.errors import ChalkConfigError

DEFAULT_API_SERVER: Final = "https://api.chalk.ai"
"""The API server used when no source names one."""

_HAS_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def normalize_url(name: str, value: str, source: str, allow_insecure_http: bool) -> str:
    """`value` with ``https://`` added when it has no scheme and no trailing ``/``; or an error."""
    where = f"{name} {value!r} (from {source})"
    url = value if _HAS_SCHEME.match(value) else f"https://{value}"
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError when the port is not a number in range
    except ValueError as err:
        raise ChalkConfigError(f"{where} is not a valid URL: {err}") from err
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ChalkConfigError(f"{where} must be an https:// URL, not {scheme}://")
    if not host:
        raise ChalkConfigError(f"{where} has no host; expected a URL like {DEFAULT_API_SERVER}")
    if scheme == "http" and not allow_insecure_http and not _is_loopback(host):
        raise ChalkConfigError(
            f"{where} uses plain http:// to a host that is not loopback, which would send the client "
            "secret and tokens unencrypted. Use https://, or pass allow_insecure_http=True if you mean it."
        )
    url = url.rstrip("/")
    import httpx

    try:
        httpx.URL(url)  # stricter than urlsplit: control characters, hosts that are not IDNA
    except httpx.InvalidURL as err:
        raise ChalkConfigError(f"{where} is not a valid URL: {err}") from err
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
