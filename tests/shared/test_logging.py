"""Logs are JSON with the request id, and never carry tokens, secrets or ID numbers."""

from __future__ import annotations

import json
import logging
import random

import pytest

from shared.auth import Role, mint_token
from shared.logging import JsonFormatter, redact
from shared.request_context import set_request_id


def test_json_lines_with_request_id_and_redaction() -> None:
    set_request_id("req-log-1")
    token = mint_token(sub="x", role=Role.auditor)
    record = logging.LogRecord(
        "sanshe.test",
        logging.INFO,
        __file__,
        1,
        "calling with Bearer %s for 11010519491231002X using whsec_c2VjcmV0",
        (token,),
        None,
    )
    record.extra_field = "kept"
    line = JsonFormatter("registry").format(record)
    entry = json.loads(line)
    assert entry["request_id"] == "req-log-1"
    assert entry["service"] == "registry"
    assert entry["extra_field"] == "kept"
    assert token not in line
    assert "11010519491231002X" not in line
    assert "c2VjcmV0" not in line
    assert "[REDACTED-ID]" in entry["message"]


# An ASCII line is screened by substrings of its folded form, any other line by regexes
# (shared.logging._SENSITIVE): both must give the same line. A trailing " 中" makes a
# line non-ASCII without touching what the patterns see (no lookaround matches it).
_LOOK_ALIKES = [
    "call 13812345678 back",
    "call +86 138 1234 5678 back",
    "call 0086-138-1234-5678 back",
    "call 138-1234 5678 back",
    "call (0551)62345678 or 010 12345678-123",
    "id 11010519491231002X and 110105194912310021",
    "Authorization: BEARER\tabc.def-ghi and bearer   xyz",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln secret whsec_c2VjcmV0+/=",
    "a7d3c2b1-0551-4623-9456-139123456780 2026-12-04T18:06:05.123456+00:00",
    "amount_fen=3000000000 duration_ms=13812.5 uscc=51340103MJ0000018A",
    '{"request_id": "bearer eyJabcdef.x.y13812345678", "status": 200}',
    # A number the JWT after it hid: its replacement starts with `[`, which ends the number.
    "call 13812345678eyJabcdef.x.y or 11010519491231002XeyJabcdef.x.y",
]


@pytest.mark.parametrize("text", _LOOK_ALIKES)
def test_ascii_lines_are_redacted_as_any_other(text: str) -> None:
    assert redact(text + " 中") == redact(text) + " 中"


def test_ascii_lines_are_redacted_as_any_other_at_random() -> None:
    pieces = ["0", "1", "3", "8", "13", "138", "0551", "-", " ", "(", ")", "+86", "0086"]
    pieces += ["X", "a", "Bearer ", "eyJ", "eyJhbGciOi", ".", "whsec_", "=", "_", "[", ":"]
    rng = random.Random(15)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert redact(text + " 中") == redact(text) + " 中", text


def test_an_ascii_line_is_redacted() -> None:
    assert redact("call 138 1234 5678 or 0551-62345678, id 11010519491231002X") == (
        "call [REDACTED-PHONE] or [REDACTED-PHONE], id [REDACTED-ID]"
    )
