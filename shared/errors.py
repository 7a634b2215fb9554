"""RFC 9457 problem details (`application/problem+json`) for every error.

Hierarchy::

    ProblemError                 any error with a stable machine `code`
    ├── NotFound                 404
    ├── Conflict                 409
    ├── PreconditionFailed       412 (stale If-Match)
    ├── PreconditionRequired     428 (If-Match missing)
    ├── Unprocessable            422 (a business rule refused valid-looking input)
    ├── Unauthorized             401
    ├── Forbidden                403
    └── DatabaseBusy             503 (no database connection in time; Retry-After)

Each problem carries `type`, `title`, `status`, `detail`, `instance`, `code`,
`request_id` and, for field errors, `errors: [{field, message, code}]`.

`title`, `detail` and field messages are in the language `Accept-Language` asks for:
Chinese (zh-CN) by default, English on request (`shared.problem_messages`); the answer
says which in `Content-Language` and `Vary: Accept-Language`. In Chinese the English
texts stay in `detail_en` and `errors[].message_en`; `code` and `type` never change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from shared.problem_messages import (
    CHINESE,
    DEFAULT_LANGUAGE,
    field_message,
    negotiate,
    problem_texts,
    validation_message,
)
from shared.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://sanshe.example.cn/problems/"

logger = logging.getLogger("sanshe.errors")


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `body.uscc`")
    message: str
    code: str
    message_en: str | None = Field(
        default=None,
        description="The English message, when `message` is given in another language",
    )


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str = Field(description="Stable machine-readable error code")
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
    detail_en: str | None = Field(
        default=None,
        description="The English detail, with its specifics, when `detail` is given in"
        " another language (`Accept-Language`)",
    )


class ProblemError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.code = code or self.default_code
        self.errors = list(errors)
        self.headers = headers or {}


class NotFound(ProblemError):
    status = 404
    default_code = "not_found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    default_code = "conflict"
    title = "Conflict"


class PreconditionFailed(ProblemError):
    status = 412
    default_code = "precondition_failed"
    title = "Precondition failed"


class PreconditionRequired(ProblemError):
    status = 428
    default_code = "precondition_required"
    title = "Precondition required"


class Unprocessable(ProblemError):
    status = 422
    default_code = "unprocessable"
    title = "Unprocessable content"


class Unauthorized(ProblemError):
    status = 401
    default_code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    status = 403
    default_code = "forbidden"
    title = "Forbidden"


class PayloadTooLarge(ProblemError):
    status = 413
    default_code = "payload_too_large"
    title = "Payload too large"


# Seconds a client should wait before sending again a request the database could not
# serve now (a stall or a lock usually lasts seconds; a concurrent abort, less).
DATABASE_RETRY_AFTER = "2"


class DatabaseBusy(ProblemError):
    """No database connection within the pool timeout: all in use, or the server stalls."""

    status = 503
    default_code = "database_busy"
    title = "Service unavailable"

    def __init__(self) -> None:
        super().__init__(
            "No database connection was free or could be opened in time; nothing was changed."
            " Send the request again.",
            headers={"Retry-After": DATABASE_RETRY_AFTER},
        )


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    language = request_language(request)
    title, detail, detail_en = problem_texts(
        language, code=code, status=status, title=title, detail=detail
    )
    problem = Problem(
        type=PROBLEM_TYPE_BASE + code,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        code=code,
        request_id=current_request_id(),
        errors=[_in_language(error, language) for error in errors],
        detail_en=detail_en,
    )
    body = problem.model_dump(mode="json")
    # The English texts appear only beside a translation: English answers are as before.
    if body["detail_en"] is None:
        del body["detail_en"]
    for error in body["errors"]:
        if error["message_en"] is None:
            del error["message_en"]
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={
            **(headers or {}),
            "Content-Language": language,
            "Vary": ", ".join(v for v in ((headers or {}).get("Vary"), "Accept-Language") if v),
        },
    )


def request_language(request: Request | None) -> str:
    """The language of this request's problems (`Accept-Language`; zh-CN without it)."""
    if request is None:
        return DEFAULT_LANGUAGE
    return negotiate(request.headers.get("accept-language"))


def _in_language(error: FieldError, language: str) -> FieldError:
    """A rule's field error in `language` (validation errors come translated already)."""
    if language != CHINESE or error.message_en is not None:
        return error
    message = field_message(error.code)
    if message is None or message == error.message:
        return error
    return error.model_copy(update={"message": message, "message_en": error.message})


_STATUS_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition_failed", "Precondition failed"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Validation failed"),
    428: ("precondition_required", "Precondition required"),
    429: ("too_many_requests", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    503: ("service_unavailable", "Service unavailable"),
}


