"""Every registry operation documented. Who may call each one is `RULES` in
tests/registry/rules.py, checked for every operation × every role by
tests/security/test_authorization_matrix.py."""

from __future__ import annotations

import re

import httpx

from tests.registry.rules import PUBLIC


async def test_every_operation_is_documented(registry: httpx.AsyncClient) -> None:
    spec = (await registry.get("/openapi.json")).json()
    problems = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if operation["operationId"] in PUBLIC:
                continue
            name = f"{method.upper()} {path}"
            if not operation.get("summary") or operation["summary"] == operation.get("operationId"):
                problems.append(f"{name}: no one-line docstring")
            if not re.fullmatch(r"[a-z][A-Za-z]+", operation["operationId"]):
                problems.append(f"{name}: operationId not camelCase")
            if not any(code in operation["responses"] for code in ("200", "201", "202")):
                problems.append(f"{name}: no success response")
            if "401" not in operation["responses"]:
                problems.append(f"{name}: errors not documented")
    assert problems == []
