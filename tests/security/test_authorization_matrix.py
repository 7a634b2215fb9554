"""Every endpoint × every role (and no token), generated from each service's OpenAPI.

The rules tables (operation id -> roles admitted past its role gate) live beside each
service's tests; the workflow's is here, with the provincial sync's folded in. An
operation without a rule fails (`tests/security/matrix.py`), so a new endpoint cannot
ship without deciding who may call it. Tokens of the wrong scope on real resources:
`test_scope_matrix.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.auth import Role
from tests.projects.test_scoping import RULES as PROJECTS_RULES
from tests.registry.test_authorization import RULES as REGISTRY_RULES
from tests.security.matrix import Rules, gate_failures
from tests.workflow.sync.test_authorization import RULES as SYNC_RULES
from tests.workflow.sync.test_authorization import SIGNATURE_ONLY

R = Role
ANYONE = frozenset(Role)
CASE_READERS = frozenset(
    {R.civil_affairs, R.auditor, R.service, R.organization, R.department_reviewer}
)

WORKFLOW_RULES: Rules = {
    "submitCase": frozenset({R.organization, R.service}),
    "listCases": CASE_READERS,
    "getCase": CASE_READERS,
    "requestSupplement": frozenset({R.civil_affairs, R.department_reviewer}),
    # The civil-affairs window acts for promoters whose organization does not exist yet.
    "resubmitCase": frozenset({R.organization, R.service, R.civil_affairs}),
    "withdrawCase": frozenset({R.organization, R.service, R.civil_affairs}),
    "listMyTasks": frozenset({R.department_reviewer}),
    "listTaskComments": frozenset({R.department_reviewer}),
    "claimTask": frozenset({R.department_reviewer}),
    "approveTask": frozenset({R.department_reviewer}),
    "rejectTask": frozenset({R.department_reviewer}),
    "commentOnTask": frozenset({R.department_reviewer}),
    "listCaseDefinitions": ANYONE,
    "getCaseDefinition": ANYONE,
    **SYNC_RULES,
}
RULES: dict[str, Rules] = {
    "registry": REGISTRY_RULES,
    "projects": PROJECTS_RULES,
    "workflow": WORKFLOW_RULES,
}


@pytest.mark.parametrize("service", sorted(RULES))
async def test_every_operation_has_a_rule_and_every_role_gets_what_it_should(
    clients: dict[str, httpx.AsyncClient], auth: Callable[..., dict[str, str]], service: str
) -> None:
    signature_only = frozenset(SIGNATURE_ONLY) if service == "workflow" else frozenset()
    failures = await gate_failures(
        clients[service], auth, RULES[service], signature_only=signature_only
    )
    assert failures == []
