"""A server error's log names the failure, never the personal data the request carried.

SQLAlchemy puts a statement's bound parameters in its error message, and PostgreSQL
repeats the row in its DETAIL ("Failing row contains (...)"): a 500 logged both, by our
handler and again by uvicorn, with the names and phone numbers of the request.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator

import asyncpg
import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

from shared.logging import JsonFormatter, TextFormatter, redact
from tests.factories import registered_org
from tests.support.system import System

_PHONE = "13912345678"
_CONTACT = "欧阳娜娜"


@pytest.fixture
def registry_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The registry as operators run it: uvicorn, JSON logs on stderr, on the test database."""
    system = System(env={"LOG_JSON": "true"}, log_dir=str(tmp_path_factory.mktemp("logs")))
    try:
        system.start("registry")
        yield system
    finally:
        system.stop_all()


async def test_a_database_failure_logs_neither_the_parameters_nor_the_failing_row(
    registry_process: System, plain_dsn: str, auth: Callable[..., dict[str, str]]
) -> None:
    body = registered_org(contact_name=_CONTACT, contact_phone=_PHONE)
    # A constraint the code does not know, refusing only this request's row: a real
    # database failure through the real endpoint, harmless to any other test.
    constraint = f"refuse_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(plain_dsn)
    await connection.execute(
        f"ALTER TABLE registry.organization ADD CONSTRAINT {constraint} "
        f"CHECK (contact_phone IS DISTINCT FROM '{_PHONE}') NOT VALID"
    )
    try:
        async with httpx.AsyncClient(base_url=registry_process.url("registry")) as client:
            response = await client.post(
                "/api/v1/organizations", json=body, headers=auth("civil_affairs")
            )
    finally:
        await connection.execute(f"ALTER TABLE registry.organization DROP CONSTRAINT {constraint}")
        await connection.close()
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "internal_error"
    registry_process.stop("registry")  # its log is complete once it has exited

    log = registry_process.processes["registry"].output()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    for value in (_PHONE, _CONTACT, body["name"], body["uscc"], body["legal_rep_name"]):
        assert value not in log
    # Logged all the same, and usefully: the kind of failure and the constraint, by name.
    failures = [e["exception"] for e in entries if "exception" in e]
    assert any("CheckViolationError" in f and constraint in f for f in failures), log


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-138-1234-5678",
        "0551-62345678",
        "(0551)62345678",
        "010-12345678-123",
        "021 87654321",
    ],
)
def test_phone_numbers_are_redacted_in_every_log_line(phone: str) -> None:
    record = logging.LogRecord(
        "sanshe.test", logging.INFO, __file__, 1, "call %s back", (phone,), None
    )
    record.contact = f"联系电话：{phone}。"
    line = JsonFormatter("registry").format(record)
    digits = "".join(c for c in phone if c.isdigit())
    assert digits[-7:] not in line.replace("-", "").replace(" ", "")
    assert json.loads(line)["message"] == "call [REDACTED-PHONE] back"


@pytest.mark.parametrize(
    "text",
    [
        "a7d3c2b1-0551-4623-9456-139123456780",  # a UUID
        "2026-12-04T18:06:05.123456+00:00",
        "amount_fen=3000000000 year=2026 street=340103001",
        "duration_ms=13812.5",
        "uscc=51340103MJ0000018A",
    ],
)
def test_what_only_looks_like_a_phone_number_is_kept(text: str) -> None:
    assert redact(text) == text


class _Contact(BaseModel):
    name: str = Field(max_length=2)


@pytest.mark.parametrize("formatter", [JsonFormatter("workflow"), TextFormatter()])
def test_an_exception_logged_as_an_argument_is_described_without_its_input(
    formatter: logging.Formatter,
) -> None:
    # What arq does with a failed job: `logger.exception("%s failed, %s", ref, exc)`.
    try:
        _Contact(name=_CONTACT)
    except ValidationError as exc:
        error = exc
    record = logging.LogRecord(
        "arq.worker", logging.ERROR, __file__, 1, "job %s failed: %s", ("j1", error), None
    )
    record.exc_info = (ValidationError, error, error.__traceback__)
    record.error = error
    line = formatter.format(record)
    assert _CONTACT not in line
    assert "name: String should have at most 2 characters [string_too_long]" in line
