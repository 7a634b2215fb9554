"""Every query on organizations: scoped reads, search, statistics, code look-ups."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import READ_ALL, scope_values, tally_visible_to, visible_to
from services.registry.applications.models import Application
from services.registry.enums import (
    ABOVE_DISTRICT_KINDS,
    TERMINAL_STATUSES,
    ApplicationKind,
    ApplicationState,
    Category,
    EvaluationGrade,
    IncubationStage,
    InspectionResult,
    InspectionState,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import (
    Organization,
    OrganizationSearch,
    OrganizationTally,
)
from services.registry.organizations.schemas import SortKey
from shared.auth import Principal, Role
from shared.pagination import PageParams, count_rows
from shared.reads import CompiledSelect, ReadPool


@dataclass(frozen=True, slots=True)
class OrganizationFilters:
    name: str | None = None
    uscc_prefix: str | None = None
    filing_number: str | None = None
    kinds: tuple[OrganizationKind, ...] = ()
    registrations: tuple[Registration, ...] = ()
    categories: tuple[Category, ...] = ()
    statuses: tuple[OrganizationStatus, ...] = ()
    grades: tuple[EvaluationGrade, ...] = ()
    incubation_stages: tuple[IncubationStage, ...] = ()
    district_code: str | None = None
    street_codes: tuple[str, ...] = ()
    community_code: str | None = None
    tag: str | None = None
    inspection_year: int | None = None
    inspection_results: tuple[InspectionResult, ...] = ()
    established_from: date | None = None
    established_until: date | None = None


def searchable(text: str) -> str:
    """The form a name search compares: NFKC (UAX #15), as `registry.name_grams` grams it.

    Full-width brackets, digits and letters, which Chinese input methods type, fold to
    their ASCII twins: 「（庐阳）」 and 「(庐阳)」 are the same query, 「１２３」 is 「123」.
    """
    return unicodedata.normalize("NFKC", text)


def query_grams(text: str) -> list[str]:
    """The grams a name must contain to contain `text` (see `registry.name_grams`).

    Of the NFKC form (`searchable`), lower-cased one character at a time, as
    PostgreSQL's `lower()` does; the LIKE that rechecks each candidate decides, so the
    grams only have to be implied by a match.
    """
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in searchable(text))
    if len(lowered) < 2:
        return [lowered] if lowered else []
    return sorted({lowered[i : i + 2] for i in range(len(lowered) - 1)})


@cache
def _search_rows(*, statuses: bool, registrations: bool) -> tuple[ColumnElement[bool], ...]:
    """The search table's rows whose names contain a text, case-insensitively, on their
    NFKC forms, and which pass the status and registration filters (if any): their
    values are the named parameters `_search_values` gives, so that the conditions, and
    a statement made of them, are built once per shape.

    A single status or registration is asked of the index too (its keys hold them,
    migration 0119, and `_search_values` adds them to the wanted keys), so that only
    the candidates that pass those filters are read.
    """
    search = OrganizationSearch
    keys = type_coerce(
        func.registry.organization_search_keys(
            search.folded_name, search.status, search.registration
        ),
        ARRAY(Text),
    )
    # Candidates from the GIN index, then the exact, case-insensitive substring test, both
    # on the NFKC form (migrations 0113, 0163): the recheck reads only the candidates.
    conditions = [
        keys.contains(bindparam("search_keys", type_=ARRAY(Text))),
        search.folded_name.ilike(bindparam("search_pattern", type_=Text), escape="/"),
    ]
    if statuses:
        conditions.append(search.status.in_(bindparam("search_statuses", expanding=True)))
    if registrations:
        conditions.append(
            search.registration.in_(bindparam("search_registrations", expanding=True))
        )
    return tuple(conditions)


def _search_values(
    text: str, statuses: Sequence[OrganizationStatus], registrations: Sequence[Registration]
) -> dict[str, Any]:
    """The values of `_search_rows`' parameters."""
    wanted = query_grams(text)
    if len(statuses) == 1:
        wanted.append(f"status={statuses[0]!s}")
    if len(registrations) == 1:
        wanted.append(f"registration={registrations[0]!s}")
    # `contains(..., autoescape=True)`: the LIKE's own characters match themselves.
    escaped = searchable(text).replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {
        "search_keys": wanted,
        "search_pattern": f"%{escaped}%",
        "search_statuses": [str(s) for s in statuses],
        "search_registrations": [str(r) for r in registrations],
    }


def name_matches(
    text: str,
    *,
    statuses: Sequence[OrganizationStatus] = (),
    registrations: Sequence[Registration] = (),
) -> ColumnElement[bool]:
    """Organizations whose names contain `text`, case-insensitively, on their NFKC forms.

    Found in the narrow search table (migration 0163). The statuses and registrations
    the caller also filters on narrow the candidates there; the caller's own
    conditions on the register still decide.
    """
    rows = _search_rows(statuses=bool(statuses), registrations=bool(registrations))
    found = select(OrganizationSearch.id).where(*rows)
    return Organization.id.in_(found.params(_search_values(text, statuses, registrations)))


def _where(filters: OrganizationFilters) -> list[ColumnElement[bool]]:
    f = filters
    conditions: list[ColumnElement[bool]] = []
    if f.name:
        conditions.append(name_matches(f.name, statuses=f.statuses, registrations=f.registrations))
    if f.uscc_prefix:
        conditions.append(Organization.uscc.startswith(f.uscc_prefix.upper(), autoescape=True))
    if f.filing_number:
        conditions.append(Organization.filing_number == f.filing_number)
    for column, values in (
        (Organization.kind, f.kinds),
        (Organization.registration, f.registrations),
        (Organization.category, f.categories),
        (Organization.status, f.statuses),
        (Organization.evaluation_grade, f.grades),
        (Organization.incubation_stage, f.incubation_stages),
        (Organization.street_code, f.street_codes),
    ):
        if values:
            conditions.append(column.in_(values))
    if f.district_code:
        conditions.append(Organization.district_code == f.district_code)
    if f.community_code:
        conditions.append(Organization.community_code == f.community_code)
    if f.tag:
        conditions.append(Organization.tags.any_() == f.tag)
    if f.established_from:
        conditions.append(Organization.established_on >= f.established_from)
    if f.established_until:
        conditions.append(Organization.established_on <= f.established_until)
    if f.inspection_year is not None:
        inspected = [
            AnnualInspection.organization_id == Organization.id,
            AnnualInspection.year == f.inspection_year,
        ]
        if f.inspection_results:
            inspected += [
                AnnualInspection.result.in_(f.inspection_results),
                AnnualInspection.state == InspectionState.concluded,
            ]
        conditions.append(exists().where(*inspected))
    return conditions


def filtered(principal: Principal, filters: OrganizationFilters) -> Select[Organization]:
    return select(Organization).where(visible_to(principal), *_where(filters))


S = TypeVar("S", bound=Select[Any])

_SORT_COLUMNS: dict[str, Any] = {
    "created_at": Organization.created_at,
    "name": Organization.name,
    "established_on": Organization.established_on,
    "registered_funds_fen": Organization.registered_funds_fen,
    "updated_at": Organization.updated_at,
}


def _sort_column(sort: SortKey) -> Any:
    return _SORT_COLUMNS[sort.value.lstrip("-")]


def _order_by(sort: SortKey, key: Any, ident: Any) -> list[Any]:
    """The sort key nulls last, then the id: it breaks ties, so that pages never overlap
    or skip a row."""
    if sort.value.startswith("-"):
        return [key.desc().nulls_last(), ident.desc()]
    return [key.asc().nulls_last(), ident]


def ordered(query: S, sort: SortKey) -> S:
    return query.order_by(*_order_by(sort, _sort_column(sort), Organization.id))


async def get_visible(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    for_update: bool = False,
) -> Organization | None:
    query = select(Organization).where(Organization.id == organization_id, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


@cache
def _visible_by_id(role: Role) -> CompiledSelect:
    # Only the role shapes `visible_to`; the probe's values are replaced at each call.
    return CompiledSelect(
        select(Organization.__table__).where(
            Organization.id == bindparam("organization_id"),
            visible_to(Principal(sub="", role=role)),
        )
    )


async def read_visible(
    reads: ReadPool, *, principal: Principal, organization_id: uuid.UUID
) -> dict[str, Any] | None:
    """`get_visible` in one round trip, as a row: for GET, which changes nothing."""
    return await reads.fetchrow(
        _visible_by_id(principal.role), organization_id=organization_id, **scope_values(principal)
    )


# The sorts the search table can serve on its own (it holds no other sort key).
_SEARCH_TABLE_SORTS = frozenset({SortKey.created_at, SortKey.created_at_desc})


def _on_search_table(principal: Principal, filters: OrganizationFilters, sort: SortKey) -> bool:
    """Whether the search table alone can say which organizations match, and in what
    order: a principal who sees the whole register, filters it holds, its sort key."""
    held = OrganizationFilters(
        name=filters.name, statuses=filters.statuses, registrations=filters.registrations
    )
    return principal.role in READ_ALL and sort in _SEARCH_TABLE_SORTS and filters == held


def _page_of(matches: Select[Any, Any], sort: SortKey, offset: Any, limit: Any) -> Select[Any]:
    """A page of `matches` (id, sort_value), whole rows of the register, and their total.

    The matches are kept narrow (a CTE PostgreSQL materialises once as it is read
    twice): the total counts them and the page sorts them; only the page's rows are
    then read whole, by primary key. A window count over `SELECT *` instead carried
    every whole matching row through the window and the sort (see bench/README.md).
    """
    found = matches.cte("matches")
    paged = (
        select(found.c.id, found.c.sort_value)
        .order_by(*_order_by(sort, found.c.sort_value, found.c.id))
        .offset(offset)
        .limit(limit)
        .subquery("paged")
    )
    total = select(func.count()).select_from(found).scalar_subquery().label("total")
    return (
        select(Organization.__table__, total)
        .join(paged, paged.c.id == Organization.id)
        .order_by(*_order_by(sort, paged.c.sort_value, paged.c.id))
    )


@cache
def _search_table_page(sort: SortKey, *, statuses: bool, registrations: bool) -> Select[Any]:
    """`_page_of` the search table's matches: built once per shape (building it cost
    more of the API's CPU than running it), run with `_search_values` and the page."""
    rows = _search_rows(statuses=statuses, registrations=registrations)
    search = OrganizationSearch
    matches = select(search.id, search.created_at.label("sort_value")).where(*rows)
    return _page_of(
        matches,
        sort,
        bindparam("page_offset", type_=Integer),
        bindparam("page_limit", type_=Integer),
    )


def _name_page(
    principal: Principal, filters: OrganizationFilters, sort: SortKey, page: PageParams
) -> tuple[Select[Any], dict[str, Any]]:
    """A name search's page and exact total in one statement, reading each match once,
    and the values of its parameters.

    The bigram index yields candidates that only the LIKE recheck can confirm, so both
    the page and the total must read every candidate. When the narrow search table
    holds every filter and the sort key (`_on_search_table`: the usual name + status +
    registration search by the bureau), the matches come from it alone and the register
    is read only for the page: the candidates' pages are then the search table's,
    which stays in shared buffers (see bench/README.md).
    """
    if _on_search_table(principal, filters, sort):
        query = _search_table_page(
            sort, statuses=bool(filters.statuses), registrations=bool(filters.registrations)
        )
        values = _search_values(filters.name or "", filters.statuses, filters.registrations)
        return query, {**values, "page_offset": page.offset, "page_limit": page.page_size}
    matches = select(Organization.id, _sort_column(sort).label("sort_value")).where(
        visible_to(principal), *_where(filters)
    )
    return _page_of(matches, sort, page.offset, page.page_size), {}


async def search(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: OrganizationFilters,
    sort: SortKey,
    page: PageParams,
) -> tuple[Sequence[Organization | dict[str, Any]], int]:
    query = filtered(principal, filters)
    if filters.name:
        statement, values = _name_page(principal, filters, sort, page)
        result = (await session.execute(statement, values)).mappings().all()
        if result:
            # Rows of the register as mappings, which `service.present` reads as it reads
            # organizations: no ORM objects to build for a read-only page.
            total = int(result[0]["total"])
            return [{k: v for k, v in row.items() if k != "total"} for row in result], total
        if page.offset == 0:
            return [], 0
    # Otherwise the count is an index-only scan and the page reads 20 rows by an index.
    total = await count_rows(session, query)
    if total == 0 or page.offset >= total:
        return [], total
    rows = await session.execute(ordered(query, sort).offset(page.offset).limit(page.page_size))
    return rows.scalars().all(), total


# Each statistic is a GROUPING SET of one column, so one scan of the table serves all.
STAT_COLUMNS: dict[str, Any] = {
    "by_registration": Organization.registration,
    "by_kind": Organization.kind,
    "by_category": Organization.category,
    "by_status": Organization.status,
    "by_street": Organization.street_code,
    "by_evaluation_grade": Organization.evaluation_grade,
    "by_incubation_stage": Organization.incubation_stage,
}


_ABOVE_DISTRICT = sorted(kind.value for kind in ABOVE_DISTRICT_KINDS)
_CLOSED = sorted(status.value for status in TERMINAL_STATUSES)


def _in_register(status: Any, kind: Any) -> ColumnElement[bool]:
    """On the district's register as the sources count it: in being, registered here."""
    condition: ColumnElement[bool] = status.not_in(_CLOSED) & kind.not_in(_ABOVE_DISTRICT)
    return condition


def _stats_query(principal: Principal) -> Select[Any]:
    """The grouping sets over the tally (kept by triggers), or the register itself.

    The register is grouped only for an organization user, who sees one row anyway.
    """
    in_tally = tally_visible_to(principal)
    if in_tally is None:
        columns = list(STAT_COLUMNS.values())
        return (
            select(*columns, *(func.grouping(c) for c in columns), func.count())
            .where(visible_to(principal), _in_register(Organization.status, Organization.kind))
            .group_by(func.grouping_sets(*(tuple_(c) for c in columns)))
        )
    columns = [getattr(OrganizationTally, column.key) for column in STAT_COLUMNS.values()]
    return (
        select(*columns, *(func.grouping(c) for c in columns), func.sum(OrganizationTally.n))
        .where(
            in_tally,
            OrganizationTally.n > 0,
            _in_register(OrganizationTally.status, OrganizationTally.kind),
        )
        .group_by(func.grouping_sets(*(tuple_(c) for c in columns)))
    )


def _outside_query(principal: Principal) -> Select[Any]:
    """Counts of the organizations `_in_register` leaves out, by status and kind."""
    in_tally = tally_visible_to(principal)
    if in_tally is None:
        status, kind = Organization.status, Organization.kind
        live: Select[Any] = select(status, kind, func.count())  # type: ignore[assignment]
        return live.where(visible_to(principal), ~_in_register(status, kind)).group_by(status, kind)
    tally_status, tally_kind = OrganizationTally.status, OrganizationTally.kind
    tallied: Select[Any] = select(  # type: ignore[assignment]
        tally_status, tally_kind, func.sum(OrganizationTally.n)
    )
    outside = ~_in_register(tally_status, tally_kind)
    return tallied.where(in_tally, OrganizationTally.n > 0, outside).group_by(
        tally_status, tally_kind
    )


async def outside_counts(
    session: AsyncSession, *, principal: Principal
) -> tuple[dict[str, int], int]:
    """(closed organizations by status, open ones registered above the district)."""
    closed: dict[str, int] = {}
    above = 0
    for status, kind, count in (await session.execute(_outside_query(principal))).all():
        if str(status) in _CLOSED:
            closed[str(status)] = closed.get(str(status), 0) + int(count)
        elif str(kind) in _ABOVE_DISTRICT:
            above += int(count)
    return closed, above


async def grouped_counts(
    session: AsyncSession, *, principal: Principal
) -> dict[str, list[tuple[str | None, int]]]:
    columns = list(STAT_COLUMNS.values())
    query = _stats_query(principal)
    counts: dict[str, list[tuple[str | None, int]]] = {name: [] for name in STAT_COLUMNS}
    names = list(STAT_COLUMNS)
    width = len(columns)
    for row in (await session.execute(query)).all():
        values, grouping, count = row[:width], row[width : 2 * width], row[-1]
        # GROUPING(c) is 0 for the column this row is grouped by.
        index = list(grouping).index(0)
        value = values[index]
        # The tally stores a missing value as ''.
        key = None if value is None or value == "" else str(value)
        counts[names[index]].append((key, int(count)))
    for items in counts.values():
        items.sort(key=lambda item: (-item[1], item[0] or ""))
    return counts


async def find_by_codes(
    session: AsyncSession, *, uscc: str | None = None, filing_number: str | None = None
) -> Organization | None:
    conditions = []
    if uscc:
        conditions.append(Organization.uscc == uscc)
    if filing_number:
        conditions.append(Organization.filing_number == filing_number)
    if not conditions:
        return None
    query = select(Organization).where(or_(*conditions)).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def name_in_use(
    session: AsyncSession, name: str, *, other_than: uuid.UUID | None = None
) -> bool:
    """Whether an organization not closed bears this name (names are unique in the register)."""
    query: Select[Any] = select(literal_column("1")).where(
        Organization.name == name, Organization.status.not_in(list(TERMINAL_STATUSES))
    )
    if other_than is not None:
        query = query.where(Organization.id != other_than)
    return (await session.execute(query.limit(1))).first() is not None


async def name_applied_for(session: AsyncSession, name: str) -> bool:
    """Whether a pending registration application proposes this name."""
    query: Select[Any] = select(literal_column("1")).where(
        Application.kind == ApplicationKind.registration,
        Application.state == ApplicationState.pending,
        Application.proposal["name"].astext == name,
    )
    return (await session.execute(query.limit(1))).first() is not None
