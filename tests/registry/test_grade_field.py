"""The grade is read-only outside grade evaluations: create, PATCH, applications and imports.

A bureau clerk (civil_affairs) who types a grade in, or imports an old register with its
grades, is told that grades come from grade evaluations (等级只能通过等级评估评定), and
nothing changes; the grade still shows in responses and exports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from typing import Any

import asyncpg
import httpx
import openpyxl
from alembic import command
from sqlalchemy.engine import make_url

from services.registry.organizations.schemas import OrganizationUpdate
from services.registry.transfer.columns import GRADE
from shared.db import plain_dsn
from tests.factories import filed_org, registered_org
from tests.registry.helpers import (
    CODES,
    IMPORT,
    ORGS,
    Auth,
    created,
    enter_legacy_grade,
    event_types,
    find,
    mark,
    row_of,
)
from tests.support.servers import alembic_config, recreate_database

EXPORT = f"{ORGS}/export"
GRADE_CODES = [column.code for column in GRADE]


def refused_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "grade_set_by_evaluation"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["code"] for e in problem["errors"]} == {"grade_set_by_evaluation"}
    return {e["field"] for e in problem["errors"]}


def graded_csv(rows: list[list[Any]], header: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode("utf-8")


async def upload(
    registry: httpx.AsyncClient, headers: dict[str, str], data: bytes, **params: Any
) -> httpx.Response:
    return await registry.post(
        IMPORT, files={"file": ("orgs.csv", data)}, params=params, headers=headers
    )


class TestTheApi:
    async def test_a_patch_that_sets_a_grade_is_refused_naming_the_fields_and_changes_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org())
        await enter_legacy_grade(org["id"], "3A", "2024-01-01", "2028-12-31")
        before = (await registry.get(f"{ORGS}/{org['id']}", headers=bureau)).json()
        hostile_bodies: list[tuple[dict[str, Any], set[str]]] = [
            (
                {"evaluation_grade": "5A", "grade_valid_until": "9999-12-31", "address": "新址"},
                {"body.evaluation_grade", "body.grade_valid_until"},
            ),
            ({"evaluation_grade": None}, {"body.evaluation_grade"}),  # clearing it too
            ({"grade_valid_from": "2024-01-01"}, {"body.grade_valid_from"}),
            # JSON's escape of a lone surrogate, as a hostile client sends it.
            ({"evaluation_grade": "\\ud800", "name": "\\ud800"}, {"body.evaluation_grade"}),
            ({"evaluation_grade": -1}, {"body.evaluation_grade"}),
        ]
        for body, fields in hostile_bodies:
            response = await registry.patch(
                f"{ORGS}/{org['id']}",
                content=json.dumps(body, ensure_ascii=False).replace("\\\\", "\\"),
                headers={
                    **bureau,
                    "If-Match": f'"{before["version"]}"',
                    "Content-Type": "application/json",
                },
            )
            assert refused_fields(response) == fields
        # Read as the clerk reads it: in Chinese by default, in English on request.
        assert "等级评估" in response.json()["detail"]
        english = await registry.patch(
            f"{ORGS}/{org['id']}",
            json={"evaluation_grade": "5A"},
            headers={**bureau, "If-Match": f'"{before["version"]}"', "Accept-Language": "en"},
        )
        assert "grade evaluation" in english.json()["detail"]
        after = (await registry.get(f"{ORGS}/{org['id']}", headers=bureau)).json()
        assert after == before
        assert (after["evaluation_grade"], after["grade_valid_until"]) == ("3A", "2028-12-31")
        assert await event_types(org["id"]) == ["organization.created"]
        # The other fields still change as before.
        moved = await registry.patch(
            f"{ORGS}/{org['id']}",
            json={"address": "新址"},
            headers={**bureau, "If-Match": f'"{before["version"]}"'},
        )
        assert moved.status_code == 200, moved.text
        assert (moved.json()["address"], moved.json()["evaluation_grade"]) == ("新址", "3A")

    async def test_a_create_with_a_grade_is_refused_and_creates_nothing(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        for role, body in (
            ("civil_affairs", registered_org(name=f"{token}甲", evaluation_grade="5A")),
            ("street_office", filed_org(name=f"{token}乙", grade_valid_from="9999-01-01")),
        ):
            scope = {"street_code": body["street_code"]} if role == "street_office" else {}
            headers = auth(role, **scope)
            response = await registry.post(ORGS, json=body, headers=headers)
            assert len(refused_fields(response)) == 1
        assert await find(registry, auth, name=token) == []
        plain = await created(registry, auth("civil_affairs"), registered_org(name=f"{token}丙"))
        assert (plain["evaluation_grade"], plain["grade_valid_from"]) == (None, None)

    async def test_applications_cannot_ask_for_a_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        change = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"evaluation_grade": "5A", "address": "长江中路1号"}},
            headers=auth("organization", org_id=org["id"]),
        )
        assert refused_fields(change) == {"body.evaluation_grade"}
        proposal = {
            key: value
            for key, value in registered_org(evaluation_grade="4A").items()
            if key not in ("registration", "uscc")
        }
        registration = await registry.post(
            "/api/v1/applications/registrations",
            json={"organization": proposal, "applicant_name": "发起人王五", "materials": []},
            headers=auth("civil_affairs"),
        )
        assert refused_fields(registration) == {"body.evaluation_grade"}
        # The refused change left no pending application: the address alone goes in.
        valid = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"address": "长江中路1号"}},
            headers=auth("organization", org_id=org["id"]),
        )
        assert valid.status_code == 201, valid.text

    async def test_the_input_schemas_have_no_grade_and_the_output_keeps_it(
        self, registry: httpx.AsyncClient
    ) -> None:
        spec = (await registry.get("/openapi.json")).json()
        schemas = spec["components"]["schemas"]
        for name in ("OrganizationCreate", "OrganizationUpdate", "OrganizationProposal"):
            assert not set(GRADE_CODES) & set(schemas[name]["properties"]), name
        assert set(GRADE_CODES) <= set(schemas["OrganizationOut"]["properties"])


class TestTheImport:
    async def test_an_old_register_with_grades_is_refused_row_by_row_and_nothing_is_imported(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        bureau = auth("civil_affairs")
        header = [*CODES, *(column.label for column in GRADE)]  # 评估等级, 评估有效期起/止
        graded = [*row_of(registered_org(name=f"{token}甲")), "4A", "2024-01-01", "2028-12-31"]
        ungraded = [*row_of(filed_org(name=f"{token}乙")), "", "", ""]
        response = await upload(registry, bureau, graded_csv([graded, ungraded], header))
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "import_invalid"
        assert {(e["field"], e["code"]) for e in problem["errors"]} == {
            (f"rows.2.{code}", "grade_set_by_evaluation") for code in GRADE_CODES
        }
        assert all("等级评估" in e["message"] for e in problem["errors"])
        assert await find(registry, auth, name=token) == []
        # Partial mode skips the graded row, never imports it without its grade in silence.
        partial = await upload(
            registry, bureau, graded_csv([graded, ungraded], header), all_or_nothing=False
        )
        assert partial.status_code == 200, partial.text
        assert (partial.json()["created"], partial.json()["skipped_rows"]) == (1, 1)
        assert [o["name"] for o in await find(registry, auth, name=token)] == [f"{token}乙"]

    async def test_an_edited_export_imports_again_but_cannot_change_a_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        token = mark()
        bureau = auth("civil_affairs")
        org = await created(registry, bureau, registered_org(name=f"{token}甲"))
        await enter_legacy_grade(org["id"], "3A", "2024-01-01", "2028-12-31")
        export = await registry.get(EXPORT, params={"name": token}, headers=bureau)
        assert export.status_code == 200
        lines = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert [line["evaluation_grade"] for line in lines] == ["3A"]
        again = await upload(registry, bureau, export.content)
        assert again.status_code == 200, again.text
        assert again.json()["unchanged"] == 1
        for column, value in (
            ("evaluation_grade", "5A"),
            ("evaluation_grade", ""),
            ("grade_valid_until", "9999-12-31"),
        ):
            edited = [dict(line, **{column: value}) for line in lines]
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(lines[0]))
            writer.writeheader()
            writer.writerows(edited)
            response = await upload(registry, bureau, buffer.getvalue().encode("utf-8"))
            assert response.status_code == 422, response.text
            assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
                (f"rows.2.{column}", "grade_set_by_evaluation")
            }
        after = (await registry.get(f"{ORGS}/{org['id']}", headers=bureau)).json()
        assert (after["evaluation_grade"], after["grade_valid_until"], after["version"]) == (
            "3A",
            "2028-12-31",
            org["version"],
        )

    async def test_the_template_has_no_grade_column(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        template = await registry.get(
            f"{ORGS}/import-template", params={"format": "csv"}, headers=auth("civil_affairs")
        )
        assert template.status_code == 200
        header = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
        assert header == CODES
        assert not set(GRADE_CODES) & set(header)
        xlsx = await registry.get(
            f"{ORGS}/import-template", params={"format": "xlsx"}, headers=auth("civil_affairs")
        )
        workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        first = next(workbook["organizations"].iter_rows(values_only=True))
        assert not set(GRADE_CODES) & set(first)
        notes = {row[0]: row[3] for row in workbook["说明"].iter_rows(values_only=True)}
        assert all("等级评估" in notes[code] for code in GRADE_CODES)


async def test_migration_0118_strips_typed_in_grades_from_pending_applications_only(
    database_url: str,
) -> None:
    """Pending applications stored the old bodies; approval must still be able to read them."""
    name = f"{make_url(database_url).database}_grade_fields"
    await recreate_database(database_url, name)
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    nulls = dict.fromkeys(GRADE_CODES)
    stored = {
        "registration": ("registration", "pending", {"name": "庐阳区甲中心", **nulls}),
        "change": ("change", "pending", {"address": "新址", "evaluation_grade": "5A"}),
        "decided": ("registration", "approved", {"name": "庐阳区乙中心", **nulls}),
    }
    ids = {key: uuid.uuid4() for key in stored}
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0117")
        connection = await asyncpg.connect(plain_dsn(url))
        try:
            await connection.executemany(
                "INSERT INTO registry.application (id, kind, state, proposal, materials,"
                " applicant_name, title, command_id, submitted_by)"
                " VALUES ($1, $2, $3, $4::jsonb, '[]', '发起人', '申请', $5, 'test')",
                [
                    (ids[key], kind, state, json.dumps(proposal), uuid.uuid4())
                    for key, (kind, state, proposal) in stored.items()
                ],
            )
        finally:
            await connection.close()
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0118")
        connection = await asyncpg.connect(plain_dsn(url))
        try:
            proposals = {
                row["id"]: json.loads(row["proposal"])
                for row in await connection.fetch("SELECT id, proposal FROM registry.application")
            }
        finally:
            await connection.close()
    finally:
        await recreate_database(database_url, name, drop_only=True)

    assert proposals[ids["registration"]] == {"name": "庐阳区甲中心"}
    assert proposals[ids["change"]] == {"address": "新址"}
    # What the approval reads now validates; the decided record is kept as decided.
    assert OrganizationUpdate.model_validate(proposals[ids["change"]]).address == "新址"
    assert proposals[ids["decided"]] == {"name": "庐阳区乙中心", **nulls}
