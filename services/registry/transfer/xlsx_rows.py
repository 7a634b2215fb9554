"""The cell values of a worksheet, row by row, as openpyxl's read-only reader gives them.

`ReadOnlyWorksheet.iter_rows(values_only=True)` builds a dict per cell, parses its
coordinate with a regular expression and pads every row through generic code: about
a third of a millisecond per row of the register, most of an XLSX import. This reader
walks the same XML with the same parser (openpyxl's `iterparse`, defusedxml's when
installed: no entity expansion) and the workbook's own shared strings, date styles
and epoch, and gives the same values: numbers as int or float, date-styled numbers as
datetimes (an out-of-range serial as `#VALUE!`), booleans, error codes as text, shared
and inline strings; rows a sheet skips are yielded blank, a row numbered at or before
one already read is dropped, each row is padded or cut to `width` values.

The workbook is opened with openpyxl's own reader, step by step as `load_workbook`
does, less the document properties and theme an import never reads, and less the
worksheets: `load_workbook(read_only=True)` reads every sheet through defusedxml's
pure-Python parser just to find its declared size (the whole sheet when, as openpyxl's
and our own exports write it, the size is not given up front). Instead the first
sheet's prolog alone goes through defusedxml (`_refuse_dtd`), which refuses any entity
declaration or external reference as openpyxl would; a DTD can only come before the
root element, so the rows after it declare nothing to expand, and they are parsed
with the standard library's C parser, a tenth of the cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import XMLPullParser

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_VALUE = f"{{{SHEET_MAIN_NS}}}v"
_INLINE = f"{{{SHEET_MAIN_NS}}}is"
_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_DIGITS = "0123456789"
_CHUNK = 64 * 1024


class FirstSheet:
    """The first worksheet of a workbook, with what reading its cells needs."""

    def __init__(self, source: IO[bytes]) -> None:
        reader = ExcelReader(source, read_only=True, data_only=True)
        self._archive = reader.archive
        try:
            # The same steps and the same errors (ValueError) as `load_workbook`.
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            paths = [
                rel.target
                for _, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            ]
            if not paths:
                raise IndexError("no worksheet")
            self.path = paths[0]
            self.shared_strings = reader.shared_strings
            self.epoch = reader.wb.epoch
            self.date_styles = reader.wb._date_formats
            self.timedelta_styles = reader.wb._timedelta_formats
            _refuse_dtd(self.open())
        except BaseException:
            self.close()
            raise

    def open(self) -> IO[bytes]:
        part: IO[bytes] = self._archive.open(self.path)
        return part

    def close(self) -> None:
        self._archive.close()


def _refuse_dtd(part: IO[bytes]) -> None:
    """Parse the part up to its root element with defusedxml, which refuses entities."""
    with part:
        for _ in iterparse(part, events=("start",)):
            break


def _elements(source: IO[bytes]) -> Iterator[Any]:
    """Each element of the part as it ends, like `iterparse` (see the module's note)."""
    parser: Any = XMLPullParser(events=("end",))
    while chunk := source.read(_CHUNK):
        parser.feed(chunk)
        for event in parser.read_events():
            yield event[1]
    parser.close()
    for event in parser.read_events():
        yield event[1]


def _number(text: str) -> int | float:
    # openpyxl's rule: a decimal point or an exponent makes a float.
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise ValueError(f"{text} is not a valid row number") from None
        return int(number)


def _inline(element: Any) -> str:
    # The plain `<is><t>text</t></is>` of most writers; anything richer as openpyxl reads it.
    if len(element) == 1 and element[0].tag == _TEXT and element[0].text is not None:
        return str(element[0].text)
    return str(Text.from_tree(element).content)


def sheet_values(sheet: FirstSheet, width: int) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows from its first, each `width` values long."""
    shared = sheet.shared_strings
    epoch = sheet.epoch
    date_styles = sheet.date_styles
    timedelta_styles = sheet.timedelta_styles
    columns: dict[str, int] = {}
    blank = (None,) * width
    expected = 1  # the number of the next row to yield
    last = 0  # the number of the last row read, yielded or not
    with sheet.open() as source:
        for element in _elements(source):
            if element.tag != _ROW:
                continue
            r = element.get("r")
            number = last = _row_number(r) if r is not None else last + 1
            values: list[Any] = [None] * width
            column = 0
            for cell in element:
                coordinate = cell.get("r")
                if coordinate:
                    letters = coordinate.rstrip(_DIGITS)
                    found = columns.get(letters)
                    if found is None:
                        if letters == coordinate or not letters.isalpha():
                            # Not letters then digits: openpyxl's parse, and its error.
                            found = coordinate_to_tuple(coordinate)[1]
                        else:
                            found = columns[letters] = column_index_from_string(letters)
                    column = found
                else:
                    column += 1
                if column > width:
                    continue
                kind = cell.get("t", "n")
                value: Any
                if kind == "inlineStr":
                    child = cell.find(_INLINE)
                    value = None if child is None else _inline(child)
                else:
                    value = cell.findtext(_VALUE, None) or None
                    if value is not None:
                        if kind == "n":
                            value = _number(value)
                            style = cell.get("s")
                            style_id = int(style) if style else 0
                            if style_id in date_styles:
                                try:
                                    value = from_excel(
                                        value, epoch, timedelta=style_id in timedelta_styles
                                    )
                                except (OverflowError, ValueError):
                                    value = "#VALUE!"
                        elif kind == "s":
                            value = shared[int(value)]
                        elif kind == "b":
                            value = bool(int(value))
                        elif kind == "d":
                            value = from_ISO8601(value)
                values[column - 1] = value
            element.clear()
            if number < expected:  # openpyxl drops a row numbered out of order, once read
                continue
            while expected < number:
                expected += 1
                yield blank
            expected = number + 1
            yield tuple(values)
