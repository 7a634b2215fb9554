"""Item 13 through the real processes: OCDS releases are published, never rewritten.

Over HTTP only, a project of an organization of the register goes from its application
(decided by the workflow) through procurement, an amendment of its contract's amount
and end date, payments, supervision and the SPPE evaluation to its closure (decided by
the workflow too). Its OCDS record must then hold one release per change — distinct ids
and dates, the releases published before the amendment exactly as they were — and a
compiled release with the amended value; the auditors' bulk feed lists every release;
the organization is identified by its USCC (`CN-USCC`); every date is in Shanghai time.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs

from services.projects.ocds.schema import patched_release_schema
from tests.e2e.steps import API, WITHIN, Auth, Http, Project, new_organization, ok
from tests.support.polling import poll_sync
from tests.support.system import System

SHANGHAI_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+08:00$")
DATE_KEYS = {"date", "startDate", "endDate", "dateSigned", "dueDate", "dateMet", "dateConcluded"}


def _dates(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in ([item] if key in DATE_KEYS and isinstance(item, str) else _dates(item))
        ]
    if isinstance(value, list):
        return [found for item in value for found in _dates(item)]
    return []


def _contract(release: dict[str, Any]) -> dict[str, Any]:
    (contract,) = release["contracts"]
    return dict(contract)


def _amend(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    """The purchasing side proposes, the bureau approves against the contract's ETag."""
    amendment = ok(
        project.projects.post(
            f"{project.path}/contract/amendments", json=body, headers=project.bureau
        ),
        201,
    )
    etag = project.projects.get(f"{project.path}/contract", headers=project.bureau).headers["ETag"]
    return ok(  # type: ignore[no-any-return]
        project.projects.post(
            f"{project.path}/contract/amendments/{amendment['id']}/approve",
            json={"note": "同意"},
            headers={**project.bureau, "If-Match": etag},
        )
    )


def _feed(project: Project, auditor: dict[str, str], since: str) -> list[dict[str, Any]]:
    """Every release of the bulk feed since `since`, following `links.next` to the end."""
    releases: list[dict[str, Any]] = []
    page = ok(
        project.projects.get(
            f"{API}/ocds/releases", params={"since": since, "limit": 3}, headers=auditor
        )
    )
    while True:
        assert page["version"] == "1.1" and page["publisher"]["name"]
        assert SHANGHAI_MOMENT.match(page["publishedDate"]) and page["uri"].startswith("http")
        if not page["releases"]:
            return releases
        assert len(page["releases"]) <= 3
        releases += page["releases"]
        page = ok(project.projects.get(page["links"]["next"], headers=auditor))


def test_a_project_through_amendment_and_closure_keeps_every_release_as_published(
    system: System, http: Http, auth: Auth
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    registry = http("registry")
    org_id = new_organization(http, auth)
    uscc = ok(registry.get(f"{API}/organizations/{org_id}", headers=auth("civil_affairs")))["uscc"]
    assert uscc
    auditor = auth("auditor")
    project = Project(http, auth, org_id).apply()
    project.procure()
    record_path = f"{project.path}/ocds/record"

    before = ok(project.projects.get(f"{project.path}/ocds", headers=auditor))["releases"]
    assert [r["tag"] for r in before] == [
        ["planning"],
        ["tender"],
        ["award"],
        ["contract"],
        ["implementation"],
    ]
    assert _contract(before[-1])["value"] == {"amount": 190000.0, "currency": "CNY"}
    assert _contract(before[-1])["period"]["endDate"] == "2026-12-31T23:59:59+08:00"

    amended = _amend(
        project,
        {"rationale": "服务对象增加", "new_amount_fen": 20_000_000, "new_end_on": "2027-06-30"},
    )
    assert amended["amount_fen"] == 20_000_000
    project.pay(1)
    project.submit_mid_term()
    project.meeting("supervision_meeting")
    project.pay(2)
    evaluators = [f"evaluator-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    project.start_evaluation(evaluators)
    project.score_and_conclude(evaluators)
    project.pay(3)
    project.close()

    (record,) = ok(project.projects.get(record_path, headers=auditor))["records"]
    releases = record["releases"]
    assert record["ocid"] == f"ocds-sanshe-{project.id}"
    # Published before the amendment: still exactly as they were.
    assert releases[: len(before)] == before
    tags = [r["tag"] for r in releases]
    assert tags[len(before)] == ["contractAmendment"]
    assert tags[-1] == ["contractTermination"]
    assert tags.count(["implementationUpdate"]) >= 4  # three payments, the SPPE result…
    assert len({r["id"] for r in releases}) == len(releases)
    dates = [datetime.fromisoformat(r["date"]) for r in releases]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    amendment = _contract(releases[len(before)])
    assert amendment["value"] == {"amount": 200000.0, "currency": "CNY"}
    assert amendment["period"]["endDate"] == "2027-06-30T23:59:59+08:00"

    compiled = record["compiledRelease"]
    contract = _contract(compiled)
    assert (contract["value"]["amount"], contract["status"]) == (200000.0, "terminated")
    assert contract["period"] == {
        "startDate": "2026-01-10T00:00:00+08:00",
        "endDate": "2027-06-30T23:59:59+08:00",
    }
    assert sum(t["value"]["amount"] for t in contract["implementation"]["transactions"]) == (
        200000.0
    )
    supplier = next(p for p in compiled["parties"] if p["id"] == f"org-{org_id}")
    assert supplier["identifier"]["scheme"] == "CN-USCC"
    assert supplier["identifier"]["id"] == uscc
    assert {"supplier", "payee", "tenderer"} <= set(supplier["roles"])
    validator = jsonschema_rs.Draft4Validator(patched_release_schema(), validate_formats=True)
    for release in [*releases, compiled]:
        assert list(validator.iter_errors(release)) == [], release["tag"]
        assert [d for d in _dates(release) if not SHANGHAI_MOMENT.match(d)] == []

    # The auditors' bulk feed lists every one of them (once their transactions settled).
    wanted = {r["id"] for r in releases}

    def listed() -> list[dict[str, Any]] | None:
        fed = [r for r in _feed(project, auditor, since) if r["ocid"] == record["ocid"]]
        return fed if {r["id"] for r in fed} == wanted else None

    fed = poll_sync(listed, within=WITHIN)
    assert sorted(fed, key=lambda r: r["id"]) == sorted(releases, key=lambda r: r["id"])
    records = ok(
        project.projects.get(
            f"{API}/ocds/records", params={"since": since, "limit": 100}, headers=auditor
        )
    )["records"]
    assert record in records
