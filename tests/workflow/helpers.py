"""Workflow helpers shared by tests: the materials a case type asks for, outbox counts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select

from services.workflow.cases.commands import precheck
from services.workflow.definitions.loader import DEFINITIONS_DIR
from services.workflow.models import CaseTransition, infra
from shared.db import database


async def case_events(case_id: str, event_type: str) -> int:
    """How many outbox events of this type the workflow wrote for the case."""
    outbox = infra.outbox
    async with database.transaction() as session:
        return (
            await session.execute(
                select(func.count()).where(
                    outbox.c.subject_id == case_id, outbox.c.event_type == event_type
                )
            )
        ).scalar_one()


def materials_for(case_type: str, *, leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    path = next(Path(DEFINITIONS_DIR).glob(f"{case_type}.v*.yaml"))
    definition = yaml.safe_load(path.read_text("utf-8"))
    return [
        {
            "code": m["code"],
            "name": m["name"],
            "document_url": f"https://files.example.cn/{m['code']}.pdf",
        }
        for m in definition["materials"]
        if m["code"] not in leave_out
    ]


async def transitions_to(case_id: str, state: str) -> int:
    async with database.transaction() as session:
        return (
            await session.execute(
                select(func.count()).where(
                    CaseTransition.case_id == uuid.UUID(case_id), CaseTransition.to_state == state
                )
            )
        ).scalar_one()


async def in_review(submit: Callable[..., Any], case_type: str, **kwargs: Any) -> str:
    """A case in joint review, pre-checked right here (no worker needed)."""
    case_id: str = await submit(case_type, **kwargs)
    async with database.transaction() as session:
        await precheck(session, case_id=uuid.UUID(case_id))
    return case_id


async def tasks(
    workflow: httpx.AsyncClient, auth: Callable[..., Any], case_id: str
) -> dict[str, str]:
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    return {t["department"]: t["id"] for t in case["tasks"]}


async def decide(
    workflow: httpx.AsyncClient,
    auth: Callable[..., Any],
    department: str,
    task_id: str,
    verdict: str,
) -> httpx.Response:
    return await workflow.post(
        f"/api/v1/tasks/{task_id}/{verdict}",
        json={"command_id": str(uuid.uuid4()), "comment": f"{department} {verdict}"},
        headers=auth("department_reviewer", department=department, sub=f"reviewer-{department}"),
    )
