"""Spend against budget, grouped, reconciling with the fund pools' own balances.

A pool's `allocated_fen` moves with contracts and their amendments (+), closures giving
back what a project did not spend (-) and direct grants such as cultivation awards (+),
each an `allocation` row. The report shows each movement, so that on every row

    contracted - released + granted = allocated

and, for a reader who sees every project, a pool row's `allocated_fen` is its pool's.
Grants belong to no project: they are in their pool's and fund's rows, and in a row of
their own (`grants`) in the other groupings. A purchasing department sees its own
projects' money only, and no grants. Every figure is integer fen.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import reads_everything, visible
from services.projects.core.models import Project, ProjectStage
from services.projects.funds.models import Allocation, AllocationKind, Fund, FundPool
from services.projects.payments.models import LedgerEntry
from services.projects.procurement.models import Contract, Tranche
from services.projects.reference import code_lists
from shared.auth import Principal

GRANTS_KEY = "grants"
GRANTS_LABEL = "直接拨付(培育发展奖补等)"


class GroupBy(StrEnum):
    fund = "fund"
    pool = "pool"
    department = "department"
    catalogue_slot = "catalogue_slot"
    street = "street"


class SpendRow(BaseModel):
    key: str
    label: str
    projects: int
    requested_fen: int = Field(description="What the applications asked for")
    contracted_fen: int = Field(description="Contract amounts as amended (allocated at signing)")
    paid_fen: int = Field(description="What the ledger shows as paid")
    withheld_fen: int = Field(description="Final tranches forfeited by a failed evaluation")
    released_fen: int = Field(
        description="Given back to the pool at closure: what closed projects did not spend"
    )
    granted_fen: int = Field(
        description="Direct grants of no project, e.g. cultivation awards (培育发展奖补)"
    )
    allocated_fen: int = Field(
        description="What the pools hold against the row: contracted - released + granted"
    )
    budget_fen: int | None = Field(
        default=None, description="The fund's total (by fund) or the pool's amount (by pool)"
    )
    available_fen: int | None = Field(
        default=None, description="What the pool, or the fund's pools, have left (by fund/pool)"
    )


class SpendReport(BaseModel):
    group_by: GroupBy
    year: int | None
    rows: list[SpendRow]
    totals: SpendRow


@dataclass
class _Figures:
    projects: int = 0
    requested_fen: int = 0
    contracted_fen: int = 0
    paid_fen: int = 0
    withheld_fen: int = 0
    released_fen: int = 0
    granted_fen: int = 0

    def add(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, getattr(self, name) + int(value or 0))

    def row(self, key: str, label: str, budget: int | None, available: int | None) -> SpendRow:
        allocated = self.contracted_fen - self.released_fen + self.granted_fen
        return SpendRow(
            key=key,
            label=label,
            **{f.name: getattr(self, f.name) for f in fields(self)},
            allocated_fen=allocated,
            budget_fen=budget,
            available_fen=available,
        )


_KEYS: dict[GroupBy, Any] = {
    GroupBy.fund: Project.fund_id,
    GroupBy.pool: Project.pool_id,
    GroupBy.department: Project.department,
    GroupBy.catalogue_slot: Project.catalogue_item,
    GroupBy.street: Project.street_code,
}
_DROPPED = (ProjectStage.rejected, ProjectStage.withdrawn)
_PROJECT_FIGURES = (
    "projects",
    "requested_fen",
    "contracted_fen",
    "paid_fen",
    "withheld_fen",
    "released_fen",
)


def _project_figures(principal: Principal, group_by: GroupBy, year: int | None) -> Select[Any]:
    paid = (
        select(LedgerEntry.project_id, func.sum(LedgerEntry.amount_fen).label("fen"))
        .group_by(LedgerEntry.project_id)
        .subquery()
    )
    withheld = (
        select(Contract.project_id, func.sum(Tranche.amount_fen).label("fen"))
        .join(Tranche, Tranche.contract_id == Contract.id)
        .where(Tranche.withheld_at.is_not(None))
        .group_by(Contract.project_id)
        .subquery()
    )
    # A release is a negative allocation: what the project gave back, counted positive.
    released = (
        select(Allocation.project_id, func.sum(-Allocation.amount_fen).label("fen"))
        .where(Allocation.kind == AllocationKind.release)
        .group_by(Allocation.project_id)
        .subquery()
    )
    key = _KEYS[group_by]
    query = (
        select(
            key,
            func.count(Project.id).label("projects"),
            func.sum(Project.requested_fen).label("requested_fen"),
            func.sum(Contract.amount_fen).label("contracted_fen"),
            func.sum(paid.c.fen).label("paid_fen"),
            func.sum(withheld.c.fen).label("withheld_fen"),
            func.sum(released.c.fen).label("released_fen"),
        )
        .outerjoin(Contract, Contract.project_id == Project.id)
        .outerjoin(paid, paid.c.project_id == Project.id)
        .outerjoin(withheld, withheld.c.project_id == Project.id)
        .outerjoin(released, released.c.project_id == Project.id)
        .where(visible(principal), Project.stage.not_in(_DROPPED))
        .group_by(key)
    )
    return query if year is None else query.where(Project.year == year)


def _grants(year: int | None) -> Select[uuid.UUID, uuid.UUID, int]:
    """Direct grants per pool (and its fund), of the year's funds."""
    query = select(Allocation.pool_id, Allocation.fund_id, func.sum(Allocation.amount_fen)).where(
        Allocation.kind == AllocationKind.grant
    )
    if year is not None:
        query = query.join(Fund, Fund.id == Allocation.fund_id).where(Fund.year == year)
    return query.group_by(Allocation.pool_id, Allocation.fund_id)


