"""Grade evaluation of social organizations (社会组织等级评估, 1A–5A).

"Today a grade is just a field": here it has a life. An organization (or the bureau
for it) applies for an evaluation of a year; experts (the `evaluator` role, 评估专家)
score it on the 1000-point scheme of `grade_points`; the bureau grants the grade the score
earns (or a lower one) or refuses; the grade is published (公示) for anyone to read
at `GET /api/v1/public/grades`; it is valid five years from the decision and then
expires (`expiry.sweep`). Rules (《社会组织评估管理办法》, MCA order No. 39):

- only registered organizations are graded: a filed (备案) community group is not a
  legal person the rules apply to, and is refused (`filed_organization_not_gradable`);
- one evaluation in progress per organization, one grade in force; a new grant
  supersedes the previous grade;
- the grade falls with annual inspections (`on_inspection_concluded`): a failed
  inspection (不合格) lowers it one level, and so does a second basic pass (基本合格)
  in a row; below 1A it is revoked (取消等级);
- the organization's `evaluation_grade` / `grade_valid_from` / `grade_valid_until`
  always equal the evaluation in force (none: all three empty); every change is also a
  `grade_change` row and a line of the organization's history.

The seed article of Luyang names "公益研究评估" among the tasks of its innovation park:
this is the evaluation the register keeps the result of.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.enums import (
    OPEN_GRADE_EVALUATION_STATES,
    EvaluationGrade,
    GradeChangeKind,
    GradeDecisionOutcome,
    GradeEvaluationState,
    InspectionResult,
    Registration,
)
from services.registry.grades import grade_points, repository
from services.registry.grades.models import GradeChange, GradeEvaluation, GradeScore
from services.registry.grades.schemas import (
    GradeApplication,
    GradeDecision,
    GradeScoreSubmit,
)
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations import history
from services.registry.organizations import service as organizations
from services.registry.organizations.eligibility import current_grade
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.clock import shanghai_today, utcnow
from shared.errors import Conflict, FieldError, NotFound, Unprocessable

VALIDITY_YEARS = 5
GRADE_FIELDS = ("evaluation_grade", "grade_valid_from", "grade_valid_until")


class Source:
    """How a grade change came, in the organization's history."""

    evaluation = "grade_evaluation"
    inspection = history.Source.inspection
    expiry = "grade_expiry"


def valid_until(valid_from: date) -> date:
    """The last day of a grade granted on `valid_from`: five years, the day before."""
    try:
        anniversary = valid_from.replace(year=valid_from.year + VALIDITY_YEARS)
    except ValueError:  # granted on 29 February: the anniversary is 1 March
        anniversary = date(valid_from.year + VALIDITY_YEARS, 3, 1)
    return anniversary - timedelta(days=1)


def _not_found() -> NotFound:
    return NotFound("No such grade evaluation", code="grade_evaluation_not_found")


async def get(
    session: AsyncSession, *, principal: Principal, evaluation_id: uuid.UUID
) -> GradeEvaluation:
    evaluation = await repository.get_visible(
        session, principal=principal, evaluation_id=evaluation_id
    )
    if evaluation is None:
        raise _not_found()
    return evaluation


async def _locked(
    session: AsyncSession, *, principal: Principal, evaluation_id: uuid.UUID
) -> tuple[Organization, GradeEvaluation]:
    """The evaluation and its organization, both locked (organization first, as everywhere)."""
    evaluation = await get(session, principal=principal, evaluation_id=evaluation_id)
    organization = await organizations.get(
        session, principal=principal, organization_id=evaluation.organization_id, for_update=True
    )
    return organization, await repository.lock(session, evaluation.id)


def _refuse_unless(evaluation: GradeEvaluation, *states: GradeEvaluationState) -> None:
    if evaluation.state not in states:
        raise Conflict(f"The evaluation is {evaluation.state.value}", code="grade_evaluation_state")


async def apply(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: GradeApplication,
) -> GradeEvaluation:
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    organizations.refuse_if_closed(organization)
    if organization.registration is Registration.filed:
        raise Conflict(
            "A filed (备案) community organization cannot be graded",
            code="filed_organization_not_gradable",
        )
    today = shanghai_today()
    if data.year > today.year:
        raise _year_error("The evaluation year is ahead", "year_in_future")
    if organization.established_on and data.year < organization.established_on.year:
        raise _year_error("The organization did not exist that year", "before_establishment")
    if await repository.open_of(session, organization.id) is not None:
        raise Conflict(
            "An evaluation of this organization is in progress", code="grade_evaluation_open"
        )
    evaluation = GradeEvaluation(
        id=uuid.uuid4(),
        organization_id=organization.id,
        year=data.year,
        requested_grade=data.requested_grade,
        state=GradeEvaluationState.applied,
        remarks=data.remarks,
        applied_by=principal.sub,
    )
    session.add(evaluation)
    await session.flush()
    await session.refresh(evaluation)
    await _emit(session, "grade_evaluation.applied", evaluation)
    return evaluation


