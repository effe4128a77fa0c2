"""Proxies and TLS: which proxy a URL goes through, and the SSL context every connection uses.

Both clients take the same options, and follow httpx's rules for them:

- ``trust_env=True`` (the default) reads ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and
  ``NO_PROXY`` (lower case wins over upper case, as in the standard library), and ``SSL_CERT_FILE``
  / ``SSL_CERT_DIR``; ``trust_env=False`` reads none of them.
- ``proxy=`` sends every call through that proxy, whatever the environment says (``NO_PROXY``
  included, as with httpx's ``proxy=``).
- ``verify=`` is True (the certifi bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` under
  ``trust_env``), False (no verification), a CA bundle file or directory, or an ``ssl.SSLContext``
  used as given.
- ``cert=`` is a client certificate for mutual TLS: a PEM file holding the certificate and its
  key, or a ``(certificate, key)`` pair of files.

Everything is checked when the client is made: a file that does not exist, a proxy a transport
cannot use (aiohttp speaks to ``http://`` proxies only), or options given together with a
``transport=`` that owns them, is a :class:`~chalk_client.ChalkConfigError` naming the problem.
Nothing here ever goes direct when a proxy was asked for, and no proxy credential is ever shown:
:func:`mask_url` hides them in every message and in ``chalk-client config``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import attrs

from chalk_client._core.errors import ChalkConfigError

__all__ = [
    "CertArg",
    "Network",
    "VerifyArg",
    "certificate_failure",
    "mask_url",
    "resolve_network",
]

VerifyArg: TypeAlias = bool | str | os.PathLike[str] | ssl.SSLContext
"""``verify=``: True, False, a CA bundle (file or directory), or an ``ssl.SSLContext``."""
CertArg: TypeAlias = str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]
"""``cert=``: a PEM file with the certificate and its key, or a (certificate, key) pair."""

Transport = Literal["urllib3", "aiohttp"]
_PROXY_SCHEMES: Final[Mapping[Transport, frozenset[str]]] = {
    "urllib3": frozenset({"http", "https", "socks5", "socks5h"}),
    "aiohttp": frozenset({"http"}),
}
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def mask_url(url: str) -> str:
    """`url` with any user name and password replaced by ``****`` (for messages and displays)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"****:****@{host}"))


