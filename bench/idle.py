"""What the services cost when nothing happens: CPU and memory of each idle process.

    python -m bench.idle [--seconds 60] [--only worker,bare-arq]

Each API (registry, projects, workflow) runs as in `make run` — one uvicorn process —
and the workflow worker as `arq services.workflow.worker.WorkerSettings`, all on a
scratch database and queue. Once each is up and warmed (a few requests to every API),
nothing is sent for `--seconds`: each process's CPU time (user + system, its children
included, from /proc through psutil) over that window is its idle CPU, as % of one CPU,
and its resident memory at the end its idle RSS. Then a short burst of requests to each
API, and its RSS after it.

Ceilings, idle over the same window beside them: a bare uvicorn process serving a bare
ASGI app (`bench.idle:bare_app`), and a bare arq worker with arq's default settings and
one no-op job (`bench.idle.BareWorkerSettings`). They show what the server and the queue
library cost by themselves, so the services' figures read against them.

This module is also what those two ceiling processes import: its top level imports only
the standard library and arq, so that the bare uvicorn process stays bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any, ClassVar

from arq import func
from arq.connections import RedisSettings

# The targets of issue 15: below 1 % of a CPU and 120 MB resident, each process.
CPU_TARGET_PERCENT = 1.0
RSS_TARGET_MB = 120.0
_APIS = {
    "registry": ("services.registry.main:app", "/api/v1/organizations"),
    "projects": ("services.projects.main:app", "/api/v1/projects"),
    "workflow": ("services.workflow.main:app", "/api/v1/cases"),
}
_WORKER = ["-m", "arq", "services.workflow.worker.WorkerSettings"]
_BARE_QUEUE_SUFFIX = ":bare-idle"
_WARM_UP_REQUESTS = 5
_BURST_REQUESTS = 200


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an ASGI app can be: the lifespan acknowledged, every request a 200."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _noop(ctx: dict[str, Any]) -> None:
    return None


class BareWorkerSettings:
    """arq's defaults (poll every 0.5 s, health check every hour), one no-op job."""

    functions: ClassVar[list[Any]] = [func(_noop, name="bench.idle.noop")]
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://127.0.0.1"))
    queue_name = os.environ.get("ARQ_QUEUE_NAME", "arq:queue") + _BARE_QUEUE_SUFFIX


