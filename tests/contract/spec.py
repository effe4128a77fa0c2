"""``openapi/chalk.yaml``, loaded once: its operations, and checks of bodies against its JSON schemas.

The spec is OpenAPI 3.1, so its schemas are JSON Schema 2020-12. The whole document is one resource
of a ``referencing.Registry`` (under :data:`SPEC_URI`), and each schema is checked through a
``$ref`` to its JSON pointer in that document, so the ``$ref: "#/components/schemas/..."`` inside
it resolve as they are written. Validators are built on first use and kept.

- :func:`operations`: ``operationId`` -> :class:`Operation` (method, path template, request
  schema, response schemas by status key: ``"200"``, ``"4XX"``, ``"5XX"``, an exact code).
- :func:`match`: the operation a concrete ``(method, path)`` is a call of, or None. Exact paths are
  matched before templates, as OpenAPI says (``GET /v1/runs/trigger`` is no operation: that path
  has only ``POST``; it is not a ``get_run_status`` of run ``trigger``).
- :func:`validate_request` / :func:`validate_response`: raise an ``AssertionError`` naming the
  operation, the JSON pointer of each wrong value in the body and what is wrong with it.
  :func:`validate_component` does the same for a value of one of the components' schemas (the
  JSON inside a binary body, such as a bulk answer's errors).
- Each operation also lists the media types of its request body and of each answer
  (:attr:`Operation.request_media_types`, :meth:`Operation.media_types`): a binary body
  (``application/octet-stream``) has no JSON schema, and its format is checked elsewhere.
- :func:`schemas`: every schema of the document (components and inline, recursively), with its
  pointer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "NO_BODY",
    "SPEC_PATH",
    "SPEC_URI",
    "Operation",
    "Spec",
    "match",
    "operations",
    "pointer",
    "schemas",
    "spec",
    "validate_component",
    "validate_request",
    "validate_response",
]

SPEC_PATH: Final = Path(__file__).resolve().parents[2] / "openapi" / "chalk.yaml"
SPEC_URI: Final = "urn:chalk-client:openapi:chalk.yaml"
JSON_MEDIA_TYPE: Final = "application/json"
BINARY_MEDIA_TYPE: Final = "application/octet-stream"
HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# At most this many errors per body, and this many characters per message (a message quotes the
# value, which may be a whole answer).
_MAX_ERRORS: Final = 8
_MAX_MESSAGE: Final = 300
_PARAM: Final = re.compile(r"\{[^/{}]+\}")


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final[Any] = _NoBody()
"""What :func:`validate_request` is given for a request without a body (``None`` is JSON null)."""


def pointer(parts: Iterator[object] | list[object] | tuple[object, ...]) -> str:
    """The JSON pointer (RFC 6901) of a path of keys and indexes; ``""`` is the whole document."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _shown(location: str) -> str:
    return location if location else "(the whole body)"


@dataclass(frozen=True, eq=False)
class Operation:
    """One operation of the spec.

    Attributes:
        operation_id: Its ``operationId``.
        method: The HTTP method, upper case.
        path: The path or path template (``/v1/runs/{run_id}``).
        request_schema: The JSON schema of its ``application/json`` request body, or None when it
            takes no JSON body.
        request_required: Whether the request body is required.
        responses: Status key (``"200"``, ``"4XX"``, ``"default"``) to the JSON schema of that
            answer's ``application/json`` body (None: documented without a JSON body).
        request_pointer: The JSON pointer of `request_schema` in the document.
        response_pointers: The JSON pointer of each of `responses`.
        request_media_types: The media types its request body may have (``()``: it takes none).
        response_media_types: Status key to the media types of that answer's body (``()``: none).
    """

    operation_id: str
    method: str
    path: str
    request_schema: Mapping[str, Any] | None
    request_required: bool
    responses: Mapping[str, Mapping[str, Any] | None]
    request_pointer: str | None
    response_pointers: Mapping[str, str | None]
    request_media_types: tuple[str, ...] = ()
    response_media_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def binary_request(self) -> bool:
        """Whether its request body is binary (``application/octet-stream``)."""
        return BINARY_MEDIA_TYPE in self.request_media_types

    def media_types(self, status: int) -> tuple[str, ...]:
        """The media types the spec gives the answer with `status` (``()``: none, or undocumented)."""
        key = self.response_key(status)
        return () if key is None else self.response_media_types.get(key, ())

    @property
    def route(self) -> tuple[str, str]:
        """``(method, path template)``."""
        return self.method, self.path

    def response_key(self, status: int) -> str | None:
        """The key of `responses` that documents `status`: the exact code, else ``NXX``, else
        ``default``; None when the spec does not document it."""
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.responses:
                return key
        return None

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.path})"


