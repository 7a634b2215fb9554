"""The authorization matrix, generated from an OpenAPI document.

`gate_failures` calls every operation without a token and with a token of every role,
against the rules table of its service (operation id -> roles admitted past the role
gate); an operation without a rule is a failure, so none ships without deciding who
may call it. Scope on real resources is `tests/security/test_scope_matrix.py`'s.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from shared.auth import Role

Auth = Callable[..., dict[str, str]]
Rules = Mapping[str, frozenset[Role]]
# The probes of every service (shared.health names them after their service).
PUBLIC = frozenset(
    f"{service}{probe}"
    for service in ("registry", "projects", "workflow")
    for probe in ("Healthz", "Readyz")
) | {"listPublicAnnualReports", "listPublicGrades"}  # 年报公示 and the published grades
# The scope claim each scoped role's token must carry (a token without it is a 401).
SCOPE_CLAIMS: dict[Role, dict[str, str]] = {
    Role.street_office: {"street_code": "340103001"},
    Role.department_reviewer: {"department": "public_security"},
    Role.organization: {"org_id": str(uuid.uuid4())},
}


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    has_body: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    def url(self, values: Mapping[str, str] | None = None) -> str:
        """The path with `values` for its parameters, else placeholders of the right shape."""
        values = values or {}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if name.endswith("_id"):
                return str(uuid.uuid4())
            return {"version": "1", "year": "2024"}.get(name, "x")

        return re.sub(r"\{([^}]+)\}", value, self.path)


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the document but the public probes."""
    return [
        Operation(op["operationId"], method, path, "requestBody" in op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if op["operationId"] not in PUBLIC
    ]


async def call(
    client: httpx.AsyncClient,
    operation: Operation,
    headers: dict[str, str],
    *,
    values: Mapping[str, str] | None = None,
    body: Any = None,
) -> httpx.Response:
    """One call; an empty JSON object for a body unless one is given."""
    content: dict[str, Any] = {}
    if operation.has_body or body is not None:
        content = {"json": {} if body is None else body}
    return await client.request(
        operation.method.upper(), operation.url(values), headers=headers, **content
    )


async def gate_failures(
    client: httpx.AsyncClient,
    auth: Auth,
    rules: Rules,
    *,
    signature_only: frozenset[str] = frozenset(),
) -> list[str]:
    """Every departure from `rules`, one line each (an empty list when all is well).

    Admitted roles must get past the gate (anything but 401/403), the others a 403, no
    token a 401, and nobody a 5xx. `signature_only` operations authenticate by a
    signature, so every bearer token is a 401 there.
    """
    spec = (await client.get("/openapi.json")).json()
    failures: list[str] = []
    seen: set[str] = set()
    for operation in operations(spec):
        seen.add(operation.id)
        if operation.id not in rules and operation.id not in signature_only:
            failures.append(f"{operation.id}: no authorization rule")
            continue
        anonymous = await call(client, operation, {})
        if anonymous.status_code != 401:
            failures.append(f"{operation.id} without a token: {anonymous.status_code}")
        for role in Role:
            status = (
                await call(client, operation, auth(role.value, **SCOPE_CLAIMS.get(role, {})))
            ).status_code
            if operation.id in signature_only:
                expected = status == 401  # a bearer token is no signature
            elif role in rules[operation.id]:
                expected = status not in (401, 403)
            else:
                expected = status == 403
            if not expected or status >= 500:
                failures.append(f"{operation.id} as {role}: {status}")
    failures += [f"{op}: a rule for an operation that no longer exists" for op in set(rules) - seen]
    return failures
