"""Bulk import of organizations through the real endpoint: CSV and XLSX, new rows and updates.

    python -m bench.registry_import [--rows 100000] [--existing 100000] [--no-xlsx]

A register of `--existing` generated organizations is COPied in first, so that the
import meets real indexes (unique codes, the name bigrams). Then, through a uvicorn
process as in `make run`, `POST /api/v1/organizations/import`:
1. `--rows` new organizations from a CSV file (validation, COPY, history, events);
2. the same file again with one column changed in every row (the upsert/update path);
3. `--rows` other new organizations from an XLSX file (openpyxl reading dominates).
Ceiling, in the same run: COPY of the same rows into the same table with asyncpg, with
no validation, history or events, measured before and after the imports and averaged
(load drifting during the run biases neither side). Each import's ratio is its rows/s
over the ceiling's.

The registry's start-up sweeps (annual-report deadlines, grade expiry) are run once
here before the server starts: on a freshly loaded register the first sweep marks
every non-filer, seconds of row locks and tally updates that would otherwise land on
whichever figure runs first (it once made the bare COPY ten times slower).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import sys
import tempfile
import time
from typing import Any

import asyncpg
import httpx
import openpyxl

from bench.harness import MemoryWatch, cpu_seconds, machine, scratch_environment, wait_ready
from devtools.processes import ManagedProcess, free_port
from services.registry.demo import (
    FILED,
    REGISTERED,
    copy_organizations,
    iter_organizations,
)
from services.registry.enums import OrganizationKind
from services.registry.grades import expiry
from services.registry.inspections import deadlines
from services.registry.organizations.uscc import make_uscc
from services.registry.transfer.columns import IMPORTED, cell_value
from shared.auth import Role, mint_token
from shared.db import database, plain_dsn

CODES = [column.code for column in IMPORTED]
# Serials of the imported codes: above the generated register's, below the registry's own.
_SERIAL_BASE = {"csv": 600_000, "xlsx": 800_000, "ceiling": 400_000}


def _rows(count: int, *, seed: int, label: str) -> list[dict[str, Any]]:
    """Generated organizations, re-coded so that they collide with nothing loaded before."""
    registered = count * REGISTERED // (REGISTERED + FILED)
    rows = list(
        iter_organizations(random.Random(seed), registered=registered, filed=count - registered)
    )
    for n, row in enumerate(rows):
        row["name"] = f"{row['name']}{label}{n}"
        if row["uscc"]:
            kind = OrganizationKind(row["kind"])
            authority = "340000" if kind is OrganizationKind.foundation else "340103"
            row["uscc"] = make_uscc(
                kind=kind, authority_division=authority, serial=_SERIAL_BASE[label] + n
            )
        else:
            row["filing_number"] = f"IMP{label.upper()}{n:07d}"
    return rows


def _table(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[cell_value(row[code]) for code in CODES] for row in rows]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CODES)
    writer.writerows(_table(rows))
    return buffer.getvalue().encode()


def _xlsx(rows: list[dict[str, Any]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("organizations")
    sheet.append(CODES)
    for line in _table(rows):
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _post(
    client: httpx.AsyncClient, name: str, data: bytes, server_pid: int | None
) -> dict[str, Any]:
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/organizations/import", files={"file": (name, data)}, timeout=600
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else None
    if response.status_code != 200:
        raise RuntimeError(
            f"import of {name} answered {response.status_code}: {response.text[:2000]}"
        )
    report = response.json()
    changed = report["created"] + report["updated"]
    return {
        "seconds": round(elapsed, 2),
        "rows_per_s": round(report["total_rows"] / elapsed),
        "created": report["created"],
        "updated": report["updated"],
        "file_mb": round(len(data) / 2**20, 1),
        "changed_rows": changed,
        # The registry process's own CPU (the database's is not counted): on a shared
        # machine it moves far less than the wall time.
        "server_cpu_s": None if cpu is None else round(cpu, 2),
    }


async def _settle_sweeps() -> None:
    """The server's start-up sweeps, done beforehand so that they find nothing to do."""
    await deadlines.sweep_once()
    await expiry.sweep_once()
    await database.dispose()


async def _ceiling(dsn: str, rows: list[dict[str, Any]]) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        started = time.perf_counter()
        await copy_organizations(connection, rows)
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await connection.close()
    return elapsed


async def run(rows: int, existing: int, xlsx: bool) -> dict[str, Any]:
    async with scratch_environment("registry_import") as env:
        dsn = plain_dsn(env.database_url)
        connection = await asyncpg.connect(dsn)
        await copy_organizations(connection, iter_organizations(random.Random(1), filed=existing))
        await connection.execute("VACUUM ANALYZE registry.organization")
        await connection.close()
        await _settle_sweeps()
        port = free_port()
        server = ManagedProcess(
            "registry",
            ["-m", "uvicorn", "services.registry.main:app", "--port", str(port)],
            {
                "DATABASE_URL": env.database_url,
                "REDIS_URL": env.redis_url,
                "ARQ_QUEUE_NAME": env.queue_name,
                "MAX_BODY_BYTES": str(512 * 2**20),
                "DB_STATEMENT_TIMEOUT_MS": "300000",
            },
            tempfile.mkdtemp(prefix="sanshe-bench-"),
        ).start()
        token = mint_token(sub="bench", role=Role.civil_affairs)
        results: dict[str, Any] = {}
        memory = MemoryWatch()
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                await wait_ready(server, f"http://127.0.0.1:{port}/readyz")
                pid = server.process.pid if server.process else None
                memory.watch("registry API (uvicorn)", pid)
                memory.idle()
                new = _rows(rows, seed=2, label="csv")
                # Rows of the same shape as the imported ones, under other keys: a rolled-back
                # COPY of the imported rows themselves would leave their keys as dead index
                # entries for the import to step over.
                bare = _rows(rows, seed=4, label="ceiling")
                ceiling_before = await _ceiling(dsn, bare)
                with memory.under_load():
                    results["csv_new"] = await _post(client, "new.csv", _csv(new), pid)
                for row in new:
                    row["address"] = f"{row['address']}（新址）"
                with memory.under_load():
                    results["csv_update"] = await _post(client, "update.csv", _csv(new), pid)
                if xlsx:
                    other = _rows(rows, seed=3, label="xlsx")
                    with memory.under_load():
                        results["xlsx_new"] = await _post(client, "new.xlsx", _xlsx(other), pid)
                ceiling_after = await _ceiling(dsn, bare)
            results["ceiling_copy_s"] = round((ceiling_before + ceiling_after) / 2, 2)
            results["ceiling_copy_runs_s"] = [round(ceiling_before, 2), round(ceiling_after, 2)]
            results["ceiling_rows_per_s"] = round(rows / results["ceiling_copy_s"])
            results["rss"] = memory.report()
        finally:
            server.stop()
    ceiling = results["ceiling_copy_s"]
    ratios = {
        f"ratio_{name}_vs_bare_copy": round(ceiling / results[name]["seconds"], 3)
        for name in ("csv_new", "csv_update", "xlsx_new")
        if name in results
    }
    return {
        "benchmark": "registry import through the API (validation, COPY, history, events)",
        "rows": rows,
        "existing_rows": existing,
        **results,
        **ratios,
        "peak_rss_mb": max(
            (entry["under_load_mb"] for entry in results["rss"].values()), default=None
        ),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--no-xlsx", dest="xlsx", action="store_false")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.rows, args.existing, args.xlsx))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
