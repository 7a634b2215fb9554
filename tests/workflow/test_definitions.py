"""Case definitions: data files stored by version; a running case keeps its version."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.workflow.cases.commands import precheck
from services.workflow.definitions.loader import (
    DefinitionConflict,
    read_definition_files,
    sync_definitions,
)
from services.workflow.definitions.schemas import DefinitionContent
from shared.db import database

CASE_TYPES = {
    "organization_registration",
    "organization_change",
    "organization_deregistration",
    "annual_inspection",
    "project_application",
    "payment_request",
    "project_closure",
}


def _definition(case_type: str, version: int, departments: list[str]) -> DefinitionContent:
    return DefinitionContent.model_validate(
        {
            "case_type": case_type,
            "version": version,
            "name": "测试事项",
            "subject_service": "registry",
            "statutory_limit_days": 30,
            "time_limit_working_days": 5,
            "reminder_at_working_days": 3,
            "materials": [{"code": "application_form", "name": "申请书"}],
            "departments": departments,
            "join_rule": {"kind": "all"},
        }
    )


async def _store(definition: DefinitionContent) -> None:
    async with database.transaction() as session:
        await sync_definitions(session, [definition])


def test_every_case_type_of_the_issue_has_a_valid_definition_file() -> None:
    definitions = read_definition_files()
    assert {d.case_type for d in definitions} == CASE_TYPES
    for definition in definitions:
        assert definition.materials and definition.departments
        assert definition.reminder_at_working_days < definition.time_limit_working_days


@pytest.mark.parametrize(
    "change",
    [
        {"reminder_at_working_days": 5},  # not before the limit
        {"departments": ["a", "a"]},
        {"join_rule": {"kind": "n_of_m", "n": 3}},  # more than the departments
        {"join_rule": {"kind": "n_of_m"}},
    ],
)
def test_inconsistent_definitions_are_refused(change: dict[str, Any]) -> None:
    content = _definition("x_case", 1, ["a", "b"]).model_dump(mode="json") | change
    with pytest.raises(ValueError):
        DefinitionContent.model_validate(content)


async def test_running_case_stays_on_its_version_and_stored_versions_are_immutable(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    case_type = f"t_versioned_{uuid.uuid4().hex[:8]}"
    await _store(_definition(case_type, 1, ["dept_one"]))
    headers = auth("organization", org_id=str(uuid.uuid4()))

    async def submit() -> str:
        response = await workflow.post(
            "/api/v1/cases",
            json={
                "command_id": str(uuid.uuid4()),
                "case_type": case_type,
                "title": "版本测试",
                "applicant_name": "测试协会",
                "materials": [
                    {"code": "application_form", "document_url": "https://files.example.cn/a.pdf"}
                ],
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])

    old_case = await submit()
    # Version 2 is published while the first case still waits for its pre-check.
    await _store(_definition(case_type, 2, ["dept_two", "dept_three"]))
    new_case = await submit()
    for case_id in (old_case, new_case):
        async with database.transaction() as session:
            await precheck(session, case_id=uuid.UUID(case_id))

    reader = auth("civil_affairs")
    old = (await workflow.get(f"/api/v1/cases/{old_case}", headers=reader)).json()
    new = (await workflow.get(f"/api/v1/cases/{new_case}", headers=reader)).json()
    assert old["definition_version"] == 1
    assert [t["department"] for t in old["tasks"]] == ["dept_one"]
    assert {step["definition_version"] for step in old["timeline"]} == {1}
    assert new["definition_version"] == 2
    assert sorted(t["department"] for t in new["tasks"]) == ["dept_three", "dept_two"]

    # Editing a stored version in place is refused: publish a new version instead.
    with pytest.raises(DefinitionConflict):
        await _store(_definition(case_type, 1, ["dept_other"]))
    # The same content again is a no-op (every start-up does this).
    await _store(_definition(case_type, 1, ["dept_one"]))

    latest = (await workflow.get("/api/v1/case-definitions", headers=reader)).json()
    by_type = {d["case_type"]: d for d in latest}
    assert set(by_type) >= CASE_TYPES
    assert by_type[case_type]["version"] == 2
    assert by_type["organization_registration"]["definition"]["join_rule"] == {
        "kind": "all",
        "n": None,
    }
    every = (
        await workflow.get(
            "/api/v1/case-definitions", params={"all_versions": "true"}, headers=reader
        )
    ).json()
    assert [d["version"] for d in every if d["case_type"] == case_type] == [2, 1]
    one = await workflow.get(f"/api/v1/case-definitions/{case_type}/versions/1", headers=reader)
    assert one.json()["definition"]["departments"] == ["dept_one"]
    missing = await workflow.get(f"/api/v1/case-definitions/{case_type}/versions/9", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["code"] == "case_definition_not_found"
    assert (await workflow.get("/api/v1/case-definitions")).status_code == 401
