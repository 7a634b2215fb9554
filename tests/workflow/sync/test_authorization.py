"""Every sync operation × every role, from the OpenAPI document of the sync routers alone.

`RULES` is also folded into the workflow's entry of
tests/security/test_authorization_matrix.py; the inbound receiver is
signature-authenticated and answers 401 to every bearer token alike.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shared.auth import Role
from tests.security.matrix import gate_failures

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


async def test_every_sync_operation_has_a_rule_and_every_role_gets_what_it_should(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    # The sync routers mounted alone: their operations are exactly these.
    failures = await gate_failures(api, auth, RULES, signature_only=frozenset(SIGNATURE_ONLY))
    assert failures == []
