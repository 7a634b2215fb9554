"""Item 8 through the real processes: procurement that can no longer stick.

Over HTTP only, against the real registry, projects and workflow services and the arq
worker (each project application is a workflow case decided by its reviewers): a bid
from an organization the registry does not know is refused; the best bidder, listed
abnormal after bidding, cannot be awarded, so its bid is disqualified with a reason and
the next-ranked bid is awarded and contracted; another project's procurement is
cancelled with a reason and procured again. The province's feed carries the new events.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.steps import API, WITHIN, Auth, Http, Project, new_organization, ok
from tests.factories import contract_body
from tests.support.polling import poll_sync
from tests.support.system import System

PURCHASER = "education"  # the department of the calls in tests.factories


def _listed_abnormal(http: Http, auth: Auth, org_id: str) -> None:
    ok(
        http("registry").post(
            f"{API}/organizations/{org_id}/status",
            json={"status": "abnormal", "reason": "通过登记的住所无法联系"},
            headers=auth("civil_affairs"),
        )
    )


def _published(http: Http, auth: Auth, project_id: str, event_type: str) -> list[dict[str, Any]]:
    """The feed's events of that type about the project (the province reads the feed)."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200} | ({"after": after} if after else {})
        page = ok(
            http("workflow").get(f"{API}/events", params=params, headers=auth("provincial_system"))
        )
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    return [e for e in items if e["type"] == event_type and e["subject"]["id"] == project_id]


def test_unknown_bidder_refused_best_bid_disqualified_next_awarded_and_a_procurement_cancelled(
    system: System, http: Http, auth: Auth
) -> None:
    office = auth("department_reviewer", department=PURCHASER)
    project = Project(http, auth, new_organization(http, auth)).apply()
    projects = project.projects
    opened = project.open_procurement()
    assert opened["status"] == "open"

    # An organization the registry does not know cannot bid, and is not on record.
    stranger = str(uuid.uuid4())
    refused = project.bid(stranger, 15_000_000, "90")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "organization_unknown"
    procurement = ok(projects.get(f"{project.path}/procurement", headers=office))
    assert procurement["bids"] == []

    # Three organizations of the register bid; the registry names them.
    bids: dict[str, dict[str, Any]] = {}
    for rank, price, technical in (
        ("best", 19_000_000, "95"),
        ("second", 18_000_000, "85"),
        ("third", 17_500_000, "70"),
    ):
        org_id = new_organization(http, auth)
        recorded = ok(project.bid(org_id, price, technical), 201)
        bids[rank] = next(b for b in recorded["bids"] if b["bidder_org_id"] == org_id)
        registered = ok(http("registry").get(f"{API}/organizations/{org_id}", headers=office))
        assert bids[rank]["bidder_name"] == registered["name"]

    # The best bidder is listed abnormal after bidding: the award is refused, naming it.
    _listed_abnormal(http, auth, bids["best"]["bidder_org_id"])
    # English: the detail's specifics are asserted (Chinese answers keep them in detail_en).
    award = projects.post(
        f"{project.path}/procurement/award", headers=office | {"Accept-Language": "en"}
    )
    assert award.status_code == 422, award.text
    assert award.json()["code"] == "organization_ineligible"
    assert bids["best"]["id"] in award.json()["detail"]

    # The purchasing department disqualifies it with a reason; the next-ranked wins.
    reason = "中标候选人被列入活动异常名录"
    disqualified = ok(
        projects.post(
            f"{project.path}/procurement/disqualifications",
            json={"bid_id": bids["best"]["id"], "reason": reason},
            headers=office,
        )
    )
    best = next(b for b in disqualified["bids"] if b["id"] == bids["best"]["id"])
    assert (best["qualified"], best["disqualification_reason"]) == (False, reason)
    awarded = ok(projects.post(f"{project.path}/procurement/award", headers=office))
    assert (awarded["status"], awarded["awarded_bid_id"]) == ("awarded", bids["second"]["id"])
    contract = ok(
        projects.post(f"{project.path}/contract", json=contract_body(), headers=project.bureau),
        201,
    )
    assert (contract["supplier_org_id"], contract["amount_fen"]) == (
        bids["second"]["bidder_org_id"],
        18_000_000,
    )
    timeline = ok(projects.get(f"{project.path}/timeline", headers=project.bureau))
    [audit] = [e for e in timeline if e["action"] == "bid_disqualified"]
    assert (audit["details"]["reason"], audit["actor_role"]) == (reason, "department_reviewer")

    # Another project: its open tender is cancelled (废标) and it procures again.
    other = Project(http, auth, new_organization(http, auth)).apply()
    first = other.open_procurement("open_tender")
    ok(other.bid(new_organization(http, auth), 15_000_000, "80"), 201)
    why = "公开招标有效投标人不足三家,依法废标"
    cancelled = ok(
        other.projects.post(
            f"{other.path}/procurement/cancellation", json={"reason": why}, headers=office
        )
    )
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", why)
    assert other.stage() == "approved"
    again = other.open_procurement("single_source")
    assert again["id"] != first["id"]
    ok(other.bid(other.org_id, 14_000_000, "85"), 201)
    assert ok(other.projects.post(f"{other.path}/procurement/award", headers=office))[
        "awarded_bid_id"
    ]

    # The province hears of the disqualification and of the cancellation, once each.
    poll_sync(
        lambda: _published(http, auth, project.id, "procurement.bid_disqualified"), within=WITHIN
    )
    poll_sync(lambda: _published(http, auth, other.id, "procurement.cancelled"), within=WITHIN)
    assert len(_published(http, auth, project.id, "procurement.bid_disqualified")) == 1
    assert len(_published(http, auth, other.id, "procurement.cancelled")) == 1
