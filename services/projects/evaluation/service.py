"""The SPPE evaluation: started with its scheme frozen, scored independently, concluded.

Evaluators are named by their token subject; each declares conflicts of interest
before scoring (a conflict recuses them). Each submits one sheet per round and sees
only their own sheets until the conclusion. When the last sheet of a round arrives and
the totals diverge beyond the scheme's threshold, a new round starts (re-scoring).
Concluding computes the composite and grade from the stored sheets (`scoring`); a fail
withholds the final tranche, any other grade makes `evaluation_passed` tranches payable.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.core import lifecycle
from services.projects.core.access import get_project
from services.projects.core.models import Project, ProjectStage
from services.projects.evaluation import scoring
from services.projects.evaluation.models import (
    AssignmentStatus,
    Evaluation,
    EvaluationStatus,
    EvaluatorAssignment,
    Grade,
    ScoreSheet,
    SppeScheme,
)
from services.projects.evaluation.schemas import Declaration, EvaluationStart, EvaluatorIn, SheetIn
from services.projects.evaluation.scheme import SchemeContent
from services.projects.meetings.models import MeetingKind
from services.projects.meetings.service import require_meeting
from services.projects.procurement.contracts import contract_of, mark_milestone, tranches_of
from services.projects.procurement.models import TrancheTrigger
from services.projects.supervision.service import unresolved_count
from shared.auth import Principal, Role
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable


def _bureau(principal: Principal) -> None:
    if principal.role is not Role.civil_affairs:
        raise Forbidden("The bureau organises evaluations", code="role_forbidden")


async def evaluation_of(
    session: AsyncSession, project: Project, *, lock: bool = False
) -> Evaluation:
    query = select(Evaluation).where(Evaluation.project_id == project.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("The project's evaluation has not started", code="evaluation_not_found")
    return found


def scheme_of(evaluation: Evaluation) -> SchemeContent:
    return SchemeContent.model_validate(evaluation.scheme)


async def assignments_of(
    session: AsyncSession, evaluation: Evaluation
) -> list[EvaluatorAssignment]:
    rows = await session.execute(
        select(EvaluatorAssignment)
        .where(EvaluatorAssignment.evaluation_id == evaluation.id)
        .order_by(EvaluatorAssignment.evaluator_sub)
    )
    return list(rows.scalars())


async def sheets_of(
    session: AsyncSession, evaluation: Evaluation, *, round_: int | None = None
) -> list[ScoreSheet]:
    query = select(ScoreSheet).where(ScoreSheet.evaluation_id == evaluation.id)
    if round_ is not None:
        query = query.where(ScoreSheet.round == round_)
    rows = await session.execute(query.order_by(ScoreSheet.round, ScoreSheet.submitted_at))
    return list(rows.scalars())


def _assignments(evaluation: Evaluation, people: list[EvaluatorIn]) -> list[EvaluatorAssignment]:
    return [
        EvaluatorAssignment(
            id=uuid.uuid4(),
            evaluation_id=evaluation.id,
            project_id=evaluation.project_id,
            evaluator_sub=p.sub,
            evaluator_name=p.name,
            status=AssignmentStatus.assigned,
        )
        for p in people
    ]


async def start(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: EvaluationStart
) -> Evaluation:
    _bureau(principal)
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    lifecycle.require_stage(project, ProjectStage.implementing, action="start the evaluation")
    await require_meeting(session, project, MeetingKind.supervision_meeting)
    if open_ := await unresolved_count(session, project):
        raise Conflict(f"{open_} rectification(s) are unresolved", code="rectifications_open")
    query = select(SppeScheme).order_by(SppeScheme.version.desc()).limit(1)
    if data.scheme_version is not None:
        query = select(SppeScheme).where(SppeScheme.version == data.scheme_version)
    stored = (await session.execute(query)).scalar_one_or_none()
    if stored is None:
        raise Unprocessable("No such SPPE scheme version", code="scheme_not_found")
    scheme = SchemeContent.model_validate(stored.content)
    if len({e.sub for e in data.evaluators}) != len(data.evaluators):
        raise Unprocessable("Evaluators must be distinct", code="evaluators_repeated")
    if len(data.evaluators) < scheme.min_evaluators:
        raise Unprocessable(
            f"The scheme needs at least {scheme.min_evaluators} evaluators",
            code="not_enough_evaluators",
        )
    evaluation = Evaluation(
        id=uuid.uuid4(),
        project_id=project.id,
        scheme_version=stored.version,
        # The scheme is copied, not referenced: the project keeps these exact rules.
        scheme=stored.content,
        status=EvaluationStatus.scoring,
        round=1,
        started_by=principal.sub,
    )
    session.add(evaluation)
    await session.flush()
    session.add_all(_assignments(evaluation, data.evaluators))
    await session.flush()
    await lifecycle.move(
        session,
        project,
        ProjectStage.evaluating,
        actor=principal,
        action="evaluation_started",
        details={"scheme_version": stored.version, "evaluators": [e.sub for e in data.evaluators]},
    )
    await lifecycle.emit(session, project, "evaluation.started", {"scheme_version": stored.version})
    return evaluation


async def add_evaluators(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, people: list[EvaluatorIn]
) -> Evaluation:
    """Assign more evaluators, e.g. to replace one who recused themselves."""
    _bureau(principal)
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    evaluation = await evaluation_of(session, project, lock=True)
    if evaluation.status is not EvaluationStatus.scoring:
        raise Conflict("The evaluation is concluded", code="evaluation_concluded")
    known = {a.evaluator_sub for a in await assignments_of(session, evaluation)}
    if known & {p.sub for p in people}:
        raise Conflict("An evaluator is already assigned", code="evaluator_assigned")
    session.add_all(_assignments(evaluation, people))
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="evaluators_added",
        details={"evaluators": [p.sub for p in people]},
    )
    return evaluation


async def _own_assignment(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> tuple[Project, Evaluation, EvaluatorAssignment]:
    if principal.role is not Role.evaluator:
        raise Forbidden("Only assigned evaluators do this", code="role_forbidden")
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    evaluation = await evaluation_of(session, project, lock=True)
    if evaluation.status is not EvaluationStatus.scoring:
        raise Conflict("The evaluation is concluded", code="evaluation_concluded")
    assignment = next(
        (a for a in await assignments_of(session, evaluation) if a.evaluator_sub == principal.sub),
        None,
    )
    if assignment is None:
        raise NotFound("No such project", code="project_not_found")
    return project, evaluation, assignment


async def declare(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: Declaration
) -> EvaluatorAssignment:
    project, _, assignment = await _own_assignment(session, principal, project_id)
    if assignment.status is not AssignmentStatus.assigned:
        raise Conflict("The declaration is already made", code="already_declared")
    assignment.has_conflict = data.has_conflict
    assignment.declaration = data.statement
    assignment.declared_at = utcnow()
    assignment.status = AssignmentStatus.recused if data.has_conflict else AssignmentStatus.cleared
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="conflict_declared",
        details={"has_conflict": data.has_conflict},
    )
    return assignment


async def submit_sheet(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: SheetIn
) -> ScoreSheet:
    project, evaluation, assignment = await _own_assignment(session, principal, project_id)
    if assignment.status is AssignmentStatus.assigned:
        raise Conflict("Declare conflicts of interest before scoring", code="declaration_required")
    if assignment.status is AssignmentStatus.recused:
        raise Conflict("A recused evaluator does not score", code="evaluator_recused")
    if any(
        s.assignment_id == assignment.id
        for s in await sheets_of(session, evaluation, round_=evaluation.round)
    ):
        raise Conflict("Your sheet for this round is already submitted", code="sheet_submitted")
    scheme = scheme_of(evaluation)
    indicators = {k: str(v) for k, v in data.indicator_points.items()}
    adjustments = {k: str(v) for k, v in data.adjustment_points.items()}
    score, errors = scoring.score_sheet(scheme, indicators, adjustments)
    if score is None:
        raise Unprocessable("The score sheet is invalid", code="invalid_sheet", errors=errors)
    sheet = ScoreSheet(
        id=uuid.uuid4(),
        evaluation_id=evaluation.id,
        assignment_id=assignment.id,
        round=evaluation.round,
        indicator_points=indicators,
        adjustment_points=adjustments,
        base_total=score.base,
        adjustment_total=score.adjustments,
        total=score.total,
        comments=data.comments,
    )
    session.add(sheet)
    await session.flush()
    await lifecycle.note(
        session, project, actor=principal, action="sheet_submitted", details={"round": sheet.round}
    )
    await _maybe_rescore(session, project, evaluation, scheme)
    return sheet


async def _round_totals(session: AsyncSession, evaluation: Evaluation) -> tuple[list[Decimal], int]:
    """The current round's totals, and how many cleared evaluators have not submitted."""
    cleared = [
        a.id
        for a in await assignments_of(session, evaluation)
        if a.status is AssignmentStatus.cleared
    ]
    sheets = [
        s
        for s in await sheets_of(session, evaluation, round_=evaluation.round)
        if s.assignment_id in cleared
    ]
    return [s.total for s in sheets], len(cleared) - len(sheets)


