"""The one loopback HTTP receiver of the tests: records every request, answers as told.

It stands in for a provincial system's webhook endpoint, for the subject services'
case-outcome callbacks, and for the registry's status endpoint in inbound tests. By
default it answers 200 `{"ok":true}`; `answer_with` decides each answer from the request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.processes import LoopbackApp, free_port


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok":true}'
    delay: float = 0.0  # seconds to hold the answer back (a receiver slower than the timeout)


Responder = Callable[[Request], Answer]


class Receiver(LoopbackApp):
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[Request] = []
        self.respond: Responder = lambda _: Answer()

    def answer_with(self, responder: Responder | Answer) -> None:
        self.respond = responder if callable(responder) else (lambda _: responder)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def json_bodies(self, path: str) -> list[Any]:
        return [json.loads(r.body) for r in self.to(path)]

    def _app(self) -> Callable[..., Any]:
        return self._asgi

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = Request(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"".join(chunks),
            at=time.time(),
        )
        self.requests.append(request)
        answer = self.respond(request)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        headers = [(b"content-type", b"application/json")]
        headers += [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
