"""The arq worker: `arq services.workflow.worker.WorkerSettings`.

It holds no state of its own: every job reads and writes Postgres; Redis only carries
triggers. `arq --check services.workflow.worker.WorkerSettings` is its health check.
"""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings

from services.workflow import sync
from services.workflow.calendar.service import check_coverage, read_calendar_files, sync_calendar
from services.workflow.config import get_workflow_settings
from services.workflow.definitions.loader import load_case_definitions, read_definition_files
from services.workflow.jobs import deliver_case_outcome, dispatch_event, sweep
from shared.db import database, utcnow
from shared.jobs import (
    AdaptivePoll,
    JobName,
    deserialize_job,
    every,
    redis_settings,
    serialize_job,
)
from shared.logging import configure_logging
from shared.metrics import (
    count_job_end,
    count_job_start,
    serve_worker_metrics,
    stop_worker_metrics,
)
from shared.settings import get_settings

_settings = get_settings()
_workflow = get_workflow_settings()
# Fast polls while jobs flow, slow ones when idle (see AdaptivePoll).
_poll = AdaptivePoll(idle_delay=0.5)
_poll.install()


async def load_reference_data() -> None:
    """Case definitions and the working-day calendar, from the data files (calendar_files)."""
    await load_case_definitions()
    longest_limit = max(d.time_limit_working_days for d in read_definition_files())
    async with database.transaction() as session:
        await sync_calendar(session, read_calendar_files())
        await check_coverage(session, now=utcnow(), longest_limit=longest_limit)


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging("workflow-worker", level=_settings.log_level, json_logs=_settings.log_json)
    await load_reference_data()
    await sync.startup(ctx)  # also the pooled HTTP client every delivery job shares
    # This replica's own /healthz and /metrics (arq's health key is one per queue).
    await serve_worker_metrics(ctx)


def _note_activity(ctx: dict[str, Any]) -> None:
    # The periodic sweeps (arq names a unique cron job "<name>:<ms>") are not traffic:
    # counted, the sync's one-second sweep alone would keep the poll fast for ever.
    job_id = str(ctx.get("job_id", ""))
    if not job_id.startswith(_PERIODIC):
        _poll.activity()


async def job_started(ctx: dict[str, Any]) -> None:
    _note_activity(ctx)
    await count_job_start(ctx)


async def job_ended(ctx: dict[str, Any]) -> None:
    _note_activity(ctx)
    await count_job_end(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await stop_worker_metrics(ctx)
    await sync.shutdown(ctx)
    await database.dispose()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        func(dispatch_event, name=JobName.dispatch_event.value),  # type: ignore[arg-type]
        func(deliver_case_outcome, name=JobName.deliver_case_outcome.value),  # type: ignore[arg-type]
        *sync.worker_functions,
    ]
    cron_jobs: ClassVar[list[Any]] = [
        cron(
            sweep,
            name=JobName.workflow_sweep.value,
            second=every(_workflow.workflow_sweep_interval_seconds),
            run_at_startup=True,
            unique=True,
            # arq sizes every job's in-progress mark from the longest timeout: keep it the
            # job timeout, so a killed worker's jobs become visible again after that long.
            timeout=_workflow.worker_job_timeout_seconds,
        ),
        *sync.cron_jobs,
    ]
    queue_name = _settings.arq_queue_name
    redis_settings: RedisSettings = redis_settings(_settings)
    job_serializer = staticmethod(serialize_job)
    job_deserializer = staticmethod(deserialize_job)
    keep_result = _settings.arq_keep_result_seconds
    max_tries = _workflow.worker_max_tries
    # arq starts at most `max_jobs` jobs per poll and then sleeps `poll_delay` (0.5 s by
    # default) even when more are waiting: with jobs of tens of milliseconds that caps a
    # worker near 20 jobs/s. Poll often while jobs flow; each poll is one ZRANGEBYSCORE.
    # When the queue stays empty the delay backs off to half a second (AdaptivePoll), so
    # an idle worker does not wake 20 times a second. The running jobs stay within the
    # database pool (pool size + overflow).
    poll_delay = 0.05
    max_jobs = _settings.db_pool_size
    # A job of a killed worker becomes visible again once its in-progress mark expires
    # (about job_timeout later); the inbox and the case lock keep its effect single.
    job_timeout = _workflow.worker_job_timeout_seconds
    # On shutdown, let running jobs finish instead of cancelling them mid-transaction.
    job_completion_wait = 30
    health_check_interval = 10
    on_startup = startup
    on_shutdown = shutdown
    on_job_start = job_started
    on_job_end = job_ended


_PERIODIC = tuple(f"{c.name}:" for c in WorkerSettings.cron_jobs)
