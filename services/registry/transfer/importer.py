"""Plan an import: read every row, check every rule, match existing organizations.

Nothing is written here. Every problem of every row is counted (row number, column,
code, message), never stopping at the first; the first `MAX_LISTED_ISSUES` are kept for
the report, so that a file of wrong rows does not make a report as large as itself.

A row updates the organization with the same USCC (registered) or filing number
(filed) — upsert — and changes only the columns the file has; kind and registration
of an existing organization are not changed by an import. A masked ID number (from
an export for a role that may not see them) leaves the stored number as it is.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enums import TERMINAL_STATUSES, Registration
from services.registry.organizations.models import Organization
from services.registry.organizations.schemas import OrganizationCreate
from services.registry.organizations.validation import organization_issues
from services.registry.transfer.columns import (
    BY_NAME,
    GRADE_CODES,
    IMPORTED_CODES,
    REQUIRED_CODES,
    CellError,
    Column,
)
from services.registry.transfer.reading import Table
from shared.auth import Principal, Role
from shared.clock import shanghai_today

# Fields an import never changes on an existing organization (they identify it or
# change only through their own procedures).
_IMMUTABLE = ("kind", "registration", "uscc", "filing_number")
_ID = "legal_rep_id_number"
_BATCH = 5_000
MAX_LISTED_ISSUES = 1_000
# Rows planned between two turns of the event loop, when the plan needs the database.
_ROWS_PER_TURN = 1_000


@dataclass(frozen=True, slots=True)
class Issue:
    row: int
    column: str
    code: str
    message: str


@dataclass
class Update:
    organization_id: uuid.UUID
    row: int
    values: dict[str, Any]  # the organization's importable fields after the change
    changed: dict[str, tuple[Any, Any]]


@dataclass
class Plan:
    total_rows: int = 0
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)  # the first MAX_LISTED_ISSUES found
    issue_count: int = 0
    _rows_with_issues: set[int] = field(default_factory=set)

    def add(self, *issues: Issue) -> None:
        for issue in issues:
            self.issue_count += 1
            if issue.row > 1:
                self._rows_with_issues.add(issue.row)
            if len(self.issues) < MAX_LISTED_ISSUES:
                self.issues.append(issue)

    @property
    def invalid_rows(self) -> int:
        return len(self._rows_with_issues)


def _columns(header: list[str], result: Plan) -> list[Column | None]:
    columns: list[Column | None] = []
    seen: set[str] = set()
    for text in header:
        column = BY_NAME.get(text)
        if column is None:
            if text:
                result.add(Issue(1, text, "unknown_column", "Not a column of the register"))
        elif column.code in seen:
            result.add(Issue(1, text, "duplicate_column", "This column appears twice"))
            column = None
        else:
            seen.add(column.code)
        read = column and (column.code in IMPORTED_CODES or column.code in GRADE_CODES)
        columns.append(column if read else None)
    for code in REQUIRED_CODES:
        if code not in seen:
            result.add(Issue(1, code, "missing_column", "This column is required"))
    if not seen & {"uscc", "filing_number"}:
        result.add(Issue(1, "uscc", "missing_column", "Give uscc or filing_number (or both)"))
    return columns


def _read_row(
    number: int, cells: list[Any], positions: list[tuple[int, Column]], issues: list[Issue]
) -> tuple[dict[str, Any], bool] | None:
    """The row's typed values and whether its ID number was masked; None if invalid.

    The values include the file's grade columns (None for an empty cell), which only
    `_grade_issues` reads.

    A row with unreadable cells is still checked against the register's rules with
    what could be read, so that the report lists all of its errors at once.
    """
    raw: dict[str, Any] = {}
    grades: dict[str, Any] = {}
    failed: set[str] = set()
    masked = False
    for index, column in positions:
        cell = cells[index] if index < len(cells) else None
        if column.code == _ID and isinstance(cell, str) and "*" in cell:
            masked = True
            continue
        try:
            value = column.read(cell)
        except CellError as error:
            issues.append(Issue(number, column.code, error.code, error.message))
            failed.add(column.code)
            continue
        if column.code in GRADE_CODES:
            grades[column.code] = value
        elif value is not None:
            raw[column.code] = value
    try:
        values = OrganizationCreate.model_validate(raw).model_dump() | grades
    except ValidationError as exc:
        for detail in exc.errors():
            column_code = str(detail["loc"][0]) if detail["loc"] else "row"
            if column_code not in failed:
                failed.add(column_code)
                issues.append(Issue(number, column_code, str(detail["type"]), str(detail["msg"])))
        values = None
    if failed:
        for issue in organization_issues(raw, today=shanghai_today()):
            if issue.field not in failed:
                issues.append(Issue(number, issue.field, issue.code, issue.message))
        return None
    assert values is not None
    return values, masked


def _row_issues(
    number: int, values: dict[str, Any], masked: bool, principal: Principal
) -> list[Issue]:
    found = [
        Issue(number, issue.field, issue.code, issue.message)
        for issue in organization_issues(values, today=shanghai_today())
    ]
    if principal.role is Role.street_office and (
        values["registration"] is not Registration.filed
        or values["street_code"] != principal.street_code
    ):
        found.append(
            Issue(
                number, "street_code", "scope_forbidden", "Only filed organizations of your street"
            )
        )
    return found


def _grade_issues(number: int, values: dict[str, Any], match: Organization | None) -> list[Issue]:
    """A grade cell may only repeat the register's value: grades come from evaluations."""
    found = []
    for code in sorted(GRADE_CODES & values.keys()):
        held = getattr(match, code) if match is not None else None
        if values[code] != held:
            found.append(
                Issue(
                    number,
                    code,
                    "grade_set_by_evaluation",
                    "Grades come from grade evaluations, not imports; the register holds "
                    f"{'nothing' if held is None else held}: leave it so or delete the column",
                )
            )
    return found


