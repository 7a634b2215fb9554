"""The SPPE evaluation: started with its scheme frozen, scored independently, concluded.

Evaluators are named by their token subject; each declares conflicts of interest
before scoring (a conflict recuses them). Links are also checked, not only declared: an
evaluator who works for the project's applicant, its supplier or a bidder of its
procurement (the organization the bureau named when assigning them, or the `org_id` of
their token) cannot be assigned, declare "no conflict" nor score (`conflict_of_interest`).
Every assigned evaluator counts: the evaluation concludes only once each has declared
and each cleared one has submitted. Each submits one sheet per round and sees
only their own sheets until the conclusion. When the last sheet of a round arrives and
the totals diverge beyond the scheme's threshold, a new round starts (re-scoring).
Concluding computes the composite and grade from the stored sheets (`scoring`); a fail
withholds the final tranche, any other grade makes `evaluation_passed` tranches payable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, token_org_id
from services.projects.core import lifecycle
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
from services.projects.evaluation.schemas import (
    Declaration,
    EvaluationStart,
    EvaluatorIn,
    Release,
    SheetIn,
)
from services.projects.evaluation.scheme import SchemeContent
from services.projects.meetings.models import MeetingKind
from services.projects.meetings.service import require_meeting
from services.projects.procurement.contracts import contract_of, mark_milestone, tranches_of
from services.projects.procurement.models import Bid, Contract, Procurement, TrancheTrigger
from services.projects.supervision.service import unresolved_count
from shared.auth import Principal, Role
from shared.db import utcnow
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


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
            evaluator_org_id=p.org_id,
            status=AssignmentStatus.assigned,
        )
        for p in people
    ]


async def _linked_organizations(session: AsyncSession, project: Project) -> dict[uuid.UUID, str]:
    """The organizations with a stake in the project, each with how it is linked."""
    bidders = await session.execute(
        select(Bid.bidder_org_id)
        .join(Procurement, Bid.procurement_id == Procurement.id)
        .where(Procurement.project_id == project.id)
    )
    suppliers = await session.execute(
        select(Contract.supplier_org_id).where(Contract.project_id == project.id)
    )
    links = {org: "a bidder of its procurement" for org in bidders.scalars()}
    links |= {org: "its supplier" for org in suppliers.scalars()}
    if project.supplier_org_id is not None:
        links[project.supplier_org_id] = "its supplier"
    links[project.org_id] = "its applicant"
    return links


async def _refuse_linked(
    session: AsyncSession,
    project: Project,
    assignment: EvaluatorAssignment,
    principal: Principal,
    *,
    action: str,
) -> None:
    """409 `conflict_of_interest` if the evaluator works for an organization linked to the
    project, as the bureau recorded it or as their token says."""
    links = await _linked_organizations(session, project)
    for org in (assignment.evaluator_org_id, token_org_id(principal)):
        if org is not None and org in links:
            raise Conflict(
                f"{assignment.evaluator_name} ({assignment.evaluator_sub}) works for "
                f"{links[org]} ({org}) and cannot {action}: declare the conflict instead",
                code="conflict_of_interest",
            )


async def _refuse_linked_people(
    session: AsyncSession, project: Project, people: list[EvaluatorIn], *, field: str
) -> None:
    """422 `conflict_of_interest` naming each evaluator to assign who is linked."""
    links = await _linked_organizations(session, project)
    errors = [
        FieldError(
            field=f"{field}[{index}].org_id",
            message=f"{person.name} ({person.sub}) works for {links[person.org_id]} of the project",
            code="conflict_of_interest",
        )
        for index, person in enumerate(people)
        if person.org_id is not None and person.org_id in links
    ]
    if errors:
        raise Unprocessable(
            "An evaluator works for an organization with a stake in the project",
            code="conflict_of_interest",
            errors=errors,
        )


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
    await _refuse_linked_people(session, project, data.evaluators, field="body.evaluators")
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
    await _refuse_linked_people(session, project, people, field="body")
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
    if assignment.status is AssignmentStatus.released:
        raise Conflict("The bureau released you from this evaluation", code="evaluator_released")
    return project, evaluation, assignment


async def declare(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: Declaration
) -> EvaluatorAssignment:
    project, _, assignment = await _own_assignment(session, principal, project_id)
    if assignment.status is not AssignmentStatus.assigned:
        raise Conflict("The declaration is already made", code="already_declared")
    if not data.has_conflict:
        await _refuse_linked(session, project, assignment, principal, action="declare no conflict")
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


async def release(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    evaluator_sub: str,
    data: Release,
) -> Evaluation:
    """Release an evaluator who has not scored this round: one who never declares would
    otherwise hold the conclusion up for ever. Sheets of earlier rounds stay on record."""
    _bureau(principal)
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    evaluation = await evaluation_of(session, project, lock=True)
    if evaluation.status is not EvaluationStatus.scoring:
        raise Conflict("The evaluation is concluded", code="evaluation_concluded")
    assignment = next(
        (a for a in await assignments_of(session, evaluation) if a.evaluator_sub == evaluator_sub),
        None,
    )
    if assignment is None:
        raise NotFound("No such evaluator on this evaluation", code="evaluator_not_found")
    if assignment.status is AssignmentStatus.released:
        raise Conflict("The evaluator is already released", code="evaluator_released")
    if any(
        s.assignment_id == assignment.id
        for s in await sheets_of(session, evaluation, round_=evaluation.round)
    ):
        raise Conflict(
            f"{assignment.evaluator_name} scored round {evaluation.round}: the sheet counts",
            code="evaluator_scored",
        )
    before = assignment.status
    assignment.status = AssignmentStatus.released
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="evaluator_released",
        details={"evaluator": evaluator_sub, "was": before.value, "reason": data.reason},
    )
    # The one holding the round up is gone: it may now be complete, and diverge.
    await _maybe_rescore(session, project, evaluation, scheme_of(evaluation))
    return evaluation


async def submit_sheet(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: SheetIn
) -> ScoreSheet:
    project, evaluation, assignment = await _own_assignment(session, principal, project_id)
    if assignment.status is AssignmentStatus.assigned:
        raise Conflict("Declare conflicts of interest before scoring", code="declaration_required")
    if assignment.status is AssignmentStatus.recused:
        raise Conflict("A recused evaluator does not score", code="evaluator_recused")
    await _refuse_linked(session, project, assignment, principal, action="score")
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


@dataclass(frozen=True)
class _Round:
    """The current round: the cleared evaluators' totals, and who holds it up."""

    totals: list[Decimal]
    undeclared: list[EvaluatorAssignment]  # assigned, not yet declared
    unsubmitted: list[EvaluatorAssignment]  # cleared, no sheet this round

    @property
    def complete(self) -> bool:
        return not self.undeclared and not self.unsubmitted


