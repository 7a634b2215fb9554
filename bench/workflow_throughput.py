"""Workflow throughput: cases taken from submission to joint review by the real worker.

    python -m bench.workflow_throughput [--cases 300] [--paced-fraction 0.5] [--paced-cases 300]

Ceiling, measured in the same run on the same Redis: the same arq worker settings
running a no-op job. Each case costs the worker three `events.dispatch` jobs
(case.submitted → pre-check, accepted and review_started records) and two transitions
(accepted, in_joint_review) with its review tasks; the ratio compares dispatch jobs per
second with no-op jobs per second. Latency is submit → `in_joint_review`, from the
audit trail, and includes the outbox relay hop.

With all cases submitted at once, that latency is mostly time spent queueing behind the
others. A second, paced run submits as many cases again (at most `--paced-cases`) at a
steady rate below the capacity just measured (`--paced-fraction` of the burst's cases
per second) and reports the same latency: what one case costs when the worker keeps up.
The worker's CPU per dispatch job (all three events of every case of the burst
dispatched) moves far less with the machine's load than the rates do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from arq import func
from sqlalchemy import text

from bench.harness import MemoryWatch, cpu_seconds, machine, scratch_environment, summary_ms
from devtools.processes import ManagedProcess
from services.workflow.cases.commands import submit
from services.workflow.cases.schemas import CaseSubmit
from services.workflow.models import infra
from services.workflow.worker import WorkerSettings, load_reference_data
from shared.auth import Principal, Role
from shared.db import database
from shared.interservice import MaterialRef
from shared.jobs import create_queue
from shared.outbox import OutboxRelay

NOOP_JOB = "bench.noop"
_LATENCY_SQL = """
    SELECT extract(epoch FROM t.at - c.submitted_at)
    FROM workflow.approval_case c
    JOIN workflow.case_transition t ON t.case_id = c.id AND t.to_state = 'in_joint_review'
    WHERE c.id = ANY(:ids)
