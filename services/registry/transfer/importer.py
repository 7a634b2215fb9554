"""Check an import: read every row, check every rule, match existing organizations.

The file is taken in batches of `_BATCH` rows, so that an import holds one batch, never
the file: while one batch is matched against the register and handed to the caller's
`apply` (the COPY), the next is read and checked in a thread. Nothing is written here.
Every problem of every row is counted (row number, column,
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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Enum
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.base import SCHEMA
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
from services.registry.transfer.connection import asyncpg_connection
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
class Batch:
    """The valid rows of one batch of the file: new organizations and changes."""

    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)


@dataclass
class Plan:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issue_count: int = 0
    # The first MAX_LISTED_ISSUES found, in two lists: those of the header and the rows'
    # own checks, then those found against the register. Batch by batch the two
    # interleave; the report lists all of the first before the second, as when the
    # whole file was checked before the register was read.
    _checked: list[Issue] = field(default_factory=list)
    _matched: list[Issue] = field(default_factory=list)
    _rows_with_issues: set[int] = field(default_factory=set)

    def add(self, *issues: Issue, matched: bool = False) -> None:
        listed = self._matched if matched else self._checked
        for issue in issues:
            self.issue_count += 1
            if issue.row > 1:
                self._rows_with_issues.add(issue.row)
            if len(listed) < MAX_LISTED_ISSUES:
                listed.append(issue)

    @property
    def issues(self) -> list[Issue]:
        return (self._checked + self._matched)[:MAX_LISTED_ISSUES]

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


def _grade_issues(number: int, values: dict[str, Any], match: dict[str, Any] | None) -> list[Issue]:
    """A grade cell may only repeat the register's value: grades come from evaluations."""
    found = []
    for code in sorted(GRADE_CODES & values.keys()):
        held = match[code] if match is not None else None
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


# Built from constants only. The keys come as one array parameter each: the unique
# indexes of uscc and filing_number answer `= ANY`.
_EXISTING = (
    f"SELECT * FROM {SCHEMA}.organization"  # noqa: S608
    " WHERE uscc = ANY($1::text[]) OR filing_number = ANY($2::text[]) FOR UPDATE"
)
_NAMES_IN_USE = (
    f"SELECT name, id FROM {SCHEMA}.organization"  # noqa: S608
    " WHERE name = ANY($1::text[]) AND registration = $2 AND NOT status = ANY($3::text[])"
)
# The columns stored as enum codes, read back as the enums the checks compare by identity.
_ENUM_COLUMNS = {
    column.key: {member.value: member for member in column.type.enum_class}
    for column in Organization.__table__.columns
    if isinstance(column.type, Enum) and column.type.enum_class is not None
}


def _typed(record: Any) -> dict[str, Any]:
    row = dict(record.items())
    for column, members in _ENUM_COLUMNS.items():
        if (code := row[column]) is not None:
            row[column] = members[code]
    return row


async def _existing(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The organizations with these keys, each a dict of its columns, locked."""
    usccs = [value for column, value in keys if column == "uscc"]
    filings = [value for column, value in keys if column == "filing_number"]
    # The rows an all-or-nothing import will change stay as they were read.
    records = await (await asyncpg_connection(session)).fetch(_EXISTING, usccs, filings)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        organization = _typed(record)
        if organization["uscc"]:
            found["uscc", organization["uscc"]] = organization
        if organization["filing_number"]:
            found["filing_number", organization["filing_number"]] = organization
    return found


async def _names_in_use(session: AsyncSession, names: list[str]) -> dict[str, uuid.UUID]:
    if not names:
        return {}
    records = await (await asyncpg_connection(session)).fetch(
        _NAMES_IN_USE,
        names,
        Registration.registered.value,
        [status.value for status in TERMINAL_STATUSES],
    )
    return {name: id_ for name, id_ in records}


def _visible(principal: Principal, organization: dict[str, Any]) -> bool:
    if principal.role is Role.street_office:
        return (
            organization["registration"] is Registration.filed
            and organization["street_code"] == principal.street_code
        )
    return True


class _RowChecks:
    """Every cell read and every rule checked, batch by batch: CPU only, run off the event
    loop. Keeps the first row of each key, for the duplicates of later batches."""

    def __init__(self, positions: list[tuple[int, Column]], principal: Principal) -> None:
        self._positions = positions
        self._principal = principal
        self._first_row_of: dict[tuple[str, str], int] = {}

    def check(
        self, batch: list[tuple[int, list[Any]]]
    ) -> tuple[list[Issue], list[tuple[int, dict[str, Any], bool]]]:
        """The batch's issues, and the rows that passed, each once per key."""
        issues: list[Issue] = []
        rows: list[tuple[int, dict[str, Any], bool]] = []
        for number, cells in batch:
            found: list[Issue] = []
            read = _read_row(number, cells, self._positions, found)
            if read is None:
                issues += found
                continue
            values, masked = read
            if found := _row_issues(number, values, masked, self._principal):
                issues += found
                continue
            key = _key(values)
            if (first := self._first_row_of.get(key)) is not None:
                issues.append(Issue(number, key[0], "duplicate_in_file", f"Same as row {first}"))
                continue
            self._first_row_of[key] = number
            rows.append((number, values, masked))
        return issues, rows


@dataclass
class _Names:
    """Registered names as the register held them before the import, batch after batch.

    Earlier batches may be written already: a name a row of the file took (`in_file`)
    or an update renamed away from (`vacated`) is answered from here, not from the
    register, which now holds the import's own changes.
    """

    in_file: dict[str, tuple[int, uuid.UUID | None]] = field(default_factory=dict)
    vacated: dict[str, uuid.UUID] = field(default_factory=dict)

    async def holders(self, session: AsyncSession, names: list[str]) -> dict[str, uuid.UUID]:
        fresh = [n for n in names if n not in self.in_file and n not in self.vacated]
        held = await _names_in_use(session, fresh)
        for name in names:
            if (taken := self.in_file.get(name)) is not None:
                if taken[1] is not None:
                    held[name] = taken[1]
            elif (vacated := self.vacated.get(name)) is not None:
                held[name] = vacated
        return held


Apply = Callable[[Batch], Awaitable[None]]


async def plan(
    session: AsyncSession,
    *,
    principal: Principal,
    table: Table,
    apply: Apply | None = None,
    all_or_nothing: bool = True,
) -> Plan:
    """Check the table and hand each batch's valid rows to `apply`, if given.

    With `all_or_nothing`, no batch is handed over once an issue is found (the caller
    refuses the file and its transaction rolls back the batches applied before).
    """
    result = Plan()
    columns = _columns(table.header, result)
    if result.issue_count:
        return result
    positions = [(i, column) for i, column in enumerate(columns) if column is not None]
    present = {column.code for _, column in positions}
    checks = _RowChecks(positions, principal)
    batches = table.batches(_BATCH)

    def next_checked() -> tuple[int, list[Issue], list[tuple[int, dict[str, Any], bool]]] | None:
        batch = next(batches, None)
        if batch is None:
            return None
        issues, rows = checks.check(batch)
        return len(batch), issues, rows

    names = _Names()
    # A file's rows cost seconds of validation: in a thread, other requests are served,
    # and the next batch is checked while this one is matched and written.
    pending = asyncio.ensure_future(asyncio.to_thread(next_checked))
    try:
        while (checked := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next_checked))
            count, issues, rows = checked
            result.total_rows += count
            result.add(*issues)
            batch = await _match(session, result, rows, present, principal, names)
            if apply is not None and not (all_or_nothing and result.issue_count):
                await apply(batch)
    finally:
        # The reader is the thread's until it returns.
        await asyncio.wait([pending])
    return result


