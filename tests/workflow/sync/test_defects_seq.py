"""A subject's published `seq` runs 1, 2, 3… without a gap, in the feed and in webhooks.

The services also write internal commands (`workflow.case_requested`) to their outbox;
those never leave us, so they must not take a number in the subject's sequence: a
provincial consumer following the sync README ("a gap means an event is still on its
way, or you missed one") would otherwise wait for, or refetch after, an event that never
comes. Here the services' outbox rows go through the real `events.dispatch` (inbox
claim, case opening, feed and fan-out), then a provincial system reads the feed over
HTTP and a receiver on loopback gets the signed webhooks.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, select

from services.projects.base import infra as projects_infra
from services.registry.models import infra as registry_infra
from services.workflow.jobs import dispatch_event
from services.workflow.models import ApprovalCase
from services.workflow.sync.catalogue import catalogue
from shared.db import database
from shared.outbox import envelope_of
from tests.factories import application_body, call_body, fund_body, registered_org
from tests.support.polling import poll
from tests.support.receiver import Receiver
from tests.workflow.helpers import materials_for
from tests.workflow.sync.helpers import DeliverPass, FakeClock, register

# The projects app asks a stand-in registry for eligibility (tests/projects/conftest.py).


@pytest.fixture(autouse=True)
def registry_client(stand_in_registry_client: object) -> object:
    """The projects app asks the stand-in registry (tests/support/registry.py)."""
    return stand_in_registry_client


API = "/api/v1"


async def _dispatch(outbox: Table, source: str, *subject_ids: str) -> None:
    """Run every outbox event of these subjects through the real `events.dispatch`,
    in the order they were written (a repeat is a duplicate the inbox drops)."""
    async with database.transaction() as session:
        rows = (
            await session.execute(
                select(outbox)
                .where(outbox.c.subject_id.in_(subject_ids))
                .order_by(outbox.c.position)
            )
        ).all()
    for row in rows:
        await dispatch_event({}, envelope_of(row, source).model_dump(mode="json"))


async def _case_of(subject_id: str) -> ApprovalCase:
    async with database.transaction() as session:
        case = (
            await session.execute(select(ApprovalCase).where(ApprovalCase.subject_id == subject_id))
        ).scalar_one()
        return case


def _outcome(case: ApprovalCase) -> dict[str, Any]:
    """The `CaseOutcome` the workflow's callback posts once the case is approved."""
    return {
        "case_id": str(case.id),
        "case_type": case.case_type,
        "subject_type": case.subject_type,
        "subject_id": case.subject_id,
        "outcome": "approved",
        "reason": None,
        "decided_at": datetime.now(UTC).isoformat(),
        "definition_version": case.definition_version,
    }


async def _fed(
    workflow: httpx.AsyncClient, reader: dict[str, str], expected: dict[str, int]
) -> dict[str, list[tuple[int, str]]]:
    """Per subject id, the (seq, type) the feed serves, once it serves `expected` counts."""

    async def complete() -> dict[str, list[tuple[int, str]]] | None:
        found: dict[str, list[tuple[int, str]]] = defaultdict(list)
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500} | ({"after": after} if after else {})
            page = await workflow.get(f"{API}/events", params=params, headers=reader)
            assert page.status_code == 200, page.text
            body = page.json()
            for item in body["items"]:
                if item["subject"]["id"] in expected:
                    found[item["subject"]["id"]].append((item["subject"]["seq"], item["type"]))
            after = body["next_cursor"]
            if not body["has_more"]:
                break
        done = all(len(found[subject]) >= n for subject, n in expected.items())
        return dict(found) if done else None

    result: dict[str, list[tuple[int, str]]] = await poll(complete, within=20)
    return result


async def _province(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]], url: str, event_types: list[str]
) -> dict[str, str]:
    """A provincial system of its own with a webhook subscription to `url`: its headers."""
    province = auth("provincial_system", sub=f"anhui-{uuid.uuid4().hex[:6]}")
    await register(api, province, url, event_types=event_types)
    return province


