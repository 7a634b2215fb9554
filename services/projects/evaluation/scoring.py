"""The SPPE scoring rule, as pure functions over stored sheets (so results can be re-derived).

Sheet total = Σ indicator points (each 0..max, a multiple of `points_step`, so ≤ 100)
+ Σ adjustments (a bonus 0..cap, a penalty −cap..0). The composite of a round is the
mean of its sheet totals rounded half-up to 0.01; if the totals spread more than the
threshold, the round is re-scored; after `max_rounds` the median is used instead.
The grade is the first band whose minimum the composite reaches.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.projects.evaluation.models import Grade
from services.projects.evaluation.scheme import AdjustmentKind, SchemeContent
from shared.errors import FieldError

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SheetScore:
    base: Decimal
    adjustments: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Composite:
    value: Decimal | None  # None: the round diverges and must be re-scored
    rule: str
    spread: Decimal


def _decimal(raw: str | Decimal | int) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def score_sheet(
    scheme: SchemeContent, indicators: dict[str, str], adjustments: dict[str, str]
) -> tuple[SheetScore | None, list[FieldError]]:
    errors: list[FieldError] = []
    expected = {i.code: i for i in scheme.indicators}
    if set(indicators) != set(expected):
        missing = sorted(set(expected) - set(indicators))
        unknown = sorted(set(indicators) - set(expected))
        errors.append(
            FieldError(
                field="body.indicator_points",
                message=f"score every indicator once; missing {missing}, unknown {unknown}",
                code="indicators_incomplete",
            )
        )
    base = Decimal(0)
    for code, raw in indicators.items():
        value, indicator = _decimal(raw), expected.get(code)
        if indicator is None:
            continue
        if value is None or not 0 <= value <= indicator.max_points or value % scheme.points_step:
            errors.append(
                FieldError(
                    field=f"body.indicator_points.{code}",
                    message=f"0 to {indicator.max_points} in steps of {scheme.points_step}",
                    code="points_out_of_range",
                )
            )
            continue
        base += value
    criteria = {a.code: a for a in scheme.adjustments}
    adjustment_total = Decimal(0)
    for code, raw in adjustments.items():
        value, criterion = _decimal(raw), criteria.get(code)
        if criterion is None:
            errors.append(
                FieldError(
                    field=f"body.adjustment_points.{code}",
                    message="no such adjustment criterion",
                    code="unknown_adjustment",
                )
            )
            continue
        low, high = (
            (Decimal(0), criterion.cap)
            if criterion.kind is AdjustmentKind.bonus
            else (-criterion.cap, Decimal(0))
        )
        if value is None or not low <= value <= high:
            errors.append(
                FieldError(
                    field=f"body.adjustment_points.{code}",
                    message=f"a {criterion.kind.value} between {low} and {high}",
                    code="adjustment_over_cap",
                )
            )
            continue
        adjustment_total += value
    if errors:
        return None, errors
    return SheetScore(base, adjustment_total, base + adjustment_total), []


def composite(scheme: SchemeContent, totals: list[Decimal], *, round_: int) -> Composite:
    rule = scheme.composite
    spread = max(totals) - min(totals)
    if spread > rule.divergence_threshold:
        if round_ < rule.max_rounds:
            return Composite(None, "rescore", spread)
        value = Decimal(statistics.median(totals)).quantize(CENT, ROUND_HALF_UP)
        return Composite(value, rule.after_max_rounds, spread)
    mean = (sum(totals, Decimal(0)) / len(totals)).quantize(CENT, ROUND_HALF_UP)
    return Composite(mean, rule.rule, spread)


def grade_for(scheme: SchemeContent, value: Decimal) -> Grade:
    for band in scheme.grades:
        if value >= band.min:
            return band.grade
    return Grade.fail
