"""Grade evaluations over HTTP, as the people who hold each role use them.

The organization applies, experts (evaluators) score, the bureau decides and publishes,
anyone reads the published grades without a token; inspections lower a grade; the sweep
expires it after five years.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from services.registry.grades.models import GradeEvaluation
from services.registry.grades.service import valid_until
from shared.clock import shanghai_today
from shared.db import database
from tests.factories import filed_org, registered_org
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    enter_legacy_grade,
    events_of,
    outcome_body,
    post_outcome,
)
from tests.registry.test_inspections import FAILING, application_of, conclude, submit

EVALUATIONS = "/api/v1/grade-evaluations"
PUBLIC = "/api/v1/public/grades"
THIS_YEAR = shanghai_today().year
# 95 + 340 + 380 + 140 = 955: a 5A score. 60 + 250 + 280 + 100 = 690: 1A is 600-699.
TOP = {
    "basic_conditions": 95,
    "internal_governance": 340,
    "work_performance": 380,
    "social_evaluation": 140,
}
WEAK = {
    "basic_conditions": 60,
    "internal_governance": 250,
    "work_performance": 280,
    "social_evaluation": 100,
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# A lone surrogate is refused by the JSON parser (on its field) or, where it reaches
# the database, as an unsupported character: a 422 either way.
SURROGATE_CODES = {"validation_error", "unsupported_character"}


def refused_surrogate(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in SURROGATE_CODES


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code, response.text


async def apply(
    registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any], **body: Any
) -> httpx.Response:
    return await registry.post(
        f"{ORGS}/{org['id']}/grade-evaluations",
        json={"year": THIS_YEAR, **body},
        headers=auth("organization", org_id=org["id"]),
    )


async def score(
    registry: httpx.AsyncClient, auth: Auth, evaluation: dict[str, Any], points: dict[str, Any]
) -> httpx.Response:
    return await registry.post(
        f"{EVALUATIONS}/{evaluation['id']}/scores", json=points, headers=auth("evaluator")
    )


async def decide(
    registry: httpx.AsyncClient, auth: Auth, evaluation: dict[str, Any], **body: Any
) -> httpx.Response:
    return await registry.post(
        f"{EVALUATIONS}/{evaluation['id']}/decision",
        json={"outcome": "granted", **body},
        headers=auth("civil_affairs", sub="bureau-wang"),
    )


async def graded(
    registry: httpx.AsyncClient, auth: Auth, points: dict[str, int] = TOP, **body: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registered organization granted the grade `points` earn: (org, evaluation)."""
    org = await created(registry, auth("civil_affairs"), registered_org())
    evaluation = ok(await apply(registry, auth, org), 201)
    ok(await score(registry, auth, evaluation, points), 201)
    return org, ok(await decide(registry, auth, evaluation, **body))


async def organization(registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]) -> Any:
    return ok(await registry.get(f"{ORGS}/{org['id']}", headers=auth("auditor")))


