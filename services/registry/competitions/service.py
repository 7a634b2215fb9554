"""The 社创大赛 competitions: the intake of incubation.

The seed (庐阳区): "“孵”（以大赛的形式选拔和孵化培育草根社会组织）" and "以大赛选拔为手段".

- A competition per year and name; entries are organizations of the register or
  grassroots groups not filed yet (named only).
- The bureau scores each entry and awards it; an awarded entry is admitted into
  incubation (`incubation.service.admit`), a group's once it has been filed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_editor
from services.registry.competitions import repository
from services.registry.competitions.models import Competition, Entry
from services.registry.competitions.schemas import (
    CompetitionCreate,
    EntryAdmission,
    EntryCreate,
    EntryResult,
)
from services.registry.incubation import service as incubation
from services.registry.incubation.models import Incubation
from services.registry.organizations import service as organizations
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.pagination import PageParams


async def create(
    session: AsyncSession, *, principal: Principal, data: CompetitionCreate
) -> Competition:
    competition = Competition(id=uuid.uuid4(), created_by=principal.sub, **data.model_dump())
    session.add(competition)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "A competition of this name is held that year already", code="competition_exists"
        ) from None
    return competition


async def get(session: AsyncSession, competition_id: uuid.UUID) -> Competition:
    competition = await repository.get(session, competition_id)
    if competition is None:
        raise NotFound("No such competition", code="competition_not_found")
    return competition


async def page_of(session: AsyncSession, page: PageParams) -> tuple[Sequence[Competition], int]:
    return await repository.page(session, page)


async def enter(
    session: AsyncSession, *, principal: Principal, competition_id: uuid.UUID, data: EntryCreate
) -> Entry:
    competition = await get(session, competition_id)
    if data.organization_id is not None:
        organization = await organizations.get(
            session, principal=principal, organization_id=data.organization_id
        )
        organizations.refuse_if_closed(organization)
    entry = Entry(
        id=uuid.uuid4(),
        competition_id=competition.id,
        created_by=principal.sub,
        **data.model_dump(),
    )
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("The organization has entered already", code="already_entered") from None
    return entry


async def _entry(session: AsyncSession, competition_id: uuid.UUID, entry_id: uuid.UUID) -> Entry:
    entry = await repository.get_entry(session, competition_id, entry_id, for_update=True)
    if entry is None:
        raise NotFound("No such entry in this competition", code="entry_not_found")
    return entry


async def record_result(
    session: AsyncSession,
    *,
    principal: Principal,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: EntryResult,
) -> Entry:
    entry = await _entry(session, competition_id, entry_id)
    entry.score = data.score
    entry.award = data.award
    await session.flush()
    return entry


async def entries_of(
    session: AsyncSession, *, competition_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Entry], int]:
    competition = await get(session, competition_id)
    return await repository.entries_page(session, competition.id, page)


async def admit(
    session: AsyncSession,
    *,
    principal: Principal,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: EntryAdmission,
) -> Incubation:
    """Admit an awarded entry into incubation; a group's entry names its filed organization."""
    entry = await _entry(session, competition_id, entry_id)
    if entry.award is None:
        raise Conflict("Only an awarded entry is admitted", code="entry_not_awarded")
    organization_id = entry.organization_id or data.organization_id
    if organization_id is None:
        raise Conflict(
            "The group has to be filed before it is admitted: name its organization",
            code="entry_not_filed",
        )
    if data.organization_id is not None and data.organization_id != organization_id:
        raise Conflict("The entry is another organization's", code="entry_of_another_organization")
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    require_editor(principal, organization)
    entry.organization_id = organization.id
    return await incubation.admit(
        session,
        principal=principal,
        organization=organization,
        entry_id=entry.id,
        admitted_on=data.admitted_on,
    )
