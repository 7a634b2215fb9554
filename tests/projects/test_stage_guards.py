"""Every stage guard, as a table: each stage command is refused at every stage but its own.

A refused command answers 409 `wrong_stage` and changes nothing: the stage, the
timeline and the project's outbox are as they were.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from services.projects.base import infra
from shared.db import database
from tests.factories import contract_body
from tests.projects.driver import Driver, Flow, close

# Each stage command: (path under the project, body) and the one stage it belongs to.
COMMANDS: dict[str, tuple[str, dict[str, Any] | None, str]] = {
    "start_procurement": (
        "/procurement",
        {"method": "open_tender", "price_weight_pct": 20},
        "approved",
    ),
    "award": ("/procurement/award", None, "procuring"),
    "sign_contract": ("/contract", contract_body(), "procuring"),
    "initiate": ("/initiation", None, "contracted"),
    "start_evaluation": (
        "/evaluation",
        {"evaluators": [{"sub": f"guard-e{i}", "name": f"专家{i}"} for i in range(3)]},
        "implementing",
    ),
    "conclude_evaluation": ("/evaluation/conclusion", None, "evaluating"),
    "request_closure": ("/closure", {"summary": "完成"}, "evaluated"),
}


async def _closed(driver: Driver) -> Flow:
    flow = await driver.evaluated()
    for seq in (1, 2, 3):
        await driver.pay(flow, seq)
    await close(driver, flow)
    return flow


async def _rejected(driver: Driver) -> Flow:
    flow = await driver.applied()
    response = await driver.outcome("project_application", "project", flow.id, "rejected")
    assert response.status_code == 200, response.text
    return flow


STAGES: dict[str, Callable[[Driver], Awaitable[Flow]]] = {
    "applied": lambda d: d.applied(),
    "rejected": _rejected,
    "approved": lambda d: d.approved(),
    "procuring": lambda d: d.awarded(),
    "contracted": lambda d: d.contracted(),
    "implementing": lambda d: d.supervised(),
    "evaluating": lambda d: d.evaluating(),
    "evaluated": lambda d: d.evaluated(),
    "closing": lambda d: d.closing(),
    "closed": _closed,
}


async def _outbox_count(project_id: str) -> int:
    outbox = infra.outbox
    async with database.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.subject_type == "project", outbox.c.subject_id == project_id)
        )
    return int(count or 0)


@pytest.mark.parametrize("stage", list(STAGES))
async def test_each_stage_command_is_refused_outside_its_stage(driver: Driver, stage: str) -> None:
    flow = await STAGES[stage](driver)
    before = await driver.expect("GET", flow.path, 200, driver.bureau)
    assert before["stage"] == stage
    timeline = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
    events = await _outbox_count(flow.id)
    refused: dict[str, tuple[int, str]] = {}
    for name, (suffix, body, own_stage) in COMMANDS.items():
        if own_stage == stage:
            continue
        # The closure is the organization's request; every other command the bureau's.
        headers = driver.org(flow.org_id) if name == "request_closure" else driver.bureau
        response = await driver.client.post(f"{flow.path}{suffix}", json=body, headers=headers)
        refused[name] = (response.status_code, response.json().get("code"))
    assert refused == {
        name: (409, "wrong_stage") for name, (_, _, own) in COMMANDS.items() if own != stage
    }
    after = await driver.expect("GET", flow.path, 200, driver.bureau)
    assert (after["stage"], after["version"]) == (before["stage"], before["version"])
    assert await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau) == timeline
    assert await _outbox_count(flow.id) == events


@pytest.mark.parametrize("stage", ["contracted", "closing"])
async def test_payments_are_requested_only_between_initiation_and_closure(
    driver: Driver, stage: str
) -> None:
    flow = await STAGES[stage](driver)
    first = (await driver.tranches(flow))[0]
    assert first["milestone_met_at"] is not None  # on signing: only the stage stands in the way
    response = await driver.client.post(
        f"{flow.path}/payment-requests",
        json={"tranche_id": first["id"]},
        headers=driver.org(flow.org_id),
    )
    assert (response.status_code, response.json()["code"]) == (409, "wrong_stage")
    requests = await driver.expect("GET", f"{flow.path}/payment-requests", 200, driver.bureau)
    assert len(requests) == (3 if stage == "closing" else 0)
