"""JSON logs, one object per line, each with the request id of the work in progress.

Secrets and personal data must never reach a log: the redacting filter masks anything
that looks like a bearer token, a `whsec_` secret, an 18-character resident ID number or
a phone number, whatever a caller passes in. Names cannot be recognised by their shape,
so exceptions that carry the data they were given (database errors with their bound
parameters and failing rows, validation errors with their input) are logged by type,
SQLSTATE, constraint and statement, never by message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import asyncpg
import pydantic_core
from fastapi.exceptions import ValidationException
from sqlalchemy.exc import EmulatedDBAPIException, StatementError

from shared.request_context import current_request_id

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

# Every line is redacted, so each pattern is first screened by something it cannot match
# without and that is cheaper to find: a regex scan costs ~5 µs a line, and each
# pattern's ~2-7 µs. Most lines are ASCII (the access log's always, unless a caller's
# request id is not): there the screens are plain substrings (C searches) of two folded
# copies of the line, each made in one C pass: `words`, lower-cased; `shape`, with every
# digit made `0`, every letter `a` and anything else (the line's start and end too) a
# space, so that `" " + "0" * 17` is seventeen digits after something that is neither.
# Another line is screened by regexes (`\d` as in the patterns: any script's digits).
# After a replacement the copies are made again, as each screen looks at the line the
# patterns before it left.
_SEVEN_DIGITS = re.compile(r"\d{7}")
_SHAPE = (
    bytes(
        ord("0") if chr(byte).isdigit() else ord("a") if chr(byte).isalpha() else ord(" ")
        for byte in range(128)
    )
    + b" " * 128
)


@dataclass(frozen=True, slots=True)
class _Sensitive:
    pattern: re.Pattern[str]
    replacement: str
    # Tried on an ASCII line only where one of these is found in its `words`...
    words: tuple[bytes, ...] = ()
    # ...or in its `shape`...
    shapes: tuple[bytes, ...] = ()
    # ...and on any other line where this is (None: always).
    screen: re.Pattern[str] | None = None


_SENSITIVE: list[_Sensitive] = [
    _Sensitive(
        re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [REDACTED]", words=(b"bearer",)
    ),
    _Sensitive(
        re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
        "[REDACTED-JWT]",
        words=(b"eyj",),
    ),
    _Sensitive(re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_[REDACTED]", words=(b"whsec_",)),
    # Chinese resident ID number (GB 11643): 17 digits and a digit or X.
    _Sensitive(
        re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
        "[REDACTED-ID]",
        shapes=(b" " + b"0" * 18 + b" ", b" " + b"0" * 17 + b"a "),
        screen=_SEVEN_DIGITS,
    ),
    # Mobile number: 1[3-9] and 9 digits, maybe grouped 3-4-4 and prefixed +86 / 0086.
    # Screened by its eleven digits, in each grouping, and what follows them.
    _Sensitive(
        re.compile(
            r"(?<![0-9A-Za-z])(?:(?:\+|00)86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])"
        ),
        "[REDACTED-PHONE]",
        shapes=(b"00000000000 ", b"000 00000000 ", b"0000000 0000 ", b"000 0000 0000 "),
        screen=re.compile(r"1[3-9]\d"),
    ),
    # Landline: a 3-4 digit area code starting with 0 (maybe in brackets), 7-8 digits
    # and an optional extension: 0551-62345678, (0551)62345678, 010 12345678-123.
    # Screened by the area code's last digit and the number, with what may part them.
    _Sensitive(
        re.compile(
            r"(?<![0-9A-Za-z(-])(?:\(0\d{2,3}\)|0\d{2,3})[- ]?\d{7,8}(?:-\d{1,6})?(?![0-9A-Za-z-])"
        ),
        "[REDACTED-PHONE]",
        shapes=(b"0000000000", b"0 0000000", b"0  0000000"),
        screen=_SEVEN_DIGITS,
    ),
]

# Exceptions whose message repeats the data they were given: SQLAlchemy's statement
# errors (bound parameters), driver errors (PostgreSQL's DETAIL "Failing row contains
# (...)", "invalid input for query argument $1: '...'"), validation errors (the input).
_DATA_BEARING: tuple[type[BaseException], ...] = (
    StatementError,
    EmulatedDBAPIException,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    pydantic_core.ValidationError,
    ValidationException,
)
_POSTGRES_NAMES = ("schema_name", "table_name", "column_name", "constraint_name", "data_type_name")


def redact(text: str) -> str:
    if not text.isascii():
        for item in _SENSITIVE:
            if item.screen is None or item.screen.search(text) is not None:
                text = item.pattern.sub(item.replacement, text)
        return text
    line = text.encode("ascii")
    words, shape = line.lower(), b" " + line.translate(_SHAPE) + b" "
    for item in _SENSITIVE:
        for mark in item.words:  # loops, not any(): no generator per line
            if mark in words:
                break
        else:
            for mark in item.shapes:
                if mark in shape:
                    break
            else:
                continue
        redacted = item.pattern.sub(item.replacement, text)
        if redacted != text:  # the replacements are ASCII too
            text, line = redacted, redacted.encode("ascii")
            words, shape = line.lower(), b" " + line.translate(_SHAPE) + b" "
    return text


def describe(exc: BaseException) -> str:
    """What a log may say of an exception: its message, unless that can carry data."""
    if not isinstance(exc, _DATA_BEARING):
        try:
            return str(exc)
        except Exception:
            return "<message unavailable>"
    facts = []
    if isinstance(exc, StatementError):
        # The statement holds placeholders ($1), never the values bound to them.
        facts.append(f"[SQL: {exc.statement}]")
    # SQLAlchemy's wrapper keeps the driver's error as `orig`.
    sqlstate = getattr(exc, "sqlstate", None) or getattr(
        getattr(exc, "orig", None), "sqlstate", None
    )
    if sqlstate:
        facts.append(f"sqlstate={sqlstate}")
    if isinstance(exc, asyncpg.PostgresError):
        facts.extend(
            f"{name}={getattr(exc, name)}" for name in _POSTGRES_NAMES if getattr(exc, name, None)
        )
    if isinstance(exc, pydantic_core.ValidationError | ValidationException):
        errors = exc.errors()
        facts.extend(
            f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')} [{e.get('type')}]"
            for e in errors
        )
    return "(message withheld: it may carry request data) " + " ".join(facts)


def format_exception(exc: BaseException) -> str:
    """The traceback, causes and contexts of `exc`, each exception told by `describe`."""
    lines: list[str] = []
    seen: set[int] = set()

    def chain(current: BaseException) -> None:
        seen.add(id(current))
        cause, context = current.__cause__, current.__context__
        if cause is not None and id(cause) not in seen:
            chain(cause)
            lines.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif context is not None and not current.__suppress_context__ and id(context) not in seen:
            chain(context)
            lines.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if current.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(current.__traceback__))
        kind = type(current)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        message = describe(current)
        lines.append(f"{name}: {message}\n" if message else f"{name}\n")
        if isinstance(current, BaseExceptionGroup):
            for number, inner in enumerate(current.exceptions, 1):
                lines.append(f"\n[{name} {number} of {len(current.exceptions)}]\n")
                if id(inner) not in seen:
                    chain(inner)

    chain(exc)
    return "".join(lines).rstrip("\n")


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class _SafeExceptions(logging.Formatter):
    """Exceptions, in a record's traceback or among its arguments, told by `describe`."""

    def formatException(self, ei: _ExcInfo) -> str:
        return format_exception(ei[1]) if ei[1] is not None else ""

    @staticmethod
    def safe_record(record: logging.LogRecord) -> logging.LogRecord:
        """The record, or a copy in which an exception given as the message or as a `%s`
        argument (`logger.error("job failed: %s", exc)`) is described instead."""
        args = record.args if isinstance(record.args, tuple) else ()
        if not isinstance(record.msg, BaseException) and not any(
            isinstance(arg, BaseException) for arg in args
        ):
            return record
        copy = logging.makeLogRecord(record.__dict__)
        if isinstance(record.msg, BaseException):
            copy.msg = describe(record.msg)
        if args:
            copy.args = tuple(describe(a) if isinstance(a, BaseException) else a for a in args)
        return copy


# json.dumps(entry, ensure_ascii=False, default=str), without building the encoder anew
# for every line.
_to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(_SafeExceptions):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        record = self.safe_record(record)
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = describe(value) if isinstance(value, BaseException) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(_to_json(entry))


class TextFormatter(_SafeExceptions):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(self.safe_record(record)))


def configure_logging(service: str, *, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log repeats what our request middleware logs, with less context.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
