"""Reference data: the vocabularies' Chinese labels and the administrative regions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.access import ANYONE
from services.registry.enums import LABELS
from services.registry.reference import repository
from services.registry.reference.schemas import RegionOut, Term
from shared.app import API_PREFIX
from shared.auth import allow
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["reference"])


@router.get(
    "/vocabulary",
    response_model=dict[str, list[Term]],
    operation_id="getRegistryVocabulary",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403),
    deprecated=True,
)
async def vocabulary() -> dict[str, list[Term]]:
    """Every enumeration of the registry: its codes and their Chinese labels.

    Deprecated: `GET /api/v1/registry/vocabulary` answers the same shape, as every
    service's vocabulary does (`shared.vocabulary`).
    """
    return {
        enum.__name__: [Term(code=code, label=label) for code, label in labels.items()]
        for enum, labels in LABELS.items()
    }


@router.get(
    "/regions",
    response_model=list[RegionOut],
    operation_id="listRegions",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def regions(
    session: SessionDep,
    parent_code: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
) -> list[RegionOut]:
    """Administrative divisions (district → street → community), children of `parent_code`."""
    return [RegionOut.model_validate(row) for row in await repository.regions(session, parent_code)]
