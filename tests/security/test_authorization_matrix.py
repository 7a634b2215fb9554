"""Every endpoint × every role (and no token), generated from each service's OpenAPI.

The rules tables (operation id -> roles admitted past its role gate) live beside each
service's tests (`tests/<service>/rules.py`); the workflow's, with the provincial sync's
folded in, and all of them together are in `tests/security/rules.py`. An
operation without a rule fails (`tests/security/matrix.py`), so a new endpoint cannot
ship without deciding who may call it. Tokens of the wrong scope on real resources:
`test_scope_matrix.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.security.matrix import gate_failures
from tests.security.rules import RULES
from tests.workflow.sync.rules import SIGNATURE_ONLY


@pytest.mark.parametrize("service", sorted(RULES))
async def test_every_operation_has_a_rule_and_every_role_gets_what_it_should(
    clients: dict[str, httpx.AsyncClient], auth: Callable[..., dict[str, str]], service: str
) -> None:
    signature_only = frozenset(SIGNATURE_ONLY) if service == "workflow" else frozenset()
    failures = await gate_failures(
        clients[service], auth, RULES[service], signature_only=signature_only
    )
    assert failures == []
