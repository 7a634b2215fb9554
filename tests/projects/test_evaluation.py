"""SPPE: the scheme's shape, capped adjustments, independent scoring, reproducible results."""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select

from services.projects.evaluation.models import Evaluation, ScoreSheet
from services.projects.evaluation.scheme import SCHEMES_DIR, SchemeContent, read_scheme_files
from services.projects.evaluation.scoring import composite, grade_for, score_sheet
from shared.db import database
from tests.projects.driver import API, SCHEME, Driver, sheet


def scheme_dict() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SCHEMES_DIR / "sppe.v1.yaml").read_text("utf-8"))
    return loaded


class TestScheme:
    def test_four_dimensions_twenty_three_indicators_one_hundred_points(self) -> None:
        scheme = read_scheme_files()[0]
        assert [d.code for d in scheme.dimensions] == [
            "standard",
            "professional",
            "planning",
            "effect",
        ]
        assert len(scheme.indicators) == 23
        assert sum(i.max_points for i in scheme.indicators) == 100
        assert len(scheme.adjustments) == 4
        assert {a.kind.value for a in scheme.adjustments} == {"bonus", "penalty"}

    @pytest.mark.parametrize(
        ("breakage", "message"),
        [
            (lambda s: s["dimensions"][0]["indicators"][0].update(max_points=6), "add up"),
            (lambda s: s["dimensions"][3]["indicators"].pop(), "23 indicators"),
            (lambda s: s["adjustments"].pop(), "4 adjustment"),
            (lambda s: s["dimensions"].reverse(), "dimensions must be"),
            (lambda s: s["grades"].reverse(), "best"),
        ],
    )
    def test_a_malformed_scheme_is_refused(self, breakage: Any, message: str) -> None:
        content = scheme_dict()
        breakage(content)
        with pytest.raises(ValidationError, match=message):
            SchemeContent.model_validate(content)

    async def test_schemes_are_served_as_stored(self, driver: Driver) -> None:
        stored = await driver.expect("GET", f"{API}/sppe-schemes/1", 200, driver.auth("evaluator"))
        assert stored["content_sha256"] == SCHEME.sha256()

    async def test_an_impossible_version_is_a_validation_problem(self, driver: Driver) -> None:
        # Found by the OpenAPI fuzzer: beyond int4 it reached Postgres and answered 500.
        problem = await driver.expect(
            "GET", f"{API}/sppe-schemes/3133051327690", 422, driver.auth("evaluator")
        )
        assert problem["code"] == "validation_error"
        await driver.expect("GET", f"{API}/sppe-schemes/999", 404, driver.auth("evaluator"))


