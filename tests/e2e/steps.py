"""Steps of the system's journeys, over HTTP only, shared by the end-to-end tests.

Nothing is posted on the workflow's behalf: every approval is a case the worker opened
from an outbox event and pre-checked, decided by department reviewers over the
workflow API, and called back to its subject service by the worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from services.projects.evaluation.scheme import read_scheme_files
from tests.factories import application_body, call_body, contract_body, fund_body, meeting_body
from tests.factories import registered_org as registered_org_body
from tests.support.polling import poll, poll_sync
from tests.workflow.helpers import materials_for
from tests.workflow.sync.helpers import ReceiverProcess

API = "/api/v1"
Auth = Callable[..., dict[str, str]]
Http = Callable[[str], httpx.Client]
SCHEME = read_scheme_files()[0]
WITHIN = 60.0  # generous: two cores shared with other test runs


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def material(code: str) -> dict[str, str]:
    return {"code": code, "document_url": f"https://files.example.cn/{code}.pdf"}


def case_in(
    workflow: httpx.Client, auth: Auth, case_type: str, subject_id: str, state: str
) -> dict[str, Any]:
    """Wait until the one case of this subject is in `state`; returns it with tasks and trail."""
    reader = auth("civil_affairs")

    def reached() -> dict[str, Any] | None:
        page = ok(
            workflow.get(
                f"{API}/cases",
                params={"subject_id": subject_id, "case_type": case_type},
                headers=reader,
            )
        )
        items: list[dict[str, Any]] = page["items"]
        assert len(items) <= 1, f"one case per request, got {items}"
        return items[0] if items and items[0]["state"] == state else None

    case_id = poll_sync(reached, within=WITHIN)["id"]
    detail: dict[str, Any] = ok(workflow.get(f"{API}/cases/{case_id}", headers=reader))
    return detail


def approve_case(workflow: httpx.Client, auth: Auth, case_type: str, subject_id: str) -> str:
    """Wait for the worker to open and pre-check the case, then approve it department by
    department until the join rule decides it; returns the case id."""
    case = case_in(workflow, auth, case_type, subject_id, "in_joint_review")
    assert case["tasks"], "joint review opens one task per department"
    state = "in_joint_review"
    for task in case["tasks"]:
        reviewer = auth("department_reviewer", department=task["department"])
        state = ok(
            workflow.post(
                f"{API}/tasks/{task['id']}/approve",
                json={"command_id": str(uuid.uuid4()), "comment": "同意"},
                headers=reviewer,
            )
        )["state"]
        if state != "in_joint_review":
            break
    assert state == "approved"
    return str(case["id"])


def apply_for_change(
    registry: httpx.Client, org_id: str, applicant: dict[str, str]
) -> dict[str, Any]:
    """The organization applies to change its address, with every material the case needs."""
    return ok(  # type: ignore[no-any-return]
        registry.post(
            f"{API}/organizations/{org_id}/change-applications",
            json={
                "changes": {"address": "庐阳区长江中路99号"},
                "materials": materials_for("organization_change"),
            },
            headers=applicant,
        ),
        201,
    )


def register_organization(http: Http, auth: Auth) -> tuple[str, str]:
    """Registration from application to `active`: a material left out, so one supplement
    round (一次性告知) first, then every department's approval. Returns (org id, case id)."""
    registry, workflow = http("registry"), http("workflow")
    proposal = registered_org_body()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    application = ok(
        registry.post(
            f"{API}/applications/registrations",
            json={
                "organization": proposal,
                "applicant_name": "发起人王五",
                "materials": materials_for("organization_registration", leave_out=("articles",)),
            },
            headers=auth("civil_affairs"),
        ),
        201,
    )
    case_type = "organization_registration"
    sent_back = case_in(workflow, auth, case_type, application["id"], "supplement_requested")
    assert [item["code"] for item in sent_back["supplement_notice"]] == ["articles"]
    # The civil-affairs window resubmits for the promoters, who have no organization yet.
    ok(
        workflow.post(
            f"{API}/cases/{sent_back['id']}/resubmissions",
            json={"command_id": str(uuid.uuid4()), "materials": materials_for(case_type)},
            headers=auth("civil_affairs"),
        )
    )
    case = case_in(workflow, auth, case_type, application["id"], "in_joint_review")
    assert len({t["department"] for t in case["tasks"]}) >= 2, "a joint review"
    assert approve_case(workflow, auth, case_type, application["id"]) == case["id"]

    def decided() -> dict[str, Any] | None:
        body = ok(registry.get(f"{API}/applications/{application['id']}", headers=auth("service")))
        return body if body["state"] != "pending" else None

    decision = poll_sync(decided, within=WITHIN)
    assert decision["state"] == "approved", decision
    org = ok(
        registry.get(
            f"{API}/organizations/{decision['organization_id']}", headers=auth("civil_affairs")
        )
    )
    assert (org["status"], org["registration"], org["uscc"]) == (
        "active",
        "registered",
        decision["assigned_uscc"],
    )
    trail = ok(workflow.get(f"{API}/cases/{case['id']}", headers=auth("civil_affairs")))
    assert [step["to_state"] for step in trail["timeline"]] == [
        "submitted",
        "supplement_requested",
        "resubmitted",
        "accepted",
        "in_joint_review",
        "approved",
    ]
    assert {t["state"] for t in trail["tasks"]} == {"approved"}
    return str(org["id"]), str(case["id"])