def _year_error(message: str, code: str) -> Unprocessable:
    return Unprocessable(
        message, code=code, errors=[FieldError(field="body.year", message=message, code=code)]
    )


async def score(
    session: AsyncSession,
    *,
    principal: Principal,
    evaluation_id: uuid.UUID,
    data: GradeScoreSubmit,
) -> GradeEvaluation:
    """An expert's scores (one set per expert); the evaluation's total is their mean."""
    _, evaluation = await _locked(session, principal=principal, evaluation_id=evaluation_id)
    _refuse_unless(evaluation, *OPEN_GRADE_EVALUATION_STATES)
    if await repository.score_of(session, evaluation.id, principal.sub) is not None:
        raise Conflict("You scored this evaluation already", code="grade_already_scored")
    points = {name: getattr(data, name) for name in grade_points.INDICATOR_MAXIMA}
    session.add(
        GradeScore(
            id=uuid.uuid4(),
            evaluation_id=evaluation.id,
            expert_sub=principal.sub,
            total=sum(points.values()),
            comments=data.comments,
            **points,
        )
    )
    await session.flush()
    totals = [row.total for row in await repository.scores_of(session, evaluation.id)]
    evaluation.total_score = grade_points.mean_total(totals)
    evaluation.state = GradeEvaluationState.scored
    await session.flush()
    return evaluation


async def decide(
    session: AsyncSession,
    *,
    principal: Principal,
    evaluation_id: uuid.UUID,
    data: GradeDecision,
) -> GradeEvaluation:
    """Grant a grade (at most the one the score earns) or refuse; refusing needs a reason.

    Refusing is also how the bureau rejects an application before any score."""
    organization, evaluation = await _locked(
        session, principal=principal, evaluation_id=evaluation_id
    )
    _refuse_unless(evaluation, *OPEN_GRADE_EVALUATION_STATES)
    if data.outcome is GradeDecisionOutcome.refused:
        if data.reason is None:
            raise Unprocessable(
                "A refusal needs a reason",
                code="reason_required",
                errors=[
                    FieldError(field="body.reason", message="Required", code="reason_required")
                ],
            )
        if data.grade is not None:
            raise _grade_error("A refusal grants no grade", "grade_with_refusal")
        evaluation.state = GradeEvaluationState.refused
        _stamp_decision(evaluation, principal, data.reason)
        await session.flush()
        await _emit(session, "grade_evaluation.decided", evaluation, outcome=data.outcome)
        return evaluation
    organizations.refuse_if_closed(organization)
    if evaluation.state is not GradeEvaluationState.scored:
        raise Conflict("No expert has scored the evaluation yet", code="grade_not_scored")
    earned = evaluation.earned_grade
    if earned is None:
        raise Conflict(
            f"A total of {evaluation.total_score} earns no grade (600 is the least)",
            code="score_below_grades",
        )
    grade = data.grade or earned
    if not grade_points.at_most(grade, earned):
        raise _grade_error(f"The score earns {earned.value} at most", "grade_above_score")
    previous = await repository.in_force_of(session, organization.id)
    if previous is not None:
        await _end(
            session,
            principal=principal,
            organization=organization,
            evaluation=previous,
            to=GradeEvaluationState.superseded,
            kind=GradeChangeKind.superseded,
            reason=f"Superseded by the {evaluation.year} evaluation",
            source=Source.evaluation,
        )
    today = shanghai_today()
    evaluation.state = GradeEvaluationState.granted
    evaluation.granted_grade = grade
    evaluation.grade = grade
    evaluation.valid_from = today
    evaluation.valid_until = valid_until(today)
    _stamp_decision(evaluation, principal, data.reason)
    await session.flush()
    await _record_change(
        session,
        principal=principal,
        evaluation=evaluation,
        kind=GradeChangeKind.granted,
        before=None,
        after=grade,
        reason=data.reason,
    )
    await _sync_organization(
        session,
        principal=principal,
        organization=organization,
        evaluation=evaluation,
        source=Source.evaluation,
        reason=data.reason,
    )
    await _emit(session, "grade_evaluation.decided", evaluation, outcome=data.outcome)
    return evaluation