class Spec:
    """The spec document, its operations, and validators for its schemas."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self.operations: dict[str, Operation] = {}
        # Path items: exact paths by path, then templates in the document's order.
        self._exact: dict[str, dict[str, Operation]] = {}
        self._templates: list[tuple[re.Pattern[str], dict[str, Operation]]] = []
        for path, item in document.get("paths", {}).items():
            by_method: dict[str, Operation] = {}
            for method in HTTP_METHODS:
                if method in item:
                    operation = self._operation(path, method, item[method])
                    if operation.operation_id in self.operations:
                        raise ValueError(f"operationId {operation.operation_id!r} is used twice")
                    self.operations[operation.operation_id] = operation
                    by_method[operation.method] = operation
            if _PARAM.search(path) is None:
                self._exact[path] = by_method
            else:
                parts = _PARAM.split(path)
                pattern = re.compile("[^/]+".join(re.escape(part) for part in parts))
                self._templates.append((pattern, by_method))

    # -- building ------------------------------------------------------------------------------

    def resolve(self, node: Mapping[str, Any], location: str) -> tuple[Mapping[str, Any], str]:
        """`node` with a local OpenAPI ``$ref`` (a response, a request body) followed, and its pointer."""
        seen = 0
        while "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r} (at {location})")
            location = ref[1:]
            node = self.document
            for part in location[1:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 20:
                raise ValueError(f"a reference cycle at {location}")
        return node, location

    def _json_schema(
        self, node: Mapping[str, Any], location: str
    ) -> tuple[Mapping[str, Any] | None, str | None]:
        node, location = self.resolve(node, location)
        content = node.get("content", {})
        if JSON_MEDIA_TYPE not in content or "schema" not in content[JSON_MEDIA_TYPE]:
            return None, None
        return content[JSON_MEDIA_TYPE][
            "schema"
        ], f"{location}/content/{pointer([JSON_MEDIA_TYPE])[1:]}/schema"

    def _operation(self, path: str, method: str, node: Mapping[str, Any]) -> Operation:
        location = pointer(["paths", path, method])
        operation_id = node.get("operationId")
        if not isinstance(operation_id, str):
            raise ValueError(f"{method.upper()} {path} has no operationId")
        request_schema: Mapping[str, Any] | None = None
        request_pointer: str | None = None
        request_required = False
        request_media_types: tuple[str, ...] = ()
        if "requestBody" in node:
            body, body_location = self.resolve(node["requestBody"], location + "/requestBody")
            request_required = bool(body.get("required", False))
            request_schema, request_pointer = self._json_schema(body, body_location)
            request_media_types = tuple(body.get("content", {}))
        responses: dict[str, Mapping[str, Any] | None] = {}
        response_pointers: dict[str, str | None] = {}
        response_media_types: dict[str, tuple[str, ...]] = {}
        for raw_key, answer in node.get("responses", {}).items():
            key = "default" if str(raw_key).lower() == "default" else str(raw_key).upper()
            answer_location = f"{location}/responses{pointer([raw_key])}"
            schema, schema_pointer = self._json_schema(answer, answer_location)
            responses[key] = schema
            response_pointers[key] = schema_pointer
            response_media_types[key] = tuple(self.resolve(answer, answer_location)[0].get("content", {}))
        return Operation(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            request_schema=request_schema,
            request_required=request_required,
            responses=responses,
            request_pointer=request_pointer,
            response_pointers=response_pointers,
            request_media_types=request_media_types,
            response_media_types=response_media_types,
        )

    # -- matching and validating ---------------------------------------------------------------

    def match(self, method: str, path: str) -> Operation | None:
        """The operation that ``method path`` (a concrete path, no query string) calls, or None."""
        by_method = self._exact.get(path)
        if by_method is None:
            for pattern, candidate in self._templates:
                if pattern.fullmatch(path) is not None:
                    by_method = candidate
                    break
            else:
                return None
        return by_method.get(method.upper())

    def validator(self, schema_pointer: str) -> Draft202012Validator:
        """A validator for the schema at `schema_pointer` of the document (kept for reuse)."""
        validator = self._validators.get(schema_pointer)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{SPEC_URI}#{schema_pointer}"},
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[schema_pointer] = validator
        return validator

    def _operation_of(self, method: str, path: str) -> Operation:
        operation = self.match(method, path)
        if operation is None:
            raise AssertionError(f"{method.upper()} {path} is not an operation of {SPEC_PATH.name}")
        return operation

    def validate_request(self, method: str, path: str, body: Any = NO_BODY) -> Operation:
        """Check a request's body (a parsed JSON value, or :data:`NO_BODY`); returns its operation."""
        operation = self._operation_of(method, path)
        if operation.request_pointer is None:
            if body is not NO_BODY:
                raise AssertionError(f"{operation}: the spec gives it no JSON request body, but one was sent")
            return operation
        if body is NO_BODY:
            if operation.request_required:
                raise AssertionError(f"{operation}: the spec requires a JSON request body, and none was sent")
            return operation
        _check(self.validator(operation.request_pointer), body, f"{operation}: the request body")
        return operation

    def validate_response(self, method: str, path: str, status: int, body: Any) -> Operation:
        """Check an answer's status and JSON body (parsed) against its operation; returns the operation."""
        operation = self._operation_of(method, path)
        key = operation.response_key(status)
        if key is None:
            documented = ", ".join(operation.responses)
            raise AssertionError(
                f"{operation}: answered {status}, which the spec does not document (it documents {documented})"
            )
        schema_pointer = operation.response_pointers[key]
        if schema_pointer is None:
            raise AssertionError(
                f"{operation}: answered {status} with a JSON body, but the spec documents {key} without one"
            )
        _check(self.validator(schema_pointer), body, f"{operation}: the {status} answer (spec: {key})")
        return operation

    def validate_component(self, name: str, value: Any, what: str) -> None:
        """Check `value` against ``#/components/schemas/<name>``; `what` names it in the message."""
        if name not in self.document.get("components", {}).get("schemas", {}):
            raise ValueError(f"the spec has no component schema {name!r}")
        _check(self.validator(pointer(["components", "schemas", name])), value, what)


