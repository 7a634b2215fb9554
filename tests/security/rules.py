"""Who may call each operation of each service (operation id -> roles admitted past its
role gate): the workflow's table, with the provincial sync's folded in, and every
service's, as tests/security/test_authorization_matrix.py and test_scope_matrix.py use them.
"""

from __future__ import annotations

from shared.auth import Role
from tests.projects.rules import RULES as PROJECTS_RULES
from tests.registry.rules import RULES as REGISTRY_RULES
from tests.security.matrix import Rules
from tests.workflow.sync.rules import RULES as SYNC_RULES

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
    "supplyPendingMaterials": frozenset({R.organization, R.service, R.civil_affairs}),
    "listCaseDocuments": CASE_READERS,
    "downloadCaseDocument": CASE_READERS,
    "getRegistrationCertificate": CASE_READERS,
    "listMyNotifications": frozenset({R.organization}),
    "listMyTasks": frozenset({R.department_reviewer}),
    "listTaskComments": frozenset({R.department_reviewer}),
    "claimTask": frozenset({R.department_reviewer}),
    "approveTask": frozenset({R.department_reviewer}),
    "rejectTask": frozenset({R.department_reviewer}),
    "commentOnTask": frozenset({R.department_reviewer}),
    "listCaseDefinitions": ANYONE,
    "getCaseDefinition": ANYONE,
    "listWorkflowVocabularies": ANYONE,
    **SYNC_RULES,
}
RULES: dict[str, Rules] = {
    "registry": REGISTRY_RULES,
    "projects": PROJECTS_RULES,
    "workflow": WORKFLOW_RULES,
}
