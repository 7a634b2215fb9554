"""Every sync operation × every role, from the OpenAPI document (as tests/security does).

`RULES` is what the workflow's entry in tests/security/test_authorization_matrix.py needs
once the sync routers are mounted; the inbound receiver is signature-authenticated and
answers 401 to every bearer token alike.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx

from shared.auth import Role

R = Role
ANYONE = frozenset(Role)
MANAGERS = frozenset({R.civil_affairs, R.provincial_system})
RULES: dict[str, frozenset[Role]] = {
    "createWebhookEndpoint": MANAGERS,
    "listWebhookEndpoints": MANAGERS,
    "getWebhookEndpoint": MANAGERS,
    "updateWebhookEndpoint": MANAGERS,
    "enableWebhookEndpoint": MANAGERS,
    "disableWebhookEndpoint": MANAGERS,
    "rotateWebhookSecret": MANAGERS,
    "sendWebhookTest": MANAGERS,
    "listWebhookDeliveries": MANAGERS,
    "recoverWebhookDeliveries": MANAGERS,
    "getWebhookDelivery": MANAGERS,
    "resendWebhookDelivery": MANAGERS,
    "listWebhookEventTypes": ANYONE,
    "listEvents": frozenset({R.provincial_system, R.civil_affairs, R.auditor, R.service}),
    "createInboundSource": frozenset({R.civil_affairs}),
    "rotateInboundSecret": frozenset({R.civil_affairs}),
    "listInboundSources": frozenset({R.civil_affairs, R.auditor}),
    "listInboundEvents": frozenset({R.civil_affairs, R.auditor}),
    "listInboundEventTypes": ANYONE,
}
SIGNATURE_ONLY = {"receiveInboundWebhook"}
SCOPES: dict[Role, dict[str, str]] = {
    R.street_office: {"street_code": "340103001"},
    R.department_reviewer: {"department": "public_security"},
    R.organization: {"org_id": str(uuid.uuid4())},
}


def _concrete(path: str) -> str:
    return re.sub(
        r"\{([^}]+)\}", lambda m: str(uuid.uuid4()) if m.group(1).endswith("_id") else "x", path
    )


async def test_every_sync_operation_has_a_rule_and_every_role_gets_what_it_should(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    spec = (await api.get("/openapi.json")).json()
    failures: list[str] = []
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation_id = operation["operationId"]
            if operation_id in {"healthz", "readyz"}:
                continue
            seen.add(operation_id)

            async def call(headers: dict[str, str], method: str = method, path: str = path) -> int:
                body: dict[str, object] | None = {} if method in {"post", "put", "patch"} else None
                response = await api.request(
                    method.upper(), _concrete(path), headers=headers, json=body
                )
                return response.status_code

            if await call({}) != 401:
                failures.append(f"{operation_id} without a token: not 401")
            for role in Role:
                status = await call(auth(role.value, **SCOPES.get(role, {})))
                if operation_id in SIGNATURE_ONLY:
                    expected_ok = status == 401  # a bearer token is no signature
                elif role in RULES.get(operation_id, frozenset()):
                    expected_ok = status not in (401, 403)
                else:
                    expected_ok = status == 403
                if not expected_ok or status >= 500:
                    failures.append(f"{operation_id} as {role}: {status}")
    assert failures == []
    assert seen == set(RULES) | SIGNATURE_ONLY
