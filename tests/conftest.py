"""Test harness: a real PostgreSQL and a real Redis, never the development data.

The fixtures live in tests/support/ (see its __init__), loaded here for every test.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.support.servers",
    "tests.support.apps",
    "tests.support.system",
    "tests.support.registry",
]


def pytest_configure(config: pytest.Config) -> None:
    from tests.support import servers

    servers.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    from tests.support import servers

    servers.unconfigure(config)
