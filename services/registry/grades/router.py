"""Grade evaluations (等级评估): apply, score, decide, publish, withdraw, sweep; public list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import (
    ANYONE,
    APPLICANTS,
    GRADE_EVALUATION_READERS,
    GRADE_EXPERTS,
    GRADE_READERS,
)
from services.registry.enums import EvaluationGrade, GradeEvaluationState
from services.registry.grades import expiry, repository
from services.registry.grades import service as grades
from services.registry.grades.models import GradeEvaluation
from services.registry.grades.schemas import (
    GradeApplication,
    GradeChangeOut,
    GradeDecision,
    GradeEvaluationDetail,
    GradeEvaluationOut,
    GradeScoreOut,
    GradeScoreSubmit,
    GradeSweepResult,
    GradeWithdrawal,
    PublicGrade,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.clock import shanghai_today
from shared.db import SessionDep, utcnow
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=API_PREFIX, tags=["grades"])
# Read by anyone without a token: the published grades (公示).
public_router = APIRouter(prefix=f"{API_PREFIX}/public", tags=["grades"])
EVALUATIONS = "/grade-evaluations"


async def _detail(session: AsyncSession, evaluation: GradeEvaluation) -> GradeEvaluationDetail:
    scores = await repository.scores_of(session, evaluation.id)
    changes = await repository.changes_of(session, evaluation.id)
    return GradeEvaluationDetail.model_validate(
        {
            **GradeEvaluationOut.model_validate(evaluation).model_dump(),
            "scores": [GradeScoreOut.model_validate(row) for row in scores],
            "changes": [GradeChangeOut.model_validate(row) for row in changes],
        }
    )


@router.post(
    "/organizations/{organization_id}/grade-evaluations",
    status_code=status.HTTP_201_CREATED,
    response_model=GradeEvaluationOut,
    operation_id="applyForGradeEvaluation",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def apply_for_grade_evaluation(
    organization_id: uuid.UUID,
    body: GradeApplication,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> GradeEvaluationOut:
    """Apply for an evaluation (registered organizations only; one in progress at a time)."""
    evaluation = await grades.apply(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return GradeEvaluationOut.model_validate(evaluation)


@router.get(
    "/organizations/{organization_id}/grade-evaluations",
    response_model=list[GradeEvaluationOut],
    operation_id="listOrganizationGradeEvaluations",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def organization_grade_evaluations(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[GradeEvaluationOut]:
    """The organization's evaluations, latest application first."""
    rows = await grades.list_for(session, principal=principal, organization_id=organization_id)
    return [GradeEvaluationOut.model_validate(row) for row in rows]


@router.get(
    EVALUATIONS,
    response_model=Page[GradeEvaluationOut],
    operation_id="listGradeEvaluations",
    dependencies=[allow(*GRADE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_grade_evaluations(
    session: SessionDep,
    page: PageDep,
    state: GradeEvaluationState | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[GradeEvaluationOut]:
    """Evaluations across the register, e.g. those awaiting the experts (`state=applied`)."""
    rows, total = await repository.page_of(session, state=state, year=year, page=page)
    return to_page(rows, total, page, GradeEvaluationOut.model_validate)


@router.post(
    f"{EVALUATIONS}/expiry-sweeps",
    response_model=GradeSweepResult,
    operation_id="sweepExpiredGrades",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403),
)
async def sweep_expired_grades(
    session: SessionDep, principal: CurrentPrincipal
) -> GradeSweepResult:
    """Expire the grades whose five years ended now (the registry also does it hourly)."""
    return await expiry.sweep(session, now=utcnow(), principal=principal)


@router.get(
    f"{EVALUATIONS}/{{evaluation_id}}",
    response_model=GradeEvaluationDetail,
    operation_id="getGradeEvaluation",
    dependencies=[allow(*GRADE_EVALUATION_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_grade_evaluation(
    evaluation_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> GradeEvaluationDetail:
    """One evaluation with the experts' scores and every change of its grade."""
    evaluation = await grades.get(session, principal=principal, evaluation_id=evaluation_id)
    return await _detail(session, evaluation)


@router.post(
    f"{EVALUATIONS}/{{evaluation_id}}/scores",
    status_code=status.HTTP_201_CREATED,
    response_model=GradeEvaluationDetail,
    operation_id="scoreGradeEvaluation",
    dependencies=[allow(*GRADE_EXPERTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def score_grade_evaluation(
    evaluation_id: uuid.UUID,
    body: GradeScoreSubmit,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> GradeEvaluationDetail:
    """An expert's scores of the four indicators (1000 points); once per expert."""
    evaluation = await grades.score(
        session, principal=principal, evaluation_id=evaluation_id, data=body
    )
    return await _detail(session, evaluation)


@router.post(
    f"{EVALUATIONS}/{{evaluation_id}}/decision",
    response_model=GradeEvaluationDetail,
    operation_id="decideGradeEvaluation",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decide_grade_evaluation(
    evaluation_id: uuid.UUID,
    body: GradeDecision,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> GradeEvaluationDetail:
    """Grant a grade (valid five years) or refuse (also: reject the application)."""
    evaluation = await grades.decide(
        session, principal=principal, evaluation_id=evaluation_id, data=body
    )
    return await _detail(session, evaluation)


@router.post(
    f"{EVALUATIONS}/{{evaluation_id}}/publication",
    response_model=GradeEvaluationOut,
    operation_id="publishGradeEvaluation",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409),
)
async def publish_grade_evaluation(
    evaluation_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> GradeEvaluationOut:
    """Publish (公示) a granted grade: it is then in the public list while in force."""
    evaluation = await grades.publish(session, principal=principal, evaluation_id=evaluation_id)
    return GradeEvaluationOut.model_validate(evaluation)


@router.post(
    f"{EVALUATIONS}/{{evaluation_id}}/withdrawal",
    response_model=GradeEvaluationOut,
    operation_id="withdrawGradeEvaluation",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def withdraw_grade_evaluation(
    evaluation_id: uuid.UUID,
    body: GradeWithdrawal,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> GradeEvaluationOut:
    """Withdraw an application before the decision."""
    evaluation = await grades.withdraw(
        session, principal=principal, evaluation_id=evaluation_id, reason=body.reason
    )
    return GradeEvaluationOut.model_validate(evaluation)


@public_router.get(
    "/grades",
    response_model=Page[PublicGrade],
    operation_id="listPublicGrades",
    responses=problem_responses(422),
)
async def list_public_grades(
    session: SessionDep, page: PageDep, grade: EvaluationGrade | None = None
) -> Page[PublicGrade]:
    """The grades in force and published (公示), highest first: no token needed."""
    rows, total = await repository.published_page(
        session, today=shanghai_today(), grade=grade, page=page
    )
    return to_page(rows, total, page, lambda row: PublicGrade.model_validate(row._mapping))
