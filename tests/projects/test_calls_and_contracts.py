"""Calls (department, 123X, 6+1, ceiling, Shanghai deadline) and contract amendments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.factories import call_body
from tests.projects.driver import API, Driver


class TestCalls:
    async def test_a_call_ends_at_midnight_in_shanghai_and_names_its_123x_slot(
        self, driver: Driver
    ) -> None:
        call = await driver.new_call(await driver.new_fund(), deadline_on="2099-06-30")
        deadline = datetime.fromisoformat(call["deadline_at"])
        assert deadline == datetime(2099, 6, 30, 16, 0, tzinfo=UTC)  # 2099-07-01 00:00 +08:00
        assert (call["catalogue_slot"], call["accepting"]) == ("basic", True)

    async def test_a_call_must_fit_its_fund_and_pool(self, driver: Driver) -> None:
        fund = await driver.new_fund(pool_fen=1_000_000)
        response = await driver.client.post(
            f"{API}/calls",
            headers=driver.bureau,
            json=call_body(fund, budget_ceiling_fen=2_000_000, year=2027, deadline_on="2000-01-01"),
        )
        assert (response.status_code, response.json()["code"]) == (422, "invalid_call")
        assert {e["code"] for e in response.json()["errors"]} == {
            "year",
            "ceiling_exceeds_pool",
            "past",
        }

    async def test_unknown_codes_are_refused(self, driver: Driver) -> None:
        fund = await driver.new_fund()
        for field, value in (
            ("department", "army"),
            ("service_targets", ["pets"]),
            ("catalogue_item", "luxury"),
        ):
            response = await driver.client.post(
                f"{API}/calls", headers=driver.bureau, json=call_body(fund, **{field: value})
            )
            assert response.status_code == 422, field

    async def test_updates_need_the_current_etag(self, driver: Driver) -> None:
        call = await driver.new_call(await driver.new_fund())
        path = f"{API}/calls/{call['id']}"
        missing = await driver.client.patch(path, headers=driver.bureau, json={"title": "新"})
        assert missing.status_code == 428
        ok = await driver.client.patch(
            path, headers={**driver.bureau, "If-Match": '"1"'}, json={"title": "新标题"}
        )
        assert (ok.status_code, ok.headers["ETag"], ok.json()["title"]) == (200, '"2"', "新标题")
        stale = await driver.client.patch(
            path, headers={**driver.bureau, "If-Match": '"1"'}, json={"title": "再改"}
        )
        assert stale.status_code == 412

    async def test_codes_are_served_with_chinese_labels(self, driver: Driver) -> None:
        codes = await driver.expect(
            "GET", f"{API}/project-codes", 200, driver.auth("organization", org_id="x")
        )
        assert len(codes["departments"]) == 15
        assert {"code": "elderly", "label": "老年人", "group": None} in codes["service_targets"]
        assert {c["group"] for c in codes["catalogue_items"]} == {
            "core",
            "brand",
            "basic",
            "special",
        }


async def _amend(driver: Driver, path: str, body: dict[str, Any]) -> dict[str, Any]:
    amendment: dict[str, Any] = await driver.expect(
        "POST", f"{path}/contract/amendments", 201, driver.bureau, json=body
    )
    return amendment


class TestAmendments:
    async def test_an_approved_amendment_is_a_new_version_and_reallocates(
        self, driver: Driver
    ) -> None:
        flow = await driver.implementing()
        await driver.pay(flow, 1)  # 30% of 19,000,000 = 5,700,000 paid
        amendment = await _amend(
            driver,
            flow.path,
            {"rationale": "服务人数增加", "new_amount_fen": 21_000_000, "new_end_on": "2027-03-31"},
        )
        pending = await driver.client.post(
            f"{flow.path}/contract/amendments",
            headers=driver.bureau,
            json={"rationale": "再变更", "new_end_on": "2027-06-30"},
        )
        assert pending.json()["code"] == "amendment_pending"
        contract = await driver.client.get(f"{flow.path}/contract", headers=driver.bureau)
        approve = f"{flow.path}/contract/amendments/{amendment['id']}/approve"
        refused = await driver.client.post(
            approve,
            headers={
                **driver.auth("department_reviewer", department="education"),
                "If-Match": contract.headers["ETag"],
            },
            json={},
        )
        assert refused.status_code == 403
        approved = await driver.expect(
            "POST",
            approve,
            200,
            {**driver.bureau, "If-Match": contract.headers["ETag"]},
            json={"note": "同意"},
        )
        assert (approved["amount_fen"], approved["current_version"], approved["end_on"]) == (
            21_000_000,
            2,
            "2027-03-31",
        )
        assert [v["amount_fen"] for v in approved["versions"]] == [19_000_000, 21_000_000]
        assert approved["versions"][1]["rationale"] == "服务人数增加"
        amounts = [t["amount_fen"] for t in approved["tranches"]]
        assert amounts[0] == 5_700_000 and sum(amounts) == 21_000_000
        assert amounts[1:] == [8_742_857, 6_557_143]  # 15,300,000 split 40:30, remainder last
        fund = await driver.expect("GET", f"{API}/funds/{flow.fund['id']}", 200, driver.bureau)
        pool = next(p for p in fund["pools"] if p["id"] == flow.call["pool_id"])
        assert pool["allocated_fen"] == 21_000_000
        stale = await driver.client.post(
            f"{flow.path}/contract/amendments/{amendment['id']}/reject",
            headers={**driver.bureau, "If-Match": contract.headers["ETag"]},
            json={},
        )
        assert stale.status_code == 412

    async def test_an_amendment_below_what_was_paid_is_refused(self, driver: Driver) -> None:
        flow = await driver.implementing()
        await driver.pay(flow, 1)
        response = await driver.client.post(
            f"{flow.path}/contract/amendments",
            headers=driver.bureau,
            json={"rationale": "缩减", "new_amount_fen": 1_000_000},
        )
        assert (response.status_code, response.json()["code"]) == (422, "below_paid")

    async def test_a_schedule_must_add_up_to_one_hundred_percent(self, driver: Driver) -> None:
        flow = await driver.awarded()
        response = await driver.client.post(
            f"{flow.path}/contract",
            headers=driver.bureau | {"Accept-Language": "en"},  # the English message is read
            json={
                "number": "N-1",
                "signed_on": "2026-01-01",
                "start_on": "2026-01-02",
                "end_on": "2026-12-31",
                "schedule": [
                    {"percent": 50, "trigger": "contract_signed"},
                    {"percent": 40, "trigger": "evaluation_passed"},
                ],
            },
        )
        assert response.status_code == 422
        assert "100" in response.json()["errors"][0]["message"]
