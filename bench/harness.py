"""What every benchmark needs: servers, a scratch database, percentiles, the machine.

Servers come from DATABASE_URL / REDIS_URL, else the embedded ones (as `make run`).
Each benchmark works in its own freshly migrated database and Redis queue, dropped
afterwards, so it never touches development data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import make_url

from devtools.processes import ManagedProcess
from shared.db import plain_dsn
from shared.settings import PROJECT_ROOT, get_settings


@dataclass(frozen=True)
class Environment:
    database_url: str
    redis_url: str
    queue_name: str


def server_urls() -> tuple[str, str]:
    settings = get_settings()
    if settings.database_url and settings.redis_url:
        return settings.database_url, settings.redis_url
    output = subprocess.run(
        [sys.executable, "-m", "devtools.run", "servers"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    return settings.database_url or values["DATABASE_URL"], settings.redis_url or values[
        "REDIS_URL"
    ]


@asynccontextmanager
async def scratch_environment(label: str) -> AsyncIterator[Environment]:
    """A migrated database and a private queue; the process environment points at them."""
    server, redis_url = server_urls()
    name = f"sanshe_bench_{label}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(
        plain_dsn(make_url(server).set(database="postgres").render_as_string(hide_password=False))
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = (
        make_url(server)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    queue = f"sanshe:bench:{label}:{uuid.uuid4().hex[:6]}"
    previous = {k: os.environ.get(k) for k in ("DATABASE_URL", "REDIS_URL", "ARQ_QUEUE_NAME")}
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, ARQ_QUEUE_NAME=queue)
    get_settings.cache_clear()
    try:
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "alembic",
            "-c",
            "alembic.ini",
            "upgrade",
            "heads",
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.DEVNULL,
        )
        if await migrate.wait() != 0:
            raise RuntimeError("migrations failed")
        yield Environment(database_url=database_url, redis_url=redis_url, queue_name=queue)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 2),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 2) if seconds else float("nan"),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"{memory:.0f} GiB, Python {platform.python_version()}"
    )


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and all its descendants have used so far.

    Reaped children count through the parent's `children_*` times; live ones are read
    one by one, so a process that forks workers is measured whole.
    """
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
    except psutil.Error:
        return float("nan")
    return total


def machine_load(window: float = 1.0) -> dict[str, object]:
    """How busy the machine is: /proc/loadavg and the other processes using the CPUs.

    A process counts as busy when it used at least a tenth of a CPU over `window`
    seconds; this process and its children are left out, so the figure says what
    *else* competed with a benchmark.
    """
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        one, five, fifteen, running, _ = loadavg.read().split()
    ours = {os.getpid()} | {c.pid for c in psutil.Process().children(recursive=True)}
    before: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter(["name"]):
        if process.pid in ours:
            continue
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            before[process.pid] = (process.info["name"], times.user + times.system)
    time.sleep(window)
    busy: list[str] = []
    for pid, (name, used) in before.items():
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            if (times.user + times.system - used) / window >= 0.1:
                busy.append(name)
    return {
        "loadavg": f"{one} {five} {fifteen}",
        "running": running,
        "busy_processes": len(busy),
        "busy": ", ".join(sorted(busy)[:8]),
    }


def rss_mb(pid: int) -> float:
    try:
        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except psutil.Error:
        return float("nan")


@dataclass
class MemoryWatch:
    """Idle and under-load resident memory (RSS) of each process a benchmark starts.

    `watch` names a process; `idle()` reads every watched process once, after its
    start-up and warm-up and before the load; `under_load()` samples them in a thread
    while the load runs and keeps each one's peak. `report()` is what RESULTS.md shows
    (`bench/__main__.py` renders the `rss` entry of a result as a table).
    """

    every: float = 0.1
    pids: dict[str, int] = field(default_factory=dict)
    idle_mb: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)

    def watch(self, name: str, pid: int | None) -> None:
        if pid is not None:
            self.pids[name] = pid

    def idle(self, *names: str) -> None:
        for name in names or tuple(self.pids):
            self.idle_mb[name] = rss_mb(self.pids[name])

    @contextmanager
    def under_load(self, *names: str) -> Iterator[None]:
        """Sample `names` (every watched process by default) until the block ends."""
        watched = names or tuple(self.pids)
        done = threading.Event()

        def sample() -> None:
            while True:
                for name in watched:
                    value = rss_mb(self.pids[name])
                    # NaN once a process has gone: keep what was seen while it ran.
                    if value == value and value > self.peak_mb.get(name, 0.0):
                        self.peak_mb[name] = value
                if done.wait(self.every):
                    return

        sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        sampler.start()
        try:
            yield
        finally:
            done.set()
            sampler.join()

    def report(self) -> dict[str, dict[str, float]]:
        nan = float("nan")
        return {
            name: {
                "idle_mb": self.idle_mb.get(name, nan),
                "under_load_mb": self.peak_mb.get(name, nan),
            }
            for name in self.pids
        }


async def wait_ready(server: ManagedProcess, url: str, within: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail with the server's output if it exits or stalls."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if not server.alive:
                raise RuntimeError(f"{server.name} exited:\n{server.output()[-3000:]}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{server.name} not ready:\n{server.output()[-3000:]}")