async def public_grades(registry: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of the public list, read without a token."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = ok(await registry.get(PUBLIC, params={**params, "page": page, "page_size": 200}))
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


@pytest.mark.parametrize(
    ("granted", "last_day"),
    [
        (date(2026, 12, 5), date(2031, 12, 4)),
        (date(2024, 2, 29), date(2029, 2, 28)),
        (date(2025, 1, 1), date(2029, 12, 31)),
    ],
)
def test_a_grade_is_valid_five_years_to_the_day_before(granted: date, last_day: date) -> None:
    assert valid_until(granted) == last_day


class TestApplication:
    async def test_an_organization_applies_once_at_a_time_and_only_for_itself(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org, requested_grade="4A"), 201)
        assert (evaluation["state"], evaluation["requested_grade"], evaluation["year"]) == (
            "applied",
            "4A",
            THIS_YEAR,
        )
        refused(await apply(registry, auth, org), 409, "grade_evaluation_open")
        other = await created(registry, auth("civil_affairs"), registered_org())
        foreign = await registry.post(
            f"{ORGS}/{org['id']}/grade-evaluations",
            json={"year": THIS_YEAR},
            headers=auth("organization", org_id=other["id"]),
        )
        refused(foreign, 404, "organization_not_found")
        listed = ok(
            await registry.get(
                f"{ORGS}/{org['id']}/grade-evaluations",
                headers=auth("organization", org_id=org["id"]),
            )
        )
        assert [e["id"] for e in listed] == [evaluation["id"]]
        assert "grade_evaluation.applied" in [e.event_type for e in await events_of(org["id"])]

    async def test_a_filed_community_group_cannot_be_graded(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), filed_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/grade-evaluations",
            json={"year": THIS_YEAR},
            headers=auth("civil_affairs"),
        )
        refused(response, 409, "filed_organization_not_gradable")
        assert "备案" in response.json()["title"] + response.json()["detail"]
        listed = await registry.get(
            f"{ORGS}/{org['id']}/grade-evaluations", headers=auth("civil_affairs")
        )
        assert ok(listed) == []

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"year": THIS_YEAR, "requested_grade": "6A"}, "validation_error"),
            ({"year": 9999}, "validation_error"),
            ({"year": -1}, "validation_error"),
            ({"year": THIS_YEAR + 1}, "year_in_future"),
            ({"year": THIS_YEAR, "remarks": "x" * 100_000}, "validation_error"),
            ({"year": THIS_YEAR, "grade": "5A"}, "validation_error"),
        ],
    )
    async def test_hostile_applications_are_refused_and_change_nothing(
        self, registry: httpx.AsyncClient, auth: Auth, body: dict[str, Any], code: str
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/grade-evaluations",
            json=body,
            headers=auth("organization", org_id=org["id"]),
        )
        refused(response, 422, code)
        assert (
            ok(await registry.get(f"{ORGS}/{org['id']}/grade-evaluations", headers=auth("auditor")))
            == []
        )

    async def test_a_lone_surrogate_in_the_remarks_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/grade-evaluations",
            content=json.dumps({"year": THIS_YEAR, "remarks": "申请\ud800评估"}).encode(),
            headers={
                **auth("organization", org_id=org["id"]),
                "Content-Type": "application/json",
            },
        )
        refused_surrogate(response)
        assert (
            ok(await registry.get(f"{ORGS}/{org['id']}/grade-evaluations", headers=auth("auditor")))
            == []
        )


