"""Replays belong to the caller who made the request, and to exactly that request.

An `Idempotency-Key` (and a workflow `command_id`) is the caller's own: the caller is the
whole principal (role, sub and scope), not its `sub` alone, for one person may act for
two organizations. And the request is its method, path, query string and body:
`?dry_run=false` is not a replay of `?dry_run=true`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.factories import application_body, registered_org
from tests.projects.driver import API, Driver
from tests.registry.helpers import IMPORT, csv_bytes, find, mark, row_of
from tests.workflow.helpers import materials_for


@pytest.fixture(autouse=True)
def registry_client(stand_in_registry_client: object) -> object:
    """The projects app asks the stand-in registry (tests/support/registry.py)."""
    return stand_in_registry_client


async def test_one_person_for_two_organizations_gets_each_its_own_project(
    projects: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    registry_client: object,
) -> None:
    """The same sub for two organizations, the same key and body: two projects."""
    driver = Driver(projects, auth)
    call = await driver.new_call(await driver.new_fund())
    org_a, org_b = str(uuid.uuid4()), str(uuid.uuid4())
    key = {"Idempotency-Key": uuid.uuid4().hex}
    path = f"{API}/calls/{call['id']}/applications"
    body = application_body()

    first = await projects.post(
        path, json=body, headers={**auth("organization", sub="agent-7", org_id=org_a), **key}
    )
    second = await projects.post(
        path, json=body, headers={**auth("organization", sub="agent-7", org_id=org_b), **key}
    )
    assert first.status_code == second.status_code == 201, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert (first.json()["org_id"], second.json()["org_id"]) == (org_a, org_b)
    assert first.json()["id"] != second.json()["id"]
    # Each organization's own retry is still a replay of its own request.
    again = await projects.post(
        path, json=body, headers={**auth("organization", sub="agent-7", org_id=org_b), **key}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == second.json()["id"]


async def test_a_command_id_is_the_organizations_not_the_persons(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    org_a, org_b = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "annual_inspection",
        "title": "2025年度检查",
        "applicant_name": "测试协会",
        "materials": materials_for("annual_inspection"),
    }
    first = await workflow.post(
        "/api/v1/cases", json=body, headers=auth("organization", sub="agent-8", org_id=org_a)
    )
    second = await workflow.post(
        "/api/v1/cases", json=body, headers=auth("organization", sub="agent-8", org_id=org_b)
    )
    assert first.status_code == 201, first.text
    assert (second.status_code, second.json().get("code")) == (409, "command_id_reused")
    assert first.json()["case_id"] not in second.text
    # The organization that sent it first still gets its result again.
    again = await workflow.post(
        "/api/v1/cases", json=body, headers=auth("organization", sub="agent-8", org_id=org_a)
    )
    assert (again.status_code, again.json()["replayed"]) == (201, True)
    assert again.json()["case_id"] == first.json()["case_id"]


def _multipart(data: bytes, boundary: str) -> bytes:
    """One file field, byte for byte the same each time (httpx would pick a new boundary)."""
    return b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; filename="orgs.csv"\r\n',
            b"Content-Type: text/csv\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


async def test_the_query_string_is_part_of_the_request_a_key_stands_for(
    registry: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    token = mark()
    boundary = secrets.token_hex(8)
    body = _multipart(csv_bytes([row_of(registered_org(name=f"{token}甲"))]), boundary)
    headers = {
        **auth("civil_affairs", sub="clerk-dry-run"),
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    dry = await registry.post(IMPORT, params={"dry_run": "true"}, content=body, headers=headers)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], dry.json()["applied"]) == (True, False)

    real = await registry.post(IMPORT, params={"dry_run": "false"}, content=body, headers=headers)
    assert real.status_code == 422, real.text
    assert real.headers["content-type"] == "application/problem+json"
    assert real.json()["code"] == "idempotency_key_reused"
    assert await find(registry, auth, name=token) == []
    # The same query string again is a replay.
    again = await registry.post(IMPORT, params={"dry_run": "true"}, content=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == dry.json()
