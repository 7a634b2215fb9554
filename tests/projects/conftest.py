"""Projects test harness: the stand-in registry by default, and a driver of the lifecycle.

Every projects test runs against the stand-in registry of tests/support/registry.py
(a small app on a loopback port whose answers each test controls). A module whose tests
need the real registry declares its own `registry_client` fixture asking for
`real_registry_client`, which overrides this one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from shared.clients import RegistryClient
from tests.projects.driver import Driver


@pytest.fixture(autouse=True)
def registry_client(stand_in_registry_client: RegistryClient) -> RegistryClient:
    """The projects app asks the stand-in registry (the app's injectable client)."""
    return stand_in_registry_client


@pytest.fixture
def driver(projects: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> Driver:
    return Driver(projects, auth)


@pytest.fixture
def org_id() -> str:
    return str(uuid.uuid4())
