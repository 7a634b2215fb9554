"""Read an uploaded table (CSV or XLSX) into a header and numbered rows.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row 2.
CSV may be UTF-8 (with or without BOM) or GB18030, which is what Excel on a Chinese
Windows saves.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook

from shared.errors import FieldError, Unprocessable

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[Any]]]


def _unreadable(message: str, code: str = "unreadable_file") -> Unprocessable:
    return Unprocessable(
        message, code=code, errors=[FieldError(field="file", message=message, code=code)]
    )


def read_table(data: bytes) -> Table:
    if data.startswith(OLE_MAGIC):
        raise _unreadable("Save the workbook as .xlsx (the old .xls format is not read)", "xls")
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    return _read_csv(data)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _unreadable("The file is neither UTF-8 nor GB18030 text") from None


def _blank(values: list[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _read_csv(data: bytes) -> Table:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _unreadable("The file is empty") from None
    except csv.Error as exc:
        raise _unreadable(f"Not a CSV file: {exc}") from None
    rows = []
    try:
        for number, values in enumerate(reader, start=2):
            if not _blank(list(values)):
                rows.append((number, list(values)))
    except csv.Error as exc:
        raise _unreadable(f"Malformed CSV near row {reader.line_num}: {exc}") from None
    return Table(header=[h.strip() for h in header], rows=rows)


def _read_xlsx(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _unreadable(f"Not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        first = next(lines, None)
        if first is None:
            raise _unreadable("The first sheet is empty")
        header = ["" if value is None else str(value).strip() for value in first]
        rows = []
        for number, values in enumerate(lines, start=2):
            cells = list(values)
            if not _blank(cells):
                rows.append((number, cells))
    finally:
        workbook.close()
    return Table(header=header, rows=rows)
