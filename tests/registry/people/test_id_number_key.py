"""The key of the ID-number digests (REGISTRY_ID_NUMBER_KEY), guarded like the JWT secrets:
production refuses the public development key and short keys, naming the setting and never
printing the value; a key from a file (a Docker secret) is the one the digests are made
with, end to end over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from devtools.processes import ManagedProcess, free_port, wait_ready
from services.registry.config import DEVELOPMENT_ID_NUMBER_KEY, RegistrySettings
from services.registry.people.models import StaffMember
from shared.auth import Role, mint_token
from shared.db import database
from shared.settings import PROJECT_ROOT, Settings
from tests.factories import unique_street
from tests.registry.people.helpers import PEOPLE, certified, id_number

PRIVATE_KEY = "5f0c3a9e" * 8  # 64 hex characters, as `openssl rand -hex 32` writes them
JWT_SECRET = "id-number-key-test-jwt-secret-" + "j" * 32
READY_DEADLINE_SECONDS = 90.0
REFUSAL_DEADLINE_SECONDS = 120.0


def _digest(key: str, number: str) -> str:
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def _key_file(directory: Path, key: str) -> Path:
    path = directory / "registry_id_number_key"
    path.write_text(f"{key}\n", encoding="utf-8")  # as `openssl rand -hex 32 > file` does
    return path


# -- the settings -------------------------------------------------------------------------


def test_production_refuses_the_development_key_without_printing_it() -> None:
    with pytest.raises(ValidationError, match="REGISTRY_ID_NUMBER_KEY must be set") as refused:
        RegistrySettings(env="production")
    assert DEVELOPMENT_ID_NUMBER_KEY not in str(refused.value)
    with pytest.raises(ValidationError, match="REGISTRY_ID_NUMBER_KEY must be set"):
        RegistrySettings(env="production", registry_id_number_key=DEVELOPMENT_ID_NUMBER_KEY)


def test_production_refuses_a_key_under_32_characters(tmp_path: Path) -> None:
    short = "k" * 31
    with pytest.raises(ValidationError, match="at least 32 characters") as refused:
        RegistrySettings(env="production", registry_id_number_key=short)
    assert short not in str(refused.value)
    # From a file, the file is named; a trailing newline does not count as a character.
    with pytest.raises(ValidationError, match="REGISTRY_ID_NUMBER_KEY_FILE must be at least"):
        RegistrySettings(env="production", registry_id_number_key_file=_key_file(tmp_path, short))
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="REGISTRY_ID_NUMBER_KEY_FILE must be at least"):
        RegistrySettings(env="production", registry_id_number_key_file=empty)


def test_production_accepts_a_key_from_a_file_which_wins_over_the_variable(
    tmp_path: Path,
) -> None:
    settings = RegistrySettings(
        env="production",
        registry_id_number_key="x" * 40,
        registry_id_number_key_file=_key_file(tmp_path, PRIVATE_KEY),
    )
    assert settings.registry_id_number_key == PRIVATE_KEY
    assert PRIVATE_KEY not in repr(settings)
    assert RegistrySettings(env="production", registry_id_number_key="y" * 32).env == "production"


def test_an_unreadable_key_file_is_named() -> None:
    with pytest.raises(ValidationError, match="REGISTRY_ID_NUMBER_KEY_FILE cannot be read"):
        RegistrySettings(registry_id_number_key_file=Path("/nonexistent/registry_id_number_key"))


def test_development_and_tests_keep_the_public_key() -> None:
    assert RegistrySettings(env="development", _env_file=None).registry_id_number_key == (
        DEVELOPMENT_ID_NUMBER_KEY
    )
    assert RegistrySettings(env="test", _env_file=None).registry_id_number_key == (
        DEVELOPMENT_ID_NUMBER_KEY
    )


# -- the registry process -----------------------------------------------------------------


def _production_environment(**overrides: str) -> dict[str, str]:
    """What a production registry container gets, pointed at the test's servers."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(PROJECT_ROOT),
        "ENV": "production",
        "JWT_SECRET": JWT_SECRET,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "ARQ_QUEUE_NAME": os.environ.get("ARQ_QUEUE_NAME", "sanshe:queue"),
        "LOG_JSON": "true",
        **overrides,
    }


@pytest.mark.slow
def test_a_production_registry_with_the_development_key_does_not_start(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.registry.main:app",
            "--port",
            str(free_port()),
        ],
        cwd=tmp_path,  # no .env of the checkout
        env=_production_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=REFUSAL_DEADLINE_SECONDS,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "REGISTRY_ID_NUMBER_KEY must be set to a private value" in output
    assert DEVELOPMENT_ID_NUMBER_KEY not in output
    assert "Uvicorn running" not in output


@pytest.mark.slow
async def test_a_production_registry_digests_with_the_key_of_its_file(tmp_path: Path) -> None:
    """The bureau records a certified worker on a production registry whose key is a
    Docker-secret file: the stored digest is made with that key (not the public one),
    the person is found by their number, and hostile numbers are refused unechoed."""
    port = free_port()
    key_file = _key_file(tmp_path, PRIVATE_KEY)
    registry = ManagedProcess(
        "registry",
        ["-m", "uvicorn", "services.registry.main:app", "--port", str(port)],
        _production_environment(REGISTRY_ID_NUMBER_KEY_FILE=str(key_file)),
        tmp_path,
        inherit_env=False,
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(
            {"registry": f"{base_url}/readyz"}, {"registry": registry}, READY_DEADLINE_SECONDS
        )
        token = mint_token(
            sub="bureau-clerk",
            role=Role.civil_affairs,
            settings=Settings(jwt_secret=JWT_SECRET),
        )
        bureau = {"Authorization": f"Bearer {token}"}
        street = unique_street()
        number = id_number()
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            recorded = await client.post(
                f"{PEOPLE}/staff",
                json=certified(id_number=number, street_code=street),
                headers=bureau,
            )
            assert recorded.status_code == 201, recorded.text
            assert number not in recorded.text
            found = await client.post(
                f"{PEOPLE}/lookup", json={"id_number": number}, headers=bureau
            )
            assert found.status_code == 200, found.text
            assert [staff["id"] for staff in found.json()["staff"]] == [recorded.json()["id"]]

            # Hostile numbers: refused as the problem says, never echoed, nothing recorded.
            # (json.dumps escapes the lone surrogate as `\\ud800`, as a client would send it.)
            for hostile in ("99999999999999999X", "11010599991231001X", "\ud800" * 18):
                body = certified(id_number=hostile, street_code=street)
                refused = await client.post(
                    f"{PEOPLE}/staff",
                    content=json.dumps(body).encode(),
                    headers={**bureau, "Content-Type": "application/json"},
                )
                assert refused.status_code == 422, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert hostile not in refused.text
            listed = await client.get(
                f"{PEOPLE}/staff", params={"street_code": street}, headers=bureau
            )
            assert listed.json()["total"] == 1
    finally:
        registry.stop()

    async with database.transaction() as session:
        stored = await session.scalar(
            select(StaffMember.id_number_digest).where(
                StaffMember.id == uuid.UUID(recorded.json()["id"])
            )
        )
    assert stored == _digest(PRIVATE_KEY, number)
    assert stored != _digest(DEVELOPMENT_ID_NUMBER_KEY, number)
