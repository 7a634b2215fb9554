"""Two replicas of every API and two workers on one PostgreSQL and one Redis.

What `docker compose up --scale registry=2 --scale projects=2 --scale workflow=2
--scale workflow-worker=2` runs, as real processes on loopback: each API twice (its
outbox relay and report sweep running in both), the arq worker twice (its cron sweeps
offered to both every tick). The journey of tests/e2e/test_journey.py runs through them,
every request of the test going to the replicas in turn and every replica calling the
other replica of the service it needs, and then the test shows:

* nothing is done twice: each case opened once per subject, decided once, its outcome
  applied once by its owner (one receipt); each event delivered to the province once, in
  a single attempt; each tick of each cron sweep run by one worker only;
* nothing is lost: every outbox event of the three services is confirmed, every case
  decided and its callback delivered, the province holds the whole feed;
* the work really is shared: both replicas of each API answered, both workers ran jobs.
"""

from __future__ import annotations

import itertools
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools.processes import ManagedProcess, free_port
from tests.e2e.steps import (
    API,
    WITHIN,
    Auth,
    Http,
    assert_decided_once,
    inspect_annually,
    ok,
    province_caught_up,
    read_feed,
    register_organization,
    run_project_to_closure,
)
from tests.support.polling import poll
from tests.support.processes import worker_process
from tests.support.system import system_environment
from tests.workflow.sync.helpers import ReceiverProcess

pytestmark = pytest.mark.slow

SERVICES = ("registry", "projects", "workflow")
REPLICAS = 2
WORKERS = 2
# arq logs each job it starts as `<time> INFO arq.worker <queued for>s → <ref>`; for a
# cron job the ref is its name alone. The time minus how long it was queued is when it
# was enqueued: one tick, one enqueue time (its job id `cron:<name>:<tick>` is unique).
CRON_START = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO arq\.worker\s+"
    r"(?P<queued>\d+\.\d+)s → (?P<name>(?:workflow|webhooks)\.sweep)\(\)",
    re.M,
)
JOB_START = re.compile(r"\d+\.\d+s → \S+")
# Two runs of one cron job enqueued closer than this are the same tick run twice (the
# sweeps tick every second in this test).
SAME_TICK_SECONDS = 0.5


