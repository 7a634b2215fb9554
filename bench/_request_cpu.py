"""CPU per request of the registry's GET /organizations/{id}, in-process, database stubbed.

    python -m bench._request_cpu [--requests 5000] [--rounds 3] [--profile out.prof]
    python -m bench._request_cpu --server [--requests 4000]

Over HTTP on a shared 2-CPU machine the GET's ratio to its floor swings with the
others' load; the Python the request path runs does not. This calls the registry app
and the bare FastAPI floor (`bench._bare_get.fastapi_app`) as ASGI callables in a loop,
each read answered by the same stored row without a database, and reports the process
CPU time per request of each (alternated, best round of each) and their ratio. No
uvicorn, socket or driver work: both would pay the same for those.

`--server` measures the same two over HTTP instead: each app in its own uvicorn process
on a scratch register, the same keep-alive client as `bench.registry_api` (16 in
flight), and the CPU time (user + system) each server process spent per request, read
from /proc around the timed requests. The registry's start-up sweeps are run before it
starts (as `bench.registry_import` does): on a fresh register they would otherwise run
beside the requests and be counted with them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from typing import Any

_ROW_ID = uuid.UUID("0192f1a8-5c3e-7b2a-9d4e-1f2a3b4c5d6e")


def _row() -> dict[str, Any]:
    """One organization as the read returns it (every column of registry.organization)."""
    from services.registry.organizations.models import Organization

    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    row: dict[str, Any] = {}
    for column in Organization.__table__.columns:
        row[column.key] = None
    row.update(
        id=_ROW_ID,
        name="杏花助老服务中心",
        registration="registered",
        kind="association",
        category="livelihood",
        district_code="340102",
        status="active",
        uscc="51340100MJA0000001",
        street_code="340102001",
        legal_rep_name="张三",
        legal_rep_id_number="340102198001011234",
        registered_funds_fen=3_000_000,
        tags=[],
        created_at=now,
        updated_at=now,
        version=3,
    )
    return row


class _StubReads:
    """Answers every read with the same row, as `shared.reads.ReadPool.fetchrow` would."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    async def fetchrow(self, *_args: Any, **_values: Any) -> dict[str, Any] | None:
        return dict(self.row)


