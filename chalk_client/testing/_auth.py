"""Client credentials and access tokens: the ``POST /v1/oauth/token`` endpoint of ChalkServer, and
the checks every other endpoint makes (:meth:`TokenService.authenticate`).

Access tokens are JWT-shaped (``header.payload.signature``, base64url without padding) and signed
with HMAC-SHA256 under a random per-server key, so checking one needs no stored state: the
signature proves the server issued it, and the ``exp`` claim says until when. Revoking every token
is replacing the key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from chalk_client.testing._http import ApiError, Request, Response, chalk_error, json_response

__all__ = ["Caller", "IssuedToken", "TokenIssuer", "TokenService", "rfc3339"]

_encode_json = json.JSONEncoder(separators=(",", ":")).encode


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_HEADER: Final = _b64(b'{"alg":"HS256","typ":"JWT"}')


def rfc3339(timestamp: float) -> str:
    """`timestamp` (Unix seconds) as RFC 3339 UTC with microseconds: ``2026-11-28T15:00:00.123456Z``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class IssuedToken(NamedTuple):
    """A freshly signed access token and its claims' times (Unix seconds of the server's clock)."""

    token: str
    issued_at: float
    expires_at: float


_CACHE_LIMIT: Final = 4096


class _KeyState(NamedTuple):
    """The signing key and the tokens already verified under it: replaced together, atomically."""

    key: bytes
    verified: dict[str, tuple[str, float]]  # token -> (subject, expires_at)


