"""Who may call each sync operation: operation id -> roles admitted past its role gate.

Folded into the workflow's entry of tests/security/test_authorization_matrix.py; the
inbound receiver (`SIGNATURE_ONLY`) is signature-authenticated and answers 401 to every
bearer token alike.
"""

from __future__ import annotations

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
