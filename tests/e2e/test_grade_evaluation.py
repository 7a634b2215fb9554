"""A grade evaluation (等级评估) on the running registry, from application to expiry.

The organization applies, two experts score, the bureau grants and publishes; anyone
reads the grade in the public list without a token; once its five years have ended (the
validity moved into the past in the database: the clock cannot be moved) the bureau's
sweep expires it and it leaves the list and the organization's record.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from shared.clock import shanghai_today
from shared.db import plain_dsn
from tests.e2e.steps import API, Auth, Http, new_organization, ok
from tests.support.system import System

INDICATORS = ("basic_conditions", "internal_governance", "work_performance", "social_evaluation")
# Two experts' points of the four indicators: 930 and 900.
EXPERT_SCORES = (
    dict(zip(INDICATORS, (95, 330, 370, 135), strict=True)),
    dict(zip(INDICATORS, (90, 320, 360, 130), strict=True)),
)


async def end_validity(database_url: str, evaluation_id: str) -> None:
    yesterday = shanghai_today() - timedelta(days=1)
    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        await connection.execute(
            "UPDATE registry.grade_evaluation SET valid_from = $2, valid_until = $3 WHERE id = $1",
            evaluation_id,
            yesterday - timedelta(days=5 * 365),
            yesterday,
        )
    finally:
        await connection.close()


async def test_application_scoring_decision_publication_and_expiry(
    system: System, system_database: str, http: Http, auth: Auth
) -> None:
    registry = http("registry")
    org_id = new_organization(http, auth)
    organization = auth("organization", org_id=org_id)
    bureau = auth("civil_affairs")
    evaluations = f"{API}/grade-evaluations"

    evaluation = ok(
        registry.post(
            f"{API}/organizations/{org_id}/grade-evaluations",
            json={"year": shanghai_today().year, "requested_grade": "4A"},
            headers=organization,
        ),
        201,
    )
    waiting = ok(registry.get(evaluations, params={"state": "applied"}, headers=auth("evaluator")))
    assert evaluation["id"] in [e["id"] for e in waiting["items"]]

    for scores in EXPERT_SCORES:
        scored = ok(
            registry.post(
                f"{evaluations}/{evaluation['id']}/scores", json=scores, headers=auth("evaluator")
            ),
            201,
        )
    # (930 + 900) / 2 = 915: 4A.
    assert (scored["total_score"], scored["earned_grade"]) == (915, "4A")

    granted = ok(
        registry.post(
            f"{evaluations}/{evaluation['id']}/decision",
            json={"outcome": "granted", "reason": "评估委员会审定"},
            headers=bureau,
        )
    )
    assert (granted["state"], granted["grade"]) == ("granted", "4A")
    record = ok(registry.get(f"{API}/organizations/{org_id}", headers=organization))
    assert (record["evaluation_grade"], record["grade_valid_until"]) == (
        "4A",
        granted["valid_until"],
    )

    def public_ids() -> list[str]:
        # No token at all: the published list is public (公示).
        body = ok(registry.get(f"{API}/public/grades", params={"page_size": 200}))
        return [item["organization_id"] for item in body["items"]]

    assert org_id not in public_ids()
    ok(registry.post(f"{evaluations}/{evaluation['id']}/publication", headers=bureau))
    assert org_id in public_ids()

    await end_validity(system_database, evaluation["id"])
    swept = ok(registry.post(f"{evaluations}/expiry-sweeps", headers=bureau))
    assert swept["expired"] >= 1
    assert org_id not in public_ids()
    expired = ok(registry.get(f"{evaluations}/{evaluation['id']}", headers=organization))
    assert expired["state"] == "expired"
    assert [c["kind"] for c in expired["changes"]] == ["granted", "expired"]
    record = ok(registry.get(f"{API}/organizations/{org_id}", headers=organization))
    assert (record["evaluation_grade"], record["grade_valid_until"]) == (None, None)
    history = ok(registry.get(f"{API}/organizations/{org_id}/history", headers=bureau))["items"]
    actions = [entry["action"] for entry in history if entry["field"] == "evaluation_grade"]
    assert actions == ["grade_granted", "grade_expired"]
