"""SQL-looking, wildcard-laden and maximum-length text is stored and returned intact in
every service, found by search as itself, and one character too many is a 422."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.factories import call_body, fund_body, registered_org

Auth = Callable[..., dict[str, str]]
# Quotes, a statement terminator, comments, LIKE wildcards, a backslash, a 4-byte
# character, a right-to-left mark and a zero-width joiner: each has broken some system.
SQLISH = "O'Brien\"; DROP TABLE registry.organization; -- 100%_\\ /* 😀 */ \u200f\u200d"


def long_text(length: int) -> str:
    """`length` characters (not bytes) mixing CJK, 4-byte emoji and SQL punctuation."""
    unit = "社会组织😀';--%_\\"
    return (unit * (length // len(unit) + 1))[:length]


async def test_the_registry_keeps_hostile_text_and_finds_it_as_itself(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    token = uuid.uuid4().hex[:6]
    body = registered_org(
        name=f"庐阳{token}{SQLISH}",
        address=long_text(300),
        business_scope=long_text(5000),
        supervising_unit=SQLISH,
    )
    created = await registry.post("/api/v1/organizations", json=body, headers=bureau)
    assert created.status_code == 201, created.text
    stored = await registry.get(f"/api/v1/organizations/{created.json()['id']}", headers=bureau)
    for field in ("name", "address", "business_scope", "supervising_unit"):
        assert stored.json()[field] == body[field], field
    # The term is matched as text: quotes, wildcards and the backslash are not syntax.
    found = await registry.get(
        "/api/v1/organizations", params={"name": body["name"][2:]}, headers=bureau
    )
    assert [o["id"] for o in found.json()["items"]] == [created.json()["id"]]
    for wildcard in ("%", "_"):  # as LIKE syntax, either would match the "O" after the token
        literal = await registry.get(
            "/api/v1/organizations", params={"name": f"{token}{wildcard}"}, headers=bureau
        )
        assert literal.json()["total"] == 0, wildcard
    too_long = registered_org(business_scope=long_text(5001))
    refused = await registry.post("/api/v1/organizations", json=too_long, headers=bureau)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.business_scope"


async def test_projects_keep_hostile_text(projects: httpx.AsyncClient, auth: Auth) -> None:
    bureau = auth("civil_affairs")
    fund = (await projects.post("/api/v1/funds", json=fund_body(), headers=bureau)).json()
    body = call_body(fund, title=f"{SQLISH}{uuid.uuid4().hex[:6]}", description=long_text(20_000))
    created = await projects.post("/api/v1/calls", json=body, headers=bureau)
    assert created.status_code == 201, created.text
    stored = (await projects.get(f"/api/v1/calls/{created.json()['id']}", headers=bureau)).json()
    assert (stored["title"], stored["description"]) == (body["title"], body["description"])
    too_long = call_body(fund, description=long_text(20_001))
    assert (await projects.post("/api/v1/calls", json=too_long, headers=bureau)).status_code == 422


async def test_the_workflow_keeps_hostile_text(workflow: httpx.AsyncClient, auth: Auth) -> None:
    org_id = str(uuid.uuid4())
    applicant = auth("organization", org_id=org_id)
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "organization_change",
        "title": long_text(300),
        "applicant_name": SQLISH,
        "materials": [],
    }
    created = await workflow.post("/api/v1/cases", json=body, headers=applicant)
    assert created.status_code == 201, created.text
    case = await workflow.get(f"/api/v1/cases/{created.json()['case_id']}", headers=applicant)
    assert (case.json()["title"], case.json()["applicant_name"]) == (
        body["title"],
        body["applicant_name"],
    )
    too_long = {**body, "command_id": str(uuid.uuid4()), "title": long_text(301)}
    assert (
        await workflow.post("/api/v1/cases", json=too_long, headers=applicant)
    ).status_code == 422