async def _match(
    session: AsyncSession,
    result: Plan,
    rows: list[tuple[int, dict[str, Any], bool]],
    present: set[str],
    principal: Principal,
    names: _Names,
) -> Batch:
    batch = Batch()
    if not rows:
        return batch
    existing = await _existing(session, [_key(values) for _, values, _ in rows])
    registered_names = [
        v["name"] for _, v, _ in rows if v["registration"] is Registration.registered
    ]
    holders = await names.holders(session, registered_names)
    for index, (number, values, masked) in enumerate(rows):
        if index % _ROWS_PER_TURN == 0:
            # Comparing is Python work: let other requests in between.
            await asyncio.sleep(0)
        match = existing.get(_key(values))
        if found := _grade_issues(number, values, match):
            result.add(*found, matched=True)
            continue
        if values["registration"] is Registration.registered:
            holder = holders.get(values["name"])
            if holder is not None and (match is None or holder != match["id"]):
                result.add(Issue(number, "name", "name_taken", "Registered already"), matched=True)
                continue
            if values["name"] in names.in_file:
                message = f"Same name as row {names.in_file[values['name']][0]}"
                result.add(Issue(number, "name", "duplicate_in_file", message), matched=True)
                continue
            names.in_file[values["name"]] = (number, holder)
        if match is None:
            if masked:
                result.add(
                    Issue(
                        number, _ID, "id_number_masked", "A new organization needs the full number"
                    ),
                    matched=True,
                )
                continue
            # The row's own dict, not a copy.
            values.update(id=uuid.uuid4(), row=number)
            batch.creates.append(values)
            result.created += 1
            continue
        update = _plan_update(result, number, values, masked, match, present, principal)
        if update is not None:
            batch.updates.append(update)
            result.updated += 1
            if "name" in update.changed and match["registration"] is Registration.registered:
                names.vacated.setdefault(match["name"], match["id"])
    return batch


def _plan_update(
    result: Plan,
    number: int,
    values: dict[str, Any],
    masked: bool,
    match: dict[str, Any],
    present: set[str],
    principal: Principal,
) -> Update | None:
    key_column = _key(values)[0]
    if not _visible(principal, match):
        result.add(
            Issue(number, key_column, "scope_forbidden", "Not an organization of your street"),
            matched=True,
        )
        return None
    if match["status"] in TERMINAL_STATUSES:
        result.add(
            Issue(
                number, key_column, "organization_closed", f"The organization is {match['status']}"
            ),
            matched=True,
        )
        return None
    for name in ("kind", "registration"):
        if values[name] is not match[name]:
            result.add(
                Issue(number, name, "immutable_field", "An import does not change this"),
                matched=True,
            )
            return None
    updatable = present - set(_IMMUTABLE) - GRADE_CODES - ({_ID} if masked else set())
    changed = {
        name: (match[name], values[name])
        for name in sorted(updatable)
        if match[name] != values[name]
    }
    if not changed:
        result.unchanged += 1
        return None
    merged = {name: match[name] for name in IMPORTED_CODES}
    merged.update({name: after for name, (_, after) in changed.items()})
    return Update(match["id"], number, merged, changed)
