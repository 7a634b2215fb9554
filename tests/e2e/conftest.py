"""The whole system as real processes on loopback: three uvicorn services and the worker.

Each module gets a freshly migrated database and its own queue; services reach each
other over HTTP on their real ports, exactly as `make run` wires them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from devtools.embedded import EmbeddedRedis
from devtools.processes import ManagedProcess, free_port
from tests.processes import worker_process
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
        argv = [
            "-m",
            "uvicorn",
            f"services.{name}.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[name]),
        ]
        self.processes[name] = ManagedProcess(name, argv, env, self.log_dir).start()
        if wait:
            self.wait_ready(name)

    def output(self) -> str:
        """The tail of every process's log, for a failing test to print."""
        return "\n".join(p.output()[-2000:] for p in self.processes.values())

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def wait_ready(self, name: str, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if not self.processes[name].alive:
                raise RuntimeError(f"{name} exited:\n{self.processes[name].output()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready:\n{self.processes[name].output()[-3000:]}")
            time.sleep(0.1)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.stop()
        if self.redis is not None:
            self.redis.stop()

    def restart_redis_empty(self) -> None:
        """Redis dies and comes back with nothing (persistence is off)."""
        assert self.redis is not None, "this system uses a shared Redis"
        self.redis.stop()
        self.redis.start()


@pytest.fixture(scope="module")
async def system_database(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[str]:
    async for url in fresh_database(f"e2e_{uuid.uuid4().hex[:6]}"):
        yield url


@pytest.fixture(scope="module")
def system(system_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    log_dir = str(tmp_path_factory.mktemp("e2e"))
    # A Redis of the system's own, so fault tests can flush or restart it freely.
    redis = EmbeddedRedis(tmp_path_factory.mktemp("redis"), free_port())
    redis.start()
    env = {
        "DATABASE_URL": system_database,
        "REDIS_URL": redis.url(),
        "ARQ_QUEUE_NAME": f"sanshe:e2e:{uuid.uuid4().hex[:8]}",
        "OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
        "OUTBOX_REPUBLISH_AFTER_SECONDS": "5",
        "HTTP_RETRIES": "2",
        "HTTP_BACKOFF_SECONDS": "0.1",
        "LOG_LEVEL": "INFO",
        # Provincial receivers in these tests listen on loopback: the operator allowlist.
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
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


def poll_sync(check: Callable[[], Any], *, within: float = 30.0, every: float = 0.1) -> Any:
    """The synchronous twin of tests.polling.poll, for tests driving real processes."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        time.sleep(every)
