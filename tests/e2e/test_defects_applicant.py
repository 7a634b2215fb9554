"""The applicant's own hand on its registration, through the real processes.

A registration is filed at the civil-affairs window for promoters: the worker opens
its case from the registry's outbox and pre-checks it; the same window clerk answers
the one-time notice with its own civil_affairs token (no service token anywhere) and
the case goes on to joint review, where each reviewing department reads the
application it decides. Another registration is withdrawn by the applicant through
the registry: the worker withdraws its case and the `withdrawn` outcome comes back, so
that both sides end withdrawn. Every step is HTTP between real processes.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.steps import API, WITHIN, Auth, Http, approve_case, case_in, ok
from tests.factories import registered_org
from tests.support.polling import poll_sync
from tests.support.system import System
from tests.workflow.helpers import materials_for

REGISTRATION = "organization_registration"


def _file(registry: httpx.Client, window: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    application: dict[str, Any] = ok(
        registry.post(
            f"{API}/applications/registrations",
            json={
                "organization": proposal,
                "applicant_name": "发起人王五",
                "materials": materials_for(REGISTRATION, **kwargs),
            },
            headers=window,
        ),
        201,
    )
    return application


def _application_when(
    registry: httpx.Client, auth: Auth, application_id: str, state: str
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        body: dict[str, Any] = ok(
            registry.get(f"{API}/applications/{application_id}", headers=auth("auditor"))
        )
        return body if body["state"] == state else None

    result: dict[str, Any] = poll_sync(reached, within=WITHIN)
    return result


def test_the_window_answers_the_notice_and_the_case_goes_on(
    system: System, http: Http, auth: Auth
) -> None:
    registry, workflow = http("registry"), http("workflow")
    clerk = f"window-clerk-{uuid.uuid4().hex[:6]}"
    window = auth("civil_affairs", sub=clerk)
    application = _file(registry, window, leave_out=("articles", "capital_proof"))
    assert application["case_id"] is not None  # named at filing (no longer null)

    sent_back = case_in(workflow, auth, REGISTRATION, application["id"], "supplement_requested")
    assert sent_back["id"] == application["case_id"]
    assert {item["code"] for item in sent_back["supplement_notice"]} == {
        "articles",
        "capital_proof",
    }
    resubmitted = ok(
        workflow.post(
            f"{API}/cases/{sent_back['id']}/resubmissions",
            json={"command_id": str(uuid.uuid4()), "materials": materials_for(REGISTRATION)},
            headers=window,
        )
    )
    assert resubmitted["state"] == "resubmitted"

    case = case_in(workflow, auth, REGISTRATION, application["id"], "in_joint_review")
    resubmission = next(s for s in case["timeline"] if s["to_state"] == "resubmitted")
    assert (resubmission["actor"], resubmission["actor_role"]) == (clerk, "civil_affairs")
    # Each reviewing department reads the application it decides; another finds nothing.
    for task in case["tasks"]:
        reviewer = auth("department_reviewer", department=task["department"])
        read = ok(registry.get(f"{API}/applications/{application['id']}", headers=reviewer))
        assert read["proposal"]["name"] == application["proposal"]["name"]
        assert read["case_id"] == case["id"]
    stranger = registry.get(
        f"{API}/applications/{application['id']}",
        headers=auth("department_reviewer", department="tax"),
    )
    assert stranger.status_code == 404

    assert approve_case(workflow, auth, REGISTRATION, application["id"]) == case["id"]
    decided = _application_when(registry, auth, application["id"], "approved")
    assert decided["case_id"] == case["id"] and decided["organization_id"]


def test_the_applicant_withdraws_through_the_registry_and_both_sides_end_withdrawn(
    system: System, http: Http, auth: Auth
) -> None:
    registry, workflow = http("registry"), http("workflow")
    window = auth("civil_affairs")
    application = _file(registry, window)
    case = case_in(workflow, auth, REGISTRATION, application["id"], "in_joint_review")
    requested = ok(
        registry.post(
            f"{API}/applications/{application['id']}/withdrawal",
            json={"reason": "发起人决定暂缓成立"},
            headers=window,
        ),
        202,
    )
    assert requested["state"] == "pending" and requested["withdrawal_requested_at"]

    withdrawn = _application_when(registry, auth, application["id"], "withdrawn")
    assert (withdrawn["case_id"], withdrawn["outcome_reason"]) == (case["id"], "发起人决定暂缓成立")
    ended = ok(workflow.get(f"{API}/cases/{case['id']}", headers=auth("civil_affairs")))
    assert ended["state"] == "withdrawn"
    assert {t["state"] for t in ended["tasks"]} == {"cancelled"}
    assert ended["callback_delivered_at"] is not None


def test_a_withdrawal_right_after_filing_waits_for_its_case(
    system: System, http: Http, auth: Auth
) -> None:
    """The withdrawal may reach the worker before the case request: it waits, then applies."""
    registry, workflow = http("registry"), http("workflow")
    org = ok(
        registry.post(f"{API}/organizations", json=registered_org(), headers=auth("civil_affairs")),
        201,
    )
    applicant = auth("organization", org_id=org["id"])
    change = ok(
        registry.post(
            f"{API}/organizations/{org['id']}/change-applications",
            json={
                "changes": {"address": "长江中路2号"},
                "materials": materials_for("organization_change"),
            },
            headers=applicant,
        ),
        201,
    )
    ok(
        registry.post(f"{API}/applications/{change['id']}/withdrawal", json={}, headers=applicant),
        202,
    )
    withdrawn = _application_when(registry, auth, change["id"], "withdrawn")
    case = ok(workflow.get(f"{API}/cases/{withdrawn['case_id']}", headers=applicant))
    assert (case["state"], case["subject_id"]) == ("withdrawn", change["id"])
    unchanged = ok(registry.get(f"{API}/organizations/{org['id']}", headers=applicant))
    assert unchanged["address"] != "长江中路2号"
