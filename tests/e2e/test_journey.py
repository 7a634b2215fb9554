"""The whole journey through the real processes, watched by the province.

Over HTTP only: an organization's registration from application to `active` (one
supplement round, then a joint review by several departments), its annual inspection,
and a project from call through procurement, payments, supervision with a
rectification and an SPPE evaluation, to closure (three evaluators: the shipped scheme,
sppe.v1, sets `min_evaluators: 3`). A provincial subscriber of its own process
(verifying with the `standardwebhooks` package alone) must then hold every public event
the journey produced, signed, exactly once per id, and each equal to what the pull feed
serves.
"""

from __future__ import annotations

import uuid
from collections import Counter

from tests.e2e.steps import (
    API,
    JOURNEY_EVENT_TYPES,
    Auth,
    Http,
    assert_decided_once,
    inspect_annually,
    ok,
    province_caught_up,
    read_feed,
    register_organization,
    run_project_to_closure,
)
from tests.support.system import System
from tests.workflow.sync.helpers import ReceiverProcess


async def test_registration_inspection_and_a_project_reach_the_province_once_each(
    system: System, http: Http, auth: Auth, province: ReceiverProcess
) -> None:
    workflow = http("workflow")
    # One provincial system throughout: endpoints are visible to their owner only.
    province_token = auth("provincial_system", sub=f"province-{uuid.uuid4().hex[:6]}")
    path = f"/province/{uuid.uuid4().hex[:8]}"
    endpoint = ok(
        workflow.post(
            f"{API}/webhooks/endpoints",
            json={"url": f"{province.url}{path}", "event_types": []},  # every public type
            headers=province_token,
        ),
        201,
    )
    await province.verify_with(path, ours=endpoint["secret"])
    _, start = read_feed(workflow, auth, None)

    org_id, registration_case = register_organization(http, auth)
    inspection_case = inspect_annually(http, auth, org_id)
    project = run_project_to_closure(http, auth, org_id, evaluators=3, rectification=True)

    # Every case the journey opened is decided, once each.
    cases = {registration_case, inspection_case, *project.cases}
    assert len(cases) == 7
    assert_decided_once(workflow, auth, cases)

    # The province holds exactly the feed since it subscribed: each event once, signed.
    fed, received = await province_caught_up(workflow, auth, province, path, start)
    counts = Counter(e["webhook_id"] for e in received)
    assert [i for i, n in counts.items() if n != 1] == []
    assert all(e["verified"] == {"ours": True} for e in received)
    by_id = {e["id"]: e for e in fed}
    assert all(e["payload"] == by_id[e["webhook_id"]] for e in received)
    assert JOURNEY_EVENT_TYPES - {e["type"] for e in fed} == set()
    subjects = {e["subject"]["id"] for e in fed}
    assert {org_id, project.id, *cases} <= subjects
    # The sender's side agrees: one delivery per event, each taking a single attempt.
    deliveries = ok(
        workflow.get(
            f"{API}/webhooks/endpoints/{endpoint['id']}/deliveries",
            params={"page_size": 200},
            headers=province_token,
        )
    )["items"]
    ours = [d for d in deliveries if d["event_id"] in by_id]
    assert sorted(d["event_id"] for d in ours) == sorted(by_id)
    assert {(d["status"], d["attempt_count"]) for d in ours} == {("succeeded", 1)}
