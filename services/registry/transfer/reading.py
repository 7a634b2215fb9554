"""Read an uploaded table (CSV or XLSX) into a header and numbered rows, within limits.

Row numbers are those a spreadsheet shows: the header is row 1, the first data row 2.
CSV may be UTF-8 (with or without BOM) or GB18030, which is what Excel on a Chinese
Windows saves.

A small file can describe an enormous table: an XLSX is a ZIP, and a few KiB of it
unpack to a million rows, or to one row of a million cells. So the file is read as a
stream and refused as soon as it passes a limit, whatever it declares: the rows
(blank ones included), the unpacked size of the XLSX, the bytes of one worksheet row,
and the columns. Reading is CPU work: callers run `read_table`, and read the rows, off
the event loop.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import IO, TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

from services.registry.config import get_registry_settings
from services.registry.transfer.columns import EXPORTED
from shared.errors import FieldError, PayloadTooLarge, ProblemError, Unprocessable

if TYPE_CHECKING:
    from services.registry.transfer.xlsx_rows import FirstSheet

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
# A header wider than this (the register has 28 columns) is not one of its files.
MAX_COLUMNS = 100
# One worksheet row of the register is a few KiB of XML; a hostile one can be megabytes
# of empty cells, which the XML parser holds whole before the row is seen.
MAX_ROW_BYTES = 1024 * 1024
_ROW_START = re.compile(rb"<row[\s/>]")
_ROW_END = b"</row>"
_CHUNK = 64 * 1024
# What a damaged, encrypted or unsupported ZIP raises (encryption: RuntimeError).
_BROKEN_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,
    EOFError,
    RuntimeError,
    ValueError,
)


@dataclass(slots=True)
class Table:
    """A file's header, read at once, and its numbered rows, read as they are asked for.

    Rows come lazily so that an import holds one batch of them at a time, never the
    file: iterating may still raise the file's problems (a malformed line, too many
    rows). `close` releases the file's reader; `rows` is then spent.
    """

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    close: Callable[[], object] = lambda: None

    def batches(self, size: int) -> Iterator[list[tuple[int, list[Any]]]]:
        """The rows, `size` at a time, read with the collector paused (see below)."""
        while True:
            with _collector_paused():
                batch = list(islice(self.rows, size))
            if not batch:
                return
            yield batch


@dataclass(frozen=True, slots=True)
class Limits:
    max_rows: int
    max_unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        settings = get_registry_settings()
        return cls(
            max_rows=settings.registry_import_max_rows,
            max_unpacked_bytes=settings.registry_import_max_unpacked_bytes,
        )


def _file_problem(kind: type[ProblemError], message: str, code: str) -> ProblemError:
    return kind(message, code=code, errors=[FieldError(field="file", message=message, code=code)])


def _unreadable(message: str, code: str = "unreadable_file") -> ProblemError:
    return _file_problem(Unprocessable, message, code)


def _too_large(message: str) -> ProblemError:
    return _file_problem(PayloadTooLarge, message, "import_too_large")


def read_table(source: IO[bytes], limits: Limits) -> Table:
    """The table of a seekable upload; a problem (413, 422) if it is not one we read.

    Problems of the header and the whole file (its encoding, its archive) are raised
    here; those of a row, while the rows are read. The caller closes the table.
    """
    magic = source.read(len(XLSX_MAGIC))
    source.seek(0)
    if magic == OLE_MAGIC:
        raise _unreadable("Save the workbook as .xlsx (the old .xls format is not read)", "xls")
    with _collector_paused():
        if magic == XLSX_MAGIC:
            return _read_xlsx(source, limits)
        return _read_csv(source, limits)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is read.

    Reading allocates millions of objects (parsed elements, cells) and keeps a row of
    them per line: every collection walks all that is kept, so the collector took two
    thirds of the time of a 50,000-row sheet, and more the larger the file. What the
    reading frees, it frees by reference counting; cycles wait until it is done. The
    collector is switched back on only if it was on, so that two imports at once leave
    it as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _blank(values: Sequence[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _header(values: Sequence[Any]) -> list[str]:
    if not _blank(values[MAX_COLUMNS:]):
        message = f"The file has more than {MAX_COLUMNS} columns; the register has {len(EXPORTED)}"
        raise _file_problem(Unprocessable, message, "import_too_many_columns")
    return ["" if value is None else str(value).strip() for value in values[:MAX_COLUMNS]]


def _too_many_rows(max_rows: int) -> ProblemError:
    message = (
        f"The file has more than {max_rows:,} rows (blank ones included); "
        f"import at most {max_rows:,} at a time"
    )
    return _file_problem(PayloadTooLarge, message, "import_too_many_rows")


def _numbered(lines: Iterable[Sequence[Any]], max_rows: int) -> Iterator[tuple[int, list[Any]]]:
    """The data rows that are not blank, numbered; stops at the first row past the limit."""
    for number, values in enumerate(lines, start=2):
        if number - 1 > max_rows:
            raise _too_many_rows(max_rows)
        cells = list(values[:MAX_COLUMNS])
        # A worksheet row comes padded to the widest one read: the empty cells at its
        # end read as missing ones do, and a register of them would cost a list of a
        # hundred entries per row.
        while cells and cells[-1] is None:
            cells.pop()
        if not _blank(cells):
            yield number, cells


def _read_csv(source: IO[bytes], limits: Limits) -> Table:
    encoding = _encoding(source)
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        text.detach()
        raise _unreadable("The file is empty") from None
    except csv.Error as exc:
        text.detach()
        raise _unreadable(f"Not a CSV file: {exc}") from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from _numbered(reader, limits.max_rows)
        except csv.Error as exc:
            raise _unreadable(f"Malformed CSV near row {reader.line_num}: {exc}") from None

    try:
        names = _header(header)
    except BaseException:
        text.detach()
        raise
    # The upload is not the wrapper's to close.
    return Table(header=names, rows=rows(), close=text.detach)


def _encoding(source: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else GB18030 if it does.

    Decided by a pass over the bytes before any row is read: the rows are then read
    and written batch by batch, and a bad byte near the end must not change the
    encoding of rows already imported.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        source.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := source.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            source.seek(0)
        return encoding
    raise _unreadable("The file is neither UTF-8 nor GB18030 text")


def _check_archive(source: IO[bytes], limits: Limits) -> None:
    """Refuse, before parsing, a ZIP that unpacks past the limit or holds a part of too many
    rows or an oversized row: a scan of the bytes, far cheaper than the XML parser.

    The sizes a ZIP declares are binding: `zipfile` stops each entry at its declared
    size (and fails its checksum if more was there).
    """
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
            unpacked = sum(entry.file_size for entry in entries)
            if unpacked > limits.max_unpacked_bytes:
                raise _too_large(
                    f"The workbook unpacks to {unpacked:,} bytes, more than the "
                    f"{limits.max_unpacked_bytes:,} an import reads"
                )
            for entry in entries:
                with archive.open(entry) as part:
                    _check_rows(part, limits)
    except _BROKEN_ZIP as exc:
        raise _unreadable(f"Not a readable .xlsx workbook ({type(exc).__name__})") from None
    finally:
        source.seek(0)


def _check_rows(part: IO[bytes], limits: Limits) -> None:
    """Count the part's `<row>` elements (header included), and measure each row from its
    start to the next row mark; a part without rows (styles, shared strings) passes.

    The sheet's reader still counts the rows it yields (rows a sheet skips with `r`
    are yielded blank): this scan refuses a file of too many rows at once.
    """
    rows = 0
    since_mark: int | None = None
    tail = b""
    while chunk := part.read(_CHUNK):
        # The end of the previous chunk is scanned again, for a mark across the two.
        window = tail + chunk
        last = window.rfind(_ROW_END)
        for match in _ROW_START.finditer(window):
            if match.end() > len(tail):  # else counted with the previous chunk
                rows += 1
            last = max(last, match.start())
        if rows > limits.max_rows + 1:
            raise _too_many_rows(limits.max_rows)
        if last >= 0:
            since_mark = len(window) - last
        elif since_mark is not None:
            since_mark += len(chunk)
        if since_mark is not None and since_mark > MAX_ROW_BYTES:
            raise _too_large(f"A row of the workbook is more than {MAX_ROW_BYTES:,} bytes of XML")
        tail = window[-(len(_ROW_END) - 1) :]


def _read_xlsx(source: IO[bytes], limits: Limits) -> Table:
    # Imported here, not at the top: the XLSX reader pulls in openpyxl, ~10 MB in every
    # registry process, and most never read a workbook (bench/idle.py: RSS idle < 120 MB).
    from services.registry.transfer.xlsx_rows import FirstSheet

    _check_archive(source, limits)
    try:
        sheet = FirstSheet(source)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError, IndexError) as exc:
        raise _unreadable(f"Not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        return _first_sheet(sheet, limits)
    except BaseException:
        sheet.close()
        raise


def _first_sheet(sheet: FirstSheet, limits: Limits) -> Table:
    # One column past the limit, to tell a header that goes on. The extent a sheet
    # declares (<dimension ref="A1:XFD1048576"/>) is ignored: only what is there counts.
    from services.registry.transfer.xlsx_rows import sheet_values

    lines = sheet_values(sheet, MAX_COLUMNS + 1)
    try:
        first = next(lines, None)
    except (IndexError, ParseError) as exc:
        raise _unreadable(f"Not a readable .xlsx workbook ({type(exc).__name__})") from None
    if first is None:
        raise _unreadable("The first sheet is empty")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from _numbered(lines, limits.max_rows)
        except (IndexError, ParseError) as exc:
            raise _unreadable(f"Not a readable .xlsx workbook ({type(exc).__name__})") from None

    return Table(header=_header(first), rows=rows(), close=sheet.close)
