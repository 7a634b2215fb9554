"""Money invariants under concurrency, enforced by the database itself."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.projects.driver import API, Driver


class TestPools:
    async def test_two_hundred_concurrent_allocations_never_overdraw_a_fund(
        self, driver: Driver
    ) -> None:
        fund = await driver.new_fund(pool_fen=3_000_000)
        pool = fund["pools"][1]
        body = {"pool_id": pool["id"], "amount_fen": 30_000, "note": "孵化奖补"}
        responses = await asyncio.gather(
            *(
                driver.client.post(
                    f"{API}/funds/{fund['id']}/allocations", json=body, headers=driver.bureau
                )
                for _ in range(200)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) == 100  # 100 × 30,000 = 3,000,000: the pool, to the fen
        assert {r.json()["code"] for r in responses if r.status_code != 201} == {"pool_exhausted"}
        after = await driver.expect("GET", f"{API}/funds/{fund['id']}", 200, driver.bureau)
        allocated = next(p for p in after["pools"] if p["id"] == pool["id"])["allocated_fen"]
        assert allocated == 3_000_000
        rows = await driver.expect(
            "GET", f"{API}/funds/{fund['id']}/allocations?page_size=200", 200, driver.bureau
        )
        assert rows["total"] == 100 and sum(r["amount_fen"] for r in rows["items"]) == allocated

    async def test_the_database_refuses_an_overdrawn_pool(
        self, driver: Driver, plain_dsn: str
    ) -> None:
        fund = await driver.new_fund(pool_fen=1_000)
        connection = await asyncpg.connect(plain_dsn)
        try:
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(
                    "UPDATE projects.fund_pool SET allocated_fen = amount_fen + 1 WHERE id = $1",
                    uuid.UUID(fund["pools"][0]["id"]),
                )
        finally:
            await connection.close()

    async def test_a_contract_the_pool_cannot_cover_is_refused(self, driver: Driver) -> None:
        flow = await driver.awarded()
        # Drain the pool so that the awarded 19,000,000 fen no longer fit.
        pool = flow.call["pool_id"]
        await driver.expect(
            "POST",
            f"{API}/funds/{flow.fund['id']}/allocations",
            201,
            driver.bureau,
            json={"pool_id": pool, "amount_fen": 500_000_000 - 1_000_000},
        )
        response = await driver.client.post(
            f"{flow.path}/contract",
            headers=driver.bureau,
            json={
                "number": f"N-{uuid.uuid4().hex[:8]}",
                "signed_on": "2026-01-05",
                "start_on": "2026-01-10",
                "end_on": "2026-12-31",
                "schedule": [{"percent": 100, "trigger": "contract_signed"}],
            },
        )
        assert (response.status_code, response.json()["code"]) == (409, "pool_exhausted")
        project = await driver.expect("GET", flow.path, 200, driver.bureau)
        assert project["stage"] == "procuring"


class TestPayments:
    async def test_two_hundred_requests_racing_for_the_last_tranche_one_wins(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluated()
        await driver.pay(flow, 1)
        await driver.pay(flow, 2)
        last = (await driver.tranches(flow))[2]
        responses = await asyncio.gather(
            *(
                driver.client.post(
                    f"{flow.path}/payment-requests",
                    json={"tranche_id": last["id"]},
                    headers=driver.org(flow.org_id),
                )
                for _ in range(200)
            )
        )
        assert sorted(r.status_code for r in responses) == [201] + [409] * 199
        losers = {r.json()["code"] for r in responses if r.status_code == 409}
        assert losers == {"tranche_already_requested"}
        requested = await driver.expect("GET", f"{flow.path}/payment-requests", 200, driver.bureau)
        assert [r["tranche_id"] for r in requested].count(last["id"]) == 1

    async def test_two_hundred_concurrent_transfers_pay_a_tranche_once(
        self, driver: Driver
    ) -> None:
        flow = await driver.implementing()
        request = await driver.request_payment(flow, 1)
        assert (
            await driver.outcome("payment_request", "payment_request", request["id"])
        ).status_code == 200
        transfer = f"{flow.path}/payment-requests/{request['id']}/transfers"
        responses = await asyncio.gather(
            *(
                driver.client.post(
                    transfer,
                    json={"result": "succeeded", "bank_reference": f"B{i}"},
                    headers=driver.bureau,
                )
                for i in range(200)
            )
        )
        assert sorted(r.status_code for r in responses) == [200] + [409] * 199
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_paid"}
        ledger = await driver.expect("GET", f"{flow.path}/ledger", 200, driver.bureau)
        tranche = (await driver.tranches(flow))[0]
        assert [e["amount_fen"] for e in ledger["entries"]] == [tranche["amount_fen"]]
        assert ledger["paid_fen"] == tranche["amount_fen"]

    async def test_a_failed_transfer_is_retried_without_paying_twice(self, driver: Driver) -> None:
        flow = await driver.implementing()
        request = await driver.request_payment(flow, 1)
        await driver.outcome("payment_request", "payment_request", request["id"])
        transfer = f"{flow.path}/payment-requests/{request['id']}/transfers"
        failed = await driver.expect(
            "POST",
            transfer,
            200,
            driver.bureau,
            json={"result": "failed", "failure_reason": "收款账户信息有误"},
        )
        assert (failed["status"], failed["failed_attempts"]) == ("approved", 1)
        paid = await driver.expect(
            "POST",
            transfer,
            200,
            driver.bureau,
            json={"result": "succeeded", "bank_reference": "R1"},
        )
        assert paid["status"] == "paid"
        assert [a["result"] for a in paid["attempts"]] == ["failed", "succeeded"]
        again = await driver.client.post(
            transfer, headers=driver.bureau, json={"result": "succeeded", "bank_reference": "R2"}
        )
        assert (again.status_code, again.json()["code"]) == (409, "already_paid")
        ledger = await driver.expect("GET", f"{flow.path}/ledger", 200, driver.bureau)
        assert len(ledger["entries"]) == 1

    async def test_a_rejected_request_frees_the_tranche(self, driver: Driver) -> None:
        flow = await driver.implementing()
        request = await driver.request_payment(flow, 1)
        await driver.outcome("payment_request", "payment_request", request["id"], "rejected")
        transfer = await driver.client.post(
            f"{flow.path}/payment-requests/{request['id']}/transfers",
            headers=driver.bureau,
            json={"result": "succeeded", "bank_reference": "R"},
        )
        assert transfer.json()["code"] == "payment_not_approved"
        await driver.request_payment(flow, 1)

    async def test_only_the_bureau_or_finance_transfers(self, driver: Driver) -> None:
        flow = await driver.implementing()
        request = await driver.request_payment(flow, 1)
        await driver.outcome("payment_request", "payment_request", request["id"])
        transfer = f"{flow.path}/payment-requests/{request['id']}/transfers"
        body = {"result": "succeeded", "bank_reference": "F1"}
        education = driver.auth("department_reviewer", department="education")
        refused = await driver.client.post(transfer, headers=education, json=body)
        assert (refused.status_code, refused.json()["code"]) == (403, "not_payer")
        finance = driver.auth("department_reviewer", department="finance")
        assert (await driver.client.post(transfer, headers=finance, json=body)).status_code == 200


class TestDatabaseBackstops:
    async def test_paid_request_ledger_and_contract_cannot_be_tampered_with(
        self, driver: Driver, plain_dsn: str
    ) -> None:
        flow = await driver.implementing()
        paid = await driver.pay(flow, 1)
        connection = await asyncpg.connect(plain_dsn)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "UPDATE projects.payment_request SET amount_fen = 1 WHERE id = $1",
                    uuid.UUID(paid["id"]),
                )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "DELETE FROM projects.ledger_entry WHERE payment_request_id = $1",
                    uuid.UUID(paid["id"]),
                )
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(
                    "UPDATE projects.contract SET paid_fen = amount_fen + 1 WHERE id = $1",
                    uuid.UUID(flow.contract["id"]),
                )
            with pytest.raises(asyncpg.UniqueViolationError):
                await connection.execute(
                    """
                    INSERT INTO projects.payment_request (id, project_id, contract_id, tranche_id,
                        amount_fen, status, command_id, requested_by, failed_attempts, version)
                    SELECT $1, project_id, contract_id, tranche_id, amount_fen, 'requested', $2,
                        'x', 0, 1
                    FROM projects.payment_request WHERE id = $3
                    """,
                    uuid.uuid4(),
                    uuid.uuid4(),
                    uuid.UUID(paid["id"]),
                )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(
                    "UPDATE projects.timeline_entry SET action = 'x' WHERE project_id = $1",
                    uuid.UUID(flow.id),
                )
        finally:
            await connection.close()