class TestScoring:
    async def test_evaluators_must_declare_and_a_conflict_recuses(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        first, second, _ = flow.evaluators
        early = await driver.client.post(
            f"{flow.path}/evaluation/sheets", json=sheet(0.8), headers=driver.evaluator(first)
        )
        assert (early.status_code, early.json()["code"]) == (409, "declaration_required")
        await driver.expect(
            "POST",
            f"{flow.path}/evaluation/declaration",
            200,
            driver.evaluator(second),
            json={"has_conflict": True, "statement": "本人曾在该机构任职。"},
        )
        recused = await driver.client.post(
            f"{flow.path}/evaluation/sheets", json=sheet(0.8), headers=driver.evaluator(second)
        )
        assert (recused.status_code, recused.json()["code"]) == (409, "evaluator_recused")
        stranger = await driver.client.post(
            f"{flow.path}/evaluation/sheets", json=sheet(0.8), headers=driver.evaluator("nobody")
        )
        assert stranger.status_code == 404

    async def test_adjustments_are_capped_and_every_indicator_scored(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        sub = flow.evaluators[0]
        await driver.expect(
            "POST",
            f"{flow.path}/evaluation/declaration",
            200,
            driver.evaluator(sub),
            json={"has_conflict": False, "statement": "无"},
        )
        over = sheet(0.8, A1="3.5", A3="2")
        del over["indicator_points"]["E6"]
        over["indicator_points"]["S1"] = "5.5"
        response = await driver.client.post(
            f"{flow.path}/evaluation/sheets", json=over, headers=driver.evaluator(sub)
        )
        assert (response.status_code, response.json()["code"]) == (422, "invalid_sheet")
        codes = {e["field"]: e["code"] for e in response.json()["errors"]}
        assert codes == {
            "body.indicator_points": "indicators_incomplete",
            "body.indicator_points.S1": "points_out_of_range",
            "body.adjustment_points.A1": "adjustment_over_cap",
            "body.adjustment_points.A3": "adjustment_over_cap",
        }
        ok = await driver.expect(
            "POST",
            f"{flow.path}/evaluation/sheets",
            201,
            driver.evaluator(sub),
            json=sheet(0.8, A1="3", A3="-5"),
        )
        assert Decimal(ok["adjustment_total"]) == Decimal(-2)

    async def test_composite_and_grade_are_reproducible_from_the_stored_sheets(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluating()
        await driver.score(flow, [0.8, 0.85, 0.9])
        private = await driver.expect(
            "GET", f"{flow.path}/evaluation", 200, driver.evaluator(flow.evaluators[0])
        )
        assert [s["evaluator_sub"] for s in private["sheets"]] == [flow.evaluators[0]]
        concluded = await driver.expect(
            "POST", f"{flow.path}/evaluation/conclusion", 200, driver.bureau
        )
        evaluation = await driver.expect(
            "GET", f"{flow.path}/evaluation", 200, driver.org(flow.org_id)
        )
        assert evaluation == concluded | {"version": evaluation["version"]}
        totals: list[Decimal] = []
        for stored in evaluation["sheets"]:
            base = sum((Decimal(v) for v in stored["indicator_points"].values()), Decimal(0))
            adjustments = sum(
                (Decimal(v) for v in stored["adjustment_points"].values()), Decimal(0)
            )
            assert Decimal(stored["total"]) == base + adjustments
            totals.append(base + adjustments)
        mean = (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert (Decimal(evaluation["composite"]), evaluation["rule"]) == (mean, "mean")
        assert evaluation["grade"] == grade_for(SCHEME, mean).value == "good"
        assert evaluation["scheme_version"] == 1
        tranches = await driver.tranches(flow)
        assert tranches[2]["milestone_met_at"] is not None

    async def test_large_disagreement_is_sent_back_then_the_median_decides(
        self, driver: Driver
    ) -> None:
        flow = await driver.evaluating()
        await driver.score(flow, [0.5, 0.9, 0.95])
        evaluation = await driver.expect("GET", f"{flow.path}/evaluation", 200, driver.bureau)
        assert evaluation["round"] == 2
        early = await driver.client.post(
            f"{flow.path}/evaluation/conclusion", headers=driver.bureau
        )
        assert (early.status_code, early.json()["code"]) == (409, "sheets_missing")
        await driver.score(flow, [0.55, 0.9, 0.95], declare=False)
        concluded = await driver.expect(
            "POST", f"{flow.path}/evaluation/conclusion", 200, driver.bureau
        )
        final = [Decimal(s["total"]) for s in concluded["sheets"] if s["round"] == 2]
        assert len(concluded["sheets"]) == 6  # round 1 is kept
        assert concluded["rule"] == "median"
        assert Decimal(concluded["composite"]) == statistics.median(final)

    async def test_a_failed_evaluation_blocks_the_final_tranche(self, driver: Driver) -> None:
        flow = await driver.evaluated(fraction=0.5)
        final = (await driver.tranches(flow))[2]
        assert final["final"] and final["withheld_at"] and final["milestone_met_at"] is None
        response = await driver.client.post(
            f"{flow.path}/payment-requests",
            headers=driver.org(flow.org_id),
            json={"tranche_id": final["id"]},
        )
        assert (response.status_code, response.json()["code"]) == (409, "evaluation_failed")

    async def test_the_final_tranche_waits_for_the_conclusion(self, driver: Driver) -> None:
        flow = await driver.supervised(
            schedule=[
                {"percent": 50, "trigger": "contract_signed"},
                {"percent": 50, "trigger": "mid_term_supervision"},
            ]
        )
        final = (await driver.tranches(flow))[1]
        assert final["milestone_met_at"] is not None
        response = await driver.client.post(
            f"{flow.path}/payment-requests",
            headers=driver.org(flow.org_id),
            json={"tranche_id": final["id"]},
        )
        assert (response.status_code, response.json()["code"]) == (409, "evaluation_not_concluded")

    async def test_the_scheme_is_frozen_in_the_evaluation(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        async with database.transaction() as session:
            frozen = await session.scalar(
                select(Evaluation.scheme).where(Evaluation.project_id == flow.project["id"])
            )
        assert frozen == SCHEME.model_dump(mode="json")


async def test_the_stored_result_is_rederived_from_the_stored_sheets_and_frozen_scheme(
    driver: Driver,
) -> None:
    """An auditor's check: from the database alone (the scheme frozen in the evaluation and
    the sheets as stored), re-scoring every sheet and re-applying the documented rule gives
    the stored totals, composite, rule and grade."""
    flow = await driver.evaluating()
    submitted = [sheet(0.8, A1="3", A4="-2"), sheet(0.85, A2="1.5"), sheet(0.75, A3="-4")]
    await driver.submit_sheets(flow, submitted)
    await driver.expect("POST", f"{flow.path}/evaluation/conclusion", 200, driver.bureau)

    async with database.transaction() as session:
        evaluation = await session.scalar(
            select(Evaluation).where(Evaluation.project_id == flow.project["id"])
        )
        assert evaluation is not None
        sheets = list(
            (
                await session.execute(
                    select(ScoreSheet).where(ScoreSheet.evaluation_id == evaluation.id)
                )
            ).scalars()
        )
    frozen = SchemeContent.model_validate(evaluation.scheme)
    assert len(sheets) == 3
    totals: list[Decimal] = []
    for stored in sheets:
        score, problems = score_sheet(frozen, stored.indicator_points, stored.adjustment_points)
        assert problems == [] and score is not None
        assert (score.base, score.adjustments, score.total) == (
            stored.base_total,
            stored.adjustment_total,
            stored.total,
        )
        totals.append(stored.total)
    # Each adjustment criterion stays within its cap in what was stored.
    caps = {a.code: a.cap for a in frozen.adjustments}
    assert all(abs(Decimal(v)) <= caps[k] for s in sheets for k, v in s.adjustment_points.items())
    again = composite(frozen, totals, round_=evaluation.round)
    assert (again.value, again.rule) == (evaluation.composite, evaluation.rule)
    mean = (sum(totals, Decimal(0)) / 3).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert evaluation.composite == mean and evaluation.rule == "mean"
    assert evaluation.grade is not None
    assert grade_for(frozen, mean) == evaluation.grade