def _check(validator: Draft202012Validator, instance: Any, what: str) -> None:
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    errors.sort(key=lambda error: [str(part) for part in error.absolute_path])
    lines = [f"{what} does not match the spec ({len(errors)} error{'s' if len(errors) != 1 else ''}):"]
    for error in errors[:_MAX_ERRORS]:
        lines.append("  " + _describe(error))
    if len(errors) > _MAX_ERRORS:
        lines.append(f"  ... and {len(errors) - _MAX_ERRORS} more")
    raise AssertionError("\n".join(lines))


def _describe(error: ValidationError) -> str:
    # For an anyOf / oneOf that no branch matched, the most relevant branch error says more.
    best = best_match([error]) if error.context else error
    message = best.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    where = _shown(pointer(list(best.absolute_path)))
    schema_at = pointer(list(best.absolute_schema_path))
    return f"at {where}: {message} [schema path {schema_at}]"


# -- the document's schemas -------------------------------------------------------------------

_SCHEMA_MAPS: Final = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE: Final = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)


def _walk_schema(node: object, location: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(node, Mapping):
        return  # true / false schemas
    yield location, node
    for key in _SCHEMA_MAPS:
        for name, child in node.get(key, {}).items():
            yield from _walk_schema(child, f"{location}/{key}{pointer([name])}")
    for key in _SCHEMA_LISTS:
        for index, child in enumerate(node.get(key, ())):
            yield from _walk_schema(child, f"{location}/{key}/{index}")
    for key in _SCHEMA_ONE:
        if key in node:
            yield from _walk_schema(node[key], f"{location}/{key}")


def _walk_content(node: Mapping[str, Any], location: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for media_type, entry in node.get("content", {}).items():
        if "schema" in entry:
            yield from _walk_schema(entry["schema"], f"{location}/content{pointer([media_type])}/schema")


def schemas(document: Mapping[str, Any] | None = None) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema of the document with its JSON pointer: the components' schemas, and those inline
    in parameters, request bodies, responses and headers, each with all the schemas inside it.
    A ``$ref`` is not followed (what it names is reached where it is defined)."""
    document = spec().document if document is None else document
    components = document.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        yield from _walk_schema(schema, pointer(["components", "schemas", name]))
    for name, parameter in components.get("parameters", {}).items():
        if "schema" in parameter:
            yield from _walk_schema(
                parameter["schema"], pointer(["components", "parameters", name, "schema"])
            )
    for kind in ("responses", "requestBodies"):
        for name, entry in components.get(kind, {}).items():
            yield from _walk_content(entry, pointer(["components", kind, name]))
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            node = item[method]
            location = pointer(["paths", path, method])
            for index, parameter in enumerate(node.get("parameters", ())):
                if "schema" in parameter:
                    yield from _walk_schema(parameter["schema"], f"{location}/parameters/{index}/schema")
            if "requestBody" in node:
                yield from _walk_content(node["requestBody"], f"{location}/requestBody")
            for key, answer in node.get("responses", {}).items():
                yield from _walk_content(answer, f"{location}/responses/{key}")
                for name, header in answer.get("headers", {}).items():
                    if "schema" in header:
                        yield from _walk_schema(
                            header["schema"], f"{location}/responses/{key}/headers{pointer([name])}/schema"
                        )


# -- the one spec of this repository ----------------------------------------------------------


@functools.cache
def spec() -> Spec:
    """``openapi/chalk.yaml``, loaded on first use."""
    with SPEC_PATH.open(encoding="utf-8") as file:
        document = yaml.safe_load(file)
    return Spec(document)


def operations() -> Mapping[str, Operation]:
    """``operationId`` -> :class:`Operation`, in the spec's order."""
    return spec().operations


def match(method: str, path: str) -> Operation | None:
    """The spec's operation that ``method path`` calls, or None."""
    return spec().match(method, path)


def validate_request(method: str, path: str, body: Any = NO_BODY) -> Operation:
    """Check a request body against its operation's schema; ``AssertionError`` when it does not fit."""
    return spec().validate_request(method, path, body)


def validate_response(method: str, path: str, status: int, body: Any) -> Operation:
    """Check an answer (status and JSON body) against its operation; ``AssertionError`` when it does not fit."""
    return spec().validate_response(method, path, status, body)


def validate_component(name: str, value: Any, what: str) -> None:
    """Check `value` against the component schema `name`; ``AssertionError`` when it does not fit."""
    spec().validate_component(name, value, what)
