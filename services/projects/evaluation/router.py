"""Endpoints of the SPPE evaluation and of the schemes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import PROCESS_READERS, SEE_ALL_SHEETS, get_project
from services.projects.evaluation import scheme, service
from services.projects.evaluation.models import Evaluation, EvaluationStatus
from services.projects.evaluation.schemas import (
    AssignmentOut,
    Declaration,
    EvaluationOut,
    EvaluationStart,
    EvaluatorIn,
    Release,
    SchemeOut,
    SheetIn,
    SheetOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Principal, Role, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}/evaluation", tags=["evaluation"])
schemes_router = APIRouter(prefix=f"{API_PREFIX}/sppe-schemes", tags=["evaluation"])
_BUREAU = allow(Role.civil_affairs)
_EVALUATOR = allow(Role.evaluator)


async def _present(
    session: AsyncSession, evaluation: Evaluation, principal: Principal
) -> EvaluationOut:
    assignments = await service.assignments_of(session, evaluation)
    by_id = {a.id: a for a in assignments}
    sheets = await service.sheets_of(session, evaluation)
    if evaluation.status is not EvaluationStatus.concluded and principal.role not in SEE_ALL_SHEETS:
        sheets = [s for s in sheets if by_id[s.assignment_id].evaluator_sub == principal.sub]
    return EvaluationOut.model_validate(
        {
            **{c.key: getattr(evaluation, c.key) for c in Evaluation.__table__.columns},
            "evaluators": [AssignmentOut.model_validate(a) for a in assignments],
            "sheets": [
                SheetOut.model_validate(
                    {
                        **{c.key: getattr(s, c.key) for c in s.__table__.columns},
                        "evaluator_sub": by_id[s.assignment_id].evaluator_sub,
                    }
                )
                for s in sheets
            ],
        }
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvaluationOut,
    operation_id="startEvaluation",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_BUREAU],
)
async def start_evaluation(
    project_id: uuid.UUID, body: EvaluationStart, session: SessionDep, principal: CurrentPrincipal
) -> EvaluationOut:
    """Start the SPPE evaluation: freeze the scheme, assign the evaluators."""
    evaluation = await service.start(session, principal=principal, project_id=project_id, data=body)
    return await _present(session, evaluation, principal)


@router.get(
    "",
    response_model=EvaluationOut,
    operation_id="getEvaluation",
    responses=problem_responses(401, 403, 404),
    dependencies=[allow(*PROCESS_READERS)],
)
async def get_evaluation(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> EvaluationOut:
    """The evaluation: evaluators, declarations, sheets, composite and grade."""
    project = await get_project(session, principal=principal, project_id=project_id)
    evaluation = await service.evaluation_of(session, project)
    set_etag(response, evaluation.version)
    return await _present(session, evaluation, principal)


@router.post(
    "/evaluators",
    response_model=EvaluationOut,
    operation_id="addEvaluators",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_BUREAU],
)
async def add_evaluators(
    project_id: uuid.UUID,
    body: list[EvaluatorIn],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> EvaluationOut:
    """Assign more evaluators (e.g. to replace one who declared a conflict)."""
    evaluation = await service.add_evaluators(
        session, principal=principal, project_id=project_id, people=body
    )
    return await _present(session, evaluation, principal)


@router.post(
    "/evaluators/{evaluator_sub}/release",
    response_model=EvaluationOut,
    operation_id="releaseEvaluator",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_BUREAU],
)
async def release_evaluator(
    project_id: uuid.UUID,
    evaluator_sub: Annotated[str, Path(min_length=1, max_length=200)],
    body: Release,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> EvaluationOut:
    """Release an evaluator who has not scored this round (e.g. who never declared), with
    the reason (audited): they no longer hold the conclusion up."""
    evaluation = await service.release(
        session, principal=principal, project_id=project_id, evaluator_sub=evaluator_sub, data=body
    )
    return await _present(session, evaluation, principal)


@router.post(
    "/declaration",
    response_model=AssignmentOut,
    operation_id="declareConflictOfInterest",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_EVALUATOR],
)
async def declare_conflict(
    project_id: uuid.UUID, body: Declaration, session: SessionDep, principal: CurrentPrincipal
) -> AssignmentOut:
    """Declare conflicts of interest (a conflict recuses the evaluator)."""
    assignment = await service.declare(
        session, principal=principal, project_id=project_id, data=body
    )
    return AssignmentOut.model_validate(assignment)


@router.post(
    "/sheets",
    status_code=status.HTTP_201_CREATED,
    response_model=SheetOut,
    operation_id="submitScoreSheet",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_EVALUATOR],
)
async def submit_sheet(
    project_id: uuid.UUID, body: SheetIn, session: SessionDep, principal: CurrentPrincipal
) -> SheetOut:
    """Submit your score sheet for the current round (every indicator, capped adjustments)."""
    sheet = await service.submit_sheet(
        session, principal=principal, project_id=project_id, data=body
    )
    return SheetOut.model_validate(
        {
            **{c.key: getattr(sheet, c.key) for c in sheet.__table__.columns},
            "evaluator_sub": principal.sub,
        }
    )


@router.post(
    "/conclusion",
    response_model=EvaluationOut,
    operation_id="concludeEvaluation",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=[_BUREAU],
)
async def conclude_evaluation(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> EvaluationOut:
    """Compute the composite and grade from the sheets; a fail withholds the final tranche."""
    evaluation = await service.conclude(session, principal=principal, project_id=project_id)
    return await _present(session, evaluation, principal)


@schemes_router.get(
    "",
    response_model=list[SchemeOut],
    operation_id="listSppeSchemes",
    responses=problem_responses(401),
)
async def list_schemes(session: SessionDep, principal: CurrentPrincipal) -> list[SchemeOut]:
    """Every stored SPPE scheme version."""
    schemes = await scheme.stored_schemes(session)
    return [SchemeOut.model_validate(s, from_attributes=True) for s in schemes]


@schemes_router.get(
    "/{version}",
    response_model=SchemeOut,
    operation_id="getSppeScheme",
    responses=problem_responses(401, 404),
)
async def get_scheme(
    version: Annotated[int, Path(ge=1, le=10_000)],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SchemeOut:
    """One SPPE scheme version: dimensions, indicators, adjustments, composite rule, grades."""
    stored = await scheme.stored_scheme(session, version)
    return SchemeOut.model_validate(stored, from_attributes=True)
