"""Every sync operation × every role, from the OpenAPI document of the sync routers alone.

`RULES` (tests/workflow/sync/rules.py) is also folded into the workflow's entry of
tests/security/test_authorization_matrix.py; the inbound receiver is
signature-authenticated and answers 401 to every bearer token alike.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.security.matrix import gate_failures
from tests.workflow.sync.rules import RULES, SIGNATURE_ONLY


async def test_every_sync_operation_has_a_rule_and_every_role_gets_what_it_should(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    # The sync routers mounted alone: their operations are exactly these.
    failures = await gate_failures(api, auth, RULES, signature_only=frozenset(SIGNATURE_ONLY))
    assert failures == []
