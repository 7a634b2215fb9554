"""Competitions (社创大赛): entries, results, and admitting the winners into incubation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.access import ANYONE, BUREAU_AND_AUDIT
from services.registry.competitions import service as competitions
from services.registry.competitions.schemas import (
    CompetitionCreate,
    CompetitionOut,
    EntryAdmission,
    EntryCreate,
    EntryOut,
    EntryResult,
)
from services.registry.incubation import service as incubation
from services.registry.incubation.schemas import IncubationOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/incubation/competitions", tags=["incubation"])
ENTRY = "/{competition_id}/entries/{entry_id}"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CompetitionOut,
    operation_id="createCompetition",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_competition(
    body: CompetitionCreate, session: SessionDep, principal: CurrentPrincipal
) -> CompetitionOut:
    """Announce a year's competition (社创大赛)."""
    competition = await competitions.create(session, principal=principal, data=body)
    return CompetitionOut.model_validate(competition)


@router.get(
    "",
    response_model=Page[CompetitionOut],
    operation_id="listCompetitions",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def list_competitions(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[CompetitionOut]:
    """Competitions, latest year first."""
    rows, total = await competitions.page_of(session, page)
    return to_page(rows, total, page, CompetitionOut.model_validate)


@router.post(
    "/{competition_id}/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
    operation_id="createCompetitionEntry",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_competition_entry(
    competition_id: uuid.UUID, body: EntryCreate, session: SessionDep, principal: CurrentPrincipal
) -> EntryOut:
    """Enter an organization, or a group not filed yet, into the competition."""
    entry = await competitions.enter(
        session, principal=principal, competition_id=competition_id, data=body
    )
    return EntryOut.model_validate(entry)


@router.get(
    "/{competition_id}/entries",
    response_model=Page[EntryOut],
    operation_id="listCompetitionEntries",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_competition_entries(
    competition_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[EntryOut]:
    """The competition's entries, best score first."""
    rows, total = await competitions.entries_of(session, competition_id=competition_id, page=page)
    return to_page(rows, total, page, EntryOut.model_validate)


@router.put(
    f"{ENTRY}/result",
    response_model=EntryOut,
    operation_id="recordCompetitionResult",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 422),
)
async def record_competition_result(
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryResult,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> EntryOut:
    """Record the entry's score and award."""
    entry = await competitions.record_result(
        session, principal=principal, competition_id=competition_id, entry_id=entry_id, data=body
    )
    return EntryOut.model_validate(entry)


@router.post(
    f"{ENTRY}/admission",
    status_code=status.HTTP_201_CREATED,
    response_model=IncubationOut,
    operation_id="admitCompetitionEntry",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def admit_competition_entry(
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryAdmission,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> IncubationOut:
    """Admit an awarded entry into incubation, in phase 早期."""
    row = await competitions.admit(
        session, principal=principal, competition_id=competition_id, entry_id=entry_id, data=body
    )
    return incubation.present(row)