def _key(group_by: GroupBy, raw: Any) -> str:
    if group_by is GroupBy.catalogue_slot:
        raw = code_lists.slot_of(raw)
    return str(raw.value if isinstance(raw, StrEnum) else raw or "none")


async def spend(
    session: AsyncSession, *, principal: Principal, group_by: GroupBy, year: int | None
) -> SpendReport:
    sums: dict[str, _Figures] = defaultdict(_Figures)
    for raw_key, *figures in await session.execute(_project_figures(principal, group_by, year)):
        sums[_key(group_by, raw_key)].add(**dict(zip(_PROJECT_FIGURES, figures, strict=True)))
    by_money = group_by in (GroupBy.fund, GroupBy.pool)
    pools: list[tuple[FundPool, Fund]] = []
    if by_money:
        pools = await _pools(session, group_by, keys=list(sums), year=year, principal=principal)
    grants = _Figures()
    if reads_everything(principal):
        # The pools and funds of the year are rows even before any money moved on them.
        for pool, fund in pools:
            sums.setdefault(str(pool.id if group_by is GroupBy.pool else fund.id), _Figures())
        for pool_id, fund_id, granted in await session.execute(_grants(year)):
            target = {GroupBy.pool: pool_id, GroupBy.fund: fund_id}.get(group_by)
            bucket = sums[str(target)] if target is not None else grants
            bucket.granted_fen += int(granted)
    labels, budgets, available = _money_labels(group_by, pools) if by_money else ({}, {}, {})
    if group_by is GroupBy.department:
        labels = {d.value: label for d, label in code_lists.DEPARTMENT_LABELS.items()}
    elif group_by is GroupBy.catalogue_slot:
        labels = {s.value: label for s, label in code_lists.CATALOGUE_SLOT_LABELS.items()}
    rows = [
        figures.row(key, labels.get(key, key), budgets.get(key), available.get(key))
        for key, figures in sorted(sums.items())
    ]
    if grants.granted_fen:
        rows.append(grants.row(GRANTS_KEY, GRANTS_LABEL, None, None))
    total = _Figures()
    for row in rows:
        total.add(**{f.name: getattr(row, f.name) for f in fields(total)})
    totals = total.row(
        "total",
        "合计",
        sum(r.budget_fen or 0 for r in rows) if by_money else None,
        sum(r.available_fen or 0 for r in rows) if by_money else None,
    )
    return SpendReport(group_by=group_by, year=year, rows=rows, totals=totals)


async def _pools(
    session: AsyncSession,
    group_by: GroupBy,
    *,
    keys: list[str],
    year: int | None,
    principal: Principal,
) -> list[tuple[FundPool, Fund]]:
    """The pools behind the rows: those of the year for whoever sees every project."""
    query = select(FundPool, Fund).join(Fund, Fund.id == FundPool.fund_id)
    if reads_everything(principal):
        if year is not None:
            query = query.where(Fund.year == year)
    else:
        ids = [uuid.UUID(k) for k in keys]
        column = FundPool.id if group_by is GroupBy.pool else Fund.id
        query = query.where(column.in_(ids))
    rows = await session.execute(query.order_by(Fund.year, Fund.name, FundPool.name))
    return [(pool, fund) for pool, fund in rows.all()]


def _money_labels(
    group_by: GroupBy, pools: list[tuple[FundPool, Fund]]
) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    """Labels, budgets and what is left, per pool or per fund (its pools together)."""
    labels: dict[str, str] = {}
    budgets: dict[str, int] = {}
    available: dict[str, int] = defaultdict(int)
    for pool, fund in pools:
        if group_by is GroupBy.pool:
            key = str(pool.id)
            labels[key] = f"{fund.year} {fund.name} · {pool.name}"
            budgets[key] = pool.amount_fen
        else:
            key = str(fund.id)
            labels[key] = f"{fund.year} {fund.name}"
            budgets[key] = fund.total_fen
        available[key] += pool.amount_fen - pool.allocated_fen
    return labels, budgets, dict(available)