async def _round(session: AsyncSession, evaluation: Evaluation) -> _Round:
    assignments = await assignments_of(session, evaluation)
    submitted = {
        s.assignment_id: s for s in await sheets_of(session, evaluation, round_=evaluation.round)
    }
    cleared = [a for a in assignments if a.status is AssignmentStatus.cleared]
    return _Round(
        totals=[submitted[a.id].total for a in cleared if a.id in submitted],
        undeclared=[a for a in assignments if a.status is AssignmentStatus.assigned],
        unsubmitted=[a for a in cleared if a.id not in submitted],
    )


def _waiting_for(people: list[EvaluatorAssignment], what: str, code: str) -> list[FieldError]:
    return [
        FieldError(
            field=f"evaluators.{a.evaluator_sub}",
            message=f"{a.evaluator_name} has not {what}",
            code=code,
        )
        for a in people
    ]


def _names(people: list[EvaluatorAssignment]) -> str:
    return ", ".join(f"{a.evaluator_name} ({a.evaluator_sub})" for a in people)


async def _maybe_rescore(
    session: AsyncSession, project: Project, evaluation: Evaluation, scheme: SchemeContent
) -> None:
    current = await _round(session, evaluation)
    if not current.complete or len(current.totals) < scheme.min_evaluators:
        return
    result = scoring.composite(scheme, current.totals, round_=evaluation.round)
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
    current = await _round(session, evaluation)
    # Every assigned evaluator counts: none is silently left out of the composite.
    if current.undeclared:
        raise Conflict(
            f"{len(current.undeclared)} assigned evaluator(s) have not declared conflicts of "
            f"interest: {_names(current.undeclared)}",
            code="declarations_missing",
            errors=_waiting_for(current.undeclared, "declared", "declaration_missing"),
        )
    if current.unsubmitted:
        raise Conflict(
            f"{len(current.unsubmitted)} evaluator(s) have not submitted their sheet of round "
            f"{evaluation.round}: {_names(current.unsubmitted)}",
            code="sheets_missing",
            errors=_waiting_for(current.unsubmitted, "submitted a sheet", "sheet_missing"),
        )
    totals = current.totals
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