async def _maybe_rescore(
    session: AsyncSession, project: Project, evaluation: Evaluation, scheme: SchemeContent
) -> None:
    totals, missing = await _round_totals(session, evaluation)
    if missing or len(totals) < scheme.min_evaluators:
        return
    result = scoring.composite(scheme, totals, round_=evaluation.round)
    if result.value is not None:
        return
    evaluation.round += 1
    await session.flush()
    details = {"round": evaluation.round, "spread": str(result.spread)}
    await lifecycle.note(
        session, project, actor="system", action="rescoring_requested", details=details
    )
    await lifecycle.emit(session, project, "evaluation.rescoring_requested", details)


async def conclude(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> Evaluation:
    _bureau(principal)
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    lifecycle.require_stage(project, ProjectStage.evaluating, action="conclude the evaluation")
    evaluation = await evaluation_of(session, project, lock=True)
    scheme = scheme_of(evaluation)
    totals, missing = await _round_totals(session, evaluation)
    if missing:
        raise Conflict(f"{missing} evaluator(s) have not submitted", code="sheets_missing")
    if len(totals) < scheme.min_evaluators:
        raise Conflict(
            f"{len(totals)} cleared evaluator(s) scored; the scheme needs {scheme.min_evaluators}",
            code="not_enough_evaluators",
        )
    result = scoring.composite(scheme, totals, round_=evaluation.round)
    if result.value is None:
        raise Conflict("The scores diverge: the round must be re-scored", code="scores_diverge")
    evaluation.composite = result.value
    evaluation.grade = scoring.grade_for(scheme, result.value)
    evaluation.rule = result.rule
    evaluation.status = EvaluationStatus.concluded
    evaluation.concluded_at = utcnow()
    evaluation.concluded_by = principal.sub
    await session.flush()
    details = {"grade": evaluation.grade.value, "composite": str(result.value), "rule": result.rule}
    await lifecycle.move(
        session,
        project,
        ProjectStage.evaluated,
        actor=principal,
        action="evaluation_concluded",
        details=details,
    )
    if evaluation.grade is Grade.fail:
        await _withhold_final_tranche(session, project)
    else:
        await mark_milestone(session, project, TrancheTrigger.evaluation_passed)
    await lifecycle.emit(session, project, "evaluation.concluded", details)
    return evaluation


async def _withhold_final_tranche(session: AsyncSession, project: Project) -> None:
    contract = await contract_of(session, project)
    final = (await tranches_of(session, contract.id))[-1]
    if final.paid_at is None:
        final.withheld_at = utcnow()
        await session.flush()
        await lifecycle.note(
            session,
            project,
            actor="system",
            action="final_tranche_withheld",
            details={"tranche_seq": final.seq, "amount_fen": final.amount_fen},
        )
