"""Who may call each registry operation (`RULES`, checked for every operation × every role
by tests/security/test_authorization_matrix.py), and every operation documented."""

from __future__ import annotations

import re

import httpx

from shared.auth import Role

R = Role
ANYONE = frozenset(Role)
EDITORS = frozenset({R.civil_affairs, R.street_office, R.service})
APPLICANTS = frozenset({R.organization, R.civil_affairs})
BUREAU = frozenset({R.civil_affairs})
BUREAU_AND_AUDIT = frozenset({R.civil_affairs, R.auditor})

RULES: dict[str, frozenset[Role]] = {
    "getRegistryVocabulary": ANYONE,
    "listRegions": ANYONE,
    "exportOrganizations": frozenset(
        {R.civil_affairs, R.street_office, R.auditor, R.service, R.provincial_system}
    ),
    "getImportTemplate": frozenset({R.civil_affairs, R.street_office}),
    "importOrganizations": frozenset({R.civil_affairs, R.street_office}),
    "listListEntries": ANYONE,
    "listOrganizationListEntries": ANYONE,
    "addListEntry": frozenset({R.civil_affairs, R.service}),
    "removeListEntry": frozenset({R.civil_affairs, R.service}),
    "recordIncubationStep": frozenset({R.civil_affairs, R.street_office}),
    "listIncubationSteps": ANYONE,
    "createOrganization": EDITORS,
    "listOrganizations": ANYONE,
    "getOrganizationStats": ANYONE,
    "getOrganization": ANYONE,
    "updateOrganization": EDITORS,
    "changeOrganizationStatus": EDITORS,
    "listOrganizationHistory": ANYONE,
    "getOrganizationEligibility": ANYONE,
    "createRegistrationApplication": frozenset({R.civil_affairs, R.service}),
    "createChangeApplication": APPLICANTS,
    "createDeregistrationApplication": APPLICANTS,
    "listApplications": frozenset(
        {R.civil_affairs, R.auditor, R.service, R.provincial_system, R.organization}
    ),
    # A department reviewer reads the one its department reviews (scoped by the workflow).
    "getApplication": frozenset(
        {
            R.civil_affairs,
            R.auditor,
            R.service,
            R.provincial_system,
            R.organization,
            R.department_reviewer,
        }
    ),
    "withdrawApplication": APPLICANTS,
    "assignApplicationUscc": BUREAU,
    "receiveCaseOutcome": frozenset({R.service}),
    "submitAnnualInspection": APPLICANTS,
    "listOrganizationInspections": ANYONE,
    "recordInspectionConclusion": BUREAU,
    "listInspections": BUREAU_AND_AUDIT,
    "drawSpotCheck": BUREAU,
    "listSpotChecks": BUREAU_AND_AUDIT,
    "previewSpotCheck": BUREAU_AND_AUDIT,
    "getSpotCheck": BUREAU_AND_AUDIT,
    "listSpotCheckItems": BUREAU_AND_AUDIT,
    "recordSpotCheckFinding": BUREAU,
}
PUBLIC = {"healthz", "readyz"}


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
