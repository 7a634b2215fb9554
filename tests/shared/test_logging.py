"""Logs are JSON with the request id, and never carry tokens, secrets or ID numbers."""

from __future__ import annotations

import json
import logging

from shared.auth import Role, mint_token
from shared.logging import JsonFormatter
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
