"""Workflow helpers shared by tests: the materials a case type asks for, outbox counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from services.workflow.definitions import DEFINITIONS_DIR
from services.workflow.models import infra
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
