"""Helpers of the registry tests: create through the API, read the outbox, post outcomes."""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import select, update

from services.registry.base import infra
from services.registry.organizations.models import Organization
from services.registry.transfer.columns import IMPORTED
from shared.db import database

Auth = Callable[..., dict[str, str]]
ORGS = "/api/v1/organizations"
OUTCOMES = "/api/v1/internal/case-outcomes"
CASE_TYPES = {
    "registration": "organization_registration",
    "change": "organization_change",
    "deregistration": "organization_deregistration",
    "annual_inspection": "annual_inspection",
}


async def created(
    registry: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await registry.post(ORGS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def enter_legacy_grade(
    organization_id: str | uuid.UUID,
    grade: str,
    valid_from: date | str,
    valid_until: date | str | None = None,
) -> None:
    """Give an organization a grade entered by hand before grade evaluations existed.

    No endpoint sets a grade any more (only a grade evaluation does), but registers
    migrated from the old system hold such grades: the fixture writes one in the table.
    """
    async with database.transaction() as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == uuid.UUID(str(organization_id)))
            .values(
                evaluation_grade=grade,
                grade_valid_from=date.fromisoformat(str(valid_from)),
                grade_valid_until=None
                if valid_until is None
                else date.fromisoformat(str(valid_until)),
            )
        )


async def events_of(subject_id: str | uuid.UUID) -> list[Any]:
    outbox = infra.outbox
    async with database.transaction() as session:
        rows = await session.execute(
            select(outbox)
            .where(outbox.c.subject_id == str(subject_id))
            # Write order: internal commands have no seq (shared.outbox.record_event).
            .order_by(outbox.c.position)
        )
        return list(rows.all())


async def event_types(subject_id: str | uuid.UUID) -> list[str]:
    return [row.event_type for row in await events_of(subject_id)]


def outcome_body(
    application: dict[str, Any],
    outcome: str = "approved",
    *,
    case_id: uuid.UUID | None = None,
    case_type: str | None = None,
) -> dict[str, Any]:
    # The case the registry named when the application was filed, as the workflow reports.
    return {
        "case_id": str(case_id or application.get("case_id") or uuid.uuid4()),
        "case_type": case_type or CASE_TYPES[application["kind"]],
        "subject_type": "application",
        "subject_id": application["id"],
        "outcome": outcome,
        "reason": None if outcome == "approved" else "材料不符合要求",
        "decided_at": datetime.now(UTC).isoformat(),
        "definition_version": 1,
    }


async def post_outcome(
    registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any]
) -> httpx.Response:
    return await registry.post(OUTCOMES, json=body, headers=auth("service", sub="service:workflow"))


def problem_codes(response: httpx.Response) -> set[str]:
    return {error["code"] for error in response.json().get("errors", [])}


IMPORT = f"{ORGS}/import"
CODES = [column.code for column in IMPORTED]


def row_of(body: dict[str, Any]) -> list[Any]:
    values = {**body, "tags": ";".join(body.get("tags", []))}
    return [values.get(code, "") if values.get(code) is not None else "" for code in CODES]


def csv_bytes(rows: list[list[Any]], header: list[str] = CODES, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


async def find(registry: httpx.AsyncClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    response = await registry.get(
        ORGS, params={"page_size": 200, **params}, headers=auth("civil_affairs")
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def mark() -> str:
    return "导" + secrets.token_hex(3)
