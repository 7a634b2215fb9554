"""A refused production setting says which one and why, and never prints what it was given.

The operator sees the start-up failure on the terminal or in the service manager's log:
pydantic's default message would echo every input (`input_value={... 'jwt_secret': ...}`),
DATABASE_URL's password included.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.settings import PROJECT_ROOT

_SHORT_SECRET = "tiny-secret-Qx7"  # refused: shorter than 32 characters
_DB_PASSWORD = "pw-Zk31lambda"


def _start(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # Nothing of the test run's own environment: pydantic shortens a long input in the
    # middle, which could hide the secret by luck rather than by design.
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    environment |= {
        "ENV": "production",
        "DATABASE_URL": f"postgresql+asyncpg://sanshe:{_DB_PASSWORD}@127.0.0.1:1/sanshe",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        **env,
    }
    # Our own interpreter with arguments of this test: no untrusted input.
    return subprocess.run(
        [sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["-m", "uvicorn", "services.registry.main:app", "--port", "1"], id="registry"),
        pytest.param(["-m", "arq", "services.workflow.worker.WorkerSettings"], id="worker"),
        pytest.param(["-c", "from shared.settings import get_settings; get_settings()"], id="load"),
    ],
)
def test_a_refused_jwt_secret_is_named_but_never_printed(argv: list[str]) -> None:
    result = _start(argv, JWT_SECRET=_SHORT_SECRET)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "JWT_SECRET must be at least 32 characters in production" in output
    assert _SHORT_SECRET not in output
    assert _DB_PASSWORD not in output


def test_a_malformed_setting_is_named_but_its_value_never_printed() -> None:
    result = _start(
        ["-c", "from shared.settings import get_settings; get_settings()"],
        JWT_SECRET="x" * 40,
        DB_POOL_SIZE=f"size-{_SHORT_SECRET}",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "db_pool_size" in output
    assert _SHORT_SECRET not in output
    assert _DB_PASSWORD not in output
