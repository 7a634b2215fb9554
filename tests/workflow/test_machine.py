"""Join rules and the transition table, as pure rules."""

from __future__ import annotations

import pytest

from services.workflow.cases.machine import ALLOWED, TERMINAL, can_transition, join_outcome
from services.workflow.definitions.schemas import JoinKind, JoinRule
from services.workflow.models import CaseState, TaskState

A, R, OPEN, C = TaskState.approved, TaskState.rejected, TaskState.open, TaskState.cancelled
ALL = JoinRule(kind=JoinKind.all)
ANY = JoinRule(kind=JoinKind.any)
TWO_OF_THREE = JoinRule(kind=JoinKind.n_of_m, n=2)


@pytest.mark.parametrize(
    ("rule", "tasks", "outcome"),
    [
        (ALL, [A, A, OPEN], None),
        (ALL, [A, A, A], CaseState.approved),
        (ALL, [A, R, OPEN], CaseState.rejected),
        (ANY, [OPEN, R, OPEN], None),
        (ANY, [R, A, OPEN], CaseState.approved),
        (ANY, [R, R, R], CaseState.rejected),
        (TWO_OF_THREE, [A, OPEN, OPEN], None),
        (TWO_OF_THREE, [A, R, A], CaseState.approved),
        (TWO_OF_THREE, [A, R, OPEN], None),
        (TWO_OF_THREE, [R, R, OPEN], CaseState.rejected),
        (ALL, [A, A, C], CaseState.approved),
    ],
)
def test_join_rules(rule: JoinRule, tasks: list[TaskState], outcome: CaseState | None) -> None:
    assert join_outcome(rule, tasks) == outcome


def test_terminal_states_go_nowhere_and_supplement_is_before_a_decision() -> None:
    for state in TERMINAL:
        assert ALLOWED[state] == frozenset()
    assert can_transition(CaseState.submitted, CaseState.supplement_requested)
    assert can_transition(CaseState.in_joint_review, CaseState.supplement_requested)
    assert not can_transition(CaseState.approved, CaseState.supplement_requested)
    assert not can_transition(CaseState.supplement_requested, CaseState.accepted)
    assert not can_transition(CaseState.submitted, CaseState.approved)