def _grade_error(message: str, code: str) -> Unprocessable:
    return Unprocessable(
        message, code=code, errors=[FieldError(field="body.grade", message=message, code=code)]
    )


def _stamp_decision(evaluation: GradeEvaluation, principal: Principal, reason: str | None) -> None:
    evaluation.decided_by = principal.sub
    evaluation.decided_at = utcnow()
    evaluation.decision_reason = reason


async def publish(
    session: AsyncSession, *, principal: Principal, evaluation_id: uuid.UUID
) -> GradeEvaluation:
    """Publish (公示) a granted grade: it then shows in the public list while in force."""
    _, evaluation = await _locked(session, principal=principal, evaluation_id=evaluation_id)
    _refuse_unless(evaluation, GradeEvaluationState.granted)
    if evaluation.published_at is not None:
        raise Conflict("The grade is published already", code="grade_already_published")
    evaluation.published_at = utcnow()
    evaluation.published_by = principal.sub
    await session.flush()
    await _emit(session, "grade_evaluation.published", evaluation)
    return evaluation


async def withdraw(
    session: AsyncSession, *, principal: Principal, evaluation_id: uuid.UUID, reason: str
) -> GradeEvaluation:
    """The applicant (the organization itself, or the bureau) withdraws before the decision."""
    _, evaluation = await _locked(session, principal=principal, evaluation_id=evaluation_id)
    _refuse_unless(evaluation, *OPEN_GRADE_EVALUATION_STATES)
    evaluation.state = GradeEvaluationState.withdrawn
    evaluation.decision_reason = reason
    await session.flush()
    await _emit(session, "grade_evaluation.decided", evaluation, outcome="withdrawn")
    return evaluation


async def on_inspection_concluded(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    inspection: AnnualInspection,
) -> None:
    """Lower the grade in force after a failed or missed (未参检) inspection, or a second
    basic pass in a row.

    Called by the inspections service when an inspection concludes, the organization
    locked. Nothing happens without a grade in force, or on a pass.
    """
    result = inspection.result
    if result is InspectionResult.basic_pass:
        if not await _basic_pass_the_year_before(session, inspection):
            return
        why = f"Annual inspection {inspection.year}: basic pass two years in a row"
    elif result is InspectionResult.fail:
        why = f"Annual inspection {inspection.year} failed"
    elif result is InspectionResult.absent:
        # 未参检 (the deadline sweep) lowers a grade as a failure does: order No. 39 art. 30.
        why = f"Annual inspection {inspection.year} not taken part in"
    else:
        return
    evaluation = await repository.in_force_of(session, organization.id)
    if evaluation is None or evaluation.grade is None:
        await _lower_entered_grade(
            session, principal=principal, organization=organization, reason=why
        )
        return
    lower = grade_points.lower(evaluation.grade)
    if lower is None:
        await _end(
            session,
            principal=principal,
            organization=organization,
            evaluation=evaluation,
            to=GradeEvaluationState.revoked,
            kind=GradeChangeKind.revoked,
            reason=why,
            source=Source.inspection,
            inspection_year=inspection.year,
        )
        return
    before = evaluation.grade
    evaluation.grade = lower
    await session.flush()
    await _record_change(
        session,
        principal=principal,
        evaluation=evaluation,
        kind=GradeChangeKind.downgraded,
        before=before,
        after=lower,
        reason=why,
        inspection_year=inspection.year,
    )
    await _sync_organization(
        session,
        principal=principal,
        organization=organization,
        evaluation=evaluation,
        source=Source.inspection,
        reason=why,
        action=history.Action.grade_downgraded,
    )


async def _lower_entered_grade(
    session: AsyncSession, *, principal: Principal, organization: Organization, reason: str
) -> None:
    """A grade entered by hand or imported (no evaluation behind it) falls all the same,
    while it is valid; below 1A it is cleared with its validity."""
    grade = current_grade(organization)
    if grade is None:
        return
    lower = grade_points.lower(grade)
    values = (
        (lower, organization.grade_valid_from, organization.grade_valid_until)
        if lower is not None
        else (None, None, None)
    )
    await _set_fields(
        session,
        principal=principal,
        organization=organization,
        values=values,
        source=Source.inspection,
        reason=reason,
        action=GRADE_ACTION[
            GradeChangeKind.downgraded if lower is not None else GradeChangeKind.revoked
        ],
    )


async def _basic_pass_the_year_before(session: AsyncSession, inspection: AnnualInspection) -> bool:
    query = select(AnnualInspection.result).where(
        AnnualInspection.organization_id == inspection.organization_id,
        AnnualInspection.year == inspection.year - 1,
    )
    return (await session.scalar(query)) is InspectionResult.basic_pass


