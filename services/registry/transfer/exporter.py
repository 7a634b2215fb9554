"""Stream a filtered search of the register as CSV or XLSX, in constant memory.

Rows come from a server-side cursor in batches and leave as soon as they are
formatted. The export runs in its own transaction (the request's one has committed by
the time the body streams); one query is one snapshot, so the file is consistent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from enum import StrEnum
from typing import Any

from services.registry.access import may_see_id_numbers
from services.registry.organizations.id_numbers import mask_id_number
from services.registry.organizations.models import Organization
from services.registry.organizations.repository import OrganizationFilters, filtered, ordered
from services.registry.organizations.schemas import SortKey
from services.registry.transfer.columns import EXPORTED, cell_value
from services.registry.transfer.xlsx_stream import XlsxStream
from shared.auth import Principal
from shared.db import database


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_BATCH = 2_000
_CODES = [column.code for column in EXPORTED]


def _csv(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def stream(
    *, principal: Principal, filters: OrganizationFilters, sort: SortKey, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    columns = [Organization.__table__.c[code] for code in _CODES]
    query = ordered(filtered(principal, filters), sort).with_only_columns(*columns)
    mask = not may_see_id_numbers(principal)
    id_index = _CODES.index("legal_rep_id_number")
    xlsx = XlsxStream("organizations") if fmt is ExportFormat.xlsx else None
    # A BOM, so that Excel opens the UTF-8 CSV with its Chinese intact.
    yield xlsx.start(_CODES) if xlsx else b"\xef\xbb\xbf" + _csv([_CODES])
    async with database.transaction() as session:
        result = await session.stream(query.execution_options(yield_per=_BATCH))
        async for partition in result.partitions(_BATCH):
            rows = []
            for row in partition:
                cells = [cell_value(value) for value in row]
                if mask:
                    cells[id_index] = mask_id_number(cells[id_index])
                rows.append(cells)
            yield xlsx.rows(rows) if xlsx else _csv(rows)
    if xlsx:
        yield xlsx.finish()