def new_organization(http: Http, auth: Auth) -> str:
    """A registered, active organization entered by the bureau directly; returns its id."""
    created = ok(
        http("registry").post(
            f"{API}/organizations", json=registered_org_body(), headers=auth("civil_affairs")
        ),
        201,
    )
    return str(created["id"])


def inspect_annually(http: Http, auth: Auth, org_id: str) -> str:
    """Last year's annual inspection (年检): report, review case, conclusion. Returns the case."""
    registry, workflow = http("registry"), http("workflow")
    year = date.today().year - 1
    inspection = ok(
        registry.post(
            f"{API}/organizations/{org_id}/annual-inspections",
            json={"year": year, "materials": materials_for("annual_inspection")},
            headers=auth("organization", org_id=org_id),
        ),
        201,
    )
    ok(
        registry.put(
            f"{API}/organizations/{org_id}/annual-inspections/{year}/conclusion",
            json={"result": "pass", "party_building_ok": True, "financial_audit_ok": True},
            headers=auth("civil_affairs"),
        )
    )
    case_id = approve_case(workflow, auth, "annual_inspection", inspection["application_id"])

    def concluded() -> dict[str, Any] | None:
        listed = ok(
            registry.get(
                f"{API}/organizations/{org_id}/annual-inspections", headers=auth("auditor")
            )
        )
        done = [i for i in listed if i["year"] == year and i["state"] == "concluded"]
        return done[0] if done else None

    assert poll_sync(concluded, within=WITHIN)["result"] == "pass"
    return case_id


