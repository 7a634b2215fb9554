"""Every endpoint × every role, generated from the OpenAPI documents.

`RULES` names, per operation id, the roles admitted past its role gate. An operation
without a rule fails the test, so a new endpoint cannot ship without deciding who may
call it. Each role's token carries a scope claim (street, department, organization);
scope rules on real resources (another street's organization, another department's
task) answer 404 and are tested with the resources themselves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from shared.auth import Role
from tests.workflow.sync.test_authorization import RULES as SYNC_RULES
from tests.workflow.sync.test_authorization import SIGNATURE_ONLY

R = Role
ANYONE = frozenset(Role)
CASE_READERS = frozenset(
    {R.civil_affairs, R.auditor, R.service, R.organization, R.department_reviewer}
)

RULES: dict[str, dict[str, frozenset[Role]]] = {
    "workflow": {
        "submitCase": frozenset({R.organization, R.service}),
        "listCases": CASE_READERS,
        "getCase": CASE_READERS,
        "requestSupplement": frozenset({R.civil_affairs, R.department_reviewer}),
        "resubmitCase": frozenset({R.organization, R.service}),
        "withdrawCase": frozenset({R.organization, R.service}),
        "listMyTasks": frozenset({R.department_reviewer}),
        "listTaskComments": frozenset({R.department_reviewer}),
        "claimTask": frozenset({R.department_reviewer}),
        "approveTask": frozenset({R.department_reviewer}),
        "rejectTask": frozenset({R.department_reviewer}),
        "commentOnTask": frozenset({R.department_reviewer}),
        "listCaseDefinitions": ANYONE,
        "getCaseDefinition": ANYONE,
        **SYNC_RULES,
    },
}
PUBLIC = {"healthz", "readyz"}
SCOPES: dict[Role, dict[str, str]] = {
    R.street_office: {"street_code": "340103001"},
    R.department_reviewer: {"department": "public_security"},
    R.organization: {"org_id": str(uuid.uuid4())},
}


def _concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("_id"):
            return str(uuid.uuid4())
        return "1" if name == "version" else "x"

    return re.sub(r"\{([^}]+)\}", value, path)


async def _call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = {"json": {}} if method in {"post", "put", "patch"} else {}
    return await client.request(method.upper(), _concrete(path), headers=headers, **body)


@pytest.mark.parametrize("service", sorted(RULES))
async def test_every_operation_has_a_rule_and_every_role_gets_what_it_should(
    clients: dict[str, httpx.AsyncClient], auth: Callable[..., dict[str, str]], service: str
) -> None:
    client = clients[service]
    spec = (await client.get("/openapi.json")).json()
    rules = RULES[service]
    seen = set()
    failures = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation_id = operation["operationId"]
            if operation_id in PUBLIC:
                continue
            if operation_id in SIGNATURE_ONLY:  # signature, not bearer: sync's own test
                seen.add(operation_id)
                continue
            seen.add(operation_id)
            if operation_id not in rules:
                failures.append(f"{operation_id}: no authorization rule")
                continue
            anonymous = await _call(client, method, path, {})
            if anonymous.status_code != 401:
                failures.append(f"{operation_id} without a token: {anonymous.status_code}")
            for role in Role:
                response = await _call(
                    client, method, path, auth(role.value, **SCOPES.get(role, {}))
                )
                admitted = role in rules[operation_id]
                if admitted and response.status_code in (401, 403):
                    failures.append(
                        f"{operation_id} as {role}: {response.status_code}, expected past the gate"
                    )
                if not admitted and response.status_code != 403:
                    failures.append(
                        f"{operation_id} as {role}: {response.status_code}, expected 403"
                    )
                if response.status_code >= 500:
                    failures.append(f"{operation_id} as {role}: {response.status_code}")
    assert failures == []
    assert set(rules) - seen == set(), "rules for operations that no longer exist"