def _field_errors(exc: RequestValidationError, language: str) -> list[FieldError]:
    result = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        # Never echo the offending input: it may be an ID number or a secret.
        message = str(error.get("msg", "invalid"))
        code = str(error.get("type", "invalid"))
        translated = validation_message(code, error.get("ctx")) if language == CHINESE else None
        result.append(
            FieldError(
                field=".".join(loc),
                message=translated or message,
                code=code,
                message_en=message if translated else None,
            )
        )
    return result


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc, request_language(request))
    malformed = any(e.code == "json_invalid" for e in errors)
    return problem_response(
        request,
        status=422,
        code="malformed_json" if malformed else "validation_error",
        title="Request body is not valid JSON" if malformed else "Validation failed",
        detail=f"{len(errors)} field(s) failed validation",
        errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _STATUS_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    code = getattr(exc, "code", code)  # ours may carry a finer code (BodyTooLarge)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


def _unsupported_character(request: Request) -> JSONResponse:
    return problem_response(
        request,
        status=422,
        code="unsupported_character",
        title="Validation failed",
        detail="The request contains a character that cannot be stored (such as NUL)",
    )


def _carries_a_lone_surrogate(exc: BaseException) -> bool:
    """Whether a lone surrogate (JSON's "\\ud800") failed to encode anywhere in the chain.

    JSON can escape half of a UTF-16 pair and Python keeps it in a `str`, but no UTF-8
    text can hold it: the driver, or any other encoder, refuses it. Only input carries
    one (our code never makes one), so it is the request's fault, not the server's.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UnicodeEncodeError) and "surrogate" in current.reason:
            return True
        current = current.__cause__ or current.__context__
    return False


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if _carries_a_lone_surrogate(exc):
        # The request's transaction is rolled back as for any error: nothing changed.
        return _unsupported_character(request)
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        request,
        status=500,
        code="internal_error",
        title="Internal server error",
        detail="The server failed to complete the request; it changed nothing.",
    )


# SQLSTATEs that only input can cause: text PostgreSQL cannot store (a NUL character,
# which JSON and query strings can carry but `text` cannot hold). The request's
# transaction is rolled back as for any error, so nothing changes.
_UNSTORABLE_TEXT = {"22021", "22P05"}


# SQLSTATEs of a transaction PostgreSQL aborted because it met a concurrent one (a
# deadlock, a serialization failure): nothing was changed and the same request, sent
# again, normally succeeds. 503 with Retry-After says exactly that; a 500 would not.
_CONCURRENCY_ABORT = {"40P01", "40001"}

# SQLSTATEs of a statement that waited too long: for a lock another transaction holds
# (lock_timeout) or in all (statement_timeout; PostgreSQL reports both as cancelled).
# The database is stalled or overloaded, not the request wrong: 503, send it again.
_TIMED_OUT = {"55P03", "57014"}


def _sqlstate(exc: Exception) -> str | None:
    """The SQLSTATE of a driver error, raw (asyncpg) or wrapped by SQLAlchemy."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)


async def _on_database_busy(request: Request, exc: Exception) -> JSONResponse:
    """No connection in time: SQLAlchemy's pool timeout, or a connection not opened."""
    logger.warning("no database connection in time", extra={"error": type(exc).__name__})
    return await _on_problem(request, DatabaseBusy())


def _send_again(request: Request, *, code: str, detail: str, retry_after: str) -> JSONResponse:
    """503 for a request the database could not serve now and that changed nothing."""
    return problem_response(
        request,
        status=503,
        code=code,
        title="Service unavailable",
        detail=detail,
        headers={"Retry-After": retry_after},
    )


async def _on_database(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError | asyncpg.PostgresError)
    sqlstate = _sqlstate(exc)
    if sqlstate in _TIMED_OUT:
        logger.warning("database statement timed out", extra={"sqlstate": sqlstate})
        return _send_again(
            request,
            code="database_timeout",
            detail="The database did not answer in time; nothing was changed. Send it again.",
            retry_after=DATABASE_RETRY_AFTER,
        )
    if sqlstate in _CONCURRENCY_ABORT:
        logger.warning("transaction aborted by a concurrent one", extra={"sqlstate": sqlstate})
        return _send_again(
            request,
            code="concurrent_update",
            detail="The request met a concurrent one and changed nothing; send it again.",
            retry_after="1",
        )
    if sqlstate not in _UNSTORABLE_TEXT:
        return await _on_unexpected(request, exc)
    return _unsupported_character(request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(DBAPIError, _on_database)
    app.add_exception_handler(asyncpg.PostgresError, _on_database)  # shared.reads
    app.add_exception_handler(PoolTimeout, _on_database_busy)
    # asyncpg's connect timeout (a server that accepts but does not answer) surfaces as
    # the builtin TimeoutError, unwrapped by SQLAlchemy.
    app.add_exception_handler(TimeoutError, _on_database_busy)
    app.add_exception_handler(Exception, _on_unexpected)


def status_title(status: int) -> str:
    return _STATUS_CODES.get(status, ("", "Error"))[1]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for an endpoint's own errors (see shared.openapi)."""
    return {status: {"description": status_title(status)} for status in statuses}
