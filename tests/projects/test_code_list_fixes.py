"""Two code lists said less than the source: the "6+1" central task and the second pool.

- "垃圾分类、矛盾调解、平安建设等1类中心工作": the list is open, so `other` with its name.
- "500万元用于社会组织培育发展奖补": the pool is for cultivation awards, `cultivation_reward`
  (the former `incubation_reward` is still accepted on input).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from services.projects.calls.models import Call
from services.projects.funds.models import Fund
from shared.db import database
from tests.factories import application_body, call_body, fund_body
from tests.projects.driver import API, Driver


async def calls_titled(title: str) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).where(Call.title == title)) or 0)


async def funds_named(name: str) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).where(Fund.name == name)) or 0)


class TestOtherCentralTask:
    async def test_a_call_and_its_applications_may_serve_another_named_task(
        self, driver: Driver
    ) -> None:
        fund = await driver.new_fund()
        purchaser = driver.auth("department_reviewer", department="education")
        call = await driver.expect(
            "POST",
            f"{API}/calls",
            201,
            purchaser,
            json=call_body(fund, central_task="other", central_task_other="  文明创建  "),
        )
        assert (call["central_task"], call["central_task_other"]) == ("other", "文明创建")
        org_id = str(uuid.uuid4())
        project = await driver.expect(
            "POST",
            f"{API}/calls/{call['id']}/applications",
            201,
            driver.org(org_id),
            json=application_body(central_task="other", central_task_other="疫情防控"),
        )
        assert (project["central_task"], project["central_task_other"]) == ("other", "疫情防控")
        read = await driver.expect(
            "GET", f"{API}/projects/{project['id']}", 200, driver.org(org_id)
        )
        assert read["central_task_other"] == "疫情防控"
        # A listed task carries no name.
        listed = await driver.expect(
            "POST", f"{API}/calls", 201, driver.bureau, json=call_body(fund, central_task="safety")
        )
        assert listed["central_task_other"] is None

    async def test_the_vocabulary_labels_other(self, driver: Driver) -> None:
        vocabulary = await driver.expect(
            "GET", f"{API}/projects/vocabulary", 200, driver.org(str(uuid.uuid4()))
        )
        labels = {v["code"]: v["label"] for v in vocabulary["CentralTask"]}
        assert labels["other"] == "其他中心工作"
        assert labels["waste_sorting"] == "垃圾分类"

    @pytest.mark.parametrize(
        "fields",
        [
            {"central_task": "other"},  # other, unnamed
            {"central_task": "other", "central_task_other": "   "},
            {
                "central_task": "safety",
                "central_task_other": "文明创建",
            },  # a name for a listed task
            {"central_task": None, "central_task_other": "文明创建"},
            {"central_task": "other", "central_task_other": "文" * 101},
            {"central_task": "other", "central_task_other": "文明\n创建"},
            {"central_task": "everything"},
        ],
    )
    async def test_a_call_with_a_bad_central_task_is_refused_and_not_created(
        self, driver: Driver, fields: dict[str, Any]
    ) -> None:
        fund = await driver.new_fund()
        body = call_body(fund, **fields)
        response = await driver.client.post(f"{API}/calls", headers=driver.bureau, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert await calls_titled(body["title"]) == 0

    async def test_an_application_with_a_bad_central_task_is_refused(self, driver: Driver) -> None:
        fund = await driver.new_fund()
        call = await driver.new_call(fund)
        org_id = str(uuid.uuid4())
        for fields in (
            {"central_task": "other"},
            {"central_task": "waste_sorting", "central_task_other": "文明创建"},
        ):
            response = await driver.client.post(
                f"{API}/calls/{call['id']}/applications",
                headers=driver.org(org_id),
                json=application_body(**fields),
            )
            assert response.status_code == 422, response.text
        surrogate = await driver.client.post(
            f"{API}/calls/{call['id']}/applications",
            content=json.dumps(
                application_body(central_task="other", central_task_other="文明\ud800")
            ).encode(),
            headers={**driver.org(org_id), "Content-Type": "application/json"},
        )
        assert surrogate.status_code == 422, surrogate.text
        projects = await driver.expect("GET", f"{API}/projects", 200, driver.org(org_id))
        assert projects["total"] == 0


class TestCultivationPool:
    async def test_the_second_pool_is_for_cultivation_awards(self, driver: Driver) -> None:
        fund = await driver.new_fund()
        assert {p["purpose"] for p in fund["pools"]} == {
            "social_work_purchase",
            "cultivation_reward",
        }
        vocabulary = await driver.expect("GET", f"{API}/projects/vocabulary", 200, driver.bureau)
        labels = {v["code"]: v["label"] for v in vocabulary["PoolPurpose"]}
        assert labels["cultivation_reward"] == "社会组织培育发展奖补"
        assert "incubation_reward" not in labels

    async def test_the_former_code_is_still_accepted_and_stored_as_the_new(
        self, driver: Driver
    ) -> None:
        body = fund_body()
        body["pools"][1]["purpose"] = "incubation_reward"
        fund = await driver.expect("POST", f"{API}/funds", 201, driver.bureau, json=body)
        assert {p["purpose"] for p in fund["pools"]} == {
            "social_work_purchase",
            "cultivation_reward",
        }
        read = await driver.expect("GET", f"{API}/funds/{fund['id']}", 200, driver.bureau)
        assert {p["purpose"] for p in read["pools"]} == {
            "social_work_purchase",
            "cultivation_reward",
        }

    @pytest.mark.parametrize(
        ("purpose", "amount_fen"),
        [("cultivation", 100), ("cultivation_reward", -500), ("cultivation_reward", 10**16)],
    )
    async def test_a_bad_pool_is_refused_and_no_fund_is_created(
        self, driver: Driver, purpose: str, amount_fen: int
    ) -> None:
        body = fund_body()
        body["pools"][1].update(purpose=purpose, amount_fen=amount_fen)
        response = await driver.client.post(f"{API}/funds", headers=driver.bureau, json=body)
        assert response.status_code == 422, response.text
        assert await funds_named(body["name"]) == 0
