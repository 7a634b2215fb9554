"""What a front-end needs declared in each operation, beyond what FastAPI generates.

Derived from the running app wherever it can be: roles from the routes' role gates
(`shared.auth.ROLE_GATES`), `ETag` from the endpoints that set one, `Idempotency-Key`
from the middleware's rule (every POST with a bearer token, `shared.idempotency`),
`If-Match` from the parameter the endpoint declares, the domain problem codes from the
code the endpoint runs (`raised_codes`); the rest comes from tables keyed by operationId
(`shared.openapi_summaries`, `shared.openapi_examples`).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.security.base import SecurityBase

from shared.auth import ROLE_GATES, Role, current_principal
from shared.errors import PROBLEM_MEDIA_TYPE, ProblemError, status_title
from shared.openapi_examples import EXAMPLES
from shared.openapi_summaries import SUMMARIES, TAG_DESCRIPTIONS

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ALL_ROLES = tuple(role.value for role in Role)

# The problem `code`s any operation answering this status can give (shared.errors,
# shared.auth, shared.concurrency, shared.middleware); an operation's own codes are read
# from its code (`raised_codes`) and PROBLEM_CODES below.
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
# Domain codes of single operations that `raised_codes` cannot see (a code raised through
# a call it cannot resolve), keyed by operationId.
PROBLEM_CODES: dict[str, tuple[str, ...]] = {}
# How deep `raised_codes` follows calls from an endpoint (router -> service -> helper ...).
CALL_DEPTH = 6
# Only the project's own code is read: `services.*` and `shared.*` modules.
PROJECT_PACKAGES = ("services.", "shared.")
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
    "Content-Language": {
        "description": "The language of the problem's `title` and `detail`: `zh-CN` unless the "
        "request's `Accept-Language` prefers English (`en`); in Chinese, the English text "
        "is kept in `detail_en`. `code` never changes with the language.",
        "schema": {"type": "string", "enum": ["zh-CN", "en"]},
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
    problem_codes: frozenset[str] = frozenset()


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
        codes = raised_codes([endpoint, *calls])
        for method in methods:
            facts[(path, method.lower())] = RouteFacts(roles, _sets_etag(endpoint), codes)
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


# -- the problem codes an endpoint raises, read from its code ---------------------------
#
# From the endpoint (and its dependencies), every function of the project it calls or
# refers to is read as source (AST), names resolved in the function's module at run time,
# CALL_DEPTH calls deep: each `SomeProblem(..., code="x")` (a `ProblemError` subclass, its
# `default_code` without a `code`) is a code the operation can answer. A helper that builds
# the problem from its own `code` parameter (`_refuse_day(message, code)`) gives the
# literal its callers pass. A superset: a branch the request never takes still counts.


def raised_codes(roots: Iterable[Any]) -> frozenset[str]:
    """The problem codes raised by `roots` and the project functions they reach."""
    codes: set[str] = set()
    seen: set[Callable[..., Any]] = set()
    frontier = [f for f in (_project_function(root) for root in roots) if f is not None]
    for _ in range(CALL_DEPTH + 1):
        reached: list[Callable[..., Any]] = []
        for function in frontier:
            if function in seen:
                continue
            seen.add(function)
            facts = _function_facts(function)
            codes.update(facts.codes)
            reached.extend(facts.callees)
        frontier = reached
    return frozenset(codes)


def raised_codes_of_module(module: types.ModuleType) -> frozenset[str]:
    """Every problem code a module's own functions raise (for the completeness test)."""
    codes: set[str] = set()
    for value in vars(module).values():
        function = _project_function(value)
        if function is not None and function.__module__ == module.__name__:
            codes.update(_function_facts(function).codes)
        if isinstance(value, type) and value.__module__ == module.__name__:
            for member in vars(value).values():
                method = _project_function(member)
                if method is not None:
                    codes.update(_function_facts(method).codes)
    return frozenset(codes)


@dataclass(frozen=True)
class _FunctionFacts:
    codes: frozenset[str]
    callees: tuple[Callable[..., Any], ...]


def _project_function(value: Any) -> Callable[..., Any] | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, functools.partial):
        value = value.func
    try:
        value = inspect.unwrap(value)
    except ValueError:
        return None
    if isinstance(value, SecurityBase):
        # A scheme that is a dependency itself (`shared.auth.current_principal`): its code.
        value = type(value).__call__
    if not inspect.isfunction(value):
        return None
    module = getattr(value, "__module__", "") or ""
    return value if module.startswith(PROJECT_PACKAGES) else None


