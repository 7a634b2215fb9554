"""Registry reads on a large register: GET by id, name search with two filters, statistics.

    python -m bench.registry_api [--rows 1000000] [--duration 15] [--concurrency 16]

The register is the demo generator's (`services.registry.demo`) at the requested size,
COPied in and analysed. The registry runs as a real uvicorn process, as in `make run`;
a keep-alive HTTP/1.1 client on raw asyncio streams (far lighter than httpx, so that the
client is not what is measured) keeps `--concurrency` requests in flight for
`--duration` seconds per scenario. Ceiling, in the same run against the same data: a
bare asyncpg pool of the same size running the SQL each endpoint runs (one query for
GET, the matches counted and the page read for the search, the grouping sets over the tally
for the statistics). Floors: `/healthz` of the registry, and the same GET behind a bare
ASGI callable and behind a FastAPI route with nothing else (bench/_bare_get.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import asyncpg

from bench._bare_get import GET_BY_ID_SQL
from bench.harness import MemoryWatch, machine, scratch_environment, summary_ms, wait_ready
from devtools.processes import ManagedProcess, free_port
from services.registry.demo import FILED, REGISTERED, copy_organizations, iter_organizations
from services.registry.inspections.deadlines import last_due_year
from services.registry.organizations.repository import query_grams
from shared.auth import Role, mint_token
from shared.clock import shanghai_today
from shared.db import plain_dsn

Request = Callable[[random.Random], str]
Query = Callable[[asyncpg.Connection, random.Random], Awaitable[Any]]

# The endpoint's one statement (`repository._name_page`), as it runs for the bureau's
# name + status + registration search: candidates from the GIN index of bigrams,
# status and registration (migration 0119) on the narrow search table (0163), the LIKE
# recheck on its NFKC-folded name, the matches counted and sorted there, the page's 20
# rows read from the register by id.
_SEARCH_PAGE = """
    WITH matches AS (
        SELECT id, created_at AS sort_value FROM registry.organization_search
        WHERE registry.organization_search_keys(folded_name, status, registration)
              @> ($1::text[] || ARRAY['status=' || $3, 'registration=' || $4])
          AND folded_name ILIKE '%' || $2 || '%' ESCAPE '/'
          AND status IN ($3) AND registration IN ($4)
    )
    SELECT o.*, (SELECT count(*) FROM matches)
    FROM registry.organization AS o
    JOIN (SELECT id, sort_value FROM matches
          ORDER BY sort_value DESC NULLS LAST, id DESC LIMIT 20 OFFSET 0) AS paged
      ON paged.id = o.id
    ORDER BY paged.sort_value DESC NULLS LAST, paged.id DESC
"""
# What the endpoint runs for the bureau: the grouping sets over the trigger-kept tally.
_STATS_SQL = """
    SELECT registration, kind, category, status, street_code, evaluation_grade,
           incubation_stage, sum(n)
    FROM registry.organization_tally
    WHERE n > 0
    GROUP BY GROUPING SETS ((registration), (kind), (category), (status), (street_code),
                            (evaluation_grade), (incubation_stage))