async def expire(
    session: AsyncSession, *, principal: Principal, evaluation: GradeEvaluation
) -> bool:
    """End a granted evaluation whose validity passed (the sweep claimed it, locked).

    False when its organization is locked by a request: the next sweep takes it (the
    sweep holds the evaluation's lock, so waiting could deadlock with that request)."""
    organization = await repository.organization_if_free(session, evaluation.organization_id)
    if organization is None:
        return False
    await _end(
        session,
        principal=principal,
        organization=organization,
        evaluation=evaluation,
        to=GradeEvaluationState.expired,
        kind=GradeChangeKind.expired,
        reason=f"Valid until {evaluation.valid_until}",
        source=Source.expiry,
    )
    return True


async def clear_lapsed_field(
    session: AsyncSession, *, principal: Principal, organization: Organization
) -> None:
    """Clear a hand-entered grade whose validity ended (no evaluation is in force)."""
    await _set_fields(
        session,
        principal=principal,
        organization=organization,
        values=(None, None, None),
        source=Source.expiry,
        reason=f"Valid until {organization.grade_valid_until}",
        action=GRADE_ACTION[GradeChangeKind.expired],
    )


async def _end(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    evaluation: GradeEvaluation,
    to: GradeEvaluationState,
    kind: GradeChangeKind,
    reason: str,
    source: str,
    inspection_year: int | None = None,
) -> None:
    """The evaluation's grade ends (expired, revoked, superseded): the field empties."""
    before = evaluation.grade
    evaluation.state = to
    evaluation.grade = None
    evaluation.ended_on = shanghai_today()
    await session.flush()
    await _record_change(
        session,
        principal=principal,
        evaluation=evaluation,
        kind=kind,
        before=before,
        after=None,
        reason=reason,
        inspection_year=inspection_year,
    )
    await _set_fields(
        session,
        principal=principal,
        organization=organization,
        values=(None, None, None),
        source=source,
        reason=reason,
        action=GRADE_ACTION[kind],
    )


# The organization's history action of each kind of grade change.
GRADE_ACTION = {
    GradeChangeKind.granted: "grade_granted",
    GradeChangeKind.downgraded: history.Action.grade_downgraded,
    GradeChangeKind.revoked: "grade_revoked",
    GradeChangeKind.expired: "grade_expired",
    GradeChangeKind.superseded: "grade_superseded",
}


async def _sync_organization(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    evaluation: GradeEvaluation,
    source: str,
    reason: str | None,
    action: str = GRADE_ACTION[GradeChangeKind.granted],
) -> None:
    await _set_fields(
        session,
        principal=principal,
        organization=organization,
        values=(evaluation.grade, evaluation.valid_from, evaluation.valid_until),
        source=source,
        reason=reason,
        action=action,
    )


async def _set_fields(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    values: tuple[EvaluationGrade | None, date | None, date | None],
    source: str,
    reason: str | None,
    action: str,
) -> None:
    """Make the organization's grade fields `values`; the changed ones go to its history."""
    changes = {
        field: (getattr(organization, field), value)
        for field, value in zip(GRADE_FIELDS, values, strict=True)
        if getattr(organization, field) != value
    }
    if not changes:
        return
    for field, (_, value) in changes.items():
        setattr(organization, field, value)
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=action,
        source=source,
        changes=changes,
        reason=reason,
    )
    await events.organization_updated(session, organization.id, changes, source=source)


async def _record_change(
    session: AsyncSession,
    *,
    principal: Principal,
    evaluation: GradeEvaluation,
    kind: GradeChangeKind,
    before: EvaluationGrade | None,
    after: EvaluationGrade | None,
    reason: str | None,
    inspection_year: int | None = None,
) -> None:
    session.add(
        GradeChange(
            evaluation_id=evaluation.id,
            organization_id=evaluation.organization_id,
            kind=kind,
            grade_before=before,
            grade_after=after,
            reason=reason,
            inspection_year=inspection_year,
            actor_sub=principal.sub,
        )
    )
    await session.flush()


async def _emit(
    session: AsyncSession, event_type: str, evaluation: GradeEvaluation, **extra: object
) -> None:
    await events.emit(
        session,
        event_type,
        subject_type=events.ORGANIZATION,
        subject_id=evaluation.organization_id,
        data={
            "evaluation_id": evaluation.id,
            "year": evaluation.year,
            "state": evaluation.state,
            "grade": evaluation.grade,
            **extra,
        },
    )


async def list_for(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[GradeEvaluation]:
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id
    )
    return await repository.of_organization(session, organization.id)