async def _approve(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], subject_id: str
) -> httpx.Response:
    """The workflow's callback approving the case of this subject, posted to its service."""
    return await client.post(
        f"{API}/internal/case-outcomes",
        json=_outcome(await _case_of(subject_id)),
        headers=auth("service"),
    )


async def _delivered(
    receiver: Receiver, path: str, sync_settings: Any, clock: FakeClock, subject_ids: set[str]
) -> dict[str, list[int]]:
    """Per subject id, the seqs the receiver got by webhook after one delivery pass (each
    message once)."""
    deliver = DeliverPass(sync_settings, clock)
    try:
        await deliver()
    finally:
        await deliver.aclose()
    seqs: dict[str, set[int]] = defaultdict(set)
    for request in receiver.to(path):
        subject = json.loads(request.body)["subject"]
        if subject["id"] in subject_ids:
            seqs[subject["id"]].add(subject["seq"])
    return {subject: sorted(numbers) for subject, numbers in seqs.items()}


def test_the_outbox_and_the_catalogue_agree_on_what_is_internal() -> None:
    from shared.interservice import INTERNAL_EVENT_TYPES

    assert {event.name for event in catalogue().outbound.values() if event.internal} == set(
        INTERNAL_EVENT_TYPES
    )


async def test_an_application_and_its_organization_are_numbered_from_1_without_gaps(
    registry: httpx.AsyncClient,
    workflow: httpx.AsyncClient,
    api: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: Any,
) -> None:
    province = await _province(api, auth, f"{receiver.url}/province", event_types=[])
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    filed = await registry.post(
        f"{API}/applications/registrations",
        json={
            "organization": proposal,
            "applicant_name": "发起人王五",
            "materials": materials_for("organization_registration"),
        },
        headers=auth("civil_affairs"),
    )
    assert filed.status_code == 201, filed.text
    application_id = filed.json()["id"]
    await _dispatch(registry_infra.outbox, "registry", application_id)

    decided = await _approve(registry, auth, application_id)
    assert decided.status_code == 200, decided.text
    org_id = decided.json()["organization_id"]
    await _dispatch(registry_infra.outbox, "registry", application_id, org_id)

    fed = await _fed(workflow, province, {application_id: 2, org_id: 1})
    assert fed[application_id] == [(1, "application.submitted"), (2, "application.decided")]
    org_seqs = [seq for seq, _ in fed[org_id]]
    assert org_seqs == list(range(1, len(org_seqs) + 1))

    sent = await _delivered(receiver, "/province", sync_settings, clock, {application_id, org_id})
    assert sent[application_id] == [1, 2]
    assert sent[org_id] == org_seqs


async def test_a_project_is_numbered_from_1_without_gaps_across_its_case_requests(
    projects: httpx.AsyncClient,
    workflow: httpx.AsyncClient,
    api: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: Any,
) -> None:
    province = await _province(api, auth, f"{receiver.url}/projects", event_types=["project.*"])
    bureau = auth("civil_affairs")
    fund = await projects.post(f"{API}/funds", json=fund_body(), headers=bureau)
    assert fund.status_code == 201, fund.text
    call = await projects.post(f"{API}/calls", json=call_body(fund.json()), headers=bureau)
    assert call.status_code == 201, call.text
    org_id = str(uuid.uuid4())
    applied = await projects.post(
        f"{API}/calls/{call.json()['id']}/applications",
        json=application_body(),
        headers=auth("organization", org_id=org_id),
    )
    assert applied.status_code == 201, applied.text
    project_id = applied.json()["id"]
    await _dispatch(projects_infra.outbox, "projects", project_id)

    decided = await _approve(projects, auth, project_id)
    assert decided.status_code == 200, decided.text
    await _dispatch(projects_infra.outbox, "projects", project_id)

    fed = await _fed(workflow, province, {project_id: 2})
    assert fed[project_id] == [(1, "project.stage_changed"), (2, "project.stage_changed")]

    sent = await _delivered(receiver, "/projects", sync_settings, clock, {project_id})
    assert sent[project_id] == [1, 2]