"""
_DISPATCHED_SQL = "SELECT count(*) FROM workflow.processed_event WHERE consumer = 'workflow'"


async def noop(ctx: dict[str, Any]) -> None:
    return None


# arq reads a settings class's own __dict__ (not inherited attributes): copy the
# workflow worker's settings and swap in the no-op job.
NoopWorkerSettings = type(
    "NoopWorkerSettings",
    (),
    {
        **{k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")},
        "functions": [func(noop, name=NOOP_JOB)],
        "cron_jobs": [],
        "on_startup": None,
        "on_shutdown": None,
    },
)


def _materials() -> list[MaterialRef]:
    codes = ["change_application", "council_resolution", "supporting_documents"]
    return [MaterialRef(code=c, document_url=f"https://files.example.cn/{c}.pdf") for c in codes]


NOOP_WORKER = "no-op worker (ceiling)"
WORKER = "workflow worker"
BENCH = "this benchmark (submits, outbox relay)"


async def _ceiling(jobs: int, log_dir: str, memory: MemoryWatch) -> float:
    worker = ManagedProcess(
        "noop-worker", ["-m", "arq", "bench.workflow_throughput.NoopWorkerSettings"], {}, log_dir
    )
    queue = await create_queue()
    try:
        worker.start()
        memory.watch(NOOP_WORKER, worker.process.pid if worker.process else None)
        # Warm up: the worker's start-up (imports, Redis connection) is not throughput.
        warm_up = await queue.enqueue_job(NOOP_JOB, _job_id=f"noop-warm-up-{uuid.uuid4()}")
        assert warm_up is not None
        await warm_up.result(timeout=120, poll_delay=0.05)
        memory.idle(NOOP_WORKER)
        with memory.under_load(NOOP_WORKER):
            started = time.perf_counter()
            handles = [
                await queue.enqueue_job(NOOP_JOB, _job_id=f"noop-{uuid.uuid4()}")
                for _ in range(jobs)
            ]
            for handle in handles:
                assert handle is not None
                await handle.result(timeout=120, poll_delay=0.01)
            return jobs / (time.perf_counter() - started)
    finally:
        worker.stop()
        await queue.aclose()


async def _relay_forever(queue: Any) -> None:
    # As the workflow API runs it: woken by this process's commits (the submits), polling
    # every OUTBOX_RELAY_INTERVAL_SECONDS for the worker's events.
    relay = OutboxRelay(database=database, outbox=infra.outbox, queue=queue, source="workflow")
    await relay.run_forever()


async def _submit_one(ids: list[uuid.UUID]) -> None:
    actor = Principal(sub="bench", role=Role.organization, org_id="bench-org")
    async with database.transaction() as session:
        result = await submit(
            session,
            actor=actor,
            data=CaseSubmit(
                command_id=uuid.uuid4(),
                case_type="organization_change",
                title="bench",
                applicant_name="bench",
                materials=_materials(),
            ),
        )
        ids.append(result.case_id)


async def _submit(count: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for start in range(0, count, 20):
        await asyncio.gather(*(_submit_one(ids) for _ in range(min(20, count - start))))
    return ids


async def _submit_paced(count: int, rate: float) -> list[uuid.UUID]:
    """`count` cases, one every 1/rate seconds from now (each on its own, so a slow
    submit does not hold back the next)."""
    ids: list[uuid.UUID] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    submits = []
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        submits.append(asyncio.create_task(_submit_one(ids)))
    await asyncio.gather(*submits)
    return ids


async def _count(sql: str) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(text(sql))).scalar_one())


async def _wait_count(sql: str, at_least: int, *, within: float) -> None:
    deadline = time.monotonic() + within
    while await _count(sql) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError("events were not dispatched in time")
        await asyncio.sleep(0.05)


async def _latencies(ids: list[uuid.UUID]) -> list[float]:
    async with database.engine.connect() as connection:
        return [float(row[0]) for row in await connection.execute(text(_LATENCY_SQL), {"ids": ids})]


async def _all_in_review(ids: list[uuid.UUID]) -> bool:
    async with database.engine.connect() as connection:
        done = await connection.execute(
            text(
                "SELECT count(*) FROM workflow.approval_case "
                "WHERE state = 'in_joint_review' AND id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        return int(done.scalar_one()) >= len(ids)


async def _wait_in_review(ids: list[uuid.UUID], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not await _all_in_review(ids):
        if time.monotonic() > deadline:
            raise TimeoutError("cases did not reach joint review in time")
        await asyncio.sleep(0.05)


async def run(cases: int, paced_fraction: float = 0.5, paced_cases: int = 300) -> dict[str, Any]:
    async with scratch_environment("workflow") as env:
        await load_reference_data()
        log_dir = tempfile.mkdtemp(prefix="sanshe-bench-")
        memory = MemoryWatch()
        ceiling = await _ceiling(cases * 3, log_dir, memory)
        worker = ManagedProcess(
            "worker",
            ["-m", "arq", "services.workflow.worker.WorkerSettings"],
            {
                "DATABASE_URL": env.database_url,
                "REDIS_URL": env.redis_url,
                "ARQ_QUEUE_NAME": env.queue_name,
            },
            log_dir,
        ).start()
        memory.watch(WORKER, worker.process.pid if worker.process else None)
        memory.watch(BENCH, os.getpid())
        queue = await create_queue()
        relay = asyncio.create_task(_relay_forever(queue))
        worker_pid = worker.process.pid if worker.process else 0
        paced: dict[str, Any] = {}
        try:
            # Warm up: one case all the way, so the worker's start-up is not measured.
            await _wait_in_review(await _submit(1), within=120)
            await _wait_count(_DISPATCHED_SQL, 3, within=120)
            memory.idle(WORKER, BENCH)
            dispatched_before = await _count(_DISPATCHED_SQL)
            with memory.under_load(WORKER, BENCH):
                cpu_before = cpu_seconds(worker_pid)
                started = time.perf_counter()
                ids = await _submit(cases)
                submitted = time.perf_counter() - started
                await _wait_in_review(ids, within=300)
                elapsed = time.perf_counter() - started
                # The rest of the burst's events (accepted, review_started) dispatched too.
                await _wait_count(_DISPATCHED_SQL, dispatched_before + cases * 3, within=300)
                worker_cpu = cpu_seconds(worker_pid) - cpu_before
            latencies = await _latencies(ids)
            if paced_fraction > 0:
                rate = paced_fraction * cases / elapsed
                paced_ids = await _submit_paced(min(cases, paced_cases), rate)
                await _wait_in_review(paced_ids, within=300)
                paced = {
                    "paced_cases": len(paced_ids),
                    "paced_cases_per_s": round(rate, 1),
                    "paced_submit_to_review": summary_ms(await _latencies(paced_ids)),
                }
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            worker.stop()
            await queue.aclose()
            await database.dispose()
    jobs_per_second = cases * 3 / elapsed
    return {
        "benchmark": "workflow: submit → pre-check → accepted → tasks created",
        "cases": cases,
        "cases_per_s": round(cases / elapsed, 1),
        "transitions_per_s": round(cases * 2 / elapsed, 1),
        "dispatch_jobs_per_s": round(jobs_per_second, 1),
        "ceiling_noop_jobs_per_s": round(ceiling, 1),
        "ratio": round(jobs_per_second / ceiling, 3),
        "submit_to_review": summary_ms(latencies),
        "submit_phase_s": round(submitted, 2),
        "worker_cpu_ms_per_dispatch_job": round(worker_cpu * 1000 / (cases * 3), 2),
        **paced,
        "rss": memory.report(),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cases", type=int, default=int(os.environ.get("BENCH_WORKFLOW_CASES", "300"))
    )
    parser.add_argument(
        "--paced-fraction",
        type=float,
        default=0.5,
        help="paced run's submit rate, as a fraction of the burst's cases/s (0: no paced run)",
    )
    parser.add_argument(
        "--paced-cases",
        type=int,
        default=300,
        help="cases of the paced run (at most --cases): its figure is latency, not volume",
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(args.cases, args.paced_fraction, args.paced_cases))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
