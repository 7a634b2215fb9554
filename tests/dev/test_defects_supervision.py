"""`make run` supervises: a child that dies comes back, and the rest stay up.

The orchestrator (`python -m devtools.run`) runs for real here, as a developer starts
it, against the test's PostgreSQL (a fresh database) and a Redis of its own that the
tests restart. Its children are found as its child processes in /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devtools.embedded import EmbeddedRedis
from devtools.processes import ManagedProcess, free_port
from tests.e2e.steps import ok
from tests.support.polling import poll_sync
from tests.workflow.helpers import materials_for

API_NAMES = ("registry", "projects", "workflow")
# Generous: migrations, the demo register and four processes on two loaded cores.
STARTUP_WITHIN = 240.0
RECOVERY_WITHIN = 120.0
Auth = Callable[..., dict[str, str]]


def children_of(pid: int) -> dict[int, str]:
    """The live child processes of `pid`, with their command lines."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # Fields after the command name, which may itself hold spaces or parentheses.
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


@dataclass
class Orchestrated:
    """A running `python -m devtools.run` and what it was given."""

    process: ManagedProcess
    ports: dict[str, int]
    redis: EmbeddedRedis

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def child_pids(self) -> dict[str, int]:
        """registry / projects / workflow / worker -> pid, for the children running now."""
        pids: dict[str, int] = {}
        for pid, cmdline in children_of(self.pid).items():
            if "arq services.workflow.worker" in cmdline:
                pids["worker"] = pid
            for name in API_NAMES:
                if f"services.{name}.main:app" in cmdline:
                    pids[name] = pid
        return pids

    def all_running(self) -> dict[str, int] | None:
        pids = self.child_pids()
        return pids if pids.keys() >= {*API_NAMES, "worker"} else None

    def assert_apis_answer(self, client: httpx.Client) -> None:
        """Every API answers /healthz right now (the process is up and serving)."""
        for name in API_NAMES:
            response = client.get(f"{self.url(name)}/healthz")
            assert response.status_code == 200, f"{name}: {response.status_code}"

    def output(self) -> str:
        return self.process.output()


def orchestrator_env(
    database_url: str, redis_url: str, var_dir: Path, **overrides: str
) -> tuple[dict[str, str], dict[str, int]]:
    ports = {name: free_port() for name in API_NAMES}
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "VAR_DIR": str(var_dir),
        "ARQ_QUEUE_NAME": f"sanshe:run:{uuid.uuid4().hex[:8]}",
        "OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
        # Only the queued event may pre-check a case, not the sweep's safety net: a case
        # moving on proves the worker took a job from Redis.
        "WORKFLOW_PRECHECK_STALE_SECONDS": "3600",
        "RUN_READY_TIMEOUT_SECONDS": str(STARTUP_WITHIN),
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        **overrides,
    }
    return env, ports


def run_orchestrator(env: dict[str, str], log_dir: Path) -> ManagedProcess:
    return ManagedProcess("make-run", ["-m", "devtools.run"], env, str(log_dir)).start()


@pytest.fixture(scope="module")
async def run_database(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[str]:
    async for url in fresh_database(f"run_{uuid.uuid4().hex[:6]}"):
        yield url


@pytest.fixture(scope="module")
def orchestrated(
    run_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Orchestrated]:
    redis = EmbeddedRedis(tmp_path_factory.mktemp("redis"), free_port())
    redis.start()
    env, ports = orchestrator_env(run_database, redis.url(), tmp_path_factory.mktemp("var"))
    process = run_orchestrator(env, tmp_path_factory.mktemp("run"))
    system = Orchestrated(process, ports, redis)
    try:

        def running() -> bool:
            assert process.alive, f"make run exited:\n{process.output()[-5000:]}"
            return "Sanshe is running" in process.output()

        poll_sync(running, within=STARTUP_WITHIN, every=0.5)
        yield system
    finally:
        process.stop()
        redis.stop()


def submit_case(client: httpx.Client, system: Orchestrated, auth: Auth) -> str:
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "organization_change",
        "title": "变更登记",
        "applicant_name": "庐阳区测试服务中心",
        "materials": materials_for("organization_change"),
    }
    headers = auth("organization", org_id=str(uuid.uuid4()))
    created = ok(
        client.post(f"{system.url('workflow')}/api/v1/cases", json=body, headers=headers), 201
    )
    return str(created["case_id"])


