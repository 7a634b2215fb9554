"""Item 8: procurement never sticks on an ineligible or unknown bidder.

Bidders must be organizations of the register (the real registry app answers here, see
`tests/support/registry.py`), named by the registry; a bid can be disqualified with
a reason (audited), the next-ranked qualified bid awarded, and a procurement cancelled
with a reason, after which the project procures again. Each step is taken over HTTP by
the purchasing department (a `department_reviewer` of the call's department) or the
bureau, as in the office.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.projects.base import infra
from shared.db import database
from tests.factories import contract_body
from tests.projects.driver import Driver, Flow
from tests.registry.helpers import Auth
from tests.support.registry import make_abnormal, new_organization


@pytest.fixture
def registry_client(real_registry_client: object) -> object:
    """The real registry answers the projects app here (overrides the stand-in's)."""
    return real_registry_client


PURCHASER = "education"  # the department of the calls in tests.factories


def purchaser(auth: Auth) -> dict[str, str]:
    return auth("department_reviewer", department=PURCHASER)


async def approved(driver: Driver, registry: httpx.AsyncClient, auth: Auth) -> Flow:
    return await driver.approved(await new_organization(registry, auth))


async def open_procurement(
    driver: Driver, flow: Flow, headers: dict[str, str], method: str = "competitive_consultation"
) -> dict[str, Any]:
    body = {"method": method, "price_weight_pct": 0 if method == "single_source" else 20}
    opened: dict[str, Any] = await driver.expect(
        "POST", f"{flow.path}/procurement", 201, headers, json=body
    )
    return opened


async def procuring(
    driver: Driver, registry: httpx.AsyncClient, auth: Auth
) -> tuple[Flow, dict[str, str]]:
    """An approved project of a registered organization whose purchasing department has
    opened a procurement: the flow and the department's headers."""
    flow = await approved(driver, registry, auth)
    office = purchaser(auth)
    await open_procurement(driver, flow, office)
    return flow, office


async def award(driver: Driver, flow: Flow, headers: dict[str, str]) -> dict[str, Any]:
    awarded: dict[str, Any] = await driver.expect(
        "POST", f"{flow.path}/procurement/award", 200, headers
    )
    return awarded


async def disqualify(
    driver: Driver, flow: Flow, headers: dict[str, str], bid_id: str, reason: str
) -> dict[str, Any]:
    disqualified: dict[str, Any] = await driver.expect(
        "POST",
        f"{flow.path}/procurement/disqualifications",
        200,
        headers,
        json={"bid_id": bid_id, "reason": reason},
    )
    return disqualified


async def bid(
    driver: Driver, flow: Flow, headers: dict[str, str], org_id: str, price: int, technical: str
) -> httpx.Response:
    return await driver.client.post(
        f"{flow.path}/procurement/bids",
        json={"bidder_org_id": org_id, "price_fen": price, "technical_score": technical},
        headers=headers,
    )


async def three_bids(
    driver: Driver, registry: httpx.AsyncClient, auth: Auth, flow: Flow, headers: dict[str, str]
) -> dict[str, str]:
    """Bids of three registered organizations, ranked best, second, third: {rank: bid id}."""
    bids: dict[str, str] = {}
    for name, price, technical in (
        ("best", 19_000_000, "95"),
        ("second", 18_000_000, "85"),
        ("third", 17_500_000, "70"),
    ):
        org_id = await new_organization(registry, auth)
        response = await bid(driver, flow, headers, org_id, price, technical)
        assert response.status_code == 201, response.text
        bids[name] = next(b["id"] for b in response.json()["bids"] if b["bidder_org_id"] == org_id)
        bids[f"{name}_org"] = org_id
    return bids


async def events_of(project_id: str) -> list[tuple[str, dict[str, Any]]]:
    outbox = infra.outbox
    async with database.transaction() as session:
        rows = await session.execute(
            select(outbox.c.event_type, outbox.c.payload)
            .where(outbox.c.subject_id == project_id)
            .order_by(outbox.c.position)
        )
        return [(row.event_type, row.payload) for row in rows]


async def timeline(driver: Driver, flow: Flow, action: str) -> list[dict[str, Any]]:
    entries = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
    return [e for e in entries if e["action"] == action]


class TestBidders:
    async def test_a_bid_from_an_organization_the_registry_does_not_know_is_refused(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        stranger = str(uuid.uuid4())
        response = await bid(driver, flow, office, stranger, 10_000_000, "80")
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "organization_unknown"
        assert [e["field"] for e in response.json()["errors"]] == ["body.bidder_org_id"]
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, office)
        assert procurement["bids"] == []
        ocds = await driver.client.get(f"{flow.path}/ocds", headers=driver.bureau)
        assert ocds.status_code == 200 and stranger not in ocds.text

    async def test_the_bidder_name_is_the_registry_s_not_the_request_s(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        org_id = await new_organization(registry, auth, name="庐阳区真实名称服务中心")
        forged = await driver.client.post(
            f"{flow.path}/procurement/bids",
            json={
                "bidder_org_id": org_id,
                "bidder_name": "冒名机构",
                "price_fen": 10_000_000,
                "technical_score": "80",
            },
            headers=office,
        )
        assert (forged.status_code, forged.json()["code"]) == (422, "validation_error")
        response = await bid(driver, flow, office, org_id, 10_000_000, "80")
        assert response.status_code == 201, response.text
        [recorded] = response.json()["bids"]
        assert recorded["bidder_name"] == "庐阳区真实名称服务中心"

    async def test_an_ineligible_organization_cannot_bid(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        org_id = await new_organization(registry, auth)
        await make_abnormal(registry, auth, org_id)
        response = await bid(driver, flow, office, org_id, 10_000_000, "80")
        assert (response.status_code, response.json()["code"]) == (422, "organization_ineligible")
        assert [e["code"] for e in response.json()["errors"]] == ["status_abnormal"]


class TestDisqualification:
    async def test_the_best_bid_disqualified_the_next_ranked_is_awarded(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        bids = await three_bids(driver, registry, auth, flow, office)
        # The best bidder is listed abnormal after bidding: the award is refused, and says
        # which bid to disqualify.
        await make_abnormal(registry, auth, bids["best_org"])
        refused = await driver.client.post(
            f"{flow.path}/procurement/award", headers=office | {"Accept-Language": "en"}
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "organization_ineligible")
        assert bids["best"] in refused.json()["detail"]
        reason = "中标候选人被列入活动异常名录"
        disqualified = await disqualify(driver, flow, office, bids["best"], reason)
        best = next(b for b in disqualified["bids"] if b["id"] == bids["best"])
        assert (best["qualified"], best["disqualification_reason"], best["rank"]) == (
            False,
            reason,
            None,
        )
        awarded = await award(driver, flow, office)
        assert (awarded["status"], awarded["awarded_bid_id"]) == ("awarded", bids["second"])
        ranks = {b["id"]: b["rank"] for b in awarded["bids"]}
        assert ranks == {bids["best"]: None, bids["second"]: 1, bids["third"]: 2}
        project = await driver.expect("GET", flow.path, 200, office)
        assert project["supplier_org_id"] == bids["second_org"]
        [audit] = await timeline(driver, flow, "bid_disqualified")
        assert audit["details"]["bid_id"] == bids["best"]
        assert audit["details"]["reason"] == reason
        assert audit["actor_role"] == "department_reviewer"
        types = [t for t, _ in await events_of(flow.id)]
        assert types.count("procurement.bid_disqualified") == 1
        assert types.count("procurement.awarded") == 1
        contract = await driver.expect(
            "POST", f"{flow.path}/contract", 201, driver.bureau, json=contract_body()
        )
        assert (contract["supplier_org_id"], contract["amount_fen"]) == (
            bids["second_org"],
            18_000_000,
        )

    async def test_disqualifying_the_awarded_bid_revokes_the_award(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        bids = await three_bids(driver, registry, auth, flow, office)
        first = await award(driver, flow, office)
        assert first["awarded_bid_id"] == bids["best"]
        revoked = await disqualify(
            driver, flow, driver.bureau, bids["best"], "投标文件提供虚假材料"
        )
        assert (revoked["status"], revoked["awarded_bid_id"], revoked["awarded_at"]) == (
            "open",
            None,
            None,
        )
        project = await driver.expect("GET", flow.path, 200, office)
        assert (project["supplier_org_id"], project["supplier_name"]) == (None, None)
        contract = await driver.client.post(
            f"{flow.path}/contract", json=contract_body(), headers=driver.bureau
        )
        assert (contract.status_code, contract.json()["code"]) == (409, "procurement_not_awarded")
        again = await award(driver, flow, office)
        assert again["awarded_bid_id"] == bids["second"]
        [audit] = await timeline(driver, flow, "bid_disqualified")
        assert audit["details"]["award_revoked"] is True

    async def test_too_few_qualified_bids_cannot_be_awarded(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        bids = await three_bids(driver, registry, auth, flow, office)
        for name in ("best", "second"):
            await disqualify(driver, flow, office, bids[name], "资格审查不合格")
        response = await driver.client.post(
            f"{flow.path}/procurement/award", headers=office | {"Accept-Language": "en"}
        )
        assert (response.status_code, response.json()["code"]) == (409, "not_enough_bids")
        assert "1 qualified" in response.json()["detail"]

    async def test_guards_and_roles(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        bids = await three_bids(driver, registry, auth, flow, office)
        path = f"{flow.path}/procurement/disqualifications"
        body = {"bid_id": bids["best"], "reason": "资格审查不合格"}
        refusals: list[tuple[dict[str, str], dict[str, Any], int, str]] = [
            (driver.org(bids["best_org"]), body, 403, "role_forbidden"),
            (auth("department_reviewer", department="health"), body, 404, "project_not_found"),
            (office, {"bid_id": str(uuid.uuid4()), "reason": "x"}, 404, "bid_not_found"),
            (office, {"bid_id": bids["best"], "reason": ""}, 422, "validation_error"),
            (office, {"bid_id": bids["best"], "reason": "x" * 2001}, 422, "validation_error"),
            (office, {"bid_id": bids["best"]}, 422, "validation_error"),
        ]
        for headers, payload, status, code in refusals:
            response = await driver.client.post(path, json=payload, headers=headers)
            assert (response.status_code, response.json()["code"]) == (status, code), payload
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, office)
        assert all(b["qualified"] for b in procurement["bids"])  # nothing changed
        await driver.expect("POST", path, 200, office, json=body)
        twice = await driver.client.post(path, json=body, headers=office)
        assert (twice.status_code, twice.json()["code"]) == (409, "bid_disqualified")


class TestCancellation:
    async def test_a_cancelled_procurement_sends_the_project_back_to_procure_again(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow = await approved(driver, registry, auth)
        office = purchaser(auth)
        first = await open_procurement(driver, flow, office, method="open_tender")
        bidder = await new_organization(registry, auth)
        assert (await bid(driver, flow, office, bidder, 15_000_000, "80")).status_code == 201
        reason = "公开招标有效投标人不足三家,依法废标"
        cancelled = await driver.expect(
            "POST",
            f"{flow.path}/procurement/cancellation",
            200,
            office,
            json={"reason": reason},
        )
        assert (cancelled["id"], cancelled["status"], cancelled["cancellation_reason"]) == (
            first["id"],
            "cancelled",
            reason,
        )
        assert cancelled["cancelled_at"] is not None
        project = await driver.expect("GET", flow.path, 200, office)
        assert project["stage"] == "approved"
        late = await bid(driver, flow, office, await new_organization(registry, auth), 1, "80")
        assert (late.status_code, late.json()["code"]) == (409, "wrong_stage")
        twice = await driver.client.post(
            f"{flow.path}/procurement/cancellation", json={"reason": reason}, headers=office
        )
        assert (twice.status_code, twice.json()["code"]) == (409, "wrong_stage")
        [audit] = await timeline(driver, flow, "procurement_cancelled")
        assert (audit["from_stage"], audit["to_stage"]) == ("procuring", "approved")
        assert audit["details"]["reason"] == reason
        assert [t for t, _ in await events_of(flow.id)].count("procurement.cancelled") == 1

        # Procured again, by another method: a new procurement, the old one kept.
        second = await open_procurement(driver, flow, office, method="single_source")
        assert second["id"] != first["id"] and second["bids"] == []
        assert (await bid(driver, flow, office, bidder, 15_000_000, "80")).status_code == 201
        awarded = await award(driver, flow, office)
        assert awarded["id"] == second["id"]
        contract = await driver.expect(
            "POST", f"{flow.path}/contract", 201, driver.bureau, json=contract_body()
        )
        assert contract["amount_fen"] == 15_000_000

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " " * 3}])
    async def test_a_cancellation_needs_a_reason_and_changes_nothing_without(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any]
    ) -> None:
        flow = await approved(driver, registry, auth)
        await open_procurement(driver, flow, driver.bureau)
        response = await driver.client.post(
            f"{flow.path}/procurement/cancellation", json=body, headers=driver.bureau
        )
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, driver.bureau)
        assert procurement["status"] == "open"

    async def test_only_managers_cancel_and_never_after_the_contract(
        self, driver: Driver, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        flow, office = await procuring(driver, registry, auth)
        path = f"{flow.path}/procurement/cancellation"
        body = {"reason": "采购需求发生重大变化"}
        as_org = await driver.client.post(path, json=body, headers=driver.org(flow.org_id))
        assert (as_org.status_code, as_org.json()["code"]) == (403, "role_forbidden")
        other = await driver.client.post(
            path, json=body, headers=auth("department_reviewer", department="health")
        )
        assert other.status_code == 404
        for _ in range(2):
            org_id = await new_organization(registry, auth)
            assert (await bid(driver, flow, office, org_id, 15_000_000, "80")).status_code == 201
        await award(driver, flow, office)
        await driver.expect(
            "POST", f"{flow.path}/contract", 201, driver.bureau, json=contract_body()
        )
        late = await driver.client.post(path, json=body, headers=office)
        assert (late.status_code, late.json()["code"]) == (409, "wrong_stage")
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, office)
        assert procurement["status"] == "awarded"