class TestScoring:
    async def test_experts_score_and_the_total_is_their_mean(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        first = ok(await score(registry, auth, evaluation, TOP), 201)
        assert first["state"] == "scored"
        assert (first["total_score"], first["earned_grade"]) == (955, "5A")
        assert [s["total"] for s in first["scores"]] == [955]
        second = ok(await score(registry, auth, evaluation, {**TOP, "work_performance": 300}), 201)
        # (955 + 875) / 2 = 915: 4A.
        assert (second["total_score"], second["earned_grade"]) == (915, "4A")
        expert = auth("evaluator", sub="expert-zhao")
        url = f"{EVALUATIONS}/{evaluation['id']}/scores"
        ok(await registry.post(url, json=WEAK, headers=expert), 201)
        refused(await registry.post(url, json=WEAK, headers=expert), 409, "grade_already_scored")

    @pytest.mark.parametrize(
        "points",
        [
            {**TOP, "basic_conditions": 101},
            {**TOP, "work_performance": 401},
            {**TOP, "social_evaluation": -1},
            {**TOP, "internal_governance": 10**12},
            {k: v for k, v in TOP.items() if k != "work_performance"},
            {**TOP, "comments": "x" * 10_000},
        ],
    )
    async def test_scores_beyond_the_scheme_are_refused_and_change_nothing(
        self, registry: httpx.AsyncClient, auth: Auth, points: dict[str, Any]
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        refused(await score(registry, auth, evaluation, points), 422, "validation_error")
        read = ok(await registry.get(f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")))
        assert (read["state"], read["total_score"], read["scores"]) == ("applied", None, [])

    async def test_an_organization_cannot_score_itself(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        response = await registry.post(
            f"{EVALUATIONS}/{evaluation['id']}/scores",
            json=TOP,
            headers=auth("organization", org_id=org["id"]),
        )
        refused(response, 403, "role_forbidden")


class TestDecision:
    async def test_the_granted_grade_is_the_organizations_for_five_years(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth, reason="评估委员会审定")
        today = shanghai_today()
        assert (evaluation["state"], evaluation["grade"], evaluation["granted_grade"]) == (
            "granted",
            "5A",
            "5A",
        )
        assert evaluation["valid_from"] == today.isoformat()
        assert evaluation["valid_until"] == valid_until(today).isoformat()
        assert [(c["kind"], c["grade_after"]) for c in evaluation["changes"]] == [("granted", "5A")]
        read = await organization(registry, auth, org)
        assert (read["evaluation_grade"], read["grade_valid_until"]) == (
            "5A",
            evaluation["valid_until"],
        )
        history = ok(await registry.get(f"{ORGS}/{org['id']}/history", headers=auth("auditor")))[
            "items"
        ]
        granted = {e["field"]: e for e in history if e["action"] == "grade_granted"}
        assert granted["evaluation_grade"]["after"] == "5A"
        assert granted["evaluation_grade"]["actor_sub"] == "bureau-wang"

    async def test_the_bureau_may_grant_less_than_the_score_never_more(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        refused(await decide(registry, auth, evaluation), 409, "grade_not_scored")
        ok(await score(registry, auth, evaluation, {**TOP, "work_performance": 300}), 201)
        refused(await decide(registry, auth, evaluation, grade="5A"), 422, "grade_above_score")
        refused(await decide(registry, auth, evaluation, grade="6A"), 422, "validation_error")
        assert (await organization(registry, auth, org))["evaluation_grade"] is None
        lower = ok(await decide(registry, auth, evaluation, grade="3A"))
        assert lower["grade"] == "3A"

    async def test_a_score_below_600_earns_no_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        ok(await score(registry, auth, evaluation, {**WEAK, "work_performance": 100}), 201)
        refused(await decide(registry, auth, evaluation), 409, "score_below_grades")
        refusal = await decide(registry, auth, evaluation, outcome="refused")
        refused(refusal, 422, "reason_required")
        done = ok(await decide(registry, auth, evaluation, outcome="refused", reason="得分不足"))
        assert (done["state"], done["grade"]) == ("refused", None)
        assert (await organization(registry, auth, org))["evaluation_grade"] is None

    async def test_the_bureau_rejects_an_application_and_a_new_one_may_follow(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        rejected = ok(
            await decide(registry, auth, evaluation, outcome="refused", reason="成立未满两年")
        )
        assert (rejected["state"], rejected["decision_reason"]) == ("refused", "成立未满两年")
        refused(await score(registry, auth, evaluation, TOP), 409, "grade_evaluation_state")
        ok(await apply(registry, auth, org), 201)

    async def test_a_new_grade_supersedes_the_one_in_force(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, first = await graded(registry, auth, WEAK)
        assert first["grade"] == "1A"
        second = ok(await apply(registry, auth, org), 201)
        ok(await score(registry, auth, second, TOP), 201)
        ok(await decide(registry, auth, second))
        old = ok(await registry.get(f"{EVALUATIONS}/{first['id']}", headers=auth("auditor")))
        assert (old["state"], old["grade"]) == ("superseded", None)
        assert [c["kind"] for c in old["changes"]] == ["granted", "superseded"]
        assert (await organization(registry, auth, org))["evaluation_grade"] == "5A"


class TestPublication:
    async def test_a_published_grade_is_read_by_anyone_without_a_token(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth)
        assert org["id"] not in [g["organization_id"] for g in await public_grades(registry)]
        published = ok(
            await registry.post(
                f"{EVALUATIONS}/{evaluation['id']}/publication", headers=auth("civil_affairs")
            )
        )
        assert published["published_at"] is not None
        refused(
            await registry.post(
                f"{EVALUATIONS}/{evaluation['id']}/publication", headers=auth("civil_affairs")
            ),
            409,
            "grade_already_published",
        )
        listed = {g["organization_id"]: g for g in await public_grades(registry)}
        assert listed[org["id"]]["grade"] == "5A"
        assert listed[org["id"]]["organization_name"] == org["name"]
        assert listed[org["id"]]["uscc"] == org["uscc"]
        assert "legal_rep_id_number" not in listed[org["id"]]
        only_1a = await public_grades(registry, grade="1A")
        assert org["id"] not in [g["organization_id"] for g in only_1a]

    @pytest.mark.parametrize(
        "params", [{"grade": "6A"}, {"page_size": 100_000}, {"page": 0}, {"page": 10**12}]
    )
    async def test_the_public_list_refuses_hostile_queries(
        self, registry: httpx.AsyncClient, params: dict[str, Any]
    ) -> None:
        response = await registry.get(PUBLIC, params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"

    async def test_an_organization_cannot_publish_its_own_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth)
        response = await registry.post(
            f"{EVALUATIONS}/{evaluation['id']}/publication",
            headers=auth("organization", org_id=org["id"]),
        )
        refused(response, 403, "role_forbidden")


class TestWithdrawal:
    async def test_the_applicant_withdraws_before_the_decision(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        ok(await score(registry, auth, evaluation, TOP), 201)
        url = f"{EVALUATIONS}/{evaluation['id']}/withdrawal"
        own = auth("organization", org_id=org["id"])
        surrogate = json.dumps({"reason": "撤回\ud800"}).encode()
        headers = {**own, "Content-Type": "application/json"}
        refused_surrogate(await registry.post(url, content=surrogate, headers=headers))
        withdrawn = ok(await registry.post(url, json={"reason": "材料准备不足"}, headers=own))
        assert withdrawn["state"] == "withdrawn"
        refused(await decide(registry, auth, evaluation), 409, "grade_evaluation_state")
        refused(
            await registry.post(url, json={"reason": "再次撤回"}, headers=own),
            409,
            "grade_evaluation_state",
        )
        ok(await apply(registry, auth, org), 201)

    async def test_another_organization_cannot_withdraw_it(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        evaluation = ok(await apply(registry, auth, org), 201)
        other = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.post(
            f"{EVALUATIONS}/{evaluation['id']}/withdrawal",
            json={"reason": "不是我们的"},
            headers=auth("organization", org_id=other["id"]),
        )
        refused(response, 404, "grade_evaluation_not_found")


async def _end_validity(evaluation_id: str, last_day: date) -> None:
    """Move an evaluation's validity into the past (the clock cannot be moved)."""
    async with database.transaction() as session:
        await session.execute(
            update(GradeEvaluation)
            .where(GradeEvaluation.id == evaluation_id)
            .values(valid_from=last_day - timedelta(days=5 * 365), valid_until=last_day)
        )


class TestExpiry:
    async def test_the_sweep_expires_a_grade_whose_five_years_ended(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth)
        ok(
            await registry.post(
                f"{EVALUATIONS}/{evaluation['id']}/publication", headers=auth("civil_affairs")
            )
        )
        sweep = f"{EVALUATIONS}/expiry-sweeps"
        refused(
            await registry.post(sweep, headers=auth("organization", org_id=org["id"])),
            403,
            "role_forbidden",
        )
        await _end_validity(evaluation["id"], shanghai_today())
        ok(await registry.post(sweep, headers=auth("civil_affairs")))
        # Valid through its last day: still in force today.
        assert (await organization(registry, auth, org))["evaluation_grade"] == "5A"
        await _end_validity(evaluation["id"], shanghai_today() - timedelta(days=1))
        result = ok(await registry.post(sweep, headers=auth("civil_affairs")))
        assert result["expired"] >= 1
        read = ok(await registry.get(f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")))
        assert (read["state"], read["grade"]) == ("expired", None)
        assert read["changes"][-1]["kind"] == "expired"
        after = await organization(registry, auth, org)
        assert (after["evaluation_grade"], after["grade_valid_until"]) == (None, None)
        assert org["id"] not in [g["organization_id"] for g in await public_grades(registry)]
        again = ok(await registry.post(sweep, headers=auth("civil_affairs")))
        read_again = await registry.get(
            f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")
        )
        assert len(ok(read_again)["changes"]) == len(read["changes"])
        assert again["expired"] >= 0

    async def test_a_hand_entered_grade_lapses_too(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        yesterday = shanghai_today() - timedelta(days=1)
        org = await created(registry, auth("civil_affairs"), registered_org())
        await enter_legacy_grade(org["id"], "3A", yesterday - timedelta(days=400), yesterday)
        result = ok(
            await registry.post(f"{EVALUATIONS}/expiry-sweeps", headers=auth("civil_affairs"))
        )
        assert result["cleared"] >= 1
        assert (await organization(registry, auth, org))["evaluation_grade"] is None


class TestInspectionDowngrade:
    async def _fail_inspection(
        self, registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]
    ) -> None:
        inspection = ok(await submit(registry, auth, org), 201)
        await post_outcome(registry, auth, outcome_body(await application_of(inspection)))
        ok(await conclude(registry, auth, org, FAILING))

    async def test_a_failed_inspection_lowers_the_evaluated_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth)
        await self._fail_inspection(registry, auth, org)
        read = ok(await registry.get(f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")))
        assert (read["state"], read["grade"], read["granted_grade"]) == ("granted", "4A", "5A")
        downgrade = read["changes"][-1]
        assert (downgrade["kind"], downgrade["grade_before"], downgrade["grade_after"]) == (
            "downgraded",
            "5A",
            "4A",
        )
        assert downgrade["inspection_year"] == THIS_YEAR - 1
        assert (await organization(registry, auth, org))["evaluation_grade"] == "4A"

    async def test_a_failed_inspection_revokes_a_1a_grade(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth, WEAK)
        await self._fail_inspection(registry, auth, org)
        read = ok(await registry.get(f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")))
        assert (read["state"], read["grade"]) == ("revoked", None)
        after = await organization(registry, auth, org)
        assert (after["evaluation_grade"], after["grade_valid_until"]) == (None, None)
        async with database.transaction() as session:
            state = await session.scalar(
                select(GradeEvaluation.state).where(GradeEvaluation.id == evaluation["id"])
            )
        assert state == "revoked"

    async def test_a_second_basic_pass_in_a_row_lowers_the_grade_a_first_does_not(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org, evaluation = await graded(registry, auth)
        basic = {"result": "basic_pass", "party_building_ok": True, "financial_audit_ok": False}
        grades_after = []
        for year in (THIS_YEAR - 2, THIS_YEAR - 1):
            inspection = ok(await submit(registry, auth, org, year), 201)
            await post_outcome(registry, auth, outcome_body(await application_of(inspection)))
            ok(
                await registry.put(
                    f"{ORGS}/{org['id']}/annual-inspections/{year}/conclusion",
                    json=basic,
                    headers=auth("civil_affairs"),
                )
            )
            grades_after.append((await organization(registry, auth, org))["evaluation_grade"])
        assert grades_after == ["5A", "4A"]
        read = ok(await registry.get(f"{EVALUATIONS}/{evaluation['id']}", headers=auth("auditor")))
        assert read["changes"][-1]["reason"].endswith("basic pass two years in a row")
