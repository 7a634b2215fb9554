"""Gap-free published sequences and real-department routing, in the deployed system.

Real processes only (three uvicorn services, the arq worker) and a provincial subscriber
of its own process that verifies every message with the `standardwebhooks` package.

- A subject's `seq` as the province sees it, by webhook and in the pull feed, is 1, 2,
  3… with no gap: internal commands (`workflow.case_requested`) take no number.
- A project application's review task goes to the department that published the call
  (here the women's federation): its reviewer finds it in the inbox, with no filter,
  and decides it; a reviewer of another department never sees it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import httpx

from tests.e2e.steps import API, WITHIN, Auth, Http, approve_case, case_in, ok
from tests.factories import application_body, call_body, fund_body, registered_org
from tests.support.polling import poll, poll_sync
from tests.support.system import System
from tests.workflow.helpers import materials_for
from tests.workflow.sync.helpers import ReceiverProcess


async def _subscribe(http: Http, auth: Auth, province: ReceiverProcess) -> str:
    """A provincial system registers an endpoint for every public type; returns its path."""
    path = f"/province/{uuid.uuid4().hex[:8]}"
    endpoint = ok(
        http("workflow").post(
            f"{API}/webhooks/endpoints",
            json={"url": f"{province.url}{path}", "event_types": []},
            headers=auth("provincial_system", sub=f"province-{uuid.uuid4().hex[:6]}"),
        ),
        201,
    )
    await province.verify_with(path, ours=endpoint["secret"])
    return path


def _fed(workflow: httpx.Client, auth: Auth, subjects: set[str]) -> dict[str, list[Any]]:
    """Per subject, the (seq, type) of its events in the whole feed, in feed order."""
    found: dict[str, list[Any]] = defaultdict(list)
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500} | ({"after": after} if after else {})
        page = ok(workflow.get(f"{API}/events", params=params, headers=auth("provincial_system")))
        for item in page["items"]:
            if item["subject"]["id"] in subjects:
                found[item["subject"]["id"]].append((item["subject"]["seq"], item["type"]))
        after = page["next_cursor"]
        if not page["has_more"]:
            return found


def _fed_once(
    workflow: httpx.Client, auth: Auth, last_types: dict[str, str]
) -> dict[str, list[Any]]:
    """The feed's events of these subjects, once each subject's `last_types` is in."""

    def complete() -> dict[str, list[Any]] | None:
        found = _fed(workflow, auth, set(last_types))
        done = all(last in {t for _, t in found[s]} for s, last in last_types.items())
        return found if done else None

    result: dict[str, list[Any]] = poll_sync(complete, within=WITHIN)
    return result


async def _webhooks(
    province: ReceiverProcess, path: str, expected: dict[str, list[int]]
) -> dict[str, list[int]]:
    """Per subject, the seqs the province received by webhook (once it has them all)."""

    async def arrived() -> dict[str, list[int]] | None:
        seqs: dict[str, list[int]] = defaultdict(list)
        for entry in await province.log(path):
            assert entry["verified"] == {"ours": True}
            subject = entry["payload"]["subject"]
            if subject["id"] in expected:
                seqs[subject["id"]].append(subject["seq"])
        got = {s: sorted(set(numbers)) for s, numbers in seqs.items()}
        return got if all(got.get(s) == n for s, n in expected.items()) else None

    result: dict[str, list[int]] = await poll(arrived, within=WITHIN, every=0.2)
    return result


def _gap_free(events: list[Any]) -> list[int]:
    seqs = sorted(seq for seq, _ in events)
    assert seqs == list(range(1, len(seqs) + 1)), events
    return seqs


async def test_a_registration_application_reaches_the_province_numbered_1_2_3(
    system: System, http: Http, auth: Auth, province: ReceiverProcess
) -> None:
    registry, workflow = http("registry"), http("workflow")
    path = await _subscribe(http, auth, province)
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    application = ok(
        registry.post(
            f"{API}/applications/registrations",
            json={
                "organization": proposal,
                "applicant_name": "发起人王五",
                "materials": materials_for("organization_registration"),
            },
            headers=auth("civil_affairs"),
        ),
        201,
    )
    approve_case(workflow, auth, "organization_registration", application["id"])

    def decided() -> dict[str, Any] | None:
        body = ok(registry.get(f"{API}/applications/{application['id']}", headers=auth("auditor")))
        return body if body["state"] == "approved" else None

    org_id = poll_sync(decided, within=WITHIN)["organization_id"]

    fed = _fed_once(
        workflow,
        auth,
        {application["id"]: "application.decided", org_id: "organization.created"},
    )
    assert fed[application["id"]][:1] == [(1, "application.submitted")]
    expected = {subject: _gap_free(events) for subject, events in fed.items()}
    assert expected[application["id"]][-1] >= 2
    # The same numbers by webhook, each message verified with the province's secret.
    assert await _webhooks(province, path, expected) == expected


async def test_a_women_federation_call_is_reviewed_by_the_women_federation(
    system: System, http: Http, auth: Auth, province: ReceiverProcess
) -> None:
    registry, projects, workflow = http("registry"), http("projects"), http("workflow")
    path = await _subscribe(http, auth, province)
    bureau = auth("civil_affairs")
    org_id = ok(registry.post(f"{API}/organizations", json=registered_org(), headers=bureau), 201)[
        "id"
    ]
    fund = ok(projects.post(f"{API}/funds", json=fund_body(), headers=bureau), 201)
    call = ok(
        projects.post(
            f"{API}/calls", json=call_body(fund, department="women_federation"), headers=bureau
        ),
        201,
    )
    project = ok(
        projects.post(
            f"{API}/calls/{call['id']}/applications",
            json=application_body(),
            headers=auth("organization", org_id=org_id),
        ),
        201,
    )
    case = case_in(workflow, auth, "project_application", project["id"], "in_joint_review")
    assert sorted(t["department"] for t in case["tasks"]) == [
        "civil_affairs_projects",
        "finance",
        "women_federation",
    ]

    def inbox(department: str) -> list[dict[str, Any]]:
        """What the department's reviewer sees in the task inbox, without a filter."""
        reviewer = auth("department_reviewer", department=department)
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = ok(
                workflow.get(
                    f"{API}/tasks", params={"page": page, "page_size": 100}, headers=reviewer
                )
            )
            items += body["items"]
            if page * 100 >= body["total"]:
                return [t for t in items if t["case_id"] == case["id"]]
            page += 1

    (task,) = inbox("women_federation")
    assert task["department"] == "women_federation" and task["state"] == "open"
    assert inbox("education") == []
    outsider = workflow.post(
        f"{API}/tasks/{task['id']}/approve",
        json={"command_id": str(uuid.uuid4()), "comment": "越权审批"},
        headers=auth("department_reviewer", department="education"),
    )
    assert outsider.status_code == 404, outsider.text

    for department in ("women_federation", "civil_affairs_projects"):  # two of three
        (mine,) = inbox(department)
        state = ok(
            workflow.post(
                f"{API}/tasks/{mine['id']}/approve",
                json={"command_id": str(uuid.uuid4()), "comment": "同意"},
                headers=auth("department_reviewer", department=department),
            )
        )["state"]
    assert state == "approved"
    trail = ok(workflow.get(f"{API}/cases/{case['id']}", headers=bureau))
    decided_by = {t["department"]: t["state"] for t in trail["tasks"]}
    assert decided_by["women_federation"] == "approved"

    def approved() -> bool:
        body = ok(projects.get(f"{API}/projects/{project['id']}", headers=bureau))
        return bool(body["stage"] == "approved")

    poll_sync(approved, within=WITHIN)

    # The project's own events, across its internal case request, are numbered 1, 2.
    def both_moves() -> dict[str, list[Any]] | None:
        found = _fed(workflow, auth, {project["id"]})
        return found if len(found[project["id"]]) >= 2 else None

    fed = poll_sync(both_moves, within=WITHIN)
    assert fed[project["id"]] == [(1, "project.stage_changed"), (2, "project.stage_changed")]
    assert await _webhooks(province, path, {project["id"]: [1, 2]}) == {project["id"]: [1, 2]}