class TokenIssuer:
    """Signs access tokens and checks them, against `clock` (Unix seconds).

    A token that checked out once is remembered (up to a few thousand), so checking it again costs a
    dict lookup and a clock read instead of an HMAC and a JSON parse; revoking forgets them all.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._state = _KeyState(secrets.token_bytes(32), {})

    def issue(self, subject: str, lifetime: float) -> IssuedToken:
        """A new token for `subject`, valid for `lifetime` seconds from now; each has its own ``jti``."""
        now = self._clock()
        expires_at = now + lifetime
        claims = {"sub": subject, "iat": now, "exp": expires_at, "jti": secrets.token_hex(16)}
        signing_input = _HEADER + b"." + _b64(_encode_json(claims).encode())
        signature = _b64(hmac.digest(self._state.key, signing_input, "sha256"))
        return IssuedToken((signing_input + b"." + signature).decode("ascii"), now, expires_at)

    def is_valid(self, token: object) -> bool:
        """Whether `token` was signed under the current key and has not expired."""
        return self.subject(token) is not None

    def subject(self, token: object) -> str | None:
        """The ``sub`` claim of a valid `token` (signed under the current key, not expired), else None."""
        if not isinstance(token, str):
            return None
        state = self._state  # one read: a concurrent revoke_all() cannot mix two keys' results
        known = state.verified.get(token)
        if known is None:
            known = _verify(state.key, token)
            if known is None:
                return None
            if len(state.verified) >= _CACHE_LIMIT:
                state.verified.clear()
            state.verified[token] = known
        subject, expires_at = known
        return subject if self._clock() < expires_at else None

    def revoke_all(self) -> None:
        """Make every token issued so far invalid, by signing from now on under a new key."""
        self._state = _KeyState(secrets.token_bytes(32), {})


def _verify(key: bytes, token: str) -> tuple[str, float] | None:
    """The subject and expiry of `token` if its signature under `key` is right, else None."""
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError:
        return None
    signing_input, _, signature = raw.rpartition(b".")
    header, _, payload = signing_input.partition(b".")
    if header != _HEADER or not payload:
        return None
    expected = _b64(hmac.digest(key, signing_input, "sha256"))
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict):
        return None
    expires_at = claims.get("exp")
    subject = claims.get("sub")
    if (
        not isinstance(expires_at, int | float)
        or isinstance(expires_at, bool)
        or not isinstance(subject, str)
    ):
        return None
    return subject, float(expires_at)


def _check_lifetime(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"token_lifetime must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"token_lifetime must be a positive, finite number of seconds, not {value!r}")
    return float(value)


def _utf8(text: str) -> bytes:
    # JSON may carry lone surrogates; they must compare (unequal), not raise.
    return text.encode("utf-8", "surrogatepass")


_REQUIRED_FIELDS: Final = ("client_id", "client_secret", "grant_type")
_WWW_AUTHENTICATE: Final = ((b"www-authenticate", b"Bearer"),)
_DEPLOYMENT_TYPES: Final = ("engine", "branch")
# A header value quoted in an error message is cut to this many characters.
_QUOTE_LIMIT: Final = 100


def _quote(value: str) -> str:
    return repr(value if len(value) <= _QUOTE_LIMIT else value[:_QUOTE_LIMIT] + "...")


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message, headers=_WWW_AUTHENTICATE)


class Caller(NamedTuple):
    """Who sent an authenticated request, and where it asked to go.

    Attributes:
        client_id: The client id the request's token was issued to.
        environment_id: ``X-Chalk-Env-Id``, else the token's primary environment.
        environment_name: The name of that environment.
        deployment_type: ``X-Chalk-Deployment-Type`` (``engine`` or ``branch``), or None.
        branch_id: ``X-Chalk-Branch-Id`` when the deployment type is ``branch``, else None.
    """

    client_id: str
    environment_id: str
    environment_name: str
    deployment_type: str | None
    branch_id: str | None


class TokenService:
    """The credentials the server accepts, the tokens it issues, and its token endpoint.

    Args:
        client_id: The accepted client id.
        client_secret: The accepted client secret.
        environments: Environment id to name; the first one is the primary environment.
        token_lifetime: Seconds a new token is valid for.
        clock: The server's time source (Unix seconds).
        on_branch: Called with the ``X-Chalk-Branch-Id`` of each authenticated request that names
            one (unless its ``X-Chalk-Deployment-Type`` is ``engine``); it must be quick.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        environments: Mapping[str, str],
        token_lifetime: float,
        clock: Callable[[], float],
        on_branch: Callable[[str], None] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._client_id = _utf8(client_id)
        self._client_secret = _utf8(client_secret)
        self.environments = dict(environments)
        self.primary_environment = next(iter(self.environments))
        self.issuer = TokenIssuer(clock)
        self._token_lifetime = _check_lifetime(token_lifetime)
        self._lock = threading.Lock()
        self._requests = 0
        self._exchanges = 0
        self._routing: dict[str, Any] = {}
        self._on_branch = on_branch

    @property
    def token_lifetime(self) -> float:
        """Seconds a new token is valid for; changing it affects later exchanges only."""
        return self._token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float) -> None:
        self._token_lifetime = _check_lifetime(value)

    @property
    def requests(self) -> int:
        """Requests the token endpoint handled, accepted or not."""
        with self._lock:
            return self._requests

    @property
    def exchanges(self) -> int:
        """Token exchanges answered with a token."""
        with self._lock:
            return self._exchanges

    def set_addresses(self, *, api_server: str, engine_url: str, grpc_address: str) -> None:
        """Where the token answer sends clients: the API server, the engines, the gRPC engines."""
        self._routing = {
            "api_server": api_server,
            "primary_environment": self.primary_environment,
            "engines": dict.fromkeys(self.environments, engine_url),
            "grpc_engines": dict.fromkeys(self.environments, grpc_address),
            "environment_id_to_name": self.environments,
        }

    def authenticate(self, request: Request) -> Caller:
        """Check the token and the routing headers of a request to any endpoint but the token one.

        Empty header values count as absent. Raises :class:`ApiError`: 401 ``UNAUTHENTICATED`` for a
        missing, malformed, expired or revoked token, or an ``X-Chalk-Client-Id`` that is not the
        token's; 400 ``VALIDATION_FAILED`` for an unknown ``X-Chalk-Env-Id`` (the detail lists the
        known ids), an ``X-Chalk-Deployment-Type`` other than ``engine``/``branch``, ``branch``
        without ``X-Chalk-Branch-Id``, or ``branch`` sent to an engine address.
        """
        authorization = env_id = client_id = deployment_type = branch_id = None
        for name, value in request.headers:  # one pass; names are lower case in ASGI
            if not name.startswith((b"authorization", b"x-chalk-")) or not value:
                continue
            if name == b"authorization":
                authorization = value
            elif name == b"x-chalk-env-id":
                env_id = value.decode("latin-1")
            elif name == b"x-chalk-client-id":
                client_id = value.decode("latin-1")
            elif name == b"x-chalk-deployment-type":
                deployment_type = value.decode("latin-1")
            elif name == b"x-chalk-branch-id":
                branch_id = value.decode("latin-1")
        if authorization is None:
            raise _unauthenticated(
                "missing Authorization header: send 'Authorization: Bearer <access token>'"
            )
        scheme, _, token = authorization.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            raise _unauthenticated("the Authorization header must be 'Bearer <access token>'")
        # Messages never quote the token.
        subject = self.issuer.subject(token.strip().decode("latin-1"))
        if subject is None:
            raise _unauthenticated(
                "the access token is not valid: expired, revoked, or not issued by this server"
            )
        if client_id is not None and client_id != subject:
            raise _unauthenticated("X-Chalk-Client-Id is not the client id the access token was issued to")
        if env_id is None:
            env_id = self.primary_environment
        elif env_id not in self.environments:
            known = ", ".join(self.environments)
            is_name = env_id in self.environments.values()
            hint = " (that is an environment name; send its id)" if is_name else ""
            message = f"unknown environment id {_quote(env_id)} in X-Chalk-Env-Id{hint}"
            raise ApiError(400, "VALIDATION_FAILED", f"{message}; known environment ids: {known}")
        if deployment_type is not None:
            if deployment_type not in _DEPLOYMENT_TYPES:
                raise ApiError(
                    400,
                    "VALIDATION_FAILED",
                    f"X-Chalk-Deployment-Type must be 'engine' or 'branch', not {_quote(deployment_type)}",
                )
            if deployment_type == "branch":
                if branch_id is None:
                    raise ApiError(
                        400,
                        "VALIDATION_FAILED",
                        "X-Chalk-Deployment-Type 'branch' needs an X-Chalk-Branch-Id header",
                    )
                if request.served_by != "api":
                    raise ApiError(
                        400,
                        "VALIDATION_FAILED",
                        "branch requests are served by the API server, not by an engine: "
                        "send them to api_server",
                    )
        named_branch = branch_id if deployment_type != "engine" else None
        if deployment_type != "branch":
            branch_id = None
        if named_branch is not None and self._on_branch is not None:
            self._on_branch(named_branch)
        return Caller(subject, env_id, self.environments[env_id], deployment_type, branch_id)

    async def exchange(self, request: Request) -> Response:
        """``POST /v1/oauth/token``: client credentials in, an access token and routing out."""
        with self._lock:
            self._requests += 1
        client_id, client_secret = _parse_token_request(request)
        # Both comparisons always run, so the timing does not tell which one failed.
        id_ok = hmac.compare_digest(_utf8(client_id), self._client_id)
        secret_ok = hmac.compare_digest(_utf8(client_secret), self._client_secret)
        if not (id_ok and secret_ok):
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "the client id or the client secret is not valid",
                detail="invalid client credentials",
            )
        lifetime = self._token_lifetime
        issued = self.issuer.issue(self.client_id, lifetime)
        with self._lock:
            self._exchanges += 1
        return json_response(
            {
                "access_token": issued.token,
                "token_type": "Bearer",
                "expires_in": max(1, int(lifetime)),
                "expires_at": rfc3339(issued.expires_at),
                **self._routing,
            }
        )


def _parse_token_request(request: Request) -> tuple[str, str]:
    """The client id and secret of a token request; raises a 400 for any other shape.

    Messages name fields, never their values: the body carries a secret.
    """
    data = request.json()
    if not isinstance(data, dict):
        raise ApiError(400, "VALIDATION_FAILED", "the request body must be a JSON object")
    problems = []
    for field in _REQUIRED_FIELDS:
        if field not in data:
            problems.append(f"missing required field '{field}'")
        elif not isinstance(data[field], str):
            problems.append(f"field '{field}' must be a string")
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, str):
        problems.append("field 'scope' must be a string or null")
    if problems:
        raise ApiError(
            400,
            "VALIDATION_FAILED",
            problems[0],
            detail="invalid token request: " + "; ".join(problems),
            errors=[chalk_error("VALIDATION_FAILED", problem) for problem in problems[1:]],
        )
    if data["grant_type"] != "client_credentials":
        raise ApiError(400, "VALIDATION_FAILED", "grant_type must be 'client_credentials'")
    client_id: str = data["client_id"]
    client_secret: str = data["client_secret"]
    return client_id, client_secret
