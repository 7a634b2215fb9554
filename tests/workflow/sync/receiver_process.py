"""A provincial system's webhook receiver, as a separate process on loopback.

    python -m tests.workflow.sync.receiver_process PORT

It knows nothing of Sanshe: it verifies every message with the `standardwebhooks`
package alone (`Webhook(secret).verify(raw_body, headers)`), exactly as a subscriber
would, and answers 204 when any of its configured secrets verifies, else 401. The test
drives it over two control paths:

* `PUT /_config/<path>` `{"verifiers": {"<name>": "whsec_..."}}` — the secrets a path
  verifies with (several names: "a receiver still on the old secret", "one on the new");
* `GET /_log` — every message received: path, `webhook-id`, which verifier accepted it,
  and the verified payload.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn
from standardwebhooks import Webhook

_verifiers: dict[str, dict[str, str]] = {}
_log: list[dict[str, Any]] = []


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, payload: object = None) -> None:
    body = b"" if payload is None else json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _verify(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    verified: dict[str, bool] = {}
    payload: Any = None
    for name, secret in _verifiers.get(path, {}).items():
        try:
            payload = Webhook(secret).verify(body, headers)
        except Exception:
            verified[name] = False
        else:
            verified[name] = True
    return {
        "path": path,
        "webhook_id": headers.get("webhook-id"),
        "signatures": len(headers.get("webhook-signature", "").split()),
        "verified": verified,
        "payload": payload,
    }


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    body = await _body(receive)
    if path.startswith("/_config/"):
        _verifiers["/" + path.removeprefix("/_config/")] = json.loads(body)["verifiers"]
        await _answer(send, 204)
        return
    if path == "/_log":
        await _answer(send, 200, _log)
        return
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    entry = _verify(path, body, headers)
    _log.append(entry)
    await _answer(send, 204 if any(entry["verified"].values()) else 401)


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        lifespan="off",
        interface="asgi3",
    )
