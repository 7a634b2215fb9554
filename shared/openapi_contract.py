"""What a front-end needs declared in each operation, beyond what FastAPI generates.

Derived from the running app wherever it can be: roles from the routes' role gates
(`shared.auth.ROLE_GATES`), `ETag` from the endpoints that set one, `Idempotency-Key`
from the middleware's rule (every POST with a bearer token, `shared.idempotency`),
`If-Match` from the parameter the endpoint declares; the rest comes from tables keyed
by operationId (`shared.openapi_summaries`, `shared.openapi_examples`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from shared.auth import ROLE_GATES, Role, current_principal
from shared.errors import PROBLEM_MEDIA_TYPE, status_title
from shared.openapi_examples import EXAMPLES
from shared.openapi_summaries import SUMMARIES, TAG_DESCRIPTIONS

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ALL_ROLES = tuple(role.value for role in Role)

# The problem `code`s any operation answering this status can give (shared.errors,
# shared.auth, shared.concurrency, shared.middleware); a service's own codes are added
# from PROBLEM_CODES below.
CODES_BY_STATUS: dict[int, tuple[str, ...]] = {
    400: ("malformed_json",),
    401: ("token_missing", "token_invalid", "token_expired", "token_scope_missing"),
    403: ("role_forbidden", "forbidden"),
    404: ("not_found",),
    409: ("conflict",),
    412: ("version_mismatch",),
    413: ("body_too_large",),
    422: ("validation_error", "unsupported_character"),
    428: ("if_match_required",),
    500: ("internal_error",),
    503: ("database_busy", "database_timeout", "concurrent_update"),
}
IDEMPOTENCY_CODES: dict[int, tuple[str, ...]] = {
    400: ("idempotency_key_invalid",),
    409: ("idempotency_in_progress",),
    422: ("idempotency_key_reused",),
}
# Domain codes of single operations, keyed by operationId (add one when an endpoint
# documents a code of its own).
PROBLEM_CODES: dict[str, tuple[str, ...]] = {
    "createGrant": ("pool_exhausted",),
    "signContract": ("pool_exhausted",),
}
# Decimal fields the API writes as JSON numbers (a `float` serializer); every other
# Decimal (scores, points) is written as a string and declared so.
DECIMALS_AS_NUMBERS = frozenset({"percentage"})
DECIMAL_STRING = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the caller's own if it sent a valid one): quote it "
        "when reporting a problem; every log line of the request carries it.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'The version of the resource, e.g. `"3"`: send it back in `If-Match` '
        "to change the resource.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before sending the same request again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID) naming this command: sent again with the same "
    "body, the first answer is replayed instead of the command running twice "
    "(draft-ietf-httpapi-idempotency-key-header). Kept 24 hours.",
    "schema": {"type": "string", "maxLength": 200},
}


@dataclass(frozen=True)
class RouteFacts:
    roles: tuple[str, ...] | None  # None: no token needed
    sets_etag: bool


def route_facts(app: FastAPI) -> dict[tuple[str, str], RouteFacts]:
    """(path, method) -> what the route's code says about roles and ETags."""
    facts: dict[tuple[str, str], RouteFacts] = {}
    for path, methods, route in _routes(app):
        dependant: Dependant | None = getattr(route, "dependant", None)
        endpoint = getattr(route, "endpoint", None)
        if dependant is None or endpoint is None:
            continue
        calls = list(_dependency_calls(dependant))
        gates = [ROLE_GATES[call] for call in calls if call in ROLE_GATES]
        roles: tuple[str, ...] | None = None
        if gates:
            admitted = frozenset.intersection(*gates)
            roles = tuple(role.value for role in Role if role in admitted)
        elif current_principal in calls:
            roles = ALL_ROLES
        for method in methods:
            facts[(path, method.lower())] = RouteFacts(roles, _sets_etag(endpoint))
    return facts


def _routes(app: FastAPI) -> Iterator[tuple[str, Iterable[str], Any]]:
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    entries = app.routes if flatten is None else flatten(app.routes)
    for entry in entries:
        route = getattr(entry, "original_route", entry)
        methods = getattr(entry, "methods", None) or ()
        yield str(getattr(entry, "path", "")), methods, route


def _dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


def _sets_etag(endpoint: Any) -> bool:
    try:
        return "set_etag(" in inspect.getsource(endpoint)
    except (OSError, TypeError):
        return False