@dataclass
class Project:
    """One project of the organization, driven through 五统一 stage by stage over HTTP.

    Each step asserts what it did; `run_project_to_closure` takes all of them in order.
    """

    http: Http
    auth: Auth
    org_id: str
    id: str = ""
    call: dict[str, Any] = field(default_factory=dict)
    cases: list[str] = field(default_factory=list)  # every case it opened, in order

    @property
    def path(self) -> str:
        return f"{API}/projects/{self.id}"

    @property
    def projects(self) -> httpx.Client:
        return self.http("projects")

    @property
    def bureau(self) -> dict[str, str]:
        return self.auth("civil_affairs")

    @property
    def org(self) -> dict[str, str]:
        return self.auth("organization", org_id=self.org_id)

    def stage(self) -> str:
        return str(ok(self.projects.get(self.path, headers=self.bureau))["stage"])

    def wait_for_stage(self, stage: str) -> None:
        poll_sync(lambda: self.stage() == stage, within=WITHIN)

    def apply(self) -> Project:
        """统一申报: a fund, a call, the application decided by joint review."""
        fund = ok(self.projects.post(f"{API}/funds", json=fund_body(), headers=self.bureau), 201)
        self.call = ok(
            self.projects.post(f"{API}/calls", json=call_body(fund), headers=self.bureau), 201
        )
        project = ok(
            self.projects.post(
                f"{API}/calls/{self.call['id']}/applications",
                json=application_body(),
                headers=self.org,
            ),
            201,
        )
        self.id = project["id"]
        assert project["stage"] == "applied"
        self.cases.append(
            approve_case(self.http("workflow"), self.auth, "project_application", self.id)
        )
        self.wait_for_stage("approved")
        return self

    def open_procurement(self, method: str = "competitive_consultation") -> dict[str, Any]:
        """统一采购 opens (the price weighs 20 %, none for a single source)."""
        weight = 0 if method == "single_source" else 20
        return ok(  # type: ignore[no-any-return]
            self.projects.post(
                f"{self.path}/procurement",
                json={"method": method, "price_weight_pct": weight},
                headers=self.bureau,
            ),
            201,
        )

    def bid(self, bidder: str, price: int, technical: str) -> httpx.Response:
        """A bid of an organization of the register (the registry names the bidder)."""
        return self.projects.post(
            f"{self.path}/procurement/bids",
            json={"bidder_org_id": bidder, "price_fen": price, "technical_score": technical},
            headers=self.bureau,
        )

    def procure(self) -> None:
        """统一采购: competitive consultation, two bids, scored award, contract; then 立项
        after the press conference."""
        self.open_procurement()
        for bidder, price, technical in (
            (self.org_id, 19_000_000, "90"),
            (new_organization(self.http, self.auth), 17_000_000, "70"),
        ):
            ok(self.bid(bidder, price, technical), 201)
        ok(self.projects.post(f"{self.path}/procurement/award", headers=self.bureau))
        contract = ok(
            self.projects.post(f"{self.path}/contract", json=contract_body(), headers=self.bureau),
            201,
        )
        assert contract["amount_fen"] == 19_000_000
        self.meeting("press_conference")
        initiated = ok(self.projects.post(f"{self.path}/initiation", headers=self.bureau))
        assert initiated["stage"] == "implementing"

    def meeting(self, kind: str) -> None:
        """One of the three public meetings (三会), held by the 社工办 for the call's batch."""
        held = ok(
            self.projects.post(
                f"{API}/calls/{self.call['id']}/meetings",
                json=meeting_body(kind, project_ids=[self.id]),
                headers=self.bureau,
            ),
            201,
        )
        assert held["project_ids"] == [self.id]

    def pay(self, seq: int) -> str:
        """统一支付 of tranche `seq`: a payment-request case, then the transfer."""
        contract = ok(self.projects.get(f"{self.path}/contract", headers=self.bureau))
        tranche = contract["tranches"][seq - 1]
        materials = [material(c) for c in ("payment_application", "milestone_evidence", "invoice")]
        request = ok(
            self.projects.post(
                f"{self.path}/payment-requests",
                json={"tranche_id": tranche["id"], "materials": materials},
                headers=self.org,
            ),
            201,
        )
        self.cases.append(
            approve_case(self.http("workflow"), self.auth, "payment_request", request["id"])
        )

        def approved() -> bool:
            requests = ok(self.projects.get(f"{self.path}/payment-requests", headers=self.bureau))
            mine = next(r for r in requests if r["id"] == request["id"])
            return bool(mine["status"] == "approved")

        poll_sync(approved, within=WITHIN)
        paid = ok(
            self.projects.post(
                f"{self.path}/payment-requests/{request['id']}/transfers",
                json={"result": "succeeded", "bank_reference": f"BANK-{seq}"},
                headers=self.bureau,
            )
        )
        assert paid["status"] == "paid" and paid["amount_fen"] == tranche["amount_fen"]
        return str(request["id"])

    def submit_mid_term(self) -> str:
        """统一督导 begins with the mid-term report; returns its id."""
        reports = ok(self.projects.get(f"{self.path}/progress-reports", headers=self.bureau))
        mid = next(r for r in reports if r["kind"] == "mid_term")
        ok(
            self.projects.post(
                f"{self.path}/progress-reports/{mid['id']}/submission",
                json={"content": "中期服务进展良好。"},
                headers=self.org,
            )
        )
        return str(mid["id"])

    def rectify(self) -> str:
        """A supervision visit finds a problem; the organization answers; the bureau
        accepts. Returns the rectification's id."""
        visit = ok(
            self.projects.post(
                f"{self.path}/supervision-visits",
                json={
                    "visited_on": "2026-04-01",
                    "supervisor": "第三方督导",
                    "summary": "总体良好，个案记录需完善",
                    "findings": [
                        {
                            "finding": "个案记录不完整",
                            "severity": "minor",
                            "deadline_on": "2026-04-30",
                        }
                    ],
                },
                headers=self.bureau,
            ),
            201,
        )
        (item,) = visit["rectifications"]
        base = f"{self.path}/rectifications/{item['id']}"
        responded = self.projects.post(
            f"{base}/response",
            json={"response": "已补全个案记录"},
            headers={**self.org, "If-Match": f'"{item["version"]}"'},
        )
        assert ok(responded)["status"] == "responded"
        resolved = ok(
            self.projects.post(
                f"{base}/resolution",
                json={"accepted": True, "resolution": "整改到位"},
                headers={**self.bureau, "If-Match": responded.headers["ETag"]},
            )
        )
        assert resolved["status"] == "resolved"
        return str(item["id"])

    def start_evaluation(self, evaluators: list[str]) -> None:
        """统一评估 begins: the scheme frozen, the evaluators (token subjects) assigned."""
        ok(
            self.projects.post(
                f"{self.path}/evaluation",
                json={"evaluators": [{"sub": s, "name": f"专家{s[-4:]}"} for s in evaluators]},
                headers=self.bureau,
            ),
            201,
        )

    def score_and_conclude(self, evaluators: list[str]) -> None:
        """Each evaluator declares no conflict and scores 90 %; the bureau concludes."""
        points = {i.code: str(i.max_points * 9 // 10) for i in SCHEME.indicators}
        for sub in evaluators:
            evaluator = self.auth("evaluator", sub=sub)
            ok(
                self.projects.post(
                    f"{self.path}/evaluation/declaration",
                    json={"has_conflict": False, "statement": "本人与被评估机构无利害关系。"},
                    headers=evaluator,
                )
            )
            ok(
                self.projects.post(
                    f"{self.path}/evaluation/sheets",
                    json={"indicator_points": points, "adjustment_points": {}, "comments": "良好"},
                    headers=evaluator,
                ),
                201,
            )
        evaluation = ok(
            self.projects.post(f"{self.path}/evaluation/conclusion", headers=self.bureau)
        )
        assert evaluation["grade"] in {"excellent", "good", "pass"}
        assert len(evaluation["sheets"]) == len(evaluators)

    def close(self) -> None:
        """结项: the evaluation briefing, then the closure case."""
        self.meeting("evaluation_briefing")
        closing = ok(
            self.projects.post(
                f"{self.path}/closure",
                json={
                    "summary": "项目全部完成。",
                    "materials": [
                        material(c)
                        for c in ("final_report", "financial_statement", "evaluation_report")
                    ],
                },
                headers=self.org,
            )
        )
        assert closing["stage"] == "closing"
        self.cases.append(
            approve_case(self.http("workflow"), self.auth, "project_closure", self.id)
        )
        self.wait_for_stage("closed")

    def check_books(self) -> None:
        """Every stage was taken once, the workflow's decisions among them, and the money
        reconciles to the contract."""
        timeline = ok(self.projects.get(f"{self.path}/timeline", headers=self.bureau))
        moves = [(t["from_stage"], t["to_stage"]) for t in timeline if t["to_stage"]]
        assert moves == [
            (None, "applied"),
            ("applied", "approved"),
            ("approved", "procuring"),
            ("procuring", "contracted"),
            ("contracted", "implementing"),
            ("implementing", "evaluating"),
            ("evaluating", "evaluated"),
            ("evaluated", "closing"),
            ("closing", "closed"),
        ]
        workflow_moves = [t for t in timeline if t["actor_sub"] == "service:workflow"]
        assert {t["to_stage"] for t in workflow_moves} >= {"approved", "closed"}
        ledger = ok(self.projects.get(f"{self.path}/ledger", headers=self.bureau))
        assert ledger["paid_fen"] == ledger["contract_amount_fen"] == 19_000_000
        assert len(ledger["entries"]) == 3
        ocds = ok(self.projects.get(f"{self.path}/ocds", headers=self.auth("provincial_system")))
        assert ocds["releases"][-1]["tag"] == ["contractTermination"]


def run_project_to_closure(
    http: Http, auth: Auth, org_id: str, *, evaluators: int, rectification: bool
) -> Project:
    """The whole lifecycle, from call to closure, with its books checked at the end."""
    project = Project(http, auth, org_id).apply()
    project.procure()
    project.pay(1)
    project.submit_mid_term()
    if rectification:
        project.rectify()
    project.meeting("supervision_meeting")  # meets tranche 2
    project.pay(2)
    subs = [f"evaluator-{uuid.uuid4().hex[:8]}" for _ in range(evaluators)]
    project.start_evaluation(subs)
    project.score_and_conclude(subs)  # meets the last tranche
    project.pay(3)
    project.close()
    project.check_books()
    return project


# What the journey must have told the province, at the least.
JOURNEY_EVENT_TYPES = {
    "application.submitted",
    "application.decided",
    "organization.created",
    "case.submitted",
    "case.supplement_requested",
    "case.resubmitted",
    "case.accepted",
    "case.review_started",
    "task.decided",
    "case.decided",
    "inspection.submitted",
    "inspection.concluded",
    "fund.created",
    "call.published",
    "project.stage_changed",
    "procurement.awarded",
    "contract.signed",
    "meeting.recorded",
    "payment.requested",
    "payment.approved",
    "payment.paid",
    "progress_report.submitted",
    "rectification.opened",
    "rectification.resolved",
    "evaluation.started",
    "evaluation.concluded",
    "project.closed",
}


def read_feed(
    workflow: httpx.Client, auth: Auth, after: str | None
) -> tuple[list[Any], str | None]:
    """Every feed item after the cursor, and the cursor at the end."""
    items: list[Any] = []
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"after": after} if after else {})
        page = ok(workflow.get(f"{API}/events", params=params, headers=auth("provincial_system")))
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items, after


