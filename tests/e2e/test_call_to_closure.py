"""One project from call to closure through the real processes.

The registry, projects and workflow services run as uvicorn processes and the workflow
worker as an arq process (`tests/e2e/conftest.py`). Nothing is posted on the workflow's
behalf: each approval (application, three payment requests, closure) is a
`workflow.case_requested` event relayed from the projects outbox, opened and
pre-checked by the worker, reviewed by department reviewers over the workflow API, and
its outcome called back to the projects service by the worker (`tests/e2e/steps.py`).
Eligibility is answered by the real registry, which refuses an organization on the
abnormal list.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.e2e.steps import API, Auth, ok, run_project_to_closure
from tests.factories import application_body, call_body, fund_body, registered_org
from tests.support.system import System


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

    # The abnormal organization is refused by the registry's answer, and nothing is made.
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

    run = run_project_to_closure(http, auth, org_id, evaluators=3, rectification=False)

    # One case per decision (application, three tranches, closure), all approved.
    cases = ok(
        workflow.get(
            f"{API}/cases", params={"applicant_org_id": org_id, "page_size": 50}, headers=bureau
        )
    )["items"]
    assert sorted(c["id"] for c in cases) == sorted(run.cases)
    assert len(run.cases) == 5
    assert {c["state"] for c in cases} == {"approved"}