def complete_operation(operation: dict[str, Any], *, method: str, facts: RouteFacts | None) -> None:
    """Summary, security, roles, headers, problem codes and examples of one operation."""
    operation_id = operation.get("operationId", "")
    if operation_id in SUMMARIES:
        operation["summary"] = SUMMARIES[operation_id]
    if not operation.get("security"):
        operation["security"] = []
    elif facts is not None and facts.roles is not None:
        operation["x-roles"] = list(facts.roles)
    responses: dict[str, Any] = operation["responses"]
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    idempotent = method == "post" and bool(operation["security"])
    if idempotent and not any(p.get("name") == "Idempotency-Key" for p in parameters):
        parameters.append(dict(IDEMPOTENCY_KEY))  # inline: readers expect `in` on each
    if_match = [p for p in parameters if p.get("name") == "If-Match"]
    for parameter in if_match:
        parameter["required"] = True  # shared.concurrency answers 428 without it
        for precondition in (412, 428):
            responses.setdefault(
                str(precondition),
                {
                    "description": status_title(precondition),
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": _problem_ref()}},
                },
            )
    if not parameters:
        del operation["parameters"]
    etag = bool(if_match) or (facts is not None and facts.sets_etag)
    codes: set[str] = set(PROBLEM_CODES.get(operation_id, ()))
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
        if status.startswith("2") and etag:
            headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        if status in ("429", "503"):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status.isdigit() and int(status) >= 400:
            codes.update(CODES_BY_STATUS.get(int(status), ()))
            if idempotent:
                codes.update(IDEMPOTENCY_CODES.get(int(status), ()))
    if codes:
        operation["x-problem-codes"] = sorted(codes)
    _add_examples(operation, EXAMPLES.get(operation_id))


def _problem_ref() -> dict[str, str]:
    return {"$ref": "#/components/schemas/Problem"}


def _add_examples(operation: dict[str, Any], example: dict[str, Any] | None) -> None:
    if not example:
        return
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None and "request" in example:
        content["example"] = example["request"]
    status, body = example.get("response", (None, None))
    response = operation["responses"].get(status, {}).get("content", {}).get("application/json")
    if response is not None:
        response["example"] = body


def complete_document(schema: dict[str, Any]) -> None:
    """Components the operations refer to, the tag list, Decimal types."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {}).update(HEADERS)
    used = []
    for item in schema.get("paths", {}).values():
        for method in METHODS:
            for tag in item.get(method, {}).get("tags", []):
                if tag not in used:
                    used.append(tag)
    schema["tags"] = [
        {"name": tag, "description": TAG_DESCRIPTIONS.get(tag, tag.capitalize())} for tag in used
    ]
    _type_decimals(components.get("schemas", {}), None)


def _type_decimals(node: Any, name: str | None) -> None:
    """Pydantic declares a Decimal as number-or-string: say which one the API writes.
    (And drops the `anyOf` of `Any | None`, which linters call illogical.)"""
    if isinstance(node, list):
        for item in node:
            _type_decimals(item, name)
        return
    if not isinstance(node, dict):
        return
    if any(option == {} for option in node.get("anyOf", ())):
        del node["anyOf"]  # `Any | None`: one of the options is any value already
    for key, value in node.items():
        if isinstance(value, dict) and _is_decimal(value):
            node[key] = _decimal_schema(value, key if name == "properties" else name)
        else:
            _type_decimals(value, key)


def _is_decimal(schema: dict[str, Any]) -> bool:
    kinds = [option.get("type") for option in schema.get("anyOf", [])]
    return "number" in kinds and "string" in kinds and set(kinds) <= {"number", "string", "null"}


def _decimal_schema(schema: dict[str, Any], field: str | None) -> dict[str, Any]:
    options = schema["anyOf"]
    number = next(option for option in options if option.get("type") == "number")
    nullable = any(option.get("type") == "null" for option in options)
    typed = dict(number) if field in DECIMALS_AS_NUMBERS else dict(DECIMAL_STRING)
    if field not in DECIMALS_AS_NUMBERS:
        bounds = [f"{k} {number[k]}" for k in ("minimum", "maximum") if k in number]
        if bounds:
            typed["description"] = "A decimal string; " + ", ".join(bounds)
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if nullable:
        return {"anyOf": [typed, {"type": "null"}], **rest}
    return {**typed, **rest}
