"""Settings refuse unsafe production configuration."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from pydantic import ValidationError

from devtools.settings import DevSettings
from services.projects.config import ProjectsSettings
from services.registry.config import RegistrySettings
from services.workflow.config import WorkflowSettings
from shared.auth import decode_token
from shared.settings import DEVELOPMENT_JWT_SECRET, PROJECT_ROOT, Settings


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(env="production", jwt_secret=DEVELOPMENT_JWT_SECRET)
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", jwt_secret="short")
    assert Settings(env="production", jwt_secret="x" * 40).env == "production"


def test_rs256_requires_a_jwks_url_in_production() -> None:
    with pytest.raises(ValidationError, match="JWT_JWKS_URL"):
        Settings(env="production", jwt_algorithm="RS256")


def test_token_cli_prints_the_token_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.tokens", "role=street_office", "street_code=340103001"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = result.stdout.strip()
    assert result.stdout.count("\n") == 1
    principal = decode_token(token)
    assert (principal.role, principal.street_code) == ("street_office", "340103001")


def test_token_cli_refuses_unknown_roles_and_arguments() -> None:
    for args in (["role=king"], ["role=auditor", "password=x"]):
        result = subprocess.run(
            [sys.executable, "-m", "shared.tokens", *args], capture_output=True, text=True
        )
        assert result.returncode == 2
        assert result.stdout == ""


def test_env_example_lists_every_setting() -> None:
    listed = {
        match.group(1).lower()
        for match in re.finditer(
            r"^#?\s*([A-Z][A-Z0-9_]*)=", (PROJECT_ROOT / ".env.example").read_text(), re.M
        )
    }
    # The shared settings, each service's own (config.py) and make run's (devtools).
    for settings_class in (
        Settings,
        RegistrySettings,
        ProjectsSettings,
        WorkflowSettings,
        DevSettings,
    ):
        assert set(settings_class.model_fields) - listed == set(), settings_class.__name__