def _key(values: dict[str, Any]) -> tuple[str, str]:
    if values["registration"] is Registration.registered:
        return "uscc", values["uscc"]
    return "filing_number", values["filing_number"]


async def _existing(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Organization]:
    usccs = [value for column, value in keys if column == "uscc"]
    filings = [value for column, value in keys if column == "filing_number"]
    found: dict[tuple[str, str], Organization] = {}
    for start in range(0, max(len(usccs), len(filings)), _BATCH):
        query = (
            select(Organization)
            .where(
                or_(
                    Organization.uscc.in_(usccs[start : start + _BATCH]),
                    Organization.filing_number.in_(filings[start : start + _BATCH]),
                )
            )
            # The rows an all-or-nothing import will change stay as they were read.
            .with_for_update()
        )
        for organization in (await session.execute(query)).scalars():
            if organization.uscc:
                found["uscc", organization.uscc] = organization
            if organization.filing_number:
                found["filing_number", organization.filing_number] = organization
    return found


async def _names_in_use(session: AsyncSession, names: list[str]) -> dict[str, uuid.UUID]:
    used: dict[str, uuid.UUID] = {}
    for start in range(0, len(names), _BATCH):
        rows = await session.execute(
            select(Organization.name, Organization.id).where(
                Organization.name.in_(names[start : start + _BATCH]),
                Organization.registration == Registration.registered,
                Organization.status.not_in(list(TERMINAL_STATUSES)),
            )
        )
        used.update({key: value for key, value in rows.all()})
    return used


def _visible(principal: Principal, organization: Organization) -> bool:
    if principal.role is Role.street_office:
        return (
            organization.registration is Registration.filed
            and organization.street_code == principal.street_code
        )
    return True