@dataclass
class Replicas:
    env: dict[str, str]
    log_dir: str
    ports: dict[str, list[int]] = field(
        default_factory=lambda: {name: [free_port() for _ in range(REPLICAS)] for name in SERVICES}
    )
    apis: dict[str, list[ManagedProcess]] = field(default_factory=dict)
    workers: list[ManagedProcess] = field(default_factory=list)

    def url(self, service: str, replica: int) -> str:
        return f"http://127.0.0.1:{self.ports[service][replica % REPLICAS]}"

    def peers(self, replica: int) -> dict[str, str]:
        """Replica i reaches replica i+1 of every other service: calls cross processes."""
        return {f"{name.upper()}_URL": self.url(name, replica + 1) for name in SERVICES}

    def start(self) -> None:
        for name in SERVICES:
            self.apis[name] = []
            for replica in range(REPLICAS):
                argv = [
                    "-m",
                    "uvicorn",
                    f"services.{name}.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.ports[name][replica]),
                ]
                env = {**self.env, **self.peers(replica)}
                process = ManagedProcess(f"{name}-{replica}", argv, env, self.log_dir)
                self.apis[name].append(process.start())
        for replica in range(WORKERS):
            env = {**self.env, **self.peers(replica), "WORKER_METRICS_PORT": str(free_port())}
            process = worker_process(self.log_dir, **env)
            process.name = f"worker-{replica}"
            process.log_path = f"{self.log_dir}/worker-{replica}.log"
            self.workers.append(process.start())
        for name in SERVICES:
            for replica in range(REPLICAS):
                self.wait_ready(name, replica)

    def wait_ready(self, name: str, replica: int) -> None:
        process = self.apis[name][replica]

        def ready() -> bool:
            if not process.alive:
                pytest.fail(f"{process.name} exited:\n{process.output()[-3000:]}")
            try:
                return httpx.get(f"{self.url(name, replica)}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _poll_sync(ready, within=90)

    def stop(self) -> None:
        for process in [*self.workers, *itertools.chain(*self.apis.values())]:
            process.stop()

    def output(self) -> str:
        processes = [*itertools.chain(*self.apis.values()), *self.workers]
        return "\n".join(f"== {p.name}\n{p.output()[-1500:]}" for p in processes)


def _poll_sync(check: Callable[[], bool], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        time.sleep(0.1)


class RoundRobin(httpx.HTTPTransport):
    """Sends each request to the next replica in turn, and counts who got what."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self._next = itertools.cycle(range(len(ports)))
        self.ports = ports
        self.served: Counter[int] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        replica = next(self._next)
        request.url = request.url.copy_with(port=self.ports[replica])
        self.served[replica] += 1
        return super().handle_request(request)


@pytest.fixture(scope="module")
async def replicas_database(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[str]:
    async for url in fresh_database(f"replicas_{uuid.uuid4().hex[:6]}"):
        yield url


@pytest.fixture(scope="module")
def replicas(
    replicas_database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    # One Redis for all processes, as in compose. A database number of its own: arq's job
    # keys (cron ticks among them) are not per queue, and other tests share this server.
    redis = make_url(redis_url.replace("redis://", "postgresql://", 1))
    database_number = random.randint(1, 15)
    own_redis = f"redis://{redis.host}:{redis.port or 6379}/{database_number}"
    env = system_environment(replicas_database, own_redis, queue="replicas") | {
        "LOG_JSON": "false",
        # Every projects replica sweeps progress reports often: concurrent sweeps.
        "PROJECTS_REPORT_SWEEP_INTERVAL_SECONDS": "1",
    }
    system = Replicas(env=env, log_dir=str(tmp_path_factory.mktemp("replicas")))
    try:
        system.start()
        yield system
    finally:
        system.stop()


@pytest.fixture
def balanced(replicas: Replicas) -> Iterator[dict[str, RoundRobin]]:
    yield {name: RoundRobin(replicas.ports[name]) for name in SERVICES}


@pytest.fixture
def http(replicas: Replicas, balanced: dict[str, RoundRobin]) -> Iterator[Http]:
    clients: list[httpx.Client] = []

    def client(service: str) -> httpx.Client:
        c = httpx.Client(base_url=replicas.url(service, 0), transport=balanced[service], timeout=30)
        clients.append(c)
        return c

    yield client
    for c in clients:
        c.close()


async def _rows(dsn: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


async def test_two_replicas_of_everything_do_each_thing_once_and_lose_nothing(
    replicas: Replicas,
    balanced: dict[str, RoundRobin],
    http: Http,
    auth: Auth,
    province: ReceiverProcess,
    replicas_database: str,
) -> None:
    dsn = make_url(replicas_database).set(drivername="postgresql").render_as_string(False)
    workflow = http("workflow")
    province_token = auth("provincial_system", sub=f"province-{uuid.uuid4().hex[:6]}")
    path = f"/province/{uuid.uuid4().hex[:8]}"
    endpoint = ok(
        workflow.post(
            f"{API}/webhooks/endpoints",
            json={"url": f"{province.url}{path}", "event_types": []},
            headers=province_token,
        ),
        201,
    )
    await province.verify_with(path, ours=endpoint["secret"])
    _, start = read_feed(workflow, auth, None)
    # Each worker runs its cron jobs once at start-up (run_at_startup): count from here.
    journey_started = datetime.now()

    try:
        org_id, registration_case = register_organization(http, auth)
        inspection_case = inspect_annually(http, auth, org_id)
        project = run_project_to_closure(http, auth, org_id, evaluators=3, rectification=True)
    except BaseException:
        print(replicas.output())
        raise

    # Every case the journey opened is decided once, and its callback delivered.
    cases = {registration_case, inspection_case, *project.cases}
    assert len(cases) == 7
    assert_decided_once(workflow, auth, cases)

    # The province holds the whole feed since it subscribed, each event once.
    fed, received = await province_caught_up(workflow, auth, province, path, start)
    counts = Counter(e["webhook_id"] for e in received)
    assert [i for i, n in counts.items() if n != 1] == [], "an event delivered twice"
    by_id = {e["id"]: e for e in fed}
    deliveries = ok(
        workflow.get(
            f"{API}/webhooks/endpoints/{endpoint['id']}/deliveries",
            params={"page_size": 200},
            headers=province_token,
        )
    )["items"]
    ours = [d for d in deliveries if d["event_id"] in by_id]
    assert sorted(d["event_id"] for d in ours) == sorted(by_id), "one delivery per event"
    assert {(d["status"], d["attempt_count"]) for d in ours} == {("succeeded", 1)}

    # Each case opened once per subject (two replicas relayed the same outbox, two
    # workers consumed the queue), and its outcome applied once.
    duplicated = await _rows(
        dsn,
        "SELECT case_type, subject_type, subject_id, count(*) FROM workflow.approval_case"
        " WHERE subject_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) > 1",
    )
    assert duplicated == [], f"cases opened twice: {duplicated}"
    # The projects service records one receipt per applied outcome; the registry applies
    # its outcomes under the subject's row lock and says so in one event each.
    receipts = await _rows(
        dsn, "SELECT case_id::text AS case_id FROM projects.case_outcome_receipt"
    )
    assert set(project.cases) <= {row["case_id"] for row in receipts}
    for schema, once_each in (
        ("registry", ("application.decided", "organization.created", "inspection.concluded")),
        ("workflow", ("case.submitted", "case.accepted", "case.decided")),
        ("projects", ("procurement.awarded", "contract.signed", "project.closed")),
    ):
        types = ", ".join(f"'{event_type}'" for event_type in once_each)
        twice = await _rows(
            dsn,
            f"SELECT event_type, subject_id, count(*) FROM {schema}.outbox_event"  # noqa: S608
            f" WHERE event_type IN ({types}) GROUP BY 1, 2 HAVING count(*) > 1",
        )
        assert twice == [], f"{schema} did something twice: {twice}"
    transitions = await _rows(
        dsn,
        "SELECT case_id, to_state, count(*) FROM workflow.case_transition"
        " WHERE to_state IN ('approved', 'rejected') GROUP BY 1, 2 HAVING count(*) > 1",
    )
    assert transitions == [], f"a case decided twice: {transitions}"

    # Nothing lost: every event of every service's outbox reached the queue and was
    # confirmed there.
    async def all_confirmed() -> bool:
        rows = await _rows(
            dsn,
            " UNION ALL ".join(
                f"SELECT count(*) AS n FROM {schema}.outbox_event"  # noqa: S608
                " WHERE confirmed_at IS NULL"
                for schema in SERVICES
            ),
        )
        return sum(int(row["n"]) for row in rows) == 0

    await poll(all_confirmed, within=WITHIN, every=0.5)

    # Each tick of each cron sweep ran on one worker only, though both were offered it.
    logs = [worker.output() for worker in replicas.workers]
    runs: dict[str, list[tuple[float, int]]] = {}
    for index, log in enumerate(logs):
        for match in CRON_START.finditer(log):
            at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f")
            if at > journey_started:
                enqueued = at.timestamp() - float(match["queued"])
                runs.setdefault(match["name"], []).append((enqueued, index))
    assert set(runs) == {"workflow.sweep", "webhooks.sweep"}, replicas.output()
    for name, started in runs.items():
        started.sort()
        twice = [(a, b) for a, b in itertools.pairwise(started) if b[0] - a[0] < SAME_TICK_SECONDS]
        assert twice == [], f"a tick of {name} ran twice: {twice}"
        # Both workers were offered every tick, and each took some.
        assert {worker for _, worker in started} == set(range(WORKERS)), name

    # The work was shared: both replicas of each API answered, both workers ran jobs.
    for name, transport in balanced.items():
        assert set(transport.served) == set(range(REPLICAS)), name
    jobs = [len(JOB_START.findall(log)) for log in logs]
    assert all(jobs), f"jobs per worker: {jobs}"
    for process in [*replicas.workers, *itertools.chain(*replicas.apis.values())]:
        assert process.alive, f"{process.name} exited:\n{process.output()[-3000:]}"
