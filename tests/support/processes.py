"""Real processes for tests: the arq worker, a uvicorn service, an app served in a thread.

Process groups, log files, ports and readiness come from `devtools.processes`, the same
implementation `make run` and the benchmarks use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

import uvicorn

from devtools.processes import (
    ManagedProcess,
    ProcessExited,
    free_port,
    port_free,
    port_open,
    stop_all,
    wait_ready,
    wait_until,
)

__all__ = [
    "LoopbackApp",
    "ManagedProcess",
    "ProcessExited",
    "free_port",
    "port_free",
    "port_open",
    "service_process",
    "stop_all",
    "wait_ready",
    "wait_until",
    "worker_process",
]

WORKER = ["-m", "arq", "services.workflow.worker.WorkerSettings"]


def worker_process(log_dir: str, **env: str) -> ManagedProcess:
    settings = {
        # Fast sweeps and short backoffs so tests finish in seconds.
        "WORKFLOW_SWEEP_INTERVAL_SECONDS": "1",
        "WORKFLOW_PRECHECK_STALE_SECONDS": "3",
        "WORKFLOW_CALLBACK_BACKOFF_SECONDS": "0.2",
        "WORKFLOW_CALLBACK_BACKOFF_MAX_SECONDS": "1",
        "WORKER_JOB_TIMEOUT_SECONDS": "5",
        # Messages to applicants land beside the logs, never in the checkout's var/.
        "WORKFLOW_NOTIFICATION_DIR": os.path.join(log_dir, "notifications"),
        **env,
    }
    return ManagedProcess("worker", WORKER, settings, log_dir)


def service_process(name: str, port: int, env: Mapping[str, str], log_dir: str) -> ManagedProcess:
    """`services.<name>.main:app` under uvicorn on 127.0.0.1:`port` (not started yet)."""
    argv = ["-m", "uvicorn", f"services.{name}.main:app", "--host", "127.0.0.1"]
    return ManagedProcess(name, [*argv, "--port", str(port)], env, log_dir)


class LoopbackApp:
    """An ASGI app served by uvicorn in a thread on a loopback port (a real HTTP peer).

    Subclasses set `port` and build their app in `_app()`.
    """

    port: int
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def _app(self) -> Callable[..., Any]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{type(self).__name__} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