class _StubPool:
    """The floor's asyncpg pool, answering `fetchrow` with the same row."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    async def fetchrow(self, *_args: Any) -> dict[str, Any]:
        return dict(self.row)


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, headers), receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def _cpu_per_request(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], requests: int
) -> float:
    started = time.process_time()
    for _ in range(requests):
        await _call(app, path, headers)
    return (time.process_time() - started) / requests


async def run(requests: int, rounds: int, profile: str | None) -> dict[str, Any]:
    import bench._bare_get as bare
    from services.registry.main import app as registry
    from shared.auth import Role, mint_token
    from shared.db import database

    row = _row()
    database._reads = _StubReads(row)  # type: ignore[assignment]
    bare._pool = _StubPool(row)  # type: ignore[assignment]
    path = f"/api/v1/organizations/{_ROW_ID}"
    token = mint_token(sub="bench", role=Role.civil_affairs)
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    status, body = await _call(registry, path, headers)
    floor_status, floor_body = await _call(bare.fastapi_app, path, [(b"host", b"bench")])
    assert status == 200 and floor_status == 200, (status, body, floor_status, floor_body)
    # Warm both (the token's verification, compiled statements, labelled metrics).
    await _cpu_per_request(registry, path, headers, 200)
    await _cpu_per_request(bare.fastapi_app, path, [(b"host", b"bench")], 200)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await _cpu_per_request(registry, path, headers, requests)
        profiler.disable()
        profiler.dump_stats(profile)
    system, floor = [], []
    for _ in range(rounds):
        system.append(await _cpu_per_request(registry, path, headers, requests))
        floor.append(
            await _cpu_per_request(bare.fastapi_app, path, [(b"host", b"bench")], requests)
        )
    best_system, best_floor = min(system), min(floor)
    return {
        "requests": requests,
        "registry_us": [round(s * 1e6, 1) for s in system],
        "floor_us": [round(s * 1e6, 1) for s in floor],
        "best_registry_us": round(best_system * 1e6, 1),
        "best_floor_us": round(best_floor * 1e6, 1),
        "overhead_us": round((best_system - best_floor) * 1e6, 1),
        "ratio": round(best_floor / best_system, 3),
    }


async def _drive(port: int, ids: list[str], token: str, requests: int) -> None:
    from bench.registry_api import HttpConnection

    connections = [
        HttpConnection("127.0.0.1", port, {"Authorization": f"Bearer {token}"})
        for _ in range(_IN_FLIGHT)
    ]
    left = requests

    async def worker(n: int) -> None:
        nonlocal left
        rng = random.Random(n)
        while left > 0:
            left -= 1
            status = await connections[n].get(f"/api/v1/organizations/{rng.choice(ids)}")
            if status != 200:
                raise RuntimeError(f"GET answered {status}")

    await asyncio.gather(*(worker(n) for n in range(_IN_FLIGHT)))
    for connection in connections:
        await connection.close()


_IN_FLIGHT = 16


async def run_servers(requests: int) -> dict[str, Any]:
    from bench.harness import cpu_seconds, scratch_environment, wait_ready
    from bench.registry_api import _populate
    from bench.registry_import import _settle_sweeps
    from devtools.processes import ManagedProcess, free_port
    from shared.auth import Role, mint_token
    from shared.db import plain_dsn

    result: dict[str, Any] = {"requests": requests}
    async with scratch_environment("request_cpu") as env:
        dsn = plain_dsn(env.database_url)
        ids, _ = await _populate(dsn, 5000)
        await _settle_sweeps()
        token = mint_token(sub="bench", role=Role.civil_affairs)
        for name, target, ready, environment in (
            (
                "registry",
                "services.registry.main:app",
                "/readyz",
                {
                    "DATABASE_URL": env.database_url,
                    "REDIS_URL": env.redis_url,
                    "ARQ_QUEUE_NAME": env.queue_name,
                    "DB_POOL_SIZE": str(_IN_FLIGHT),
                },
            ),
            (
                "floor",
                "bench._bare_get:fastapi_app",
                "/docs",
                {"BARE_GET_DSN": dsn, "POOL": str(_IN_FLIGHT)},
            ),
        ):
            port = free_port()
            server = ManagedProcess(
                name,
                ["-m", "uvicorn", target, "--port", str(port)],
                environment,
                tempfile.mkdtemp(prefix="sanshe-bench-"),
            ).start()
            try:
                await wait_ready(server, f"http://127.0.0.1:{port}{ready}")
                assert server.process is not None
                await _drive(port, ids, token, 500)  # warm: connections, statements, caches
                cpu, started = cpu_seconds(server.process.pid), time.perf_counter()
                await _drive(port, ids, token, requests)
                cpu = cpu_seconds(server.process.pid) - cpu
                result[f"{name}_cpu_us"] = round(cpu / requests * 1e6, 1)
                result[f"{name}_requests_per_s"] = round(
                    requests / (time.perf_counter() - started), 1
                )
            finally:
                server.terminate()
                server.wait_stopped()
    result["cpu_ratio"] = round(result["floor_cpu_us"] / result["registry_cpu_us"], 3)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of the registry's loop here")
    parser.add_argument("--server", action="store_true", help="over HTTP: server CPU per GET")
    args = parser.parse_args(argv)
    if args.server:
        result = asyncio.run(run_servers(args.requests))
        with open("/proc/loadavg") as f:
            result["loadavg"] = " ".join(f.read().split()[:3])
        print(json.dumps(result))
        return result
    import services.registry.main  # noqa: F401  (configures the logging)

    # The access log is written as in production, but to nowhere: the formatting and
    # redaction are the request's, the terminal's speed is not.
    devnull = open(os.devnull, "w")  # noqa: SIM115
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    result = asyncio.run(run(args.requests, args.rounds, args.profile))
    with open("/proc/loadavg") as f:
        result["loadavg"] = " ".join(f.read().split()[:3])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
