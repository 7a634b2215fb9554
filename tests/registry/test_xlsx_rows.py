"""The import's worksheet reader gives exactly what openpyxl's read-only reader gives."""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from openpyxl import load_workbook

from services.registry.transfer.xlsx_rows import FirstSheet, sheet_values
from services.registry.transfer.xlsx_stream import XlsxStream

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _openpyxl(data: bytes, width: int) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    try:
        return list(sheet.iter_rows(values_only=True, max_col=width))
    finally:
        workbook.close()


def _ours(data: bytes, width: int) -> list[tuple[Any, ...]]:
    sheet = FirstSheet(io.BytesIO(data))
    try:
        return list(sheet_values(sheet, width))
    finally:
        sheet.close()


def _typed(rows: list[tuple[Any, ...]]) -> list[list[tuple[type, Any]]]:
    return [[(type(value), value) for value in row] for row in rows]


def _saved_by_openpyxl() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"], sheet["C1"], sheet["D1"] = "name", 3.5, True
    sheet["E1"] = datetime.date(2020, 5, 1)
    sheet["F1"] = datetime.datetime(2021, 1, 2, 3, 4, 5)
    sheet["B3"], sheet["Z3"], sheet["A7"] = "x", 12345678901234567, "=1+2"
    sheet["B7"], sheet["C7"] = datetime.time(3, 4), datetime.timedelta(hours=30)
    sheet["CZ9"], sheet["A10"], sheet["B10"] = "far", "  spaced ", 1e20
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _streamed(sheet_xml: str | None = None) -> bytes:
    stream = XlsxStream()
    data = b"".join(
        [
            stream.start(["a", "b", "c"]),
            stream.rows([["x", 1, None], [None, None, None], ["'=x", 2.5, True], ["多字", "<&>"]]),
            stream.finish(),
        ]
    )
    if sheet_xml is None:
        return data
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for entry in source.infolist():
            sheet = entry.filename == "xl/worksheets/sheet1.xml"
            archive.writestr(entry.filename, sheet_xml if sheet else source.read(entry))
    return out.getvalue()


_ODD_ROWS = (
    f'<worksheet xmlns="{_MAIN}"><sheetData>'
    '<row r="3"><c r="B3"><v>1</v></c></row>'
    '<row r="2"><c r="A2"><v>2</v></c></row>'  # out of order: dropped
    '<row><c><v>3</v></c><c t="b"><v>0</v></c><c t="e"><v>#N/A</v></c>'
    '<c t="str"><v>s</v></c><c t="d"><v>2020-01-02T03:04:05</v></c></row>'
    '<row r="5"><c r="c5" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>'
    '<c r="D5" t="inlineStr"><is><t></t></is></c><c r="E5" t="inlineStr"/>'
    '<c r="F5"><v></v></c></row>'
    '<row r="7.0"><c r="A7"><v>1E3</v></c></row><row/></sheetData></worksheet>'
)


@pytest.mark.parametrize("width", [3, 8, 101])
@pytest.mark.parametrize(
    "data",
    [_saved_by_openpyxl(), _streamed(), _streamed(_ODD_ROWS)],
    ids=["openpyxl", "export-stream", "odd-rows"],
)
def test_values_are_openpyxls(data: bytes, width: int) -> None:
    expected = _openpyxl(data, width)

    assert expected  # something to compare
    assert _typed(_ours(data, width)) == _typed(expected)


@pytest.mark.parametrize(
    "row",
    [
        '<row r="1"><c r="1A"><v>1</v></c></row>',
        '<row r="1.5"><c><v>1</v></c></row>',
        '<row r="1"><c r="AB"><v>1</v></c></row>',
        '<row r="2"><c><v>1</v></c></row><row r="1"><c t="s"><v>0</v></c></row>',
    ],
)
def test_a_malformed_row_fails_as_in_openpyxl(row: str) -> None:
    data = _streamed(f'<worksheet xmlns="{_MAIN}"><sheetData>{row}</sheetData></worksheet>')
    with pytest.raises((ValueError, IndexError)) as expected:
        _openpyxl(data, 5)

    with pytest.raises(expected.type):
        _ours(data, 5)
