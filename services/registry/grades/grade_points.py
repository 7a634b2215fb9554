"""The 1000-point scheme of the grade evaluation and the grade each total earns.

The indicator system of 《社会组织评估管理办法》 (MCA order No. 39) scores an
organization out of 1000 on four first-level indicators: basic conditions (基础条件),
internal governance (内部治理), work performance (工作绩效) and social evaluation (社会评价).
The weights differ a little between the MCA's schemes for associations, service
institutions and foundations; we use one scheme for every kind, with the weights
below (they sum to 1000), until the bureau asks for one per kind.

A total earns a grade on the thresholds most provincial evaluation rules use:
5A from 950, 4A from 900, 3A from 800, 2A from 700, 1A from 600; below 600, no grade.

Several experts (评估专家) may score one evaluation; its total is the mean of their
totals, rounded half up to a whole point.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from services.registry.enums import EvaluationGrade

# The maximum points of each first-level indicator.
INDICATOR_MAXIMA: dict[str, int] = {
    "basic_conditions": 100,  # 基础条件
    "internal_governance": 350,  # 内部治理
    "work_performance": 400,  # 工作绩效
    "social_evaluation": 150,  # 社会评价
}
MAX_TOTAL = sum(INDICATOR_MAXIMA.values())
assert MAX_TOTAL == 1000

# The lowest total of each grade, highest grade first.
GRADE_THRESHOLDS: tuple[tuple[int, EvaluationGrade], ...] = (
    (950, EvaluationGrade.a5),
    (900, EvaluationGrade.a4),
    (800, EvaluationGrade.a3),
    (700, EvaluationGrade.a2),
    (600, EvaluationGrade.a1),
)
GRADE_ORDER: tuple[EvaluationGrade, ...] = tuple(EvaluationGrade)  # 1A … 5A


def grade_for(total: int) -> EvaluationGrade | None:
    """The grade a total earns, None below 600."""
    for lowest, grade in GRADE_THRESHOLDS:
        if total >= lowest:
            return grade
    return None


def mean_total(totals: Sequence[int]) -> int:
    """The evaluation's total: the mean of the experts' totals, rounded half up."""
    mean = Decimal(sum(totals)) / Decimal(len(totals))
    return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def lower(grade: EvaluationGrade) -> EvaluationGrade | None:
    """One grade lower; None below 1A (the grade is withdrawn)."""
    index = GRADE_ORDER.index(grade)
    return GRADE_ORDER[index - 1] if index > 0 else None


def at_most(grade: EvaluationGrade, ceiling: EvaluationGrade) -> bool:
    return GRADE_ORDER.index(grade) <= GRADE_ORDER.index(ceiling)
