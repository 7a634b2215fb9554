"""Schemathesis against each service's own OpenAPI, with valid tokens: no 5xx, and every
response matches its declared schema. Bounded here; `make fuzz` runs the long version."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.system import System

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.parametrize("service", ["registry", "projects", "workflow"])
def test_openapi_fuzzing_finds_no_server_errors(
    system: System, service: str, auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    token = auth("civil_affairs")["Authorization"]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{system.url(service)}/openapi.json",
            "--header",
            f"Authorization: {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "20261123",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report-dir",
            str(tmp_path),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
