"""The whole system as real processes on loopback: three uvicorn services and the worker.

Each module gets a freshly migrated database and its own queue; services reach each
other over HTTP on their real ports, exactly as `make run` wires them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.processes import (
    ManagedProcess,
    ProcessExited,
    free_port,
    service_process,
    stop_all,
    wait_ready,
    worker_process,
)

if TYPE_CHECKING:
    from devtools.embedded import EmbeddedRedis
    from tests.workflow.sync.helpers import ReceiverProcess

SERVICES = ("registry", "projects", "workflow")


@dataclass
class System:
    """The processes of a test; `redis` is the system's own, if it has one (else REDIS_URL)."""

    env: dict[str, str]
    log_dir: str
    redis: EmbeddedRedis | None = None
    ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in SERVICES})
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, name: str, *, wait: bool = True, **overrides: str) -> None:
        """Start a process; `overrides` change its environment for this start only.

        A service is waited for until ready, unless `wait` is false (a test of a service
        that cannot be ready, its database away).
        """
        env = {**self.env, **overrides}
        if name == "worker":
            self.processes[name] = worker_process(self.log_dir, **env).start()
            return
        process = service_process(name, self.ports[name], env, self.log_dir)
        self.processes[name] = process.start()
        if wait:
            self.wait_ready(name)

    def output(self) -> str:
        """The tail of every process's log, for a failing test to print."""
        return "\n".join(p.output()[-2000:] for p in self.processes.values())

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def wait_ready(self, name: str, within: float = 60.0) -> None:
        process = self.processes[name]
        try:
            wait_ready({name: f"{self.url(name)}/readyz"}, {name: process}, within)
        except ProcessExited:
            raise RuntimeError(f"{name} exited:\n{process.output()[-3000:]}") from None
        except TimeoutError:
            raise TimeoutError(f"{name} not ready:\n{process.output()[-3000:]}") from None

    def stop_all(self) -> None:
        stop_all(self.processes.values())
        if self.redis is not None:
            self.redis.stop()

    def restart_redis_empty(self) -> None:
        """Redis dies and comes back with nothing (persistence is off)."""
        assert self.redis is not None, "this system uses a shared Redis"
        self.redis.stop()
        self.redis.start()


def system_environment(database_url: str, redis_url: str, *, queue: str) -> dict[str, str]:
    """What every process of a test system runs with: prompt relays and short retries."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ARQ_QUEUE_NAME": f"sanshe:{queue}:{uuid.uuid4().hex[:8]}",
        "OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
        "OUTBOX_REPUBLISH_AFTER_SECONDS": "5",
        "HTTP_RETRIES": "2",
        "HTTP_BACKOFF_SECONDS": "0.1",
        "LOG_LEVEL": "INFO",
        # Provincial receivers in these tests listen on loopback: the operator allowlist.
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }


@pytest.fixture(scope="module")
async def system_database(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[str]:
    async for url in fresh_database(f"e2e_{uuid.uuid4().hex[:6]}"):
        yield url


@pytest.fixture(scope="module")
def system(system_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    # The system's own Redis: a `redis-server` from the `local` extra.
    from devtools.embedded import EmbeddedRedis

    log_dir = str(tmp_path_factory.mktemp("e2e"))
    # A Redis of the system's own, so fault tests can flush or restart it freely.
    redis = EmbeddedRedis(tmp_path_factory.mktemp("redis"), free_port())
    redis.start()
    env = system_environment(system_database, redis.url(), queue="e2e")
    system = System(env=env, log_dir=log_dir, redis=redis)
    env |= {f"{name.upper()}_URL": system.url(name) for name in SERVICES}
    try:
        for name in (*SERVICES, "worker"):
            system.start(name)
        yield system
    finally:
        system.stop_all()


@pytest.fixture(scope="module")
async def province() -> AsyncIterator[ReceiverProcess]:
    """A provincial subscriber of its own process, verifying with `standardwebhooks` alone."""
    from tests.workflow.sync.helpers import ReceiverProcess

    running = await ReceiverProcess().start()
    yield running
    await running.stop()


@pytest.fixture
def http(system: System) -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def client(service: str) -> httpx.Client:
        c = httpx.Client(base_url=system.url(service), timeout=30)
        clients.append(c)
        return c

    yield client
    for c in clients:
        c.close()
