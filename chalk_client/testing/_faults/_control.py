"""The HTTP control API of a :class:`~chalk_client.testing.FaultPlan`, for tests in another process.

Served on the API address, without a token: ``POST /_faults`` with a JSON object of
:class:`~chalk_client.testing.Fault`'s fields adds a fault and answers its rule; ``GET /_faults``
lists the rules; ``DELETE /_faults`` removes them all; ``POST /_faults/revoke_tokens`` revokes
every token. Faults never apply to these paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final

from chalk_client.testing._faults._fault import Fault, FaultKind
from chalk_client.testing._http import ApiError, Request, Response, Router, json_response

__all__ = ["CONTROL_PATH", "add_control_routes"]

CONTROL_PATH: Final = "/_faults"


def add_control_routes(
    router: Router,
    *,
    add: Callable[[Fault], dict[str, Any]],
    rules: Callable[[], list[dict[str, Any]]],
    clear: Callable[[], None],
    revoke: Callable[[], None],
) -> None:
    """Serve the control API from `router`, on a plan's `add`, `rules`, `clear` and `revoke`.

    `add` puts a fault in force and `rules` lists the rules in force, each rule as the API shows it
    (:meth:`~chalk_client.testing.FaultRule.to_json`).
    """

    async def list_rules(request: Request) -> Response:
        return json_response({"rules": rules()})

    async def add_rule(request: Request) -> Response:
        return json_response(add(_fault_from_json(request.json())))

    async def clear_rules(request: Request) -> Response:
        clear()
        return json_response({"rules": []})

    async def revoke_tokens(request: Request) -> Response:
        revoke()
        return json_response({"revoked": True})

    router.add("GET", CONTROL_PATH, list_rules)
    router.add("POST", CONTROL_PATH, add_rule)
    router.add("DELETE", CONTROL_PATH, clear_rules)
    router.add("POST", CONTROL_PATH + "/revoke_tokens", revoke_tokens)


_FIELDS: Final = frozenset(field.name for field in dataclasses.fields(Fault))


def _fault_from_json(data: object) -> Fault:
    """A :class:`~chalk_client.testing.Fault` from the control API's JSON object; a 400 for anything else."""

    def invalid(message: str) -> ApiError:
        return ApiError(400, "VALIDATION_FAILED", message)

    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object of Fault fields")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise invalid(f"unknown fields {unknown}; a Fault has {sorted(_FIELDS)}")
    values = dict(data)
    try:
        values["kind"] = FaultKind(values.get("kind"))
    except ValueError:
        raise invalid(f"'kind' must be one of {[k.value for k in FaultKind]}") from None
    body = values.get("body")
    if isinstance(body, str):
        values["body"] = body.encode()
    headers = values.get("headers")
    if isinstance(headers, dict):
        values["headers"] = tuple(headers.items())
    elif headers is not None:
        raise invalid("'headers' must be an object of strings")
    if isinstance(values.get("fields"), list):
        values["fields"] = tuple(values["fields"])
    try:
        return Fault(**values)
    except (TypeError, ValueError) as exc:
        raise invalid(str(exc)) from None
