"""Finish each service's OpenAPI document so that generated clients see every error.

Every error answer is `application/problem+json` with the one `Problem` schema. FastAPI
documents only what an endpoint declares (and its own 422 as `application/json`), so
here each operation gets the errors any request can meet — 400 (unreadable body),
413 (body too large), 422 (validation), 500, 503 (aborted by a concurrent transaction,
or the database busy or stalled: send it again after `Retry-After`), and 401/403 when it
needs a token — and every
4xx/5xx response is given the problem+json content.

Then `shared.openapi_contract` declares what a front-end needs beyond that: summaries,
roles, headers, problem codes, examples, tags, Decimal types; and `shared.vocabulary`
the Chinese labels of the service's enums (`x-enum-descriptions`, `x-enumNames`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.errors import PROBLEM_MEDIA_TYPE, Problem, status_title
from shared.openapi_contract import complete_document, complete_operation, route_facts
from shared.vocabulary import Labels, annotate_enum_schemas

_ALWAYS = (400, 422, 500, 503)
_WITH_BODY = (413,)
_WITH_TOKEN = (401, 403)
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def install_openapi(
    app: FastAPI, *, service: str | None = None, vocabulary: Labels | None = None
) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        _add_problem_schema(schema)
        facts = route_facts(app)
        for path, path_item in schema.get("paths", {}).items():
            for method, operation in path_item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    _document_errors(operation)
                    complete_operation(operation, method=method, facts=facts.get((path, method)))
        complete_document(schema)
        if vocabulary:
            annotate_enum_schemas(schema.get("components", {}).get("schemas", {}), vocabulary)
        _drop_unused_validation_schemas(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_problem_schema(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["Problem"] = problem


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]
    statuses = list(_ALWAYS)
    if "requestBody" in operation:
        statuses += _WITH_BODY
    if operation.get("security"):
        statuses += _WITH_TOKEN
    for status in statuses:
        responses.setdefault(str(status), {"description": status_title(status)})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            if _declares_own_model(response):
                continue  # e.g. /readyz's 503 answers its Health body, not a problem
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
            if int(code) == 422:
                response["description"] = status_title(422)


def _declares_own_model(response: dict[str, Any]) -> bool:
    """Whether the endpoint declared this response's body itself (not FastAPI's 422)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    reference = str(schema.get("$ref", ""))
    return bool(reference) and reference.rsplit("/", 1)[-1] not in _FASTAPI_VALIDATION_SCHEMAS


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    text = str(schema.get("paths", {}))
    components = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if f"#/components/schemas/{name}'" not in text:
            components.pop(name, None)
