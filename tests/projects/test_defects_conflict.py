"""Item 9: conflicts of interest are checked, not only declared; no evaluator vanishes.

An evaluator's token may carry the organization they work for (`org_id`), and the bureau
may name it when assigning them. An evaluator linked to the project — its applicant, its
supplier, or any bidder of its procurement — is refused with a 409/422
`conflict_of_interest` naming the link: they cannot be assigned, declare "no conflict",
nor score. An assigned evaluator who never declares blocks the conclusion (409
`declarations_missing` naming them) instead of being silently left out.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.projects.driver import Driver, Flow, sheet

NO_CONFLICT = {"has_conflict": False, "statement": "本人与被评估机构无利害关系。"}


def evaluator(driver: Driver, sub: str, org_id: str | None = None) -> dict[str, str]:
    claims = {"org_id": org_id} if org_id else {}
    return driver.auth("evaluator", sub=sub, **claims)


async def declare(
    driver: Driver, flow: Flow, headers: dict[str, str], body: dict[str, Any] = NO_CONFLICT
) -> httpx.Response:
    return await driver.client.post(
        f"{flow.path}/evaluation/declaration", json=body, headers=headers
    )


async def losing_bidder(driver: Driver, flow: Flow) -> str:
    procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, driver.bureau)
    [loser] = [
        b["bidder_org_id"] for b in procurement["bids"] if b["id"] != procurement["awarded_bid_id"]
    ]
    return str(loser)


async def assignments(driver: Driver, flow: Flow) -> dict[str, dict[str, Any]]:
    evaluation = await driver.expect("GET", f"{flow.path}/evaluation", 200, driver.bureau)
    return {a["evaluator_sub"]: a for a in evaluation["evaluators"]}


class TestLinkedEvaluators:
    async def test_an_evaluator_of_the_applicant_cannot_declare_no_conflict_nor_score(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluating()
        sub = flow.evaluators[0]
        linked = evaluator(driver, sub, org_id=flow.org_id)
        response = await declare(
            driver, flow, linked | {"Accept-Language": "en"}
        )  # the English detail is read
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "conflict_of_interest"
        assert "applicant" in response.json()["detail"]
        scored = await driver.client.post(
            f"{flow.path}/evaluation/sheets", json=sheet(0.9), headers=linked
        )
        assert scored.status_code == 409
        assert (await assignments(driver, flow))[sub]["status"] == "assigned"  # unchanged
        # Declaring the conflict is what they may do: they are recused.
        recused = await declare(
            driver, flow, linked, {"has_conflict": True, "statement": "本人在申报机构任职。"}
        )
        assert recused.status_code == 200 and recused.json()["status"] == "recused"

    async def test_an_evaluator_of_a_bidder_is_refused_too(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        linked = evaluator(driver, flow.evaluators[1], org_id=await losing_bidder(driver, flow))
        response = await declare(driver, flow, linked | {"Accept-Language": "en"})
        assert (response.status_code, response.json()["code"]) == (409, "conflict_of_interest")
        assert "bidder" in response.json()["detail"]

    async def test_a_cleared_evaluator_is_checked_again_when_scoring(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        sub = flow.evaluators[0]
        cleared = await declare(driver, flow, evaluator(driver, sub))
        assert cleared.status_code == 200
        # The same person, now signed in with the supplier's organization on the token.
        response = await driver.client.post(
            f"{flow.path}/evaluation/sheets",
            json=sheet(0.9),
            headers=evaluator(driver, sub, org_id=flow.org_id),
        )
        assert (response.status_code, response.json()["code"]) == (409, "conflict_of_interest")
        evaluation = await driver.expect("GET", f"{flow.path}/evaluation", 200, driver.bureau)
        assert evaluation["sheets"] == []

    async def test_an_unrelated_organization_is_no_obstacle(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        response = await declare(
            driver, flow, evaluator(driver, flow.evaluators[0], org_id=str(uuid.uuid4()))
        )
        assert (response.status_code, response.json()["status"]) == (200, "cleared")

    async def test_the_bureau_cannot_assign_an_evaluator_linked_to_the_project(
        self, driver: Driver
    ) -> None:
        flow = await driver.supervised()
        people = [
            {"sub": f"evaluator-{uuid.uuid4().hex[:8]}", "name": f"专家{i}"} for i in range(3)
        ]
        people[1]["org_id"] = flow.org_id
        response = await driver.client.post(
            f"{flow.path}/evaluation", json={"evaluators": people}, headers=driver.bureau
        )
        assert (response.status_code, response.json()["code"]) == (422, "conflict_of_interest")
        [error] = response.json()["errors"]
        assert error["field"] == "body.evaluators[1].org_id"
        project = await driver.expect("GET", flow.path, 200, driver.bureau)
        assert project["stage"] == "implementing"  # nothing started
        people[1].pop("org_id")
        await driver.expect(
            "POST", f"{flow.path}/evaluation", 201, driver.bureau, json={"evaluators": people}
        )
        extra = [
            {
                "sub": "evaluator-extra",
                "name": "专家乙",
                "org_id": await losing_bidder(driver, flow),
            }
        ]
        added = await driver.client.post(
            f"{flow.path}/evaluation/evaluators", json=extra, headers=driver.bureau
        )
        assert (added.status_code, added.json()["code"]) == (422, "conflict_of_interest")
        assert "evaluator-extra" not in await assignments(driver, flow)


class TestEveryAssignedEvaluatorCounts:
    async def test_an_evaluator_who_never_declares_blocks_the_conclusion(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluating(evaluators=4)
        silent = flow.evaluators[3]
        flow.evaluators = flow.evaluators[:3]
        await driver.score(flow, [0.8, 0.85, 0.9])
        response = await driver.client.post(
            f"{flow.path}/evaluation/conclusion", headers=driver.bureau | {"Accept-Language": "en"}
        )
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "declarations_missing"
        assert silent in response.json()["detail"]
        assert [e["field"] for e in response.json()["errors"]] == [f"evaluators.{silent}"]
        project = await driver.expect("GET", flow.path, 200, driver.bureau)
        assert project["stage"] == "evaluating"
        # Once they declare (here a conflict: recused), the evaluation concludes.
        await driver.expect(
            "POST",
            f"{flow.path}/evaluation/declaration",
            200,
            evaluator(driver, silent),
            json={"has_conflict": True, "statement": "本人与该机构负责人系亲属。"},
        )
        concluded = await driver.expect(
            "POST", f"{flow.path}/evaluation/conclusion", 200, driver.bureau
        )
        assert concluded["status"] == "concluded"

    async def test_missing_sheets_are_named(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        late = flow.evaluators[2]
        for sub in flow.evaluators:
            await driver.expect(
                "POST",
                f"{flow.path}/evaluation/declaration",
                200,
                evaluator(driver, sub),
                json=NO_CONFLICT,
            )
        for sub in flow.evaluators[:2]:
            await driver.expect(
                "POST",
                f"{flow.path}/evaluation/sheets",
                201,
                evaluator(driver, sub),
                json=sheet(0.8),
            )
        response = await driver.client.post(
            f"{flow.path}/evaluation/conclusion", headers=driver.bureau | {"Accept-Language": "en"}
        )
        assert (response.status_code, response.json()["code"]) == (409, "sheets_missing")
        assert late in response.json()["detail"]
        assert [e["field"] for e in response.json()["errors"]] == [f"evaluators.{late}"]


class TestRelease:
    async def test_the_bureau_releases_a_silent_evaluator_with_a_reason(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluating(evaluators=4)
        scorers, silent = flow.evaluators[:3], flow.evaluators[3]
        flow.evaluators = scorers
        await driver.score(flow, [0.8, 0.85, 0.9])
        path = f"{flow.path}/evaluation/evaluators"
        reason = "专家长期无法联系,未作利益冲突声明"
        refusals: list[tuple[str, dict[str, str], dict[str, Any], int, str]] = [
            (silent, driver.org(flow.org_id), {"reason": reason}, 403, "role_forbidden"),
            (silent, driver.bureau, {"reason": " "}, 422, "validation_error"),
            ("evaluator-nobody", driver.bureau, {"reason": reason}, 404, "evaluator_not_found"),
            (scorers[0], driver.bureau, {"reason": reason}, 409, "evaluator_scored"),
        ]
        for sub, headers, body, status, code in refusals:
            response = await driver.client.post(f"{path}/{sub}/release", json=body, headers=headers)
            assert (response.status_code, response.json()["code"]) == (status, code), sub
        released = await driver.expect(
            "POST", f"{path}/{silent}/release", 200, driver.bureau, json={"reason": reason}
        )
        statuses = {a["evaluator_sub"]: a["status"] for a in released["evaluators"]}
        assert statuses[silent] == "released"
        entries = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
        [audit] = [e for e in entries if e["action"] == "evaluator_released"]
        assert audit["details"] == {"evaluator": silent, "was": "assigned", "reason": reason}
        late = await declare(driver, flow, evaluator(driver, silent))
        assert (late.status_code, late.json()["code"]) == (409, "evaluator_released")
        concluded = await driver.expect(
            "POST", f"{flow.path}/evaluation/conclusion", 200, driver.bureau
        )
        assert concluded["status"] == "concluded"