@attrs.frozen
class _Bypass:
    """One ``NO_PROXY`` entry: a host (exact, a domain with its subdomains, or a network), a port."""

    host: str | None = None  # an exact host
    domain: re.Pattern[str] | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None
    scheme: str | None = None

    def matches(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return host == self.host
        if self.domain is not None:
            return self.domain.match(host) is not None
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        return True


def _bypass(entry: str) -> _Bypass | None:
    entry = entry.strip().lower()
    if not entry:
        return None
    scheme = None
    if "://" in entry:
        scheme, entry = entry.split("://", 1)
        scheme = None if scheme == "all" else scheme
    port = None
    host = entry
    if host.startswith("["):  # [::1] or [::1]:8080
        closing = host.find("]")
        if closing > 0:
            rest = host[closing + 1 :]
            host = host[1:closing]
            port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    elif host.count(":") == 1:
        name, _, digits = host.partition(":")
        if digits.isdigit():
            host, port = name, int(digits)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if "/" in host:
            return _Bypass(network=network, port=port, scheme=scheme)
        return _Bypass(host=str(network.network_address), port=port, scheme=scheme)
    if host == "localhost":
        return _Bypass(host=host, port=port, scheme=scheme)
    if host.startswith("*."):  # like ".example.com": subdomains only
        host = host[1:]
    if host.startswith("."):
        return _Bypass(domain=re.compile(rf"^.+{re.escape(host)}$"), port=port, scheme=scheme)
    host = host.removeprefix("*")
    return _Bypass(domain=re.compile(rf"^(.+\.)?{re.escape(host)}$"), port=port, scheme=scheme)


@attrs.define
class ProxyPlan:
    """Which proxy each URL goes through: an explicit one, or the environment's rules."""

    explicit: str | None = None
    by_scheme: Mapping[str, str] = attrs.field(factory=dict)  # "http", "https", "all" -> proxy URL
    bypass: tuple[_Bypass, ...] = ()
    source: Mapping[str, str] = attrs.field(factory=dict)  # scheme -> where it came from
    _cache: dict[tuple[str, str, int], str | None] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

    @property
    def empty(self) -> bool:
        """Whether no URL goes through a proxy."""
        return self.explicit is None and not self.by_scheme

    def for_url(self, url: str) -> str | None:
        """The proxy URL for `url`, or None to connect directly."""
        if self.explicit is not None:
            return self.explicit
        if not self.by_scheme:
            return None
        return self._for_origin(*_origin(url))

    def _for_origin(self, scheme: str, host: str, port: int) -> str | None:
        key = (scheme, host, port)
        if key in self._cache:
            return self._cache[key]
        if any(b.matches(scheme, host, port) for b in self.bypass):
            found = None
        else:
            found = self.by_scheme.get(scheme) or self.by_scheme.get("all")
        if len(self._cache) < 256:  # a few origins per client
            self._cache[key] = found
        return found

    def describe(self, url: str) -> str:
        """The proxy in force for `url`, masked, with its source (for ``chalk-client config``)."""
        proxy = self.for_url(url)
        if proxy is None:
            if not self.empty:
                return "none (NO_PROXY matches)"
            return "none"
        if self.explicit is not None:
            return f"{mask_url(proxy)} (proxy= argument)"
        scheme = _origin(url)[0]
        where = self.source.get(scheme if scheme in self.by_scheme else "all", "the environment")
        return f"{mask_url(proxy)} (from {where})"


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    return scheme, host, port


def _environment_proxies(
    environ: Mapping[str, str],
) -> tuple[dict[str, str], tuple[_Bypass, ...], dict[str, str]]:
    """The proxies the environment names, as httpx reads them (lower-case names first)."""
    found: dict[str, str] = {}
    source: dict[str, str] = {}
    no_proxy = ""
    for scheme in ("http", "https", "all", "no"):
        for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
            value = environ.get(name, "").strip()
            if not value:
                continue
            if scheme == "http" and "REQUEST_METHOD" in environ:  # CGI: HTTP_PROXY is a header
                continue
            if scheme == "no":
                no_proxy = value
            else:
                found[scheme] = value if "://" in value else f"http://{value}"
                source[scheme] = name
            break
    bypass = tuple(b for b in (_bypass(entry) for entry in no_proxy.split(",")) if b is not None)
    if any(entry.strip() == "*" for entry in no_proxy.split(",")):
        return {}, (), {}
    return found, bypass, source


@attrs.frozen
class CASource:
    """Where the trusted certificates come from, for ``chalk-client config``."""

    text: str


@attrs.define(slots=False, repr=False)
class Network:
    """The resolved proxy and TLS settings of one client."""

    proxies: ProxyPlan
    verify: VerifyArg
    cert: CertArg | None
    trust_env: bool
    ca: CASource
    transport: Transport

    @functools.cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """The SSL context for every connection (built once, on first use)."""
        return _ssl_context(self.verify, self.cert, self.trust_env)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Proxy credentials, to redact from any text shown."""
        found = []
        for url in (self.proxies.explicit, *self.proxies.by_scheme.values()):
            if url:
                parts = urllib.parse.urlsplit(url)
                found += [v for v in (parts.password, urllib.parse.unquote(parts.password or "")) if v]
        return tuple(found)

    def __repr__(self) -> str:
        return f"<Network proxy={self.proxies.describe('https://api.chalk.ai')!r} ca={self.ca.text!r}>"


def resolve_network(
    *,
    proxy: str | None,
    verify: VerifyArg,
    cert: CertArg | None,
    trust_env: bool,
    transport: Transport,
    caller_transport: bool,
    environ: Mapping[str, str] | None = None,
) -> Network:
    """Check the options and read the environment; raises :class:`ChalkConfigError` for a bad one."""
    if not isinstance(trust_env, bool):
        raise ChalkConfigError(f"trust_env must be True or False, not {trust_env!r}")
    if caller_transport:
        given = [
            name
            for name, value, default in (
                ("proxy", proxy, None),
                ("verify", verify, True),
                ("cert", cert, None),
            )
            if value is not default
        ]
        if given:
            raise ChalkConfigError(
                f"{', '.join(given)} cannot be combined with transport=: the transport you pass owns its "
                "proxy and TLS settings (configure them on it, e.g. httpx.HTTPTransport(verify=...))"
            )
        return Network(ProxyPlan(), True, None, trust_env, CASource("your transport's"), transport)
    environ = os.environ if environ is None else environ
    plan = _proxy_plan(proxy, trust_env, transport, environ)
    ca = _check_verify(verify, cert, trust_env, environ)
    return Network(plan, verify, cert, trust_env, ca, transport)


def _proxy_plan(
    proxy: str | None, trust_env: bool, transport: Transport, environ: Mapping[str, str]
) -> ProxyPlan:
    if proxy is not None:
        if not isinstance(proxy, str) or not proxy.strip():
            raise ChalkConfigError(f"proxy must be a URL such as 'http://proxy.internal:3128', not {proxy!r}")
        _check_proxy_url(proxy.strip(), "proxy=", transport)
        return ProxyPlan(explicit=proxy.strip())
    if not trust_env:
        return ProxyPlan()
    found, bypass, source = _environment_proxies(environ)
    for scheme, url in found.items():
        _check_proxy_url(url, source[scheme], transport)
    return ProxyPlan(by_scheme=found, bypass=bypass, source=source)


def _check_proxy_url(url: str, where: str, transport: Transport) -> None:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ChalkConfigError(f"the proxy {mask_url(url)} ({where}) has an invalid port") from None
    if not parts.hostname:
        raise ChalkConfigError(f"the proxy {mask_url(url)} ({where}) names no host")
    if scheme not in _PROXY_SCHEMES[transport]:
        if transport == "aiohttp":
            raise ChalkConfigError(
                f"AsyncChalkClient sends through aiohttp, which cannot use the {scheme}:// proxy "
                f"{mask_url(url)} ({where}): it speaks to http:// proxies only (https targets are "
                "tunnelled through them with CONNECT). Use an http:// proxy, or pass "
                "transport=httpx.AsyncHTTPTransport(proxy=...) to send through httpx instead"
            )
        raise ChalkConfigError(
            f"the proxy {mask_url(url)} ({where}) has the scheme {scheme!r}; ChalkClient supports "
            "http://, https:// and socks5:// proxies"
        )
    if scheme.startswith("socks"):
        import importlib.util

        if importlib.util.find_spec("socks") is None:  # urllib3 needs PySocks for SOCKS
            raise ChalkConfigError(
                f"the SOCKS proxy {mask_url(url)} ({where}) needs the PySocks package: "
                "pip install 'urllib3[socks]'"
            )


def _path(value: object, what: str) -> str:
    if not isinstance(value, str | os.PathLike):
        raise ChalkConfigError(f"{what} must be a path, not {value!r}")
    return os.fspath(value)


def _check_verify(
    verify: VerifyArg, cert: CertArg | None, trust_env: bool, environ: Mapping[str, str]
) -> CASource:
    """Check that every file named exists; say where the trusted certificates come from."""
    if cert is not None:
        if isinstance(verify, ssl.SSLContext):
            raise ChalkConfigError(
                "cert= cannot be combined with an ssl.SSLContext as verify=: load the client "
                "certificate into your context (context.load_cert_chain(...))"
            )
        files = cert if isinstance(cert, tuple) else (cert,)
        if isinstance(cert, tuple) and len(cert) != 2:
            raise ChalkConfigError("cert= must be a PEM file, or a (certificate, key) pair of files")
        for item in files:
            path = _path(item, "cert=")
            if not os.path.isfile(path):
                raise ChalkConfigError(f"the client certificate file {path!r} (cert=) does not exist")
    if isinstance(verify, ssl.SSLContext):
        return CASource("the ssl.SSLContext given as verify=")
    if verify is False:
        return CASource("none: certificates are not verified (verify=False)")
    if verify is True:
        if trust_env:
            for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
                value = environ.get(name)
                if not value:
                    continue
                exists = os.path.isfile(value) if name == "SSL_CERT_FILE" else os.path.isdir(value)
                if not exists:
                    kind = "file" if name == "SSL_CERT_FILE" else "directory"
                    raise ChalkConfigError(
                        f"{name}={value!r} names no {kind}: fix or unset it, or pass verify=<CA bundle> "
                        "(trust_env=False ignores it)"
                    )
                return CASource(f"{name}={value}")
        return CASource("certifi's bundle (the default)")
    if isinstance(verify, bool | int):
        raise ChalkConfigError(
            f"verify must be True, False, a CA bundle path or an ssl.SSLContext, not {verify!r}"
        )
    path = _path(verify, "verify=")
    if not os.path.exists(path):
        raise ChalkConfigError(f"the CA bundle {path!r} (verify=) does not exist")
    return CASource(f"{path} (verify=)")


def _ssl_context(verify: VerifyArg, cert: CertArg | None, trust_env: bool) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        cafile = capath = None
        if verify is True:
            file, directory = (
                (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
                if trust_env
                else (None, None)
            )
            if file:
                cafile = file
            elif directory:
                capath = directory
            else:
                import certifi

                cafile = certifi.where()
        else:
            path = os.fspath(verify)
            if os.path.isdir(path):
                capath = path
            else:
                cafile = path
        try:
            context = ssl.create_default_context(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as err:
            raise ChalkConfigError(
                f"the CA certificates in {cafile or capath!r} could not be loaded ({err})"
            ) from None
    if cert is not None:
        certfile, keyfile = (cert[0], cert[1]) if isinstance(cert, tuple) else (cert, None)
        try:
            context.load_cert_chain(os.fspath(certfile), None if keyfile is None else os.fspath(keyfile))
        except (OSError, ssl.SSLError) as err:
            raise ChalkConfigError(f"the client certificate (cert=) could not be loaded ({err})") from None
    return context


def certificate_failure(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification failure behind `error`, if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            inner = getattr(current, "certificate_error", None)  # aiohttp's wraps the ssl module's
            return inner if isinstance(inner, ssl.SSLCertVerificationError) else current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
