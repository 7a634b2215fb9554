"""One project from call to closure through the real processes.

The registry, projects and workflow services run as uvicorn processes and the workflow
worker as an arq process (`tests/e2e/conftest.py`). Nothing is posted on the workflow's
behalf: each approval (application, three payment requests, closure) is a
`workflow.case_requested` event relayed from the projects outbox, opened and
pre-checked by the worker, reviewed by department reviewers over the workflow API, and
its outcome called back to the projects service by the worker. Eligibility is answered
by the real registry, which refuses an organization on the abnormal list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from services.projects.evaluation.scheme import read_scheme_files
from tests.e2e.conftest import System, poll_sync
from tests.factories import (
    application_body,
    call_body,
    contract_body,
    fund_body,
    meeting_body,
    registered_org,
)

API = "/api/v1"
Auth = Callable[..., dict[str, str]]
SCHEME = read_scheme_files()[0]
WITHIN = 60.0  # generous: two cores shared with other test runs


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def material(code: str) -> dict[str, str]:
    return {"code": code, "document_url": f"https://files.example.cn/{code}.pdf"}


def approve_case(workflow: httpx.Client, auth: Auth, case_type: str, subject_id: str) -> str:
    """Wait for the worker to open and pre-check the case, then approve it department by
    department until the join rule decides it; returns the case id."""
    reader = auth("civil_affairs")

    def in_review() -> dict[str, Any] | None:
        page = ok(
            workflow.get(
                f"{API}/cases",
                params={"subject_id": subject_id, "case_type": case_type},
                headers=reader,
            )
        )
        items: list[dict[str, Any]] = page["items"]
        assert len(items) <= 1, f"one case per request, got {items}"
        return items[0] if items and items[0]["state"] == "in_joint_review" else None

    case_id = str(poll_sync(in_review, within=WITHIN)["id"])
    tasks = ok(workflow.get(f"{API}/cases/{case_id}", headers=reader))["tasks"]
    assert tasks, "joint review opens one task per department"
    state = "in_joint_review"
    for task in tasks:
        reviewer = auth("department_reviewer", department=task["department"])
        ok(
            workflow.post(
                f"{API}/tasks/{task['id']}/approve",
                json={"command_id": str(uuid.uuid4()), "comment": "同意"},
                headers=reviewer,
            )
        )
        state = ok(workflow.get(f"{API}/cases/{case_id}", headers=reader))["state"]
        if state != "in_joint_review":
            break
    assert state == "approved"
    return case_id


def test_a_project_from_call_to_closure_across_the_services_and_the_worker(
    system: System, http: Callable[[str], httpx.Client], auth: Auth
) -> None:
    registry, projects, workflow = http("registry"), http("projects"), http("workflow")
    bureau = auth("civil_affairs")

    # The register: one active organization, one on the abnormal list.
    org_id = ok(registry.post(f"{API}/organizations", json=registered_org(), headers=bureau), 201)[
        "id"
    ]
    abnormal_id = ok(
        registry.post(f"{API}/organizations", json=registered_org(), headers=bureau), 201
    )["id"]
    ok(
        registry.post(
            f"{API}/organizations/{abnormal_id}/status",
            json={"status": "abnormal", "reason": "失联", "reason_code": "unreachable_at_address"},
            headers=bureau,
        )
    )
    org = auth("organization", org_id=org_id)

    # Fund, call; the abnormal organization is refused by the registry's answer.
    fund = ok(projects.post(f"{API}/funds", json=fund_body(), headers=bureau), 201)
    call = ok(projects.post(f"{API}/calls", json=call_body(fund), headers=bureau), 201)
    refused = projects.post(
        f"{API}/calls/{call['id']}/applications",
        json=application_body(),
        headers=auth("organization", org_id=abnormal_id),
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "organization_ineligible")
    assert [e["code"] for e in refused.json()["errors"]] == ["status_abnormal"]
    listed = ok(projects.get(f"{API}/projects", headers=auth("organization", org_id=abnormal_id)))
    assert listed["total"] == 0

    # 统一申报: the application is a workflow case decided by joint review.
    project = ok(
        projects.post(
            f"{API}/calls/{call['id']}/applications", json=application_body(), headers=org
        ),
        201,
    )
    path = f"{API}/projects/{project['id']}"
    assert project["stage"] == "applied"

    def stage_is(stage: str) -> Callable[[], bool]:
        return lambda: ok(projects.get(path, headers=bureau))["stage"] == stage

    application_case = approve_case(workflow, auth, "project_application", project["id"])
    poll_sync(stage_is("approved"), within=WITHIN)

    # 统一采购: competitive consultation, two bids, scored award, contract.
    ok(
        projects.post(
            f"{path}/procurement",
            json={"method": "competitive_consultation", "price_weight_pct": 20},
            headers=bureau,
        ),
        201,
    )
    for bidder, price, technical in (
        (org_id, 19_000_000, "90"),
        (str(uuid.uuid4()), 17_000_000, "70"),
    ):
        ok(
            projects.post(
                f"{path}/procurement/bids",
                json={
                    "bidder_org_id": bidder,
                    "bidder_name": f"投标机构{bidder[:4]}",
                    "price_fen": price,
                    "technical_score": technical,
                },
                headers=bureau,
            ),
            201,
        )
    ok(projects.post(f"{path}/procurement/award", headers=bureau))
    contract = ok(projects.post(f"{path}/contract", json=contract_body(), headers=bureau), 201)
    assert contract["amount_fen"] == 19_000_000

    # 立项 after the press conference.
    ok(
        projects.post(f"{path}/meetings", json=meeting_body("press_conference"), headers=bureau),
        201,
    )
    assert ok(projects.post(f"{path}/initiation", headers=bureau))["stage"] == "implementing"

    # 统一支付: each tranche is a payment-request case, then a transfer.
    payment_materials = [
        material(c) for c in ("payment_application", "milestone_evidence", "invoice")
    ]

    def pay(seq: int) -> str:
        tranche = ok(projects.get(f"{path}/contract", headers=bureau))["tranches"][seq - 1]
        request = ok(
            projects.post(
                f"{path}/payment-requests",
                json={"tranche_id": tranche["id"], "materials": payment_materials},
                headers=org,
            ),
            201,
        )
        case_id = approve_case(workflow, auth, "payment_request", request["id"])

        def approved() -> bool:
            requests = ok(projects.get(f"{path}/payment-requests", headers=bureau))
            mine = next(r for r in requests if r["id"] == request["id"])
            return bool(mine["status"] == "approved")

        poll_sync(approved, within=WITHIN)
        paid = ok(
            projects.post(
                f"{path}/payment-requests/{request['id']}/transfers",
                json={"result": "succeeded", "bank_reference": f"BANK-{seq}"},
                headers=bureau,
            )
        )
        assert paid["status"] == "paid" and paid["amount_fen"] == tranche["amount_fen"]
        return case_id

    payment_cases = [pay(1)]

    # 统一督导: the mid-term report, then the supervision meeting meets tranche 2.
    reports = ok(projects.get(f"{path}/progress-reports", headers=bureau))
    mid = next(r for r in reports if r["kind"] == "mid_term")
    ok(
        projects.post(
            f"{path}/progress-reports/{mid['id']}/submission",
            json={"content": "中期服务进展良好。"},
            headers=org,
        )
    )
    ok(
        projects.post(f"{path}/meetings", json=meeting_body("supervision_meeting"), headers=bureau),
        201,
    )
    payment_cases.append(pay(2))

    # 统一评估: three evaluators declare and score; the conclusion meets the last tranche.
    evaluators = [f"evaluator-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    ok(
        projects.post(
            f"{path}/evaluation",
            json={"evaluators": [{"sub": s, "name": f"专家{s[-4:]}"} for s in evaluators]},
            headers=bureau,
        ),
        201,
    )
    points = {i.code: str(i.max_points * 9 // 10) for i in SCHEME.indicators}
    for sub in evaluators:
        evaluator = auth("evaluator", sub=sub)
        ok(
            projects.post(
                f"{path}/evaluation/declaration",
                json={"has_conflict": False, "statement": "本人与被评估机构无利害关系。"},
                headers=evaluator,
            )
        )
        ok(
            projects.post(
                f"{path}/evaluation/sheets",
                json={"indicator_points": points, "adjustment_points": {}, "comments": "良好"},
                headers=evaluator,
            ),
            201,
        )
    evaluation = ok(projects.post(f"{path}/evaluation/conclusion", headers=bureau))
    assert evaluation["grade"] in {"excellent", "good", "pass"}
    payment_cases.append(pay(3))

    # 结项: the evaluation briefing, reconciled money, and the closure case.
    ok(
        projects.post(f"{path}/meetings", json=meeting_body("evaluation_briefing"), headers=bureau),
        201,
    )
    closing = ok(
        projects.post(
            f"{path}/closure",
            json={
                "summary": "项目全部完成。",
                "materials": [
                    material(c)
                    for c in ("final_report", "financial_statement", "evaluation_report")
                ],
            },
            headers=org,
        )
    )
    assert closing["stage"] == "closing"
    closure_case = approve_case(workflow, auth, "project_closure", project["id"])
    poll_sync(stage_is("closed"), within=WITHIN)

    # Every decision came back from the workflow, once, and the books balance.
    cases = ok(
        workflow.get(
            f"{API}/cases", params={"applicant_org_id": org_id, "page_size": 50}, headers=bureau
        )
    )["items"]
    assert sorted(c["id"] for c in cases) == sorted(
        [application_case, *payment_cases, closure_case]
    )
    assert {c["state"] for c in cases} == {"approved"}
    timeline = ok(projects.get(f"{path}/timeline", headers=bureau))
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
    ledger = ok(projects.get(f"{path}/ledger", headers=bureau))
    assert ledger["paid_fen"] == ledger["contract_amount_fen"] == 19_000_000
    assert len(ledger["entries"]) == 3
    releases = ok(projects.get(f"{path}/ocds", headers=auth("provincial_system")))["releases"]
    assert releases[-1]["tag"] == ["implementation"]
