"""Chinese labels in one shape across the three services (`shared.vocabulary`), over HTTP
with real role tokens: the vocabularies, the enums' `x-enum-descriptions`, the stats."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import httpx
import pytest
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.projects.reference.labels import LABELS as PROJECTS_LABELS
from services.registry.enums import LABELS as REGISTRY_LABELS
from services.registry.reference.models import Region
from services.workflow.definitions.loader import read_definition_files
from services.workflow.reference.labels import LABELS as WORKFLOW_LABELS
from services.workflow.reference.labels import CaseType, Department
from shared.auth import Role
from shared.db import database
from shared.vocabulary import Labels, Vocabulary, missing_labels
from tests.factories import filed_org, unique_street
from tools.specs import SERVICES

Auth = Callable[..., dict[str, str]]
LABELS: dict[str, Labels] = {
    "registry": REGISTRY_LABELS,
    "projects": PROJECTS_LABELS,
    "workflow": WORKFLOW_LABELS,
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Labels that are their code, as officers write them (等级 1A–5A).
CODE_IS_THE_LABEL = {"EvaluationGrade"}
# Enums of the specs that are not domain codes, so carry no Chinese label: sort keys,
# file formats.
UNLABELLED_SCHEMAS = {"registry": {"SortKey", "ExportFormat"}}
# A token of each role, with the claim its scope requires.
CLAIMS: dict[Role, dict[str, str]] = {
    Role.street_office: {"street_code": "340103001"},
    Role.department_reviewer: {"department": "finance"},
    Role.organization: {"org_id": "00000000-0000-0000-0000-000000000001"},
}


def vocabulary_path(service: str) -> str:
    return f"/api/v1/{service}/vocabulary"


@pytest.fixture(scope="module")
async def specs(clients: dict[str, httpx.AsyncClient]) -> dict[str, dict[str, Any]]:
    return {svc: (await clients[svc].get("/openapi.json")).json() for svc in SERVICES}


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_every_service_vocabulary_in_one_shape(
    clients: dict[str, httpx.AsyncClient], auth: Auth, role: Role
) -> None:
    for service in SERVICES:
        response = await clients[service].get(
            vocabulary_path(service), headers=auth(role.value, **CLAIMS.get(role, {}))
        )
        assert response.status_code == 200, (service, response.text)
        body = response.json()
        Vocabulary.model_validate(body)  # {EnumName: [{code, label}]}
        assert set(body) == {enum.__name__ for enum in LABELS[service]}, service
        for terms in body.values():
            assert all(set(term) == {"code", "label"} for term in terms)


async def test_a_vocabulary_needs_a_token(clients: dict[str, httpx.AsyncClient]) -> None:
    for service in SERVICES:
        response = await clients[service].get(vocabulary_path(service))
        assert response.status_code == 401, service


async def test_every_member_of_every_labelled_enum_has_a_chinese_label(
    clients: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    """Fails when an enum gains a member without a label: the vocabulary lists every
    member, with an empty label if it has none."""
    for service in SERVICES:
        assert missing_labels(LABELS[service]) == [], f"label them in {service}'s labels"
        response = await clients[service].get(vocabulary_path(service), headers=auth("auditor"))
        body = response.json()
        for enum in LABELS[service]:
            terms = body[enum.__name__]
            assert [term["code"] for term in terms] == [member.value for member in enum]
            for term in terms:
                where = f"{service} {enum.__name__}.{term['code']}"
                assert term["label"].strip(), f"{where} has no label"
                if enum.__name__ not in CODE_IS_THE_LABEL:
                    assert CHINESE.search(term["label"]), f"{where}: {term['label']!r}"


async def test_the_deprecated_vocabularies_still_answer_and_agree(
    clients: dict[str, httpx.AsyncClient], auth: Auth, specs: dict[str, dict[str, Any]]
) -> None:
    headers = auth("organization", **CLAIMS[Role.organization])
    old = await clients["registry"].get("/api/v1/organizations/vocabulary", headers=headers)
    new = (await clients["registry"].get(vocabulary_path("registry"), headers=headers)).json()
    assert old.status_code == 200
    assert old.json() == new
    codes = await clients["projects"].get("/api/v1/project-codes", headers=headers)
    assert codes.status_code == 200
    projects = (await clients["projects"].get(vocabulary_path("projects"), headers=headers)).json()
    for old_list, enum_name in (("grades", "Grade"), ("departments", "Department")):
        assert codes.json()[old_list] == [{**term, "group": None} for term in projects[enum_name]]
    assert specs["registry"]["paths"]["/api/v1/organizations/vocabulary"]["get"]["deprecated"]
    assert specs["projects"]["paths"]["/api/v1/project-codes"]["get"]["deprecated"]


def test_labelled_enums_carry_their_labels_in_the_specs(
    specs: dict[str, dict[str, Any]],
) -> None:
    for service, spec in specs.items():
        schemas = spec["components"]["schemas"]
        for enum, mapping in LABELS[service].items():
            schema = schemas.get(enum.__name__)
            if schema is None:
                continue  # labelled, but no operation speaks it (e.g. workflow's CaseType)
            labels = {str(code): label for code, label in mapping.items()}
            assert schema["x-enum-descriptions"] == [labels[code] for code in schema["enum"]]
            assert schema["x-enumNames"] == [enum(code).name for code in schema["enum"]]


def test_every_enum_of_the_specs_is_labelled(specs: dict[str, dict[str, Any]]) -> None:
    """A new enum in a schema needs labels (or a reason to be in UNLABELLED_SCHEMAS)."""
    for service, spec in specs.items():
        unlabelled = {
            name
            for name, schema in spec["components"]["schemas"].items()
            if "enum" in schema and "x-enum-descriptions" not in schema
        }
        assert unlabelled == UNLABELLED_SCHEMAS.get(service, set()), service


def test_the_definition_files_name_only_labelled_case_types_and_departments() -> None:
    definitions = read_definition_files()
    names = {d.case_type: d.name for d in definitions}
    assert set(names) == {member.value for member in CaseType}
    assert WORKFLOW_LABELS[CaseType] == names  # a case type's label is its definition's name
    departments = {department for d in definitions for department in d.departments}
    assert departments == {member.value for member in Department}


async def test_the_register_stats_carry_labels_beside_codes(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    street = unique_street()
    async with database.transaction() as session:
        await session.execute(
            pg_insert(Region).on_conflict_do_nothing(),
            [{"code": street, "name": "测试街道", "level": "street", "parent_code": None}],
        )
    created = await registry.post(
        "/api/v1/organizations", json=filed_org(street), headers=auth("civil_affairs")
    )
    assert created.status_code == 201, created.text
    response = await registry.get(
        "/api/v1/organizations/stats", headers=auth("street_office", street_code=street)
    )
    assert response.status_code == 200
    stats = response.json()
    assert stats["by_street"] == [{"key": street, "count": 1, "label": "测试街道"}]
    assert stats["by_registration"] == [{"key": "filed", "count": 1, "label": "备案"}]
    assert stats["by_kind"] == [{"key": "community", "count": 1, "label": "社区社会组织"}]
    assert stats["by_category"] == [{"key": "community_service", "count": 1, "label": "社区服务类"}]


async def test_every_coded_stat_of_the_whole_register_has_its_label(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    await registry.post("/api/v1/organizations", json=filed_org(), headers=auth("civil_affairs"))
    stats = (await registry.get("/api/v1/organizations/stats", headers=auth("auditor"))).json()
    enums: dict[str, type[StrEnum]] = {enum.__name__: enum for enum in REGISTRY_LABELS}
    groups = {
        "by_registration": "Registration",
        "by_kind": "OrganizationKind",
        "by_category": "Category",
        "by_status": "OrganizationStatus",
        "by_evaluation_grade": "EvaluationGrade",
        "by_incubation_stage": "IncubationStage",
    }
    for group, enum_name in groups.items():
        labels = {str(k): v for k, v in REGISTRY_LABELS[enums[enum_name]].items()}
        for count in stats[group]:
            expected = None if count["key"] is None else labels[count["key"]]
            assert count["label"] == expected, (group, count)


@pytest.mark.parametrize("group_by", ["department", "catalogue_slot"])
async def test_the_spend_report_labels_its_coded_rows(
    projects: httpx.AsyncClient, auth: Auth, group_by: str
) -> None:
    report = await projects.get(
        "/api/v1/reports/spend", params={"group_by": group_by}, headers=auth("civil_affairs")
    )
    assert report.status_code == 200
    vocabulary = (await projects.get(vocabulary_path("projects"), headers=auth("auditor"))).json()
    enum_name = {"department": "Department", "catalogue_slot": "CatalogueSlot"}[group_by]
    labels = {term["code"]: term["label"] for term in vocabulary[enum_name]}
    for row in report.json()["rows"]:
        assert row["label"] == labels.get(row["key"], row["label"]), row
        assert CHINESE.search(row["label"]), row
    assert report.json()["totals"]["label"] == "合计"