def assert_decided_once(workflow: httpx.Client, auth: Auth, cases: set[str]) -> None:
    """Each case was approved exactly once and its outcome delivered to its service."""
    for case_id in cases:
        trail = ok(workflow.get(f"{API}/cases/{case_id}", headers=auth("civil_affairs")))
        decided = [s for s in trail["timeline"] if s["to_state"] in {"approved", "rejected"}]
        assert [s["to_state"] for s in decided] == ["approved"], trail["timeline"]
        assert trail["callback_delivered_at"] is not None


async def province_caught_up(
    workflow: httpx.Client, auth: Auth, province: ReceiverProcess, path: str, start: str | None
) -> tuple[list[Any], list[dict[str, Any]]]:
    """The feed since `start` and what the province received, once it received all of it.

    The feed holds back an event while an older transaction is still open, so a prefix can
    look "caught up" too: wait for the journey's last kinds of event as well.
    """

    async def caught_up() -> tuple[list[Any], list[dict[str, Any]]] | None:
        fed, _ = read_feed(workflow, auth, start)
        received = await province.log(path)
        complete = {e["type"] for e in fed} >= JOURNEY_EVENT_TYPES
        ids = {e["webhook_id"] for e in received}
        return (fed, received) if complete and ids == {e["id"] for e in fed} else None

    return await poll(caught_up, within=WITHIN, every=0.2)