async def _wait_worker(redis_url: str, queue: str, server: Any, within: float = 60.0) -> None:
    """Until the arq worker has written its health-check key (its first poll is done)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not server.alive:
                raise RuntimeError(f"{server.name} exited:\n{server.output()[-3000:]}")
            if await redis.exists(f"{queue}:health-check"):
                return
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()
    raise TimeoutError(f"{server.name} not ready:\n{server.output()[-3000:]}")


async def _requests(port: int, path: str, token: str, count: int) -> int:
    """`count` requests alternating /readyz and an authenticated list; the non-200s."""
    import httpx

    failures = 0
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        for n in range(count):
            response = await client.get("/readyz" if n % 2 else path)
            failures += response.status_code != 200
    return failures


def _report(cpu_percent: float, rss_idle: float, **extra: Any) -> dict[str, Any]:
    return {
        "cpu_percent_idle": round(cpu_percent, 2),
        "rss_idle_mb": rss_idle,
        **extra,
        "target_met": "yes"
        if cpu_percent < CPU_TARGET_PERCENT and rss_idle < RSS_TARGET_MB
        else "no",
    }


# `--only` names: the three APIs, the worker and the two ceilings.
PROCESSES = ("registry", "projects", "workflow", "worker", "bare-uvicorn", "bare-arq")


async def run(seconds: float, only: frozenset[str] = frozenset(PROCESSES)) -> dict[str, Any]:
    from bench.harness import cpu_seconds, machine, rss_mb, scratch_environment, wait_ready
    from devtools.processes import ManagedProcess, free_port
    from shared.auth import Role, mint_token

    async with scratch_environment("idle") as env:
        log_dir = tempfile.mkdtemp(prefix="sanshe-bench-")
        service_env = {
            "DATABASE_URL": env.database_url,
            "REDIS_URL": env.redis_url,
            "ARQ_QUEUE_NAME": env.queue_name,
        }
        ports: dict[str, int] = {}
        processes: dict[str, Any] = {}
        apis = {name: api for name, api in _APIS.items() if name in only}
        for name, (app, _) in apis.items():
            ports[name] = free_port()
            argv = ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(ports[name])]
            processes[f"{name} API"] = ManagedProcess(name, argv, service_env, log_dir)
        if "worker" in only:
            processes["workflow worker"] = ManagedProcess("worker", _WORKER, service_env, log_dir)
        bare_port = free_port()
        bare = ["-m", "uvicorn", "bench.idle:bare_app", "--host", "127.0.0.1"]
        if "bare-uvicorn" in only:
            processes["ceiling: bare uvicorn + ASGI app"] = ManagedProcess(
                "bare-uvicorn", [*bare, "--port", str(bare_port)], service_env, log_dir
            )
        if "bare-arq" in only:
            processes["ceiling: bare arq worker"] = ManagedProcess(
                "bare-arq", ["-m", "arq", "bench.idle.BareWorkerSettings"], service_env, log_dir
            )
        try:
            for process in processes.values():
                process.start()
            token = mint_token(sub="bench", role=Role.civil_affairs)
            for name, (_, path) in apis.items():
                await wait_ready(processes[f"{name} API"], f"http://127.0.0.1:{ports[name]}/readyz")
                await _requests(ports[name], path, token, _WARM_UP_REQUESTS)
            if "bare-uvicorn" in only:
                await wait_ready(
                    processes["ceiling: bare uvicorn + ASGI app"], f"http://127.0.0.1:{bare_port}/"
                )
            if "worker" in only:
                await _wait_worker(env.redis_url, env.queue_name, processes["workflow worker"])
            if "bare-arq" in only:
                await _wait_worker(
                    env.redis_url,
                    env.queue_name + _BARE_QUEUE_SUFFIX,
                    processes["ceiling: bare arq worker"],
                )
            # Let start-up settle (first connections, a worker's first polls) before the
            # window opens: what is measured is the steady idle state.
            await asyncio.sleep(2)
            pids = {n: p.process.pid for n, p in processes.items() if p.process is not None}
            before = {n: cpu_seconds(pid) for n, pid in pids.items()}
            started = time.monotonic()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - started
            used = {n: cpu_seconds(pid) - before[n] for n, pid in pids.items()}
            rss_idle = {n: rss_mb(pid) for n, pid in pids.items()}
            for name, process in processes.items():
                if not process.alive:
                    raise RuntimeError(f"{name} exited:\n{process.output()[-3000:]}")
            rss_burst: dict[str, float] = {}
            failures = 0
            for name, (_, path) in apis.items():
                failures += await _requests(ports[name], path, token, _BURST_REQUESTS)
                rss_burst[f"{name} API"] = rss_mb(pids[f"{name} API"])
        finally:
            for process in processes.values():
                process.stop()
    percent = {n: 100 * used[n] / elapsed for n in used}
    results: dict[str, Any] = {}
    for name in pids:
        extra: dict[str, Any] = {}
        if name in rss_burst:
            extra["rss_after_burst_mb"] = rss_burst[name]
        if name.startswith("ceiling"):
            results[name] = {
                "cpu_percent_idle": round(percent[name], 2),
                "rss_idle_mb": rss_idle[name],
            }
        else:
            results[name] = _report(percent[name], rss_idle[name], **extra)
    return {
        "benchmark": "idle: CPU and RSS of each process with nothing happening",
        "seconds": round(elapsed, 1),
        "targets": f"CPU < {CPU_TARGET_PERCENT} % of one CPU, RSS < {RSS_TARGET_MB:.0f} MB",
        "burst": f"{_BURST_REQUESTS} requests to each API after the window, "
        f"{failures} not answered 200",
        "processes": results,
        "machine": machine(),
    }


def render(result: dict[str, Any]) -> list[str]:
    """The idle table for RESULTS.md: one row per process, the ceilings last."""
    lines = [
        f"Idle over {result['seconds']} s; targets: {result['targets']}. Burst: {result['burst']}.",
        "",
        "| process | CPU idle (% of one CPU) | RSS idle (MB) | RSS after burst (MB) | target met |",
        "|---|---|---|---|---|",
    ]
    for name, figures in result["processes"].items():
        lines.append(
            f"| {name} | {figures['cpu_percent_idle']} | {figures['rss_idle_mb']} "
            f"| {figures.get('rss_after_burst_mb', '—')} | {figures.get('target_met', '—')} |"
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="the idle window")
    parser.add_argument(
        "--only",
        default=",".join(PROCESSES),
        help=f"the processes to run, comma-separated, among {', '.join(PROCESSES)}",
    )
    args = parser.parse_args(argv)
    only = frozenset(name.strip() for name in args.only.split(",") if name.strip())
    if unknown := only - set(PROCESSES):
        parser.error(f"unknown --only names: {', '.join(sorted(unknown))}")
    return asyncio.run(run(args.seconds, only))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
