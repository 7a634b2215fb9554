"""Case definitions, as the front-end needs them to build its forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.workflow.definitions import repository
from services.workflow.definitions.models import CaseDefinition
from services.workflow.definitions.schemas import CaseDefinitionOut, DefinitionContent
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/case-definitions", tags=["case definitions"])


def _out(row: CaseDefinition) -> CaseDefinitionOut:
    return CaseDefinitionOut(
        case_type=row.case_type,
        version=row.version,
        content_sha256=row.content_sha256,
        loaded_at=row.loaded_at,
        definition=DefinitionContent.model_validate(row.content),
    )


@router.get(
    "",
    response_model=list[CaseDefinitionOut],
    operation_id="listCaseDefinitions",
    responses=problem_responses(401),
)
async def list_case_definitions(
    session: SessionDep,
    principal: CurrentPrincipal,
    all_versions: Annotated[bool, Query(description="Every version, not only the latest")] = False,
) -> list[CaseDefinitionOut]:
    """The case types with their materials, departments, join rule and time limits."""
    rows = await repository.list_definitions(session, all_versions=all_versions)
    return [_out(row) for row in rows]


@router.get(
    "/{case_type}/versions/{version}",
    response_model=CaseDefinitionOut,
    operation_id="getCaseDefinition",
    responses=problem_responses(401, 404),
)
async def get_case_definition(
    session: SessionDep,
    principal: CurrentPrincipal,
    case_type: Annotated[str, Path(max_length=60)],
    version: Annotated[int, Path(ge=1, le=10_000)],
) -> CaseDefinitionOut:
    """One version of a case definition (the one a running case follows)."""
    row = await repository.get_version(session, case_type=case_type, version=version)
    if row is None:
        raise NotFound("No such case definition version", code="case_definition_not_found")
    return _out(row)