"""


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: GET, read status and body."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(
    concurrency: int,
    duration: float,
    step: Callable[[int, random.Random], Awaitable[None]],
) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def worker(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await step(n, rng)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests_per_s": round(len(latencies) / elapsed, 1), **summary_ms(latencies)}


async def _api(
    port: int, token: str, request: Request, concurrency: int, duration: float
) -> dict[str, Any]:
    connections = [
        HttpConnection("127.0.0.1", port, {"Authorization": f"Bearer {token}"})
        for _ in range(concurrency)
    ]
    errors = 0

    async def step(n: int, rng: random.Random) -> None:
        nonlocal errors
        if await connections[n].get(request(rng)) != 200:
            errors += 1

    # Warm up: connections open, statements prepared, caches filled.
    await _load(concurrency, min(2.0, duration), step)
    result = await _load(concurrency, duration, step)
    for connection in connections:
        await connection.close()
    return {**result, "errors": errors}


async def _ceiling(dsn: str, query: Query, concurrency: int, duration: float) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    try:

        async def step(n: int, rng: random.Random) -> None:
            async with pool.acquire() as connection:
                await query(connection, rng)

        await _load(concurrency, min(2.0, duration), step)
        return await _load(concurrency, duration, step)
    finally:
        await pool.close()


def _search_term(rng: random.Random, names: list[str]) -> str:
    # A street and a topic, e.g. 杏花助老: what a clerk types to find an organization.
    name = rng.choice(names)
    return name[3:7]


async def _populate(dsn: str, rows: int) -> tuple[list[str], list[str]]:
    connection = await asyncpg.connect(dsn)
    try:
        registered = rows * REGISTERED // (REGISTERED + FILED)
        started = time.perf_counter()
        # Building the indexes once after the COPY is much faster than maintaining them
        # row by row (the same definitions, read back from the catalogue); the search
        # table's too, which the COPY's statement trigger fills (migration 0163).
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'registry'"
            " AND tablename IN ('organization', 'organization_search')"
            " AND indexname LIKE 'ix_%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX registry."{index["indexname"]}"')
        await copy_organizations(
            connection,
            iter_organizations(
                random.Random(20261123), registered=registered, filed=rows - registered
            ),
        )
        await connection.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute("VACUUM ANALYZE registry.organization")
        await connection.execute("VACUUM ANALYZE registry.organization_search")
        # The register as after its first annual-report sweep: every registered
        # organization has its report of the last due year on file. Otherwise the API's
        # start-up sweep finds every one of them a non-filer and marks them all while the
        # scenarios run (at 1M: 1.8 GB of RSS and half a CPU for the whole run).
        await connection.execute(
            "INSERT INTO registry.annual_inspection"
            " (id, organization_id, year, state, submitted_at)"
            " SELECT gen_random_uuid(), id, $1, 'submitted', now()"
            " FROM registry.organization WHERE registration = 'registered'",
            last_due_year(shanghai_today()),
        )
        await connection.execute("VACUUM ANALYZE registry.annual_inspection")
        print(
            f"loaded {rows} organizations in {time.perf_counter() - started:.0f}s", file=sys.stderr
        )
        # Rows drawn one by one from the whole table (BERNOULLI), not whole pages
        # (SYSTEM): GETs then land all over the table, as a clerk's do.
        sample = await connection.fetch(
            "SELECT id::text, name FROM registry.organization"
            " TABLESAMPLE BERNOULLI (least(100, 500000.0 / $1)) LIMIT 5000",
            rows,
        )
    finally:
        await connection.close()
    return [r["id"] for r in sample], [r["name"] for r in sample]


async def run(
    rows: int, duration: float, concurrency: int, only: str | None = None
) -> dict[str, Any]:
    async with scratch_environment("registry_api") as env:
        dsn = plain_dsn(env.database_url)
        ids, names = await _populate(dsn, rows)
        port = free_port()
        server = ManagedProcess(
            "registry",
            ["-m", "uvicorn", "services.registry.main:app", "--port", str(port)],
            {
                "DATABASE_URL": env.database_url,
                "REDIS_URL": env.redis_url,
                "ARQ_QUEUE_NAME": env.queue_name,
                "DB_POOL_SIZE": str(concurrency),
            },
            tempfile.mkdtemp(prefix="sanshe-bench-"),
        ).start()
        token = mint_token(sub="bench", role=Role.civil_affairs)
        try:
            await wait_ready(server, f"http://127.0.0.1:{port}/readyz")
            memory = MemoryWatch()
            memory.watch("registry API (uvicorn)", server.process.pid if server.process else None)
            memory.idle()
            results: dict[str, Any] = {}

            def get(rng: random.Random) -> str:
                return f"/api/v1/organizations/{rng.choice(ids)}"

            async def get_sql(connection: asyncpg.Connection, rng: random.Random) -> None:
                await connection.fetchrow(GET_BY_ID_SQL, uuid.UUID(rng.choice(ids)))

            def search(rng: random.Random) -> str:
                params = {
                    "name": _search_term(rng, names),
                    "status": "active",
                    "registration": "registered",
                }
                return f"/api/v1/organizations?{urlencode(params)}"

            async def search_sql(connection: asyncpg.Connection, rng: random.Random) -> None:
                term = _search_term(rng, names)
                args = (query_grams(term), term, "active", "registered")
                await connection.fetch(_SEARCH_PAGE, *args)

            async def stats_sql(connection: asyncpg.Connection, rng: random.Random) -> None:
                await connection.fetch(_STATS_SQL)

            scenarios: list[tuple[str, Request, Query, float]] = [
                ("get_by_id", get, get_sql, duration),
                ("search_name_two_filters", search, search_sql, duration),
                ("stats", lambda rng: "/api/v1/organizations/stats", stats_sql, duration),
            ]
            if only == "get_by_id":  # --only: GET by id and its floors, not search or stats
                scenarios = scenarios[:1]
            with memory.under_load():
                for name, request, query, seconds in scenarios:
                    print(f"-- {name}", file=sys.stderr)
                    api = await _api(port, token, request, concurrency, seconds)
                    ceiling = await _ceiling(dsn, query, concurrency, seconds)
                    results[name] = {
                        "api": api,
                        "ceiling_asyncpg": ceiling,
                        "ratio": round(api["requests_per_s"] / ceiling["requests_per_s"], 3),
                    }
                    print(json.dumps(results[name]), file=sys.stderr)
                # One user searching alone: the latency a clerk sees when the server is not
                # saturated (the runs above keep `concurrency` requests in flight on 2 CPUs,
                # so their latency is mostly queueing).
                print("-- search_name_two_filters, one request in flight", file=sys.stderr)
                alone = await _api(port, token, search, 1, duration)
                alone_ceiling = await _ceiling(dsn, search_sql, 1, duration)
                results["search_one_in_flight"] = {
                    "api": alone,
                    "ceiling_asyncpg": alone_ceiling,
                    "ratio": round(alone["requests_per_s"] / alone_ceiling["requests_per_s"], 3),
                }
                print(json.dumps(results["search_one_in_flight"]), file=sys.stderr)
                # The floor of the stack itself: /healthz goes through the same uvicorn, the
                # same middleware (request id, access log, metrics, body limit) and no
                # database. No endpoint can beat it, so it bounds the GET ratio.
                print("-- healthz (framework floor)", file=sys.stderr)
                floor = await _api(port, token, lambda rng: "/healthz", concurrency, duration)
                results["framework_floor_healthz"] = {
                    "api": floor,
                    "ratio_to_get_ceiling": round(
                        floor["requests_per_s"]
                        / results["get_by_id"]["ceiling_asyncpg"]["requests_per_s"],
                        3,
                    ),
                }
                print(json.dumps(results["framework_floor_healthz"]), file=sys.stderr)
            results["rss"] = memory.report()
        finally:
            server.stop()
        # What any GET by id can reach over HTTP here: the same SELECT behind a bare
        # ASGI callable, then in a FastAPI route with nothing else (bench/_bare_get.py),
        # each in one uvicorn process driven by the same client.
        get_ceiling = results["get_by_id"]["ceiling_asyncpg"]["requests_per_s"]
        get_api = results["get_by_id"]["api"]["requests_per_s"]
        for label, target in (("bare_asgi", "app"), ("bare_fastapi", "fastapi_app")):
            print(f"-- {label} GET floor", file=sys.stderr)
            floor_port = free_port()
            floor_server = ManagedProcess(
                label,
                ["-m", "uvicorn", f"bench._bare_get:{target}", "--port", str(floor_port)],
                {"BARE_GET_DSN": dsn, "POOL": str(concurrency)},
                tempfile.mkdtemp(prefix="sanshe-bench-"),
            ).start()
            try:
                await wait_ready(
                    floor_server, f"http://127.0.0.1:{floor_port}/api/v1/organizations/{ids[0]}"
                )
                floor_get = await _api(floor_port, token, get, concurrency, duration)
            finally:
                floor_server.stop()
            results[f"{label}_get_floor"] = {
                "api": floor_get,
                "ratio_to_get_ceiling": round(floor_get["requests_per_s"] / get_ceiling, 3),
                "registry_get_vs_this": round(get_api / floor_get["requests_per_s"], 3),
            }
            print(json.dumps(results[f"{label}_get_floor"]), file=sys.stderr)
    return {
        "benchmark": "registry reads: GET by id, name search + 2 filters, stats",
        "rows": rows,
        "concurrency": concurrency,
        "duration_s": duration,
        **results,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", choices=["get_by_id"], help="run only these scenarios")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.rows, args.duration, args.concurrency, args.only))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
