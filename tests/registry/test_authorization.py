"""Every registry endpoint × every role, from the OpenAPI document (as tests/security does
for the workflow): an operation without a rule fails, so none ships without deciding who
may call it. Scope rules on real records answer 404 and are tested with the records."""

from __future__ import annotations

import re
import uuid

import httpx

from shared.auth import Role
from tests.registry.helpers import Auth

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
    "getApplication": frozenset(
        {R.civil_affairs, R.auditor, R.service, R.provincial_system, R.organization}
    ),
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
SCOPES: dict[Role, dict[str, str]] = {
    R.street_office: {"street_code": "340103001"},
    R.department_reviewer: {"department": "public_security"},
    R.organization: {"org_id": str(uuid.uuid4())},
}


def _concrete(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if name.endswith("_id") else "2024"

    return re.sub(r"\{([^}]+)\}", value, path)


async def test_every_operation_has_a_rule_and_every_role_gets_what_it_should(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    spec = (await registry.get("/openapi.json")).json()
    seen = set()
    failures = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation_id = operation["operationId"]
            if operation_id in PUBLIC:
                continue
            seen.add(operation_id)
            if operation_id not in RULES:
                failures.append(f"{operation_id}: no authorization rule")
                continue
            body = {"json": {}} if method in {"post", "put", "patch"} else {}
            url = _concrete(path)
            anonymous = await registry.request(method.upper(), url, **body)
            if anonymous.status_code != 401:
                failures.append(f"{operation_id} without a token: {anonymous.status_code}")
            for role in Role:
                headers = auth(role.value, **SCOPES.get(role, {}))
                response = await registry.request(method.upper(), url, headers=headers, **body)
                admitted = role in RULES[operation_id]
                if admitted and response.status_code in (401, 403):
                    failures.append(f"{operation_id} as {role}: {response.status_code}, admitted")
                if not admitted and response.status_code != 403:
                    failures.append(f"{operation_id} as {role}: {response.status_code}, not 403")
                if response.status_code >= 500:
                    failures.append(f"{operation_id} as {role}: {response.status_code}")
    assert failures == []
    assert set(RULES) - seen == set(), "rules for operations that no longer exist"


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
            if "200" not in operation["responses"] and "201" not in operation["responses"]:
                problems.append(f"{name}: no success response")
            if "401" not in operation["responses"]:
                problems.append(f"{name}: errors not documented")
    assert problems == []
