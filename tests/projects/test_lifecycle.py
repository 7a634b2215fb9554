"""A project from call to closure, and the guard of every stage."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.projects.base import infra
from shared.db import database
from shared.interservice import CASE_REQUESTED_EVENT, INTERNAL_EVENT_TYPES, CaseRequest
from tests.factories import meeting_body
from tests.projects.driver import API, Driver, close


async def events_of(project_id: str) -> list[Any]:
    outbox = infra.outbox
    async with database.transaction() as session:
        rows = await session.execute(
            select(outbox)
            .where(outbox.c.subject_type == "project", outbox.c.subject_id == project_id)
            # Write order: internal commands have no seq (shared.outbox.record_event).
            .order_by(outbox.c.position)
        )
        return list(rows)


class TestFullLifecycle:
    async def test_call_to_closure_with_cases_events_and_timeline(self, driver: Driver) -> None:
        flow = await driver.evaluated()
        for seq in (1, 2, 3):
            await driver.pay(flow, seq)
        project = await close(driver, flow)
        assert project["stage"] == "closed"

        events = await events_of(flow.id)
        cases = [
            CaseRequest.model_validate(e.payload)
            for e in events
            if e.event_type == CASE_REQUESTED_EVENT
        ]
        assert [c.case_type for c in cases] == [
            "project_application",
            *["payment_request"] * 3,
            "project_closure",
        ]
        assert all(c.subject_service == "projects" for c in cases)
        assert {m.code for m in cases[0].materials} == {"proposal", "budget", "qualification"}
        stages = [e.payload["to"] for e in events if e.event_type == "project.stage_changed"]
        assert stages == [
            "applied",
            "approved",
            "procuring",
            "contracted",
            "implementing",
            "evaluating",
            "evaluated",
            "closing",
            "closed",
        ]
        types = {e.event_type for e in events}
        assert {
            "payment.paid",
            "evaluation.concluded",
            "contract.signed",
            "project.closed",
        } <= types
        # Published events are numbered 1, 2, 3… in write order; the case requests,
        # never published, have no number.
        published = [e.subject_seq for e in events if e.event_type not in INTERNAL_EVENT_TYPES]
        assert published == list(range(1, len(published) + 1))
        assert {e.subject_seq for e in events if e.event_type in INTERNAL_EVENT_TYPES} == {None}

        timeline = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
        moves = [(t["from_stage"], t["to_stage"]) for t in timeline if t["to_stage"]]
        assert moves[0] == (None, "applied") and moves[-1] == ("closing", "closed")
        assert all(t["actor_sub"] and t["at"] for t in timeline)

        ledger = await driver.expect("GET", f"{flow.path}/ledger", 200, driver.bureau)
        assert (
            ledger["paid_fen"]
            == ledger["contract_amount_fen"]
            == sum(e["amount_fen"] for e in ledger["entries"])
        )

    async def test_closure_gives_back_what_a_failed_project_did_not_spend(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluated(fraction=0.5)
        evaluation = await driver.expect("GET", f"{flow.path}/evaluation", 200, driver.bureau)
        assert evaluation["grade"] == "fail"
        await driver.pay(flow, 1)
        await driver.pay(flow, 2)
        tranches = await driver.tranches(flow)
        assert tranches[2]["withheld_at"] is not None
        await close(driver, flow)
        fund = await driver.expect("GET", f"{API}/funds/{flow.fund['id']}", 200, driver.bureau)
        pool = (
            fund["pools"][0] if fund["pools"][0]["id"] == flow.call["pool_id"] else fund["pools"][1]
        )
        assert pool["allocated_fen"] == tranches[0]["amount_fen"] + tranches[1]["amount_fen"]


class TestStageGuards:
    async def test_procurement_needs_an_approved_application(self, driver: Driver) -> None:
        flow = await driver.applied()
        response = await driver.client.post(
            f"{flow.path}/procurement",
            json={"method": "open_tender", "price_weight_pct": 20},
            headers=driver.bureau,
        )
        assert (response.status_code, response.json()["code"]) == (409, "wrong_stage")

    async def test_rejected_application_goes_no_further(self, driver: Driver) -> None:
        flow = await driver.applied()
        assert (
            await driver.outcome("project_application", "project", flow.id, "rejected")
        ).status_code == 200
        project = await driver.expect("GET", flow.path, 200, driver.bureau)
        assert project["stage"] == "rejected"
        response = await driver.client.post(
            f"{flow.path}/procurement",
            json={"method": "single_source", "price_weight_pct": 0},
            headers=driver.bureau,
        )
        assert response.json()["code"] == "wrong_stage"

    async def test_award_needs_enough_bids_and_contract_needs_award(self, driver: Driver) -> None:
        flow = await driver.approved()
        await driver.expect(
            "POST",
            f"{flow.path}/procurement",
            201,
            driver.bureau,
            json={"method": "open_tender", "price_weight_pct": 20},
        )
        award = await driver.client.post(f"{flow.path}/procurement/award", headers=driver.bureau)
        assert (award.status_code, award.json()["code"]) == (409, "not_enough_bids")
        contract = await driver.client.post(
            f"{flow.path}/contract",
            headers=driver.bureau,
            json={
                "number": "X-1",
                "signed_on": "2026-01-01",
                "start_on": "2026-01-02",
                "end_on": "2026-12-31",
                "schedule": [{"percent": 100, "trigger": "contract_signed"}],
            },
        )
        assert (contract.status_code, contract.json()["code"]) == (409, "procurement_not_awarded")

    async def test_price_weight_follows_the_rules_for_services(self, driver: Driver) -> None:
        flow = await driver.approved()
        response = await driver.client.post(
            f"{flow.path}/procurement",
            headers=driver.bureau,
            json={"method": "open_tender", "price_weight_pct": 60},
        )
        assert (response.status_code, response.json()["code"]) == (422, "invalid_price_weight")

    async def test_scored_award_goes_to_the_best_total_not_the_lowest_price(
        self, driver: Driver
    ) -> None:
        flow = await driver.awarded()
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, driver.bureau)
        winner = procurement["bids"][0]
        # 90 × 0.8 + 20 × 17/19 = 89.89 beats 70 × 0.8 + 20 = 76.00
        assert winner["bidder_org_id"] == flow.org_id and winner["rank"] == 1
        assert winner["total_score"] == "89.89"
        assert procurement["bids"][1]["total_score"] == "76.00"

    async def test_initiation_needs_the_press_conference(self, driver: Driver) -> None:
        flow = await driver.contracted()
        response = await driver.client.post(f"{flow.path}/initiation", headers=driver.bureau)
        assert (response.status_code, response.json()["code"]) == (409, "meeting_missing")
        early = await driver.client.post(
            f"{flow.path}/meetings", headers=driver.bureau, json=meeting_body("supervision_meeting")
        )
        assert early.json()["code"] == "wrong_stage"

    async def test_tranche_payable_only_once_its_milestone_is_met(self, driver: Driver) -> None:
        flow = await driver.implementing()
        tranches = await driver.tranches(flow)
        assert [t["milestone_met_at"] is not None for t in tranches] == [True, False, False]
        response = await driver.client.post(
            f"{flow.path}/payment-requests",
            headers=driver.org(flow.org_id),
            json={"tranche_id": tranches[1]["id"]},
        )
        assert (response.status_code, response.json()["code"]) == (409, "milestone_not_met")

    async def test_supervision_meeting_needs_the_mid_term_report(self, driver: Driver) -> None:
        flow = await driver.implementing()
        response = await driver.client.post(
            f"{flow.path}/meetings", headers=driver.bureau, json=meeting_body("supervision_meeting")
        )
        assert (response.status_code, response.json()["code"]) == (409, "mid_term_report_missing")

    async def test_evaluation_needs_the_supervision_meeting_and_resolved_findings(
        self, driver: Driver
    ) -> None:
        flow = await driver.implementing()
        body = {"evaluators": [{"sub": f"e{i}", "name": f"专家{i}"} for i in range(3)]}
        response = await driver.client.post(
            f"{flow.path}/evaluation", headers=driver.bureau, json=body
        )
        assert (response.status_code, response.json()["code"]) == (409, "meeting_missing")
        await driver.expect(
            "POST",
            f"{flow.path}/supervision-visits",
            201,
            driver.bureau,
            json={
                "visited_on": "2026-05-10",
                "supervisor": "督导组",
                "summary": "台账不全",
                "findings": [
                    {"finding": "活动台账缺失", "severity": "major", "deadline_on": "2026-06-10"}
                ],
            },
        )
        await driver.submit_mid_term(flow)
        await driver.meeting(flow, "supervision_meeting")
        response = await driver.client.post(
            f"{flow.path}/evaluation", headers=driver.bureau, json=body
        )
        assert (response.status_code, response.json()["code"]) == (409, "rectifications_open")

    async def test_closure_needs_briefing_and_reconciled_payments(self, driver: Driver) -> None:
        flow = await driver.evaluated()
        closure = {"summary": "完成"}
        response = await driver.client.post(
            f"{flow.path}/closure", headers=driver.org(flow.org_id), json=closure
        )
        assert (response.status_code, response.json()["code"]) == (409, "meeting_missing")
        await driver.meeting(flow, "evaluation_briefing")
        await driver.pay(flow, 1)
        response = await driver.client.post(
            f"{flow.path}/closure", headers=driver.org(flow.org_id), json=closure
        )
        assert (response.status_code, response.json()["code"]) == (409, "payments_unreconciled")
        await driver.request_payment(flow, 2)
        response = await driver.client.post(
            f"{flow.path}/closure",
            headers=driver.org(flow.org_id) | {"Accept-Language": "en"},
            json=closure,
        )
        assert "in flight" in response.json()["detail"]

    async def test_closure_rejected_returns_to_evaluated(self, driver: Driver) -> None:
        flow = await driver.closing()
        assert (
            await driver.outcome("project_closure", "project", flow.id, "rejected")
        ).status_code == 200
        project = await driver.expect("GET", flow.path, 200, driver.bureau)
        assert project["stage"] == "evaluated" and project["closure_case_id"]

    @pytest.mark.parametrize("meeting", ["press_conference", "evaluation_briefing"])
    async def test_a_meeting_is_recorded_once(self, driver: Driver, meeting: str) -> None:
        flow = await (driver.contracted() if meeting == "press_conference" else driver.evaluated())
        await driver.expect(
            "POST", f"{flow.path}/meetings", 201, driver.bureau, json=meeting_body(meeting)
        )
        again = await driver.client.post(
            f"{flow.path}/meetings", headers=driver.bureau, json=meeting_body(meeting)
        )
        assert (again.status_code, again.json()["code"]) == (409, "meeting_recorded")
        meetings = await driver.expect("GET", f"{flow.path}/meetings", 200, driver.org(flow.org_id))
        assert meetings[-1]["attendees"][0]["name"] == "王主任"


async def test_unknown_project_is_404(projects: httpx.AsyncClient, driver: Driver) -> None:
    response = await projects.get(f"{API}/projects/{uuid.uuid4()}", headers=driver.bureau)
    assert (response.status_code, response.json()["code"]) == (404, "project_not_found")
