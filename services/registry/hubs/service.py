"""Hubs (一园多中心) and the organizations resident in them.

The seed (庐阳区): "积极推动“一园多中心”建设，即区级建立庐阳区社会组织创新园，三个街道试点建立
街道社会组织服务中心，分别开展专业社会组织和社区社会组织孵化培育。"

- One park per district, one centre per street (unique indexes, 409 `hub_exists`).
- The bureau manages every hub; a street office its own street's centre and the
  residents of it (its street's filed organizations, `access.require_editor`).
- A hub never houses more organizations than its capacity: residencies of one hub are
  created under the hub's row lock, so two at once cannot both take the last place.
- An organization is resident in one hub at a time (a partial unique index backs it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import require_editor
from services.registry.enums import HubLevel
from services.registry.hubs import repository
from services.registry.hubs.models import Hub, Residency
from services.registry.hubs.schemas import HubCreate, HubOut, ResidencyCreate, ResidencyEnd
from services.registry.incubation.service import refuse_future
from services.registry.organizations import service as organizations
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from shared.pagination import PageParams


def _field_problem(message: str, *, code: str, field: str) -> Unprocessable:
    return Unprocessable(
        message, code=code, errors=[FieldError(field=field, message=message, code=code)]
    )


def _require_manager(principal: Principal, hub: Hub) -> None:
    """The bureau manages every hub; a street office its own street's centre only."""
    if principal.role is Role.street_office and not (
        hub.level is HubLevel.street_centre and hub.street_code == principal.street_code
    ):
        raise Forbidden(
            "A street office manages its own street's centre only", code="scope_forbidden"
        )


async def create(session: AsyncSession, *, principal: Principal, data: HubCreate) -> Hub:
    if data.level is HubLevel.district_park and data.street_code is not None:
        raise _field_problem(
            "The district park belongs to no street",
            code="hub_street_not_allowed",
            field="body.street_code",
        )
    if data.level is HubLevel.street_centre and data.street_code is None:
        raise _field_problem(
            "A street centre names its street", code="hub_street_required", field="body.street_code"
        )
    if data.street_code is not None and not data.street_code.startswith(data.district_code):
        raise _field_problem(
            "The street must lie in the district",
            code="street_outside_district",
            field="body.street_code",
        )
    hub = Hub(id=uuid.uuid4(), created_by=principal.sub, **data.model_dump())
    _require_manager(principal, hub)
    session.add(hub)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "The district has its park, or the street its centre, already", code="hub_exists"
        ) from None
    return hub


async def get(session: AsyncSession, hub_id: uuid.UUID, *, for_update: bool = False) -> Hub:
    hub = await repository.get(session, hub_id, for_update=for_update)
    if hub is None:
        raise NotFound("No such hub", code="hub_not_found")
    return hub


async def present(session: AsyncSession, hubs: Sequence[Hub]) -> list[HubOut]:
    counts = await repository.residents(session, [hub.id for hub in hubs])
    return [
        HubOut.model_validate(
            {
                **{c.key: getattr(hub, c.key) for c in Hub.__table__.columns},
                "residents": counts.get(hub.id, 0),
            }
        )
        for hub in hubs
    ]


async def page_of(session: AsyncSession, page: PageParams) -> tuple[Sequence[Hub], int]:
    return await repository.page(session, page)


async def admit_resident(
    session: AsyncSession, *, principal: Principal, hub_id: uuid.UUID, data: ResidencyCreate
) -> Residency:
    refuse_future(data.started_on, "body.started_on")
    # The hub's row lock first: every residency of this hub waits here, so the count
    # below stays true until this transaction commits.
    hub = await get(session, hub_id, for_update=True)
    _require_manager(principal, hub)
    organization = await organizations.get(
        session, principal=principal, organization_id=data.organization_id, for_update=True
    )
    require_editor(principal, organization)
    organizations.refuse_if_closed(organization)
    if await repository.active_residency_of(session, organization.id) is not None:
        raise Conflict("The organization is resident in a hub already", code="already_resident")
    housed = (await repository.residents(session, [hub.id])).get(hub.id, 0)
    if housed >= hub.capacity:
        raise Conflict(f"The hub houses {housed} of {hub.capacity} already", code="hub_full")
    residency = Residency(
        id=uuid.uuid4(),
        hub_id=hub.id,
        organization_id=organization.id,
        started_on=data.started_on,
        created_by=principal.sub,
    )
    session.add(residency)
    await session.flush()
    return residency


async def end_residency(
    session: AsyncSession, *, principal: Principal, residency_id: uuid.UUID, data: ResidencyEnd
) -> Residency:
    residency = await repository.get_residency(session, residency_id, for_update=True)
    missing = NotFound("No such residency", code="residency_not_found")
    if residency is None:
        raise missing
    hub = await get(session, residency.hub_id)
    # Someone who cannot see the organization cannot learn that it was resident.
    try:
        await organizations.get(
            session, principal=principal, organization_id=residency.organization_id
        )
    except NotFound:
        raise missing from None
    _require_manager(principal, hub)
    if residency.ended_on is not None:
        raise Conflict("The residency has ended already", code="residency_ended")
    if not residency.started_on <= data.ended_on <= shanghai_today():
        raise _field_problem(
            "A residency ends between its start and today",
            code="residency_end_out_of_range",
            field="body.ended_on",
        )
    residency.ended_on = data.ended_on
    await session.flush()
    return residency


async def residencies_of(
    session: AsyncSession, *, principal: Principal, hub_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Residency], int]:
    hub = await get(session, hub_id)
    return await repository.residencies_page(session, principal=principal, hub_id=hub.id, page=page)
