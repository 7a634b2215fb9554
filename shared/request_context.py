"""The request id of the work in progress, carried across awaits by a context variable.

Set by the HTTP middleware from `X-Request-ID` (or freshly generated), by a job from its
payload, and propagated by the service clients, so one id follows a piece of work
through every service and log line.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> str:
    """Bind a request id (a fresh one when none or a malformed one is given)."""
    if not value or len(value) > 128 or not value.isprintable():
        value = uuid.uuid4().hex
    _request_id.set(value)
    return value
