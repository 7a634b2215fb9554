"""Drive a project through its lifecycle over the API, stage by stage, asserting each step.

Workflow decisions are posted as `CaseOutcome`s with a service token, exactly as the
workflow will deliver them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from services.projects.evaluation.scheme import read_scheme_files
from tests.factories import application_body, call_body, contract_body, fund_body, meeting_body

API = "/api/v1"
SCHEME = read_scheme_files()[0]


def sheet(fraction: float, **adjustments: str) -> dict[str, Any]:
    """Every indicator at `fraction` of its maximum (rounded down to half points)."""
    points = {i.code: str(int(float(i.max_points) * fraction * 2) / 2) for i in SCHEME.indicators}
    return {"indicator_points": points, "adjustment_points": adjustments, "comments": "评分说明"}


@dataclass
class Flow:
    org_id: str
    fund: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)
    contract: dict[str, Any] = field(default_factory=dict)
    evaluators: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.project["id"])

    @property
    def path(self) -> str:
        return f"{API}/projects/{self.id}"


class Driver:
    def __init__(self, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> None:
        self.client = client
        self.auth = auth
        self.bureau = auth("civil_affairs")
        self.service = auth("service")
        # Overrides for the fund each flow creates (e.g. a year of a test's own).
        self.fund_defaults: dict[str, Any] = {}
        # Overrides for the call and the application of each flow (e.g. a catalogue item,
        # the street served).
        self.call_defaults: dict[str, Any] = {}
        self.application_defaults: dict[str, Any] = {}

    def org(self, org_id: str) -> dict[str, str]:
        return self.auth("organization", org_id=org_id)

    async def expect(
        self, method: str, path: str, status: int, headers: dict[str, str], **kw: Any
    ) -> Any:
        response = await self.client.request(method, path, headers=headers, **kw)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    async def new_fund(self, **overrides: Any) -> dict[str, Any]:
        fund: dict[str, Any] = await self.expect(
            "POST", f"{API}/funds", 201, self.bureau, json=fund_body(**overrides)
        )
        return fund

    async def new_call(self, fund: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        call: dict[str, Any] = await self.expect(
            "POST", f"{API}/calls", 201, self.bureau, json=call_body(fund, **overrides)
        )
        return call

    async def outcome(
        self,
        case_type: str,
        subject_type: str,
        subject_id: str,
        outcome: str = "approved",
        *,
        case_id: str | None = None,
    ) -> httpx.Response:
        body = {
            "case_id": case_id or str(uuid.uuid4()),
            "case_type": case_type,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "outcome": outcome,
            "reason": None if outcome == "approved" else "材料不符合要求",
            "decided_at": datetime.now(UTC).isoformat(),
            "definition_version": 1,
        }
        return await self.client.post(
            f"{API}/internal/case-outcomes", json=body, headers=self.service
        )

    async def applied(self, org_id: str | None = None, **call_overrides: Any) -> Flow:
        flow = Flow(org_id=org_id or str(uuid.uuid4()))
        flow.fund = await self.new_fund(**self.fund_defaults)
        flow.call = await self.new_call(flow.fund, **{**self.call_defaults, **call_overrides})
        flow.project = await self.expect(
            "POST",
            f"{API}/calls/{flow.call['id']}/applications",
            201,
            self.org(flow.org_id),
            json=application_body(**self.application_defaults),
        )
        return flow

    async def approved(self, org_id: str | None = None, **call_overrides: Any) -> Flow:
        flow = await self.applied(org_id, **call_overrides)
        response = await self.outcome("project_application", "project", flow.id)
        assert response.status_code == 200, response.text
        return flow

    async def open_procurement(self, flow: Flow) -> None:
        """The bureau opens a competitive consultation (price weighs 20%)."""
        await self.expect(
            "POST",
            f"{flow.path}/procurement",
            201,
            self.bureau,
            json={"method": "competitive_consultation", "price_weight_pct": 20},
        )

    async def awarded(
        self, org_id: str | None = None, bidders: Sequence[tuple[str, int, str]] = ()
    ) -> Flow:
        """Procured and awarded to the best of `bidders` (bidder org id, price in fen,
        technical score); by default the applicant and one other organization it outbids."""
        flow = await self.approved(org_id)
        await self.open_procurement(flow)
        for bidder, price, technical in bidders or (
            (flow.org_id, 19_000_000, "90"),
            (str(uuid.uuid4()), 17_000_000, "70"),
        ):
            await self.expect(
                "POST",
                f"{flow.path}/procurement/bids",
                201,
                self.bureau,
                json={"bidder_org_id": bidder, "price_fen": price, "technical_score": technical},
            )
        await self.expect("POST", f"{flow.path}/procurement/award", 200, self.bureau)
        return flow

    async def contracted(self, org_id: str | None = None, **contract: Any) -> Flow:
        flow = await self.awarded(org_id)
        flow.contract = await self.expect(
            "POST", f"{flow.path}/contract", 201, self.bureau, json=contract_body(**contract)
        )
        return flow

    async def implementing(self, org_id: str | None = None, **contract: Any) -> Flow:
        flow = await self.contracted(org_id, **contract)
        await self.meeting(flow, "press_conference")
        await self.expect("POST", f"{flow.path}/initiation", 200, self.bureau)
        return flow

    async def meeting(self, flow: Flow, kind: str) -> dict[str, Any]:
        """The 社工办 holds a meeting (三会) for the flow's call, covering its project."""
        meeting: dict[str, Any] = await self.expect(
            "POST",
            f"{API}/calls/{flow.call['id']}/meetings",
            201,
            self.bureau,
            json=meeting_body(kind, project_ids=[flow.id]),
        )
        assert meeting["project_ids"] == [flow.id]
        return meeting

    async def submit_mid_term(self, flow: Flow) -> None:
        reports = await self.expect("GET", f"{flow.path}/progress-reports", 200, self.bureau)
        mid = next(r for r in reports if r["kind"] == "mid_term")
        await self.expect(
            "POST",
            f"{flow.path}/progress-reports/{mid['id']}/submission",
            200,
            self.org(flow.org_id),
            json={"content": "中期服务进展良好。"},
        )

    async def supervised(self, org_id: str | None = None, **contract: Any) -> Flow:
        flow = await self.implementing(org_id, **contract)
        await self.submit_mid_term(flow)
        await self.meeting(flow, "supervision_meeting")
        return flow

    async def evaluating(self, org_id: str | None = None, evaluators: int = 3) -> Flow:
        flow = await self.supervised(org_id)
        flow.evaluators = [f"evaluator-{uuid.uuid4().hex[:8]}" for _ in range(evaluators)]
        await self.expect(
            "POST",
            f"{flow.path}/evaluation",
            201,
            self.bureau,
            json={"evaluators": [{"sub": s, "name": f"专家{s[-4:]}"} for s in flow.evaluators]},
        )
        return flow

    def evaluator(self, sub: str) -> dict[str, str]:
        return self.auth("evaluator", sub=sub)

    async def score(self, flow: Flow, fractions: list[float], *, declare: bool = True) -> None:
        await self.submit_sheets(flow, [sheet(f) for f in fractions], declare=declare)

    async def submit_sheets(
        self, flow: Flow, sheets: list[dict[str, Any]], *, declare: bool = True
    ) -> None:
        """Each evaluator declares no conflict (unless told not to) and submits its sheet."""
        for sub, body in zip(flow.evaluators, sheets, strict=True):
            if declare:
                await self.expect(
                    "POST",
                    f"{flow.path}/evaluation/declaration",
                    200,
                    self.evaluator(sub),
                    json={"has_conflict": False, "statement": "本人与被评估机构无利害关系。"},
                )
            await self.expect(
                "POST",
                f"{flow.path}/evaluation/sheets",
                201,
                self.evaluator(sub),
                json=body,
            )

    async def evaluated(self, org_id: str | None = None, fraction: float = 0.9) -> Flow:
        flow = await self.evaluating(org_id)
        await self.score(flow, [fraction] * 3)
        await self.expect("POST", f"{flow.path}/evaluation/conclusion", 200, self.bureau)
        return flow

    async def closing(self, org_id: str | None = None) -> Flow:
        """Evaluated, every tranche paid, the briefing held, closure requested."""
        flow = await self.evaluated(org_id)
        for seq in (1, 2, 3):
            await self.pay(flow, seq)
        await self.request_closure(flow)
        return flow

    async def request_closure(
        self, flow: Flow, closure: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The evaluation briefing held, the organization requests closure (`closure`: the
        request's body, a short summary unless given): the project, now `closing`."""
        await self.meeting(flow, "evaluation_briefing")
        project: dict[str, Any] = await self.expect(
            "POST",
            f"{flow.path}/closure",
            200,
            self.org(flow.org_id),
            json=closure if closure is not None else {"summary": "完成"},
        )
        return project

    async def tranches(self, flow: Flow) -> list[dict[str, Any]]:
        contract = await self.expect("GET", f"{flow.path}/contract", 200, self.bureau)
        tranches: list[dict[str, Any]] = contract["tranches"]
        return tranches

    async def request_payment(self, flow: Flow, seq: int) -> dict[str, Any]:
        tranche = (await self.tranches(flow))[seq - 1]
        request: dict[str, Any] = await self.expect(
            "POST",
            f"{flow.path}/payment-requests",
            201,
            self.org(flow.org_id),
            json={"tranche_id": tranche["id"]},
        )
        return request

    async def pay(self, flow: Flow, seq: int) -> dict[str, Any]:
        request = await self.request_payment(flow, seq)
        response = await self.outcome("payment_request", "payment_request", request["id"])
        assert response.status_code == 200, response.text
        paid: dict[str, Any] = await self.expect(
            "POST",
            f"{flow.path}/payment-requests/{request['id']}/transfers",
            200,
            self.bureau,
            json={"result": "succeeded", "bank_reference": f"BANK-{uuid.uuid4().hex[:10]}"},
        )
        return paid


async def close(driver: Driver, flow: Flow) -> dict[str, Any]:
    project = await driver.request_closure(flow, {"summary": "项目全部完成。"})
    assert project["stage"] == "closing"
    response = await driver.outcome("project_closure", "project", flow.id)
    assert response.status_code == 200, response.text
    closed: dict[str, Any] = await driver.expect("GET", flow.path, 200, driver.bureau)
    return closed
