"""Every query of stored case definitions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.definitions.models import CaseDefinition
from services.workflow.definitions.schemas import DefinitionContent


async def store_version(
    session: AsyncSession, definition: DefinitionContent, *, digest: str
) -> str:
    """Store a version unless it is stored; the digest of what is stored under it now."""
    await session.execute(
        pg_insert(CaseDefinition)
        .values(
            case_type=definition.case_type,
            version=definition.version,
            content=definition.model_dump(mode="json"),
            content_sha256=digest,
        )
        .on_conflict_do_nothing(index_elements=["case_type", "version"])
    )
    stored: str = (
        await session.execute(
            select(CaseDefinition.content_sha256).where(
                CaseDefinition.case_type == definition.case_type,
                CaseDefinition.version == definition.version,
            )
        )
    ).scalar_one()
    return stored


async def list_definitions(
    session: AsyncSession, *, all_versions: bool
) -> Sequence[CaseDefinition]:
    """Every case type's latest version (or every version), by type, newest first."""
    query = select(CaseDefinition).order_by(CaseDefinition.case_type, CaseDefinition.version.desc())
    if not all_versions:
        query = query.ext(distinct_on(CaseDefinition.case_type))
    return (await session.execute(query)).scalars().all()


async def get_version(
    session: AsyncSession, *, case_type: str, version: int
) -> CaseDefinition | None:
    query = select(CaseDefinition).where(
        CaseDefinition.case_type == case_type, CaseDefinition.version == version
    )
    return (await session.execute(query)).scalar_one_or_none()


async def latest_version(session: AsyncSession, case_type: str) -> CaseDefinition | None:
    query = (
        select(CaseDefinition)
        .where(CaseDefinition.case_type == case_type)
        .order_by(CaseDefinition.version.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
