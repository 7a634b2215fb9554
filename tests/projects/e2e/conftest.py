"""The projects end-to-end test runs against the whole system as real processes.

It reuses the system fixtures of `tests/e2e` (three uvicorn services and the arq worker
on loopback, a database and a Redis of their own) and switches off the in-process
stand-in registry of `tests/projects/conftest.py`: here the real registry answers.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import http, system, system_database

__all__ = ["http", "system", "system_database"]


@pytest.fixture(autouse=True)
def registry_client() -> None:
    """Override: no stand-in registry, the projects process asks the real one."""