def _problem_class(value: Any) -> type[ProblemError] | None:
    return value if isinstance(value, type) and issubclass(value, ProblemError) else None


@dataclass(frozen=True)
class _Parsed:
    tree: ast.AST | None
    namespace: dict[str, Any]
    parameters: tuple[str, ...]


@functools.cache
def _parsed(function: Callable[..., Any]) -> _Parsed:
    try:
        tree: ast.AST | None = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        tree = None
    namespace = {**vars(builtins), **function.__globals__}
    namespace.update(inspect.getclosurevars(function).nonlocals)
    return _Parsed(tree, namespace, tuple(inspect.signature(function).parameters))


def _problems(parsed: _Parsed) -> Iterator[tuple[type[ProblemError], ast.expr | None]]:
    """Each problem the function builds, with its `code=` argument (None: the default)."""
    if parsed.tree is None:
        return
    for node in ast.walk(parsed.tree):
        if isinstance(node, ast.Call):
            problem = _problem_class(_resolve(node.func, parsed.namespace))
            if problem is not None:
                yield problem, next((k.value for k in node.keywords if k.arg == "code"), None)


@functools.cache
def _code_parameters(function: Callable[..., Any]) -> tuple[tuple[int, str], ...]:
    """(position, name) of the parameters a helper builds its problem's `code` from."""
    parsed = _parsed(function)
    return tuple(
        sorted(
            {
                (parsed.parameters.index(code.id), code.id)
                for _, code in _problems(parsed)
                if isinstance(code, ast.Name) and code.id in parsed.parameters
            }
        )
    )


@functools.cache
def _function_facts(function: Callable[..., Any]) -> _FunctionFacts:
    parsed = _parsed(function)
    codes: set[str] = set()
    for problem, code in _problems(parsed):
        if code is None:
            codes.add(problem.default_code)
        elif isinstance(code, ast.Constant) and isinstance(code.value, str):
            codes.add(code.value)
    callees: list[Callable[..., Any]] = []
    for node in ast.walk(parsed.tree) if parsed.tree is not None else ():
        if isinstance(node, ast.Call):
            callee = _project_function(_resolve(node.func, parsed.namespace))
            if callee is not None:
                codes.update(_codes_passed(node, callee))
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            callees.extend(_functions_in(_resolve(node, parsed.namespace)))
    return _FunctionFacts(frozenset(codes), tuple(dict.fromkeys(callees)))


def _codes_passed(call: ast.Call, callee: Callable[..., Any]) -> set[str]:
    """The literal codes a call gives a helper that raises its `code` parameter."""
    passed: set[str] = set()
    for position, name in _code_parameters(callee):
        argument: ast.expr | None = next((k.value for k in call.keywords if k.arg == name), None)
        if argument is None and position < len(call.args):
            argument = call.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            passed.add(argument.value)
    return passed


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """What a name or dotted name denotes in the function's module, or None."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        if isinstance(owner, (types.ModuleType, type)):
            return inspect.getattr_static(owner, node.attr, None)
    return None


def _functions_in(value: Any) -> Iterator[Callable[..., Any]]:
    """A function referred to, the methods of a class of the project (named in a call or
    an annotation: its instances' methods are called through a value the AST cannot
    type), or the functions of a table of them (a dispatch dict)."""
    function = _project_function(value)
    if function is not None:
        yield function
    elif isinstance(value, type) and _problem_class(value) is None:
        for cls in value.__mro__:
            if cls.__module__.startswith(PROJECT_PACKAGES):
                for member in vars(cls).values():
                    found = _project_function(member)
                    if found is not None:
                        yield found
    elif isinstance(value, dict):
        for item in (*value.keys(), *value.values()):
            found = _project_function(item)
            if found is not None:
                yield found
    elif isinstance(value, (list, tuple, frozenset, set)):
        for item in value:
            found = _project_function(item)
            if found is not None:
                yield found


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
    if facts is not None:
        codes.update(facts.problem_codes)
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
        if status.startswith("2") and etag:
            headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        if status in ("429", "503"):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status.isdigit() and int(status) >= 400:
            headers["Content-Language"] = {"$ref": "#/components/headers/Content-Language"}
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