def _checked_rows(
    result: Plan, table: Table, principal: Principal
) -> tuple[list[tuple[int, dict[str, Any], bool]], set[str]]:
    """Every cell read and every rule checked, row by row: CPU only, run off the event loop.

    Returns the rows that passed, each once per key, and the columns the file has.
    """
    columns = _columns(table.header, result)
    if result.issue_count:
        return [], set()
    positions = [(i, column) for i, column in enumerate(columns) if column is not None]
    rows: list[tuple[int, dict[str, Any], bool]] = []
    first_row_of: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        found: list[Issue] = []
        read = _read_row(number, cells, positions, found)
        if read is None:
            result.add(*found)
            continue
        values, masked = read
        if found := _row_issues(number, values, masked, principal):
            result.add(*found)
            continue
        key = _key(values)
        if key in first_row_of:
            result.add(
                Issue(number, key[0], "duplicate_in_file", f"Same as row {first_row_of[key]}")
            )
            continue
        first_row_of[key] = number
        rows.append((number, values, masked))
    return rows, {column.code for _, column in positions}


async def plan(session: AsyncSession, *, principal: Principal, table: Table) -> Plan:
    result = Plan(total_rows=len(table.rows))
    # A file's rows cost seconds of validation: in a thread, other requests are served.
    rows, present = await asyncio.to_thread(_checked_rows, result, table, principal)
    # The file's cells are read: let them go before the register is read and written
    # (the caller passes the table on without keeping it).
    del table
    if not rows:
        return result
    existing = await _existing(session, [_key(values) for _, values, _ in rows])
    registered_names = [
        v["name"] for _, v, _ in rows if v["registration"] is Registration.registered
    ]
    names = await _names_in_use(session, registered_names)
    names_in_file: dict[str, int] = {}
    for index, (number, values, masked) in enumerate(rows):
        if index % _ROWS_PER_TURN == 0:
            # The loaded organizations belong to the session, so this part stays on the
            # event loop: it lets other requests in between.
            await asyncio.sleep(0)
        match = existing.get(_key(values))
        if found := _grade_issues(number, values, match):
            result.add(*found)
            continue
        if values["registration"] is Registration.registered:
            holder = names.get(values["name"])
            if holder is not None and (match is None or holder != match.id):
                result.add(Issue(number, "name", "name_taken", "Registered already"))
                continue
            if values["name"] in names_in_file:
                message = f"Same name as row {names_in_file[values['name']]}"
                result.add(Issue(number, "name", "duplicate_in_file", message))
                continue
            names_in_file[values["name"]] = number
        if match is None:
            if masked:
                result.add(
                    Issue(
                        number, _ID, "id_number_masked", "A new organization needs the full number"
                    )
                )
                continue
            # The row's own dict, not a copy: a copy per row was a second register in memory.
            values.update(id=uuid.uuid4(), row=number)
            result.creates.append(values)
            continue
        _plan_update(result, number, values, masked, match, present, principal)
    return result


def _plan_update(
    result: Plan,
    number: int,
    values: dict[str, Any],
    masked: bool,
    match: Organization,
    present: set[str],
    principal: Principal,
) -> None:
    key_column = _key(values)[0]
    if not _visible(principal, match):
        result.add(
            Issue(number, key_column, "scope_forbidden", "Not an organization of your street")
        )
        return
    if match.status in TERMINAL_STATUSES:
        result.add(
            Issue(number, key_column, "organization_closed", f"The organization is {match.status}")
        )
        return
    for name in ("kind", "registration"):
        if values[name] is not getattr(match, name):
            result.add(Issue(number, name, "immutable_field", "An import does not change this"))
            return
    updatable = present - set(_IMMUTABLE) - GRADE_CODES - ({_ID} if masked else set())
    changed = {
        name: (getattr(match, name), values[name])
        for name in sorted(updatable)
        if getattr(match, name) != values[name]
    }
    if not changed:
        result.unchanged += 1
        return
    merged = {name: getattr(match, name) for name in IMPORTED_CODES}
    merged.update({name: after for name, (_, after) in changed.items()})
    result.updates.append(Update(match.id, number, merged, changed))
