"""Bulk import (CSV, XLSX) with its template, and streaming export of a search."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from services.registry.access import EXPORTERS
from services.registry.organizations import bulk_writes
from services.registry.organizations.filters import FiltersDep
from services.registry.organizations.schemas import SortKey
from services.registry.transfer import importer, writer
from services.registry.transfer.exporter import MEDIA_TYPES, ExportFormat, stream
from services.registry.transfer.reading import Limits, read_table
from services.registry.transfer.schemas import ImportIssueOut, ImportReport
from services.registry.transfer.template import csv_template, xlsx_template
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import FieldError, Unprocessable, problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["import and export"])
IMPORTERS = (Role.civil_affairs, Role.street_office)


def _file_responses(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()
            },
        }
    }


def _attachment(name: str, fmt: ExportFormat) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'}


@router.get(
    "/export",
    response_class=StreamingResponse,
    response_model=None,
    operation_id="exportOrganizations",
    dependencies=[allow(*EXPORTERS)],
    responses={**_file_responses("The matching organizations"), **problem_responses(401, 403)},
)
async def export_organizations(
    principal: CurrentPrincipal,
    filters: FiltersDep,
    sort: SortKey = SortKey.created_at_desc,
    format: ExportFormat = ExportFormat.csv,
) -> StreamingResponse:
    """Download a search of the register as CSV or XLSX, streamed as it is read."""
    name = f"organizations-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return StreamingResponse(
        stream(principal=principal, filters=filters, sort=sort, fmt=format),
        media_type=MEDIA_TYPES[format],
        headers=_attachment(name, format),
    )


@router.get(
    "/import-template",
    response_class=Response,
    response_model=None,
    operation_id="getImportTemplate",
    dependencies=[allow(*IMPORTERS)],
    responses={**_file_responses("The import template"), **problem_responses(401, 403)},
)
async def import_template(format: ExportFormat = ExportFormat.xlsx) -> Response:
    """The import file's columns with an example row (the XLSX explains each column)."""
    content = xlsx_template() if format is ExportFormat.xlsx else csv_template()
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers=_attachment("organizations-template", format),
    )


@router.post(
    "/import",
    response_model=ImportReport,
    operation_id="importOrganizations",
    dependencies=[allow(*IMPORTERS)],
    responses=problem_responses(401, 403, 413, 422),
)
async def import_organizations(
    session: SessionDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    dry_run: Annotated[bool, Query(description="Check everything, write nothing")] = False,
    all_or_nothing: Annotated[
        bool, Query(description="Refuse the whole file if any row is wrong (default)")
    ] = True,
) -> ImportReport:
    """Add or update organizations from a file, keyed by USCC or filing number.

    A file past `REGISTRY_IMPORT_MAX_ROWS` rows, or an XLSX unpacking past
    `REGISTRY_IMPORT_MAX_UNPACKED_BYTES`, is refused with 413. Errors are all counted;
    the first 1,000 found are listed. A file with a grade column (评估等级, 评估有效期起/止,
    as an export has) is refused as a whole (`grade_set_by_evaluation`): grades come
    from grade evaluations, never from an import.
    """
    # Reading is CPU work, seconds for a large file: in a thread, the event loop keeps
    # serving other requests. The upload is spooled to a file, read as a stream, and
    # written batch by batch while the next batch is checked (`importer.plan`).
    table = await asyncio.to_thread(read_table, file.file, Limits.from_settings())
    write = None if dry_run else writer.Writer(session, principal)
    try:
        if not dry_run:
            # Before the register is read and locked: see bulk_writes.
            await bulk_writes.import_writing(session)
        plan = await importer.plan(
            session,
            principal=principal,
            table=table,
            apply=None if write is None else write.write,
            all_or_nothing=all_or_nothing,
        )
    finally:
        table.close()
    header_broken = any(issue.row == 1 for issue in plan.issues)
    if plan.issue_count and (all_or_nothing or header_broken):
        listed = "" if plan.issue_count == len(plan.issues) else f" ({len(plan.issues)} listed)"
        raise Unprocessable(
            f"{plan.issue_count} error(s) in {plan.invalid_rows} row(s){listed}; "
            "nothing was imported",
            code="import_invalid",
            errors=[
                FieldError(
                    field=f"header.{i.column}" if i.row == 1 else f"rows.{i.row}.{i.column}",
                    message=i.message,
                    code=i.code,
                )
                for i in plan.issues
            ],
        )
    applied = write is not None and bool(plan.created or plan.updated)
    if write is not None:
        await write.finish()
    return ImportReport(
        dry_run=dry_run,
        applied=applied,
        total_rows=plan.total_rows,
        created=plan.created,
        updated=plan.updated,
        unchanged=plan.unchanged,
        skipped_rows=plan.invalid_rows,
        error_count=plan.issue_count,
        errors=[
            ImportIssueOut(row=i.row, column=i.column, code=i.code, message=i.message)
            for i in plan.issues
        ],
    )
