"""The "run at most once" state machine, as pure rules (no I/O).

submitted ──pre-check──► accepted ──► in_joint_review ──► approved | rejected
    │  ▲                                   │
    ▼  │ (pre-check again)                 │ (a reviewer finds a material invalid)
supplement_requested ──► resubmitted ◄─────┘ via supplement_requested
(at most once per case)

withdrawn: by the applicant from any state before a decision.
rejected: also straight from pre-check when materials are still missing after the
one supplement round (the case must then be decided, not sent back again).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.workflow.cases.models import CaseState, TaskState
from services.workflow.definitions.schemas import JoinKind, JoinRule

TERMINAL = frozenset({CaseState.approved, CaseState.rejected, CaseState.withdrawn})
# States whose clock runs (reminders and escalation apply).
CLOCK_RUNNING = frozenset(
    {CaseState.submitted, CaseState.resubmitted, CaseState.accepted, CaseState.in_joint_review}
)
AWAITING_PRECHECK = frozenset({CaseState.submitted, CaseState.resubmitted})

ALLOWED: dict[CaseState | None, frozenset[CaseState]] = {
    None: frozenset({CaseState.submitted}),
    CaseState.submitted: frozenset(
        {
            CaseState.accepted,
            CaseState.supplement_requested,
            CaseState.rejected,
            CaseState.withdrawn,
        }
    ),
    CaseState.supplement_requested: frozenset({CaseState.resubmitted, CaseState.withdrawn}),
    CaseState.resubmitted: frozenset(
        {
            CaseState.accepted,
            CaseState.supplement_requested,
            CaseState.rejected,
            CaseState.withdrawn,
        }
    ),
    CaseState.accepted: frozenset({CaseState.in_joint_review, CaseState.withdrawn}),
    CaseState.in_joint_review: frozenset(
        {
            CaseState.approved,
            CaseState.rejected,
            CaseState.supplement_requested,
            CaseState.withdrawn,
        }
    ),
    CaseState.approved: frozenset(),
    CaseState.rejected: frozenset(),
    CaseState.withdrawn: frozenset(),
}

MAX_SUPPLEMENT_ROUNDS = 1


def can_transition(current: CaseState | None, target: CaseState) -> bool:
    return target in ALLOWED[current]


def join_outcome(rule: JoinRule, decisions: Iterable[TaskState]) -> CaseState | None:
    """The case's outcome given its tasks' states, or None while it is still open."""
    states = [s for s in decisions if s is not TaskState.cancelled]
    total = len(states)
    approvals = sum(s is TaskState.approved for s in states)
    rejections = sum(s is TaskState.rejected for s in states)
    if rule.kind is JoinKind.all:
        if rejections:
            return CaseState.rejected
        return CaseState.approved if approvals == total else None
    if rule.kind is JoinKind.any:
        if approvals:
            return CaseState.approved
        return CaseState.rejected if rejections == total else None
    needed = rule.n or total
    if approvals >= needed:
        return CaseState.approved
    if total - rejections < needed:
        return CaseState.rejected
    return None