def wait_prechecked(client: httpx.Client, system: Orchestrated, auth: Auth, case_id: str) -> None:
    """The worker took the case's event from the queue and pre-checked it."""
    reader = auth("civil_affairs")

    def in_review() -> bool:
        assert system.process.alive, f"make run exited:\n{system.output()[-5000:]}"
        case = ok(client.get(f"{system.url('workflow')}/api/v1/cases/{case_id}", headers=reader))
        return case["state"] == "in_joint_review"

    poll_sync(in_review, within=RECOVERY_WITHIN, every=0.25)


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_stable_run() -> None:
    from devtools.supervision import RestartBackoff

    backoff = RestartBackoff(initial=1, maximum=30, stable_after=60)
    assert [backoff.next_delay(ran_for=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    # Up for a minute before it exited: a new incident, not the same crash loop.
    assert backoff.next_delay(ran_for=61) == 1
    assert backoff.next_delay(ran_for=0.5) == 2


@pytest.mark.slow
def test_a_killed_worker_comes_back_and_the_apis_stay_up(
    orchestrated: Orchestrated, auth: Auth
) -> None:
    system = orchestrated
    with httpx.Client(timeout=30) as client:
        before = poll_sync(system.all_running)
        os.kill(before["worker"], signal.SIGKILL)

        def worker_back() -> int | None:
            system.assert_apis_answer(client)
            assert system.process.alive, f"make run exited:\n{system.output()[-5000:]}"
            pid = system.child_pids().get("worker")
            return pid if pid not in (None, before["worker"]) else None

        poll_sync(worker_back, within=RECOVERY_WITHIN, every=0.2)
        # The APIs were never restarted: the same processes throughout.
        after = system.child_pids()
        assert {name: after.get(name) for name in API_NAMES} == {
            name: before[name] for name in API_NAMES
        }
        assert "worker exited (code -9)" in system.output()
        # And the new worker works.
        wait_prechecked(client, system, auth, submit_case(client, system, auth))
        system.assert_apis_answer(client)


@pytest.mark.slow
def test_the_worker_survives_a_redis_restart(orchestrated: Orchestrated, auth: Auth) -> None:
    system = orchestrated
    with httpx.Client(timeout=30) as client:
        before = poll_sync(system.all_running)
        system.redis.stop()

        def worker_gave_up() -> bool:
            # Long enough away for the worker to give up on it (arq exits), APIs serving.
            system.assert_apis_answer(client)
            assert system.process.alive, f"make run exited:\n{system.output()[-5000:]}"
            return system.child_pids().get("worker") != before["worker"]

        poll_sync(worker_gave_up, within=RECOVERY_WITHIN, every=0.2)
        system.redis.start()  # the same port, empty: persistence is off
        wait_prechecked(client, system, auth, submit_case(client, system, auth))
        assert system.process.alive
        after = system.child_pids()
        assert {name: after.get(name) for name in API_NAMES} == {
            name: before[name] for name in API_NAMES
        }
        system.assert_apis_answer(client)


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a wedged Redis)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.slow
def test_a_child_that_never_gets_ready_fails_startup_in_time_with_its_log(
    run_database: str, tmp_path: Path
) -> None:
    ready_timeout = 8.0
    with silent_server() as port:
        env, _ = orchestrator_env(
            run_database,
            f"redis://127.0.0.1:{port}/0",
            tmp_path / "var",
            RUN_READY_TIMEOUT_SECONDS=str(ready_timeout),
        )
        process = run_orchestrator(env, tmp_path)
        try:
            marks: dict[str, float] = {}

            def finished() -> bool:
                text = process.output()
                if "starting worker" in text:
                    marks.setdefault("children started", time.monotonic())
                if "startup failed" in text:
                    marks.setdefault("failure reported", time.monotonic())
                return not process.alive

            poll_sync(finished, within=STARTUP_WITHIN, every=0.1)
            assert process.process is not None
            assert process.process.returncode == 1
        finally:
            process.stop()
    output = process.output()
    failure = output[output.index("startup failed") :]
    assert f"not ready after {ready_timeout:g}s (RUN_READY_TIMEOUT_SECONDS)" in failure
    # The reason, and the end of the child's own log: uvicorn is stuck in its startup.
    registry_log = tmp_path / "var" / "log" / "registry.log"
    assert f"last lines of {registry_log}" in failure
    assert "registry | " in failure and "Waiting for application startup" in failure
    # Both marks are seen by polling the output, each up to a poll late: a second's slack
    # below; above, what one round of probes costs on a busy machine.
    waited = marks["failure reported"] - marks["children started"]
    assert ready_timeout - 1 <= waited < ready_timeout + 30, waited
