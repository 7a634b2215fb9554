"""Real processes for tests: the arq worker, uvicorn services, a recording HTTP receiver."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from fastapi import FastAPI, Request, Response

from devtools.processes import ManagedProcess, free_port


def worker_process(log_dir: str, **env: str) -> ManagedProcess:
    settings = {
        # Fast sweeps and short backoffs so tests finish in seconds.
        "WORKFLOW_SWEEP_INTERVAL_SECONDS": "1",
        "WORKFLOW_PRECHECK_STALE_SECONDS": "3",
        "WORKFLOW_CALLBACK_BACKOFF_SECONDS": "0.2",
        "WORKFLOW_CALLBACK_BACKOFF_MAX_SECONDS": "1",
        "WORKER_JOB_TIMEOUT_SECONDS": "5",
        **env,
    }
    return ManagedProcess(
        "worker", ["-m", "arq", "services.workflow.worker.WorkerSettings"], settings, log_dir
    )


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class LoopbackApp:
    """A FastAPI app served by uvicorn in a thread on a loopback port (a real HTTP peer).

    Subclasses are dataclasses with a `port` field and build their app in `_app()`.
    """

    port: int
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def _app(self) -> FastAPI:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
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


@dataclass
class RecordingServer(LoopbackApp):
    """An HTTP server on loopback that records every request and answers as told."""

    port: int = field(default_factory=free_port)
    status: int = 200
    requests: list[Recorded] = field(default_factory=list)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        async def record(path: str, request: Request) -> Response:
            body = await request.body()
            self.requests.append(
                Recorded(request.method, "/" + path, dict(request.headers), body, time.time())
            )
            return Response(status_code=self.status, content=b"{}", media_type="application/json")

        return app

    def json_bodies(self, path: str) -> list[Any]:
        return [json.loads(r.body) for r in self.requests if r.path == path]
